package affiliate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testCatalogue(t *testing.T) *catalogue {
	t.Helper()
	st := DefaultSettings(map[string]string{
		"amazon.com": "site-20", "amazon.co.uk": "site-21", "amazon.de": "site-03",
		"amazon.co.jp": "site-22", "amazon.com.au": "site-23", "amazon.com.br": "site-24",
	})
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	return buildCatalogue(nil, st)
}

func TestDefaultSettings(t *testing.T) {
	st := DefaultSettings(nil)
	if st.DisclosureText != "As an Amazon Associate I earn from qualifying purchases." {
		t.Errorf("disclosure %q", st.DisclosureText)
	}
	allowed := st.allowSet()
	for _, mp := range []string{"amazon.com", "amazon.co.uk", "amazon.de", "amazon.fr", "amazon.it", "amazon.es",
		"amazon.ca", "amazon.com.au", "amazon.co.jp", "amazon.in", "amazon.com.mx", "amazon.com.br", "amazon.nl",
		"amazon.se", "amazon.pl", "amazon.sg", "amazon.ae", "amazon.sa", "amazon.com.tr", "amazon.com.be",
		"amazon.ie", "amazon.eg"} {
		if !allowed[mp] || !allowed["www."+mp] {
			t.Errorf("%s is not allowed in both forms", mp)
		}
	}
	if len(st.AllowedHosts) != 44 {
		t.Errorf("%d allowed hosts, want 44", len(st.AllowedHosts))
	}
}

// TestTagPerMarketplace: each marketplace gets its own tag, replacing any
// tag already in the link.
func TestTagPerMarketplace(t *testing.T) {
	c := testCatalogue(t)
	tests := []struct{ in, want string }{
		{"https://www.amazon.com/dp/B000123456", "https://www.amazon.com/dp/B000123456?tag=site-20"},
		{"https://amazon.com/dp/B000123456", "https://amazon.com/dp/B000123456?tag=site-20"},
		{"https://www.amazon.co.uk/dp/B000123456?tag=other-21", "https://www.amazon.co.uk/dp/B000123456?tag=site-21"},
		{"https://www.amazon.de/gp/product/B000123456?ref=x&tag=a-21&tag=b-21", "https://www.amazon.de/gp/product/B000123456?ref=x&tag=site-03"},
		{"https://www.amazon.co.jp/dp/B000123456?Tag=other-22", "https://www.amazon.co.jp/dp/B000123456?tag=site-22"},
		{"https://www.amazon.com.au/dp/B000123456", "https://www.amazon.com.au/dp/B000123456?tag=site-23"},
		{"https://www.amazon.com.br/dp/B000123456", "https://www.amazon.com.br/dp/B000123456?tag=site-24"},
		// No tag configured: a foreign tag is still removed.
		{"https://www.amazon.fr/dp/B000123456?tag=other-21&th=1", "https://www.amazon.fr/dp/B000123456?th=1"},
		{"https://www.amazon.it/dp/B000123456", "https://www.amazon.it/dp/B000123456"},
	}
	for _, tc := range tests {
		got, ok := c.tagLink(tc.in)
		if !ok || got != tc.want {
			t.Errorf("tagLink(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

// TestTagLink is the body-link rule: Amazon store links are tagged (and
// upgraded to https), everything else is left alone.
func TestTagLink(t *testing.T) {
	c := testCatalogue(t)
	tests := []struct {
		in, want  string
		affiliate bool
	}{
		{"http://www.amazon.com/dp/B000123456", "https://www.amazon.com/dp/B000123456?tag=site-20", true},
		{"HTTPS://WWW.AMAZON.CO.UK/dp/B000123456", "https://www.amazon.co.uk/dp/B000123456?tag=site-21", true},
		{"https://amzn.to/3abcdef", "https://amzn.to/3abcdef", false},
		{"https://www.example.com/?tag=x", "https://www.example.com/?tag=x", false},
		{"https://www.amazon.com.evil.example/dp/B000123456", "https://www.amazon.com.evil.example/dp/B000123456", false},
		{"https://user@www.amazon.com/dp/B000123456", "https://user@www.amazon.com/dp/B000123456", false},
		{"https://www.amazon.com:8443/dp/B000123456", "https://www.amazon.com:8443/dp/B000123456", false},
		{"/relative", "/relative", false},
		{"mailto:a@amazon.com", "mailto:a@amazon.com", false},
		{"#top", "#top", false},
	}
	for _, tc := range tests {
		got, ok := c.tagLink(tc.in)
		if got != tc.want || ok != tc.affiliate {
			t.Errorf("tagLink(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.affiliate)
		}
	}
	for href, want := range map[string]bool{
		"https://amzn.to/x": true, "https://a.co/d/x": true, "http://www.amazon.de/x": true,
		"https://example.com/amazon.com": false, "https://amazon.com.evil.example/": false, "not a url": false,
	} {
		if IsAmazonLink(href) != want {
			t.Errorf("IsAmazonLink(%q) != %v", href, want)
		}
	}
}

func TestRelFor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "sponsored nofollow noopener"},
		{"noreferrer", "sponsored nofollow noopener"},
		{"NoFollow noreferrer ugc", "sponsored nofollow noopener ugc"},
		{"no-referrer sponsored", "sponsored nofollow noopener"},
	}
	for _, tc := range tests {
		if got := RelFor(tc.in); got != tc.want {
			t.Errorf("RelFor(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBotFlag(t *testing.T) {
	tests := []struct {
		ua  string
		bot bool
	}{
		{"", true},
		{"   ", true},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", true},
		{"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", true},
		{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", true},
		{"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", true},
		{"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", true},
		{"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", true},
		{"Twitterbot/1.0", true},
		{"WhatsApp/2.23.20.0 A", true},
		{"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", true},
		{"TelegramBot (like TwitterBot)", true},
		{"LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", true},
		{"Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36", true},
		{"curl/8.5.0", true},
		{"python-requests/2.31.0", true},
		{"Go-http-client/1.1", true},
		{"Wget/1.21.4", true},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", false},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", false},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", false},
		{"Mozilla/5.0 (Linux; Android 13; CUBOT KINGKONG 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0 Mobile Safari/537.36", false},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]", false},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36 [FBAN/EMA;FBLC/en_US]", false},
	}
	for _, tc := range tests {
		if got := isBot(tc.ua); got != tc.bot {
			t.Errorf("isBot(%q) = %v, want %v", tc.ua, got, tc.bot)
		}
	}
}

func TestClickParams(t *testing.T) {
	for in, want := range map[string]string{
		"knee-pain": "knee-pain", "": "", "Knee": "", "a b": "", "a/b": "", strings.Repeat("a", 200): strings.Repeat("a", 200),
		strings.Repeat("a", 201): "", "https://evil.example": "", "x%00": "",
	} {
		if got := articleParam(in); got != want {
			t.Errorf("articleParam(%q) = %q", in, got)
		}
	}
	for in, want := range map[string]int{"1": 1, "999": 999, "0": 0, "1000": 0, "-1": 0, "+1": 0, "01": 0, "x": 0, "": 0, "1.5": 0} {
		if got := positionParam(in); got != want {
			t.Errorf("positionParam(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"https://blog.example/p?q=1": "blog.example", "http://UPPER.example:8080/x": "upper.example",
		"android-app://com.google.android.gm/": "", "garbage": "", "": "",
	} {
		if got := referrerHost(in); got != want {
			t.Errorf("referrerHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLegacySpillReplayed: a spill file an older version left, torn
// mid-line by a crash, is noticed at start and handed over for replay
// whole: every complete click reads back, the torn fragment is one
// skipped line.
func TestLegacySpillReplayed(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Millisecond)
	clicks := []Click{
		{ID: newClickID(), Product: "roller", Time: now, Day: dayOf(now), Visitor: "ab"},
		{ID: newClickID(), Product: "roller", Article: "knee-pain", Position: 2, Time: now, Day: dayOf(now)},
	}
	data, err := encodeClicks(clicks)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, `{"id":"0123`...)
	if err := os.WriteFile(filepath.Join(dir, spillName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := openSpill(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !sp.hasPending() {
		t.Fatal("leftover spill file not noticed")
	}
	files, err := sp.take()
	if err != nil || len(files) != 1 {
		t.Fatalf("take: %v %v", files, err)
	}
	var got []Click
	var bad []int
	err = readSpill(files[0], func(c Click) error { got = append(got, c); return nil }, func(line int, _ string) { bad = append(bad, line) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != clicks[0].ID || got[1].Article != "knee-pain" || len(bad) != 1 || bad[0] != 3 {
		t.Fatalf("read back %d clicks, bad lines %v", len(got), bad)
	}
	if sp.hasPending() {
		t.Fatal("still pending after take")
	}
}
