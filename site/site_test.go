package site_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

const settingsPath = "/api/v1/settings/site"

type siteDoc struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	URL         string  `json:"url"`
	Locale      string  `json:"locale"`
	LogoURL     string  `json:"logoUrl"`
	UpdatedAt   *string `json:"updatedAt"`
	Publisher   struct {
		Name    string `json:"name"`
		LogoURL string `json:"logoUrl"`
	} `json:"publisher"`
}

func decode(t *testing.T, r *testenv.Response) siteDoc {
	t.Helper()
	var d siteDoc
	r.JSON(t, &d)
	return d
}

// TestSiteSettingsRoundTrip: the defaults, a PATCH, the document fetched
// and sent back, null returning members to their defaults, If-Match.
func TestSiteSettingsRoundTrip(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)

	r := testenv.Call(t, s, admin, "GET", settingsPath, nil)
	testenv.WantStatus(t, r, http.StatusOK)
	if d := decode(t, r); d.Name != "cms.test" || d.URL != "http://cms.test" || d.Locale != "en" || d.UpdatedAt != nil {
		t.Fatalf("defaults = %+v", d)
	}
	if r.Header.Get("ETag") != `"0"` || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: ETag %q, Cache-Control %q", r.Header.Get("ETag"), r.Header.Get("Cache-Control"))
	}

	r = testenv.Call(t, s, admin, "PATCH", settingsPath, map[string]any{
		"name": "  Move Well  ", "description": "Evidence-based physiotherapy.", "locale": "en-GB",
		"logoUrl":   "https://cdn.example.com/logo.png",
		"publisher": map[string]any{"name": "Move Well Ltd", "logoUrl": "https://cdn.example.com/org.png"},
	}, "If-Match", `"0"`)
	testenv.WantStatus(t, r, http.StatusOK)
	d := decode(t, r)
	if d.Name != "Move Well" || d.Locale != "en-GB" || d.Publisher.Name != "Move Well Ltd" || d.UpdatedAt == nil || d.URL != "http://cms.test" {
		t.Fatalf("after PATCH = %+v", d)
	}
	etag := r.Header.Get("ETag")
	if etag != `"1"` {
		t.Errorf("ETag after one change = %q", etag)
	}

	// What GET gives, sent back with one change, is accepted: updatedAt
	// unchanged, the default url as it is (it names no port here, but
	// need not).
	got := testenv.Call(t, s, admin, "GET", settingsPath, nil)
	var body map[string]any
	got.JSON(t, &body)
	body["description"] = "Changed by a round trip."
	r = testenv.Call(t, s, admin, "PATCH", settingsPath, body, "If-Match", etag)
	testenv.WantStatus(t, r, http.StatusOK)
	if d := decode(t, r); d.Description != "Changed by a round trip." || d.Name != "Move Well" {
		t.Fatalf("round trip = %+v", d)
	}

	// A stale If-Match is 412 and changes nothing.
	r = testenv.Call(t, s, admin, "PATCH", settingsPath, map[string]any{"name": "Lost"}, "If-Match", etag)
	testenv.WantStatus(t, r, http.StatusPreconditionFailed)

	// null returns name and locale to their defaults and clears the rest.
	r = testenv.Call(t, s, admin, "PATCH", settingsPath, map[string]any{"name": nil, "locale": nil, "publisher": nil, "logoUrl": nil})
	testenv.WantStatus(t, r, http.StatusOK)
	if d := decode(t, r); d.Name != "cms.test" || d.Locale != "en" || d.Publisher.Name != "" || d.LogoURL != "" || d.Description == "" {
		t.Fatalf("after nulls = %+v", d)
	}
}

// TestSiteSettingsSentBack: the settings fetched and sent back whole with
// one change are accepted, a changed updatedAt is refused by name, and
// every bad member is named in one answer.
func TestSiteSettingsSentBack(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	for _, e := range []testenv.Edit{
		// Before the first change, updatedAt is null.
		{Field: "description", Value: "Physiotherapy.", ReadOnly: "updatedAt", Changed: "2001-01-01T00:00:00Z"},
		{Field: "name", Value: "Move Well", ReadOnly: "updatedAt", Changed: nil},
	} {
		testenv.RoundTrip(t, s, admin, http.MethodPatch, settingsPath, e)
	}
}

// TestSiteSettingsValidation: every bad member is named in one answer.
func TestSiteSettingsValidation(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	for _, tc := range []struct {
		name   string
		body   any
		fields []string
	}{
		{"several bad fields at once", map[string]any{
			"name": strings.Repeat("n", 101), "url": "javascript:alert(1)", "locale": "english please",
			"logoUrl": "ftp://example.com/logo.png", "publisher": map[string]any{"logoUrl": "https://user@example.com/x.png"},
			"description": "line\x00break",
		}, []string{"name", "url", "locale", "logoUrl", "publisher.logoUrl", "description"}},
		{"empty name", map[string]any{"name": "  "}, []string{"name"}},
		{"a url with a port that is not the public URL", map[string]any{"url": "http://example.com:3000"}, []string{"url"}},
		{"a changed updatedAt", map[string]any{"updatedAt": "2020-01-01T00:00:00Z"}, []string{"updatedAt"}},
		{"wrong types", map[string]any{"name": 3, "publisher": map[string]any{"name": true}}, []string{"name", "publisher.name"}},
		{"an unknown member", map[string]any{"title": "x"}, []string{"title"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.Call(t, s, admin, "PATCH", settingsPath, tc.body)
			testenv.WantStatus(t, r, http.StatusBadRequest)
			errs, _ := r.Problem(t)["errors"].([]any)
			named := map[string]bool{}
			for _, e := range errs {
				if m, ok := e.(map[string]any); ok {
					named[m["field"].(string)] = true
				}
			}
			for _, f := range tc.fields {
				if !named[f] {
					t.Errorf("%s not named: %s", f, r.Body)
				}
			}
		})
	}
	// Nothing was stored.
	if r := testenv.Call(t, s, admin, "GET", settingsPath, nil); r.Header.Get("ETag") != `"0"` {
		t.Errorf("a refused PATCH changed the settings: %s", r.Body)
	}
}

// TestSiteSettingsRoles: only admins read or change the settings.
func TestSiteSettingsRoles(t *testing.T) {
	s := testenv.NewServer(t)
	for _, tc := range []struct {
		role         auth.Role // "" anonymous
		get, patched int
	}{
		{"", 401, 401},
		{auth.Contributor, 403, 403},
		{auth.Author, 403, 403},
		{auth.Editor, 403, 403},
		{auth.Admin, 200, 200},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			token := ""
			if tc.role != "" {
				token, _ = s.User(t, tc.role)
			}
			testenv.WantStatus(t, testenv.Call(t, s, token, "GET", settingsPath, nil), tc.get)
			testenv.WantStatus(t, testenv.Call(t, s, token, "PATCH", settingsPath, map[string]any{"description": "By " + string(tc.role)}), tc.patched)
		})
	}
}

// TestSiteSettingsTwoInstances: a change on one instance shows on the
// other within a poll, in the settings, the public document and the feed.
func TestSiteSettingsTwoInstances(t *testing.T) {
	db := testenv.OpenDB(t)
	keys := testenv.Keys(t)
	same := func(c *server.Options) { c.Keys = keys }
	one := testenv.NewServerOn(t, db, same)
	two := testenv.NewServerOn(t, db, same)
	admin, _ := one.User(t, auth.Admin)

	testenv.WantStatus(t, testenv.Call(t, one, admin, "PATCH", settingsPath, map[string]any{"name": "Shared Name"}), http.StatusOK)
	if d := decode(t, testenv.Call(t, one, "", "GET", "/api/v1/content/site", nil)); d.Name != "Shared Name" {
		t.Fatalf("the writing instance does not see its change at once: %+v", d)
	}
	testenv.Eventually(t, "the other instance to see the change", func() bool {
		d := decode(t, testenv.Call(t, two, "", "GET", "/api/v1/content/site", nil))
		feed := testenv.Call(t, two, "", "GET", "/feed.xml", nil)
		return d.Name == "Shared Name" && strings.Contains(string(feed.Body), "<title>Shared Name</title>")
	})
}
