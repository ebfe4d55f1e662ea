package affiliate_test

import (
	"strings"
	"testing"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

func TestSettings(t *testing.T) {
	s := newServer(t)
	admin := adminToken(t, s)
	editor, _ := s.User(t, auth.Editor)

	r := s.Do(testenv.Request{Path: "/api/v1/settings/affiliate", Token: admin})
	if r.Status != 200 {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	var st struct {
		Tags           map[string]string `json:"tags"`
		DisclosureText string            `json:"disclosureText"`
		AllowedHosts   []string          `json:"allowedHosts"`
	}
	r.JSON(t, &st)
	if st.DisclosureText != "As an Amazon Associate I earn from qualifying purchases." {
		t.Errorf("default disclosure %q", st.DisclosureText)
	}
	if st.Tags["amazon.com"] != "mysite-20" || st.Tags["amazon.co.uk"] != "mysite-21" {
		t.Errorf("tags not seeded from configuration: %v", st.Tags)
	}
	if len(st.AllowedHosts) != 44 || !contains(st.AllowedHosts, "www.amazon.com.au") || !contains(st.AllowedHosts, "amazon.eg") {
		t.Errorf("default allowed hosts %v", st.AllowedHosts)
	}
	if contains(st.AllowedHosts, "amzn.to") {
		t.Error("amzn.to allowed by default")
	}

	valid := func() map[string]any {
		return map[string]any{"tags": map[string]string{"amazon.com": "new-20"}, "disclosureText": "I earn from qualifying purchases.",
			"allowedHosts": []string{"www.amazon.com", "amazon.com"}}
	}
	with := func(k string, v any) map[string]any { b := valid(); b[k] = v; return b }
	without := func(k string) map[string]any { b := valid(); delete(b, k); return b }
	tests := []struct {
		name    string
		token   string
		body    any
		status  int
		message string
	}{
		{"editor may not", editor, valid(), 403, ""},
		{"anonymous may not", "", valid(), 401, ""},
		{"amzn.to refused", admin, with("allowedHosts", []string{"www.amazon.com", "amzn.to"}), 400, "short links"},
		{"bit.ly refused", admin, with("allowedHosts", []string{"bit.ly"}), 400, "short links"},
		{"host with scheme", admin, with("allowedHosts", []string{"https://www.amazon.com"}), 400, "host name"},
		{"host with port", admin, with("allowedHosts", []string{"www.amazon.com:443"}), 400, "host name"},
		{"IP address", admin, with("allowedHosts", []string{"10.0.0.1"}), 400, "IP address"},
		{"empty allow list", admin, with("allowedHosts", []string{}), 400, "at least one"},
		{"unknown marketplace", admin, with("tags", map[string]string{"amazon.xyz": "a-20"}), 400, "not an Amazon marketplace"},
		{"www marketplace", admin, with("tags", map[string]string{"www.amazon.com": "a-20"}), 400, "without www."},
		{"bad tag", admin, with("tags", map[string]string{"amazon.com": "a tag"}), 400, "associate tag"},
		{"empty disclosure", admin, with("disclosureText", "   "), 400, "Amazon requires"},
		{"missing field", admin, without("allowedHosts"), 400, "required"},
		{"null field", admin, with("tags", nil), 400, "required"},
		{"unknown field", admin, with("prices", true), 400, "unknown field"},
		{"ok", admin, valid(), 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(testenv.Request{Method: "PUT", Path: "/api/v1/settings/affiliate", Token: tc.token, Body: tc.body})
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.message != "" && !strings.Contains(string(r.Body), tc.message) {
				t.Fatalf("no %q in %s", tc.message, r.Body)
			}
		})
	}
	r = s.Do(testenv.Request{Path: "/api/v1/settings/affiliate", Token: admin})
	st.Tags = nil
	r.JSON(t, &st)
	if st.Tags["amazon.com"] != "new-20" || len(st.Tags) != 1 || st.DisclosureText != "I earn from qualifying purchases." || strings.Join(st.AllowedHosts, ",") != "amazon.com,www.amazon.com" {
		t.Fatalf("settings after put: %+v", st)
	}
	if r := s.Do(testenv.Request{Path: "/api/v1/settings/affiliate", Token: editor}); r.Status != 403 {
		t.Fatalf("editor get: %d", r.Status)
	}
}

// TestPipelineHelpers covers what the article side uses: product cards
// and attachment checks from the in-memory catalogue, tracked links, and
// the disclosure.
func TestPipelineHelpers(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	inst := newInstance(t, s, affiliate.Options{PublicURL: "https://clinic.example/"})
	hdr := map[string]string{"Authorization": "Bearer " + editor}
	for _, p := range []map[string]any{
		{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com", "imageUrl": "https://m.media-amazon.com/r.jpg"},
		{"code": "old", "title": "Old", "asin": "B000123456", "marketplace": "amazon.com", "archived": true},
	} {
		if st, _, body := do(t, "POST", inst.URL+"/api/v1/products", hdr, p); st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
	}
	cards := inst.ProductCards([]string{"old", "nope", "roller"})
	if len(cards) != 1 || cards[0] != (affiliate.ProductCard{Code: "roller", Title: "Roller", ImageURL: "https://m.media-amazon.com/r.jpg", Merchant: "Amazon"}) {
		t.Fatalf("cards %+v", cards)
	}
	if got := inst.UnknownProducts([]string{"roller", "old", "nope"}); strings.Join(got, ",") != "old,nope" {
		t.Fatalf("unknown %v", got)
	}
	if got := inst.TrackingURL("roller", "knee-pain"); got != "https://clinic.example/go/roller?a=knee-pain" {
		t.Fatalf("tracking URL %q", got)
	}
	if inst.Disclosure() != affiliate.DefaultDisclosure {
		t.Fatalf("disclosure %q", inst.Disclosure())
	}
	if got, ok := inst.TagLink("http://www.amazon.co.uk/dp/B000123456?tag=x-21"); !ok || got != "https://www.amazon.co.uk/dp/B000123456?tag=mysite-21" {
		t.Fatalf("TagLink %q %v", got, ok)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
