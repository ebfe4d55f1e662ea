package affiliate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadCrawlerList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crawler-user-agents.json")
	list := `[{"pattern":"Googlebot\\/","instances":["Googlebot/2.1"]},{"pattern":"[Ww]eird[Cc]rawler","instances":[]}]`
	if err := os.WriteFile(path, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := LoadCrawlerList(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{opts: Options{Crawlers: l}}
	for ua, want := range map[string]bool{
		"Mozilla/5.0 (compatible; WeirdCrawler 1.0)":                          true, // only the loaded list knows it
		"Googlebot/2.1 (+http://www.google.com/bot.html)":                     true,
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome": false,
	} {
		if got := s.isBot(ua); got != want {
			t.Errorf("isBot(%q) = %v, want %v", ua, got, want)
		}
	}
	for _, bad := range []string{`{}`, `[{"pattern":"(unclosed"}]`, `[]`} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCrawlerList(path); err == nil {
			t.Errorf("list %s accepted", bad)
		}
	}
}

// TestMaintainedCrawlerList checks every sample user agent of the real
// crawler-user-agents list, when CMS_CRAWLER_LIST names it (.ci/run
// installs it from npm).
func TestMaintainedCrawlerList(t *testing.T) {
	path := os.Getenv("CMS_CRAWLER_LIST")
	if path == "" {
		t.Skip("CMS_CRAWLER_LIST is not set; .ci/run installs the list with npm")
	}
	l, err := LoadCrawlerList(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var entries []struct {
		Instances []string `json:"instances"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	s := &Service{opts: Options{Crawlers: l}}
	n := 0
	for _, e := range entries {
		for _, ua := range e.Instances {
			n++
			if !s.isBot(ua) {
				t.Errorf("sample crawler not flagged: %q", ua)
			}
		}
	}
	for _, ua := range []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
	} {
		if s.isBot(ua) {
			t.Errorf("a browser is flagged as a bot: %q", ua)
		}
	}
	t.Logf("%d patterns, %d sample user agents checked", l.Len(), n)
}
