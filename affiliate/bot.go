package affiliate

import (
	"net/http"
	"strings"
)

// botTokens are lower-case fragments of user agents that are not a person
// following a link: search and AI crawlers, SEO tools, uptime monitors,
// HTTP libraries and command-line clients, headless browsers, and the
// link-preview fetchers of chat and social apps (which request every link
// a user pastes, before anyone clicks it). Most preview fetchers say "bot"
// (Slackbot, Twitterbot, Discordbot, TelegramBot, LinkedInBot); app names
// alone are not listed, because the in-app browsers of LinkedIn, Pinterest
// or Snapchat carry them for people too.
//
// This list stands in for github.com/monperrus/crawler-user-agents, whose
// Go package (agents.IsCrawler) could not be fetched when this was written:
// the module proxy refused it. Swap isBot's first test for
// agents.IsCrawler once it can be added to go.mod, and keep the preview
// fetchers below, which that list does not all cover.
var botTokens = []string{
	// The generic words crawlers name themselves with.
	"bot", "crawl", "spider", "slurp", "scrape", "archiver", "indexer",
	"fetcher", "preview", "validator", "checker",
	// Link previews and social fetchers.
	"facebookexternalhit", "facebookcatalog", "meta-externalagent",
	"whatsapp", "skypeuripreview", "slack-imgproxy", "embedly", "iframely",
	"vkshare", "quora link preview", "mastodon", "cardyb", "kakaotalk-scrap",
	"outbrain", "flipboardproxy", "nuzzel",
	"google-inspectiontool", "googleother", "mediapartners-google", "apis-google",
	"feedfetcher", "google-read-aloud", "google favicon", "bingpreview",
	// Search, SEO and AI crawlers that do not say "bot".
	"yandex", "baiduspider", "sogou", "qwantify", "exabot", "ia_archiver",
	"heritrix", "nutch", "httrack", "ahrefs", "semrush", "mj12", "screaming frog",
	"sitebulb", "seokicks", "dataforseo", "serpstat", "blexbot", "ccbot",
	"gptbot", "chatgpt-user", "oai-searchbot", "claude", "anthropic", "perplexity",
	"bytespider", "petalbot", "amazonbot", "applebot", "duckduckgo", "cohere-ai",
	"diffbot", "ai2bot", "youbot", "timpibot", "imagesift",
	// Monitors, tools and libraries.
	"pingdom", "uptimerobot", "statuscake", "site24x7", "newrelicpinger",
	"lighthouse", "pagespeed", "gtmetrix", "headlesschrome", "phantomjs",
	"puppeteer", "playwright", "selenium", "curl/", "wget", "libwww",
	"python-requests", "python-urllib", "python-httpx", "aiohttp", "httpx",
	"go-http-client", "java/", "okhttp", "apache-httpclient", "axios",
	"node-fetch", "undici", "got (", "ruby", "php/", "guzzle", "postman",
	"insomnia", "httpie", "powershell", "winhttp", "scrapy", "colly",
	"mechanize", "http_request", "libcurl", "zgrab", "masscan", "nmap",
}

// notBotTokens are user-agent fragments that contain a bot token but are
// people: the Cubot phone brand says "bot".
var notBotTokens = []string{"cubot"}

// isBot reports whether a user agent is a crawler, a script or a
// link-preview fetcher. An empty user agent counts as a bot: browsers
// always send one.
func isBot(ua string) bool {
	ua = strings.ToLower(strings.TrimSpace(ua))
	if ua == "" {
		return true
	}
	for _, tok := range notBotTokens {
		ua = strings.ReplaceAll(ua, tok, "")
	}
	for _, tok := range botTokens {
		if strings.Contains(ua, tok) {
			return true
		}
	}
	return false
}

// isPrefetch reports whether a request is a speculative fetch by a browser
// or a preview proxy rather than a click.
func isPrefetch(h http.Header) bool {
	for _, name := range []string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		v := strings.ToLower(h.Get(name))
		if strings.Contains(v, "prefetch") || strings.Contains(v, "preview") {
			return true
		}
	}
	return false
}
