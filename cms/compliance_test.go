package cms_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

// complianceAPI has tags for amazon.com only: amazon.de links earn
// nothing.
func complianceAPI(t *testing.T) *testenv.Server {
	t.Helper()
	return testenv.NewServer(t, func(c *server.Options) {
		c.AmazonTags = map[string]string{"amazon.com": "clinic-20"}
	})
}

type finding struct {
	Rule, Severity, Message, Field string
}

type report struct {
	OK       bool      `json:"ok"`
	Findings []finding `json:"findings"`
}

func compliance(t *testing.T, s *testenv.Server, token, id string) report {
	t.Helper()
	r := testenv.Call(t, s, token, "GET", "/api/v1/articles/"+id+"/compliance", nil)
	testenv.WantStatus(t, r, http.StatusOK)
	var rep report
	r.JSON(t, &rep)
	return rep
}

func hasRule(fs []finding, rule string) bool {
	for _, f := range fs {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

func product(t *testing.T, s *testenv.Server, token string, body map[string]any) map[string]any {
	t.Helper()
	r := testenv.Call(t, s, token, "POST", "/api/v1/products", body)
	testenv.WantStatus(t, r, http.StatusCreated)
	var p map[string]any
	r.JSON(t, &p)
	return p
}

// TestComplianceRules runs each rule on an article that breaks it and on
// one that does not, through the real router and settings.
func TestComplianceRules(t *testing.T) {
	s := complianceAPI(t)
	editor, _ := s.User(t, auth.Editor)
	admin, _ := s.User(t, auth.Admin)
	product(t, s, editor, map[string]any{"code": "us-roller", "title": "Roller", "asin": "B000000001", "marketplace": "amazon.com"})
	product(t, s, editor, map[string]any{"code": "de-roller", "title": "Rolle", "asin": "B000000002", "marketplace": "amazon.de"})
	product(t, s, editor, map[string]any{"code": "old-roller", "title": "Old", "asin": "B000000003", "marketplace": "amazon.com"})

	recent := time.Now().UTC().AddDate(0, -2, 0).Format(time.DateOnly)
	old := time.Now().UTC().AddDate(-2, 0, 0).Format(time.DateOnly)
	us := `<a href="https://www.amazon.com/dp/B000000001">the roller</a>`
	setDisclosure := func(text string) func(t *testing.T) {
		return func(t *testing.T) {
			r := testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/affiliate", map[string]any{"disclosureText": text})
			testenv.WantStatus(t, r, http.StatusOK)
		}
	}
	tests := []struct {
		rule, severity string
		fail, pass     map[string]any
		// before runs before the articles are checked; after restores.
		before, after func(t *testing.T)
	}{
		{rule: "affiliate-link-untagged", severity: "error",
			fail: map[string]any{"body": `<p><a href="https://www.amazon.de/dp/B000000002">Rolle</a></p>`},
			pass: map[string]any{"body": "<p>" + us + "</p>"}},
		{rule: "product-untagged", severity: "error",
			fail: map[string]any{"products": []map[string]any{{"code": "de-roller"}}},
			pass: map[string]any{"products": []map[string]any{{"code": "us-roller"}}}},
		{rule: "product-archived", severity: "error",
			fail: map[string]any{"products": []map[string]any{{"code": "old-roller"}}},
			pass: map[string]any{"products": []map[string]any{{"code": "us-roller"}}},
			before: func(t *testing.T) {
				r := testenv.Call(t, s, editor, "PATCH", "/api/v1/products/old-roller", map[string]any{"archived": true})
				testenv.WantStatus(t, r, http.StatusOK)
			}},
		{rule: "disclosure-missing", severity: "error",
			fail:   map[string]any{"body": "<p>" + us + "</p>"},
			pass:   map[string]any{"body": "<p>No links here.</p>"},
			before: setDisclosure("We may earn a commission."), after: setDisclosure("Affiliate links below. As an Amazon Associate I earn from qualifying purchases.")},
		{rule: "disclosure-missing", severity: "error",
			fail:   map[string]any{"products": []map[string]any{{"code": "us-roller"}}},
			pass:   map[string]any{},
			before: setDisclosure("We may earn a commission."), after: setDisclosure("As an Amazon Associate I earn from qualifying purchases.")},
		{rule: "medical-review-missing", severity: "warning",
			fail: map[string]any{},
			pass: map[string]any{"medicalReview": map[string]any{"reviewerName": "Dr. Ada Roe", "reviewerCredentials": "MD", "reviewedAt": recent}}},
		{rule: "medical-review-due", severity: "warning",
			fail: map[string]any{"medicalReview": map[string]any{"reviewerName": "Dr. Ada Roe", "reviewerCredentials": "MD", "reviewedAt": old}},
			pass: map[string]any{"medicalReview": map[string]any{"reviewerName": "Dr. Ada Roe", "reviewerCredentials": "MD", "reviewedAt": recent}}},
		{rule: "sources-missing", severity: "warning",
			fail: map[string]any{},
			pass: map[string]any{"sources": []map[string]any{{"title": "NICE guideline NG59", "url": "https://www.nice.org.uk/guidance/ng59"}}}},
		{rule: "price-near-affiliate-link", severity: "warning",
			fail: map[string]any{"body": "<p>Get " + us + ", only $19.99 today.</p>"},
			pass: map[string]any{"body": "<p>Get " + us + ".</p><p>Ours cost $19.99 in 2020.</p>"}},
		{rule: "price-near-affiliate-link", severity: "warning",
			fail: map[string]any{"body": "<ul><li>" + us + " ★★★★</li><li>plain</li></ul>"},
			pass: map[string]any{"body": "<ul><li>" + us + "</li><li>rated 4.5 stars by our team</li></ul>"}},
		{rule: "price-near-affiliate-link", severity: "warning",
			fail: map[string]any{"bodyFormat": "markdown", "body": "- [Roller](https://www.amazon.com/dp/B000000001): 4.5 stars\n- other"},
			pass: map[string]any{"bodyFormat": "markdown", "body": "- [Roller](https://www.amazon.com/dp/B000000001)\n- 4.5 stars elsewhere"}},
		{rule: "amazon-image-hotlink", severity: "warning",
			fail: map[string]any{"body": `<p><img src="https://m.media-amazon.com/images/I/roller.jpg" alt="roller"></p>`},
			pass: map[string]any{"body": `<p><img src="https://cdn.clinic.example/roller.jpg" alt="roller"></p>`}},
		{rule: "amazon-image-hotlink", severity: "warning",
			fail: map[string]any{"coverImage": map[string]any{"url": "https://images-na.ssl-images-amazon.com/images/I/x.jpg", "alt": "x"}},
			pass: map[string]any{"coverImage": map[string]any{"url": "https://cdn.clinic.example/x.jpg", "alt": "x"}}},
		{rule: "health-claim-absolute", severity: "warning",
			fail: map[string]any{"body": "<p>This balm cures sciatica, guaranteed.</p>"},
			pass: map[string]any{"body": "<p>Some people find the balm eases sciatica.</p>"}},
		{rule: "health-claim-absolute", severity: "warning",
			fail: map[string]any{"summary": "A 100% effective fix for back pain."},
			pass: map[string]any{"summary": "A fix that helps many with back pain."}},
	}
	for i, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			create := func(extra map[string]any) string {
				body := map[string]any{"title": tc.rule}
				for k, v := range extra {
					body[k] = v
				}
				return testenv.CreateArticle(t, s, editor, body).ID
			}
			failID, passID := create(tc.fail), create(tc.pass)
			if tc.before != nil {
				tc.before(t)
			}
			if tc.after != nil {
				defer tc.after(t)
			}
			rep := compliance(t, s, editor, failID)
			found := false
			for _, f := range rep.Findings {
				if f.Rule == tc.rule {
					found = true
					if f.Severity != tc.severity || f.Message == "" || f.Field == "" {
						t.Errorf("case %d: finding %+v, want severity %s with a message and a field", i, f, tc.severity)
					}
				}
			}
			if !found {
				t.Errorf("case %d: %s not found in %+v", i, tc.rule, rep.Findings)
			}
			if rep.OK == hasError(rep.Findings) || (tc.severity == "error" && rep.OK) {
				t.Errorf("case %d: ok = %v with %+v", i, rep.OK, rep.Findings)
			}
			if rep := compliance(t, s, editor, passID); hasRule(rep.Findings, tc.rule) {
				t.Errorf("case %d: passing article has %s: %+v", i, tc.rule, rep.Findings)
			}
		})
	}
	// Amazon's statement among other words, in another case, passes.
	setDisclosure("Links below are affiliate links. as an amazon associate  I earn from qualifying purchases")(t)
	a := testenv.CreateArticle(t, s, editor, map[string]any{"title": "Statement", "body": "<p>" + us + "</p>"})
	if rep := compliance(t, s, editor, a.ID); hasRule(rep.Findings, "disclosure-missing") {
		t.Errorf("the statement is not found: %+v", rep.Findings)
	}
}

func hasError(fs []finding) bool {
	for _, f := range fs {
		if f.Severity == "error" {
			return true
		}
	}
	return false
}

// TestComplianceAccess: the report is for whoever may read the article;
// others get 404, as for the article.
func TestComplianceAccess(t *testing.T) {
	s := complianceAPI(t)
	alice, _ := s.User(t, auth.Author)
	bob, _ := s.User(t, auth.Author)
	editor, _ := s.User(t, auth.Editor)
	a := testenv.CreateArticle(t, s, alice, map[string]any{"title": "Mine"})
	compliance(t, s, alice, a.ID)
	compliance(t, s, editor, a.ID)
	r := testenv.Call(t, s, bob, "GET", "/api/v1/articles/"+a.ID+"/compliance", nil)
	testenv.WantStatus(t, r, http.StatusNotFound)
	r = testenv.Call(t, s, "", "GET", "/api/v1/articles/"+a.ID+"/compliance", nil)
	testenv.WantStatus(t, r, http.StatusUnauthorized)
	r = testenv.Call(t, s, alice, "GET", "/api/v1/articles/"+a.ID+"/compliance?x=1", nil)
	testenv.WantStatus(t, r, http.StatusBadRequest)
}

// TestPublishGate: publish with an error finding is 422 carrying the
// findings, for a draft and for staged changes alike; readers keep what
// they had; after the fix it publishes.
func TestPublishGate(t *testing.T) {
	s := complianceAPI(t)
	author, _ := s.User(t, auth.Author)
	bad := `<p>Buy <a href="https://www.amazon.de/dp/B000000002">die Rolle</a>.</p>`
	a := testenv.CreateArticle(t, s, author, map[string]any{"title": "Rollers", "slug": "rollers", "body": bad})

	refused := func(a string) {
		t.Helper()
		r := testenv.Call(t, s, author, "POST", "/api/v1/articles/"+a+"/publish", nil)
		testenv.WantStatus(t, r, http.StatusUnprocessableEntity)
		p := r.Problem(t)
		fs, _ := p["findings"].([]any)
		found := false
		for _, f := range fs {
			if m, _ := f.(map[string]any); m["rule"] == "affiliate-link-untagged" && m["severity"] == "error" && m["field"] == "body" {
				found = true
			}
		}
		if !found {
			t.Errorf("422 without the finding: %s", r.Body)
		}
	}
	refused(a.ID)
	// Scheduling is publishing later: refused too.
	r := testenv.Call(t, s, author, "POST", "/api/v1/articles/"+a.ID+"/publish", map[string]any{"publishAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	testenv.WantStatus(t, r, http.StatusUnprocessableEntity)

	a = testenv.PatchArticle(t, s, author, a, map[string]any{"body": `<p>Buy <a href="https://www.amazon.com/dp/B000000001">the roller</a>.</p>`})
	a = testenv.Transition(t, s, author, a, "publish", nil)
	if a.Status != "published" {
		t.Fatalf("status %s", a.Status)
	}

	// Staged changes that break a rule are not published.
	a = testenv.PatchArticle(t, s, author, a, map[string]any{"body": bad})
	refused(a.ID)
	r = testenv.Call(t, s, "", "GET", "/api/v1/content/articles/rollers", nil)
	testenv.WantStatus(t, r, http.StatusOK)
	var served struct{ HTML string }
	r.JSON(t, &served)
	if !strings.Contains(served.HTML, "amazon.com/dp/B000000001") || strings.Contains(served.HTML, "amazon.de") {
		t.Errorf("readers' html changed: %s", served.HTML)
	}
	a = testenv.PatchArticle(t, s, author, a, map[string]any{"body": `<p>Buy <a href="https://www.amazon.com/dp/B000000009">the other roller</a>.</p>`})
	testenv.Transition(t, s, author, a, "publish", nil)
}

// TestWriteWarnings: what earns nothing is saved, and the write answer
// says so in warnings[]; a client sending the answer back may keep them.
func TestWriteWarnings(t *testing.T) {
	s := complianceAPI(t)
	editor, _ := s.User(t, auth.Editor)

	// Products.
	p := product(t, s, editor, map[string]any{"code": "de-roller", "title": "Rolle", "asin": "B000000002", "marketplace": "amazon.de"})
	if w := warningFields(p); len(w) != 1 || w[0] != "marketplace" {
		t.Errorf("product warnings %v: %v", w, p)
	}
	us := product(t, s, editor, map[string]any{"code": "us-roller", "title": "Roller", "asin": "B000000001", "marketplace": "amazon.com"})
	if _, ok := us["warnings"]; ok {
		t.Errorf("a tagged product has warnings: %v", us)
	}
	r := testenv.Call(t, s, editor, "PATCH", "/api/v1/products/de-roller", map[string]any{"marketplace": "amazon.com"})
	testenv.WantStatus(t, r, http.StatusOK)
	var changed map[string]any
	r.JSON(t, &changed)
	if _, ok := changed["warnings"]; ok {
		t.Errorf("warnings after the fix: %s", r.Body)
	}
	// A write answer changed and sent back with its warnings is fine.
	p = product(t, s, editor, map[string]any{"code": "de-two", "title": "Rolle", "asin": "B000000003", "marketplace": "amazon.de"})
	p["title"] = "Die Rolle"
	r = testenv.Call(t, s, editor, "PATCH", "/api/v1/products/de-two", p)
	testenv.WantStatus(t, r, http.StatusOK)
	if w := warningFields(decode(t, r)); len(w) != 1 {
		t.Errorf("warnings after the round trip: %s", r.Body)
	}

	// Articles.
	r = testenv.Call(t, s, editor, "POST", "/api/v1/articles", map[string]any{"title": "Links",
		"body": `<p><a href="https://www.amazon.com.au/dp/B000000004">AU</a> and <a href="https://www.amazon.com/dp/B000000001">US</a></p>`})
	testenv.WantStatus(t, r, http.StatusCreated)
	var saved map[string]any
	r.JSON(t, &saved)
	if w := warningFields(saved); len(w) != 1 || w[0] != "body" {
		t.Errorf("article warnings %v: %s", w, r.Body)
	}
	// The answer sent back, changed, keeps working.
	saved["summary"] = "Two stores."
	r = testenv.Call(t, s, editor, "PATCH", "/api/v1/articles/"+saved["id"].(string), saved, "If-Match", r.Header.Get("ETag"))
	testenv.WantStatus(t, r, http.StatusOK)
	if w := warningFields(decode(t, r)); len(w) != 1 {
		t.Errorf("warnings after PATCH: %s", r.Body)
	}
	// A plain GET carries none; a clean article has none.
	r = testenv.Call(t, s, editor, "GET", "/api/v1/articles/"+saved["id"].(string), nil)
	if _, ok := decode(t, r)["warnings"]; ok {
		t.Errorf("GET has warnings: %s", r.Body)
	}
	r = testenv.Call(t, s, editor, "POST", "/api/v1/articles", map[string]any{"title": "Clean",
		"body": `<p><a href="https://www.amazon.com/dp/B000000001">US</a></p>`, "products": []map[string]any{{"code": "us-roller"}}})
	testenv.WantStatus(t, r, http.StatusCreated)
	if _, ok := decode(t, r)["warnings"]; ok {
		t.Errorf("clean article has warnings: %s", r.Body)
	}
}

func decode(t *testing.T, r *testenv.Response) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

func warningFields(m map[string]any) []string {
	ws, _ := m["warnings"].([]any)
	var out []string
	for _, w := range ws {
		if f, _ := w.(map[string]any); f["message"] != "" {
			out = append(out, f["field"].(string))
		}
	}
	return out
}
