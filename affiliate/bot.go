package affiliate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
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
// The maintained list, github.com/monperrus/crawler-user-agents, cannot be
// a Go dependency here (the module proxy refuses it), so it is loaded at
// start from the JSON file its npm package ships (CMS_CRAWLER_LIST; see
// LoadCrawlerList). This built-in list always applies as well: it covers
// the preview fetchers that list does not, and works without the file.
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

// CrawlerList is the compiled crawler-user-agents list: one regular
// expression per crawler, as maintained by that project. Matching a user
// agent against all of them takes tens of microseconds, too much for every
// redirect, but real traffic repeats a few thousand user agents, so
// answers are remembered.
type CrawlerList struct {
	patterns []*regexp.Regexp

	mu   sync.Mutex
	seen map[string]bool
}

// maxRemembered bounds the memory of answers; when full it starts over.
const maxRemembered = 8192

// LoadCrawlerList reads crawler-user-agents.json (from `npm install
// crawler-user-agents`): an array of objects whose "pattern" is a regular
// expression matched against the user agent.
func LoadCrawlerList(path string) (*CrawlerList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read crawler list: %w", err)
	}
	var entries []struct {
		Pattern string `json:"pattern"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("crawler list %s is not crawler-user-agents JSON: %w", path, err)
	}
	l := &CrawlerList{seen: map[string]bool{}}
	for i, e := range entries {
		re, err := regexp.Compile(e.Pattern)
		if err != nil {
			return nil, fmt.Errorf("crawler list %s entry %d: %w", path, i, err)
		}
		l.patterns = append(l.patterns, re)
	}
	if len(l.patterns) == 0 {
		return nil, fmt.Errorf("crawler list %s has no patterns", path)
	}
	return l, nil
}

// Len is the number of crawler patterns.
func (l *CrawlerList) Len() int { return len(l.patterns) }

// Match reports whether ua is a crawler on the list.
func (l *CrawlerList) Match(ua string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	v, ok := l.seen[ua]
	l.mu.Unlock()
	if ok {
		return v
	}
	for _, re := range l.patterns {
		if re.MatchString(ua) {
			v = true
			break
		}
	}
	if len(ua) <= 512 { // do not let odd, huge user agents fill the memory
		l.mu.Lock()
		if len(l.seen) >= maxRemembered {
			l.seen = map[string]bool{}
		}
		l.seen[ua] = v
		l.mu.Unlock()
	}
	return v
}

// isBot reports whether ua is a bot by the maintained list or the
// built-in one.
func (s *Service) isBot(ua string) bool {
	return isBot(ua) || s.opts.Crawlers.Match(ua)
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
