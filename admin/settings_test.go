package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

func TestSettingsAccess(t *testing.T) {
	s := testenv.NewServer(t)
	for _, tc := range []struct {
		role   auth.Role
		status int
	}{
		{auth.Contributor, http.StatusForbidden},
		{auth.Author, http.StatusForbidden},
		{auth.Editor, http.StatusForbidden},
		{auth.Admin, http.StatusOK},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			b := signIn(t, s, tc.role)
			r := b.get("/admin/settings")
			if tc.status == http.StatusForbidden {
				r.want(t, http.StatusForbidden, "<h1>Forbidden</h1>")
				b.post("/admin/settings/site", url.Values{"version": {"0"}, "name": {"Mine"}}).want(t, http.StatusForbidden)
				return
			}
			r.want(t, http.StatusOK, "<h1>Settings</h1>", `aria-current="page">Settings</a>`,
				`action="/admin/settings/site"`, `action="/admin/settings/affiliate"`, `action="/admin/settings/webhooks"`)
		})
	}
}

// siteSettingsForm is the site section as a browser sends it.
func siteSettingsForm(version, name, locale string) url.Values {
	return url.Values{"version": {version}, "name": {name}, "description": {"Massage and physiotherapy."},
		"url": {"http://cms.test"}, "locale": {locale}, "logoUrl": {""},
		"publisher.name": {"Wellness Clinic Ltd"}, "publisher.logoUrl": {""}}
}

func TestSiteSettingsForm(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Admin)
	b := signIn(t, s, auth.Admin)

	b.post("/admin/settings/site", siteSettingsForm("0", "Calm Clinic", "not a locale!")).
		want(t, http.StatusBadRequest, `value="Calm Clinic"`, `value="not a locale!"`, "must be a BCP 47 language tag")

	r := b.post("/admin/settings/site", siteSettingsForm("0", "Calm Clinic", "en-GB"))
	if r.Status != http.StatusSeeOther || r.location() != "/admin/settings?done=saved" {
		t.Fatalf("save: %d %q\n%.2000s", r.Status, r.location(), r.Body)
	}
	var st struct {
		Name, Locale string
		Publisher    struct{ Name string }
	}
	testenv.Call(t, s, token, http.MethodGet, "/api/v1/settings/site", nil).JSON(t, &st)
	if st.Name != "Calm Clinic" || st.Locale != "en-GB" || st.Publisher.Name != "Wellness Clinic Ltd" {
		t.Fatalf("API: %+v", st)
	}
	b.get(r.location()).want(t, http.StatusOK, "Saved.", `value="Calm Clinic"`)

	// The form at version 0 is stale now: kept, moved to version 1.
	b.post("/admin/settings/site", siteSettingsForm("0", "Other name", "en")).
		want(t, http.StatusPreconditionFailed, "Someone else saved these settings", `value="Other name"`, `name="version" value="1"`)
}

func TestAffiliateSettingsForm(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Admin)
	b := signIn(t, s, auth.Admin)
	var cur struct {
		AllowedHosts []string `json:"allowedHosts"`
	}
	r := testenv.Call(t, s, token, http.MethodGet, "/api/v1/settings/affiliate", nil)
	r.JSON(t, &cur)
	version := strings.Trim(r.Header.Get("ETag"), `"`)

	b.get("/admin/settings").want(t, http.StatusOK, `<label for="tag-amazon.de">Tag for amazon.de</label>`,
		`<label for="aff-disclosure">Disclosure text</label>`, `<label for="aff-mode">Link mode</label>`)
	form := url.Values{"version": {version}, "tags.amazon.de": {"bad tag!"}, "tags.amazon.com": {"clinic-20"},
		"disclosureText": {"We earn from qualifying purchases."}, "linkMode": {"redirect"},
		"allowedHosts": {strings.Join(cur.AllowedHosts, "\n")}}
	b.post("/admin/settings/affiliate", form).
		want(t, http.StatusBadRequest, `value="bad tag!"`, "must be an associate tag like mysite-20", "We earn from qualifying purchases.")

	form.Set("tags.amazon.de", "clinic-21")
	if r := b.post("/admin/settings/affiliate", form); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%.2000s", r.Status, r.Body)
	}
	var st struct {
		Tags           map[string]string `json:"tags"`
		DisclosureText string            `json:"disclosureText"`
		LinkMode       string            `json:"linkMode"`
	}
	testenv.Call(t, s, token, http.MethodGet, "/api/v1/settings/affiliate", nil).JSON(t, &st)
	if st.Tags["amazon.de"] != "clinic-21" || st.Tags["amazon.com"] != "clinic-20" || st.LinkMode != "redirect" ||
		st.DisclosureText != "We earn from qualifying purchases." {
		t.Fatalf("API: %+v", st)
	}
	// An emptied field removes the tag; the old version is stale now.
	form.Set("tags.amazon.de", "")
	b.post("/admin/settings/affiliate", form).want(t, http.StatusPreconditionFailed, "Someone else saved these settings")
	r = testenv.Call(t, s, token, http.MethodGet, "/api/v1/settings/affiliate", nil)
	form.Set("version", strings.Trim(r.Header.Get("ETag"), `"`))
	if r := b.post("/admin/settings/affiliate", form); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%.2000s", r.Status, r.Body)
	}
	st.Tags = nil // decoding merges into a map
	testenv.Call(t, s, token, http.MethodGet, "/api/v1/settings/affiliate", nil).JSON(t, &st)
	if _, ok := st.Tags["amazon.de"]; ok || st.Tags["amazon.com"] != "clinic-20" {
		t.Fatalf("tags: %v", st.Tags)
	}
}

var secretField = regexp.MustCompile(`<input id="hook-secret" value="([0-9a-f]+)" readonly>`)

func TestWebhooksForm(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Admin)
	b := signIn(t, s, auth.Admin)

	b.get("/admin/settings").want(t, http.StatusOK, "No webhooks yet.", `<label for="hook-url">Webhook URL</label>`,
		`<label for="event-article.published">article.published</label>`)
	b.post("/admin/settings/webhooks", url.Values{"url": {"http://127.0.0.1:9/hook"}}).
		want(t, http.StatusBadRequest, `value="http://127.0.0.1:9/hook"`, "name at least one of")

	r := b.post("/admin/settings/webhooks", url.Values{"url": {"http://127.0.0.1:9/hook"}, "events": {"article.published"}})
	r.want(t, http.StatusCreated, "it is not shown again", "Created.")
	m := secretField.FindStringSubmatch(r.Body)
	if m == nil || len(m[1]) < 32 {
		t.Fatalf("no secret shown\n%.3000s", r.Body)
	}
	secret := m[1]
	var list struct {
		Items []struct {
			ID, URL string
			Events  []string
		}
	}
	testenv.Call(t, s, token, http.MethodGet, "/api/v1/webhooks", nil).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].URL != "http://127.0.0.1:9/hook" {
		t.Fatalf("API: %+v", list)
	}
	id := list.Items[0].ID
	page := b.get("/admin/settings")
	page.want(t, http.StatusOK, "http://127.0.0.1:9/hook", "No deliveries yet.")
	if strings.Contains(page.Body, secret) {
		t.Fatal("the secret is shown again")
	}

	// A published article queues a delivery, which the hook's table shows.
	testenv.Publish(t, s, token, map[string]any{"title": "Breathing for calm", "body": "<p>Breathe.</p>"})
	testenv.Eventually(t, "the delivery on the page", func() bool {
		return strings.Contains(b.get("/admin/settings").Body, "<td>article.published</td>")
	})

	b.post("/admin/settings/webhooks/"+id+"/delete", url.Values{"version": {"0"}}).want(t, http.StatusPreconditionFailed)
	if r := b.post("/admin/settings/webhooks/"+id+"/delete", url.Values{"version": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d\n%.2000s", r.Status, r.Body)
	}
	testenv.Call(t, s, token, http.MethodGet, "/api/v1/webhooks", nil).JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("still listed: %+v", list)
	}
}
