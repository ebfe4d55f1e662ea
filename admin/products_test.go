package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

// productForm is the product form as a browser sends it.
func productForm(version, code, title, asin, marketplace, link string) url.Values {
	return url.Values{"version": {version}, "code": {code}, "title": {title}, "asin": {asin},
		"marketplace": {marketplace}, "url": {link}, "imageUrl": {""}, "description": {"A firm roller."}}
}

// apiProduct reads a product through the API.
func apiProduct(t *testing.T, s *testenv.Server, token, code string) map[string]any {
	t.Helper()
	r := testenv.Call(t, s, token, http.MethodGet, "/api/v1/products/"+code, nil)
	testenv.WantStatus(t, r, http.StatusOK)
	var p map[string]any
	r.JSON(t, &p)
	return p
}

func TestProductsAccess(t *testing.T) {
	s := testenv.NewServer(t)
	for _, tc := range []struct {
		role   auth.Role
		status int
		want   string
	}{
		{auth.Contributor, http.StatusForbidden, "Forbidden"},
		{auth.Author, http.StatusForbidden, "Forbidden"},
		{auth.Editor, http.StatusOK, "New product"},
		{auth.Admin, http.StatusOK, "New product"},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			b := signIn(t, s, tc.role)
			for _, path := range []string{"/admin/products", "/admin/products/new"} {
				b.get(path).want(t, tc.status, tc.want)
			}
			r := b.post("/admin/products", productForm("", "roller", "Roller", "B000123456", "amazon.com", ""))
			if tc.status == http.StatusForbidden {
				r.want(t, http.StatusForbidden, "<h1>Forbidden</h1>")
			}
		})
	}
}

func TestProductCreateEditArchive(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Editor)
	b := signIn(t, s, auth.Editor)

	b.get("/admin/products/new").want(t, http.StatusOK, `<h1>New product</h1>`,
		`<label for="code">Code</label>`, `<label for="title">Title</label>`, `<label for="asin">ASIN</label>`,
		`<label for="marketplace">Marketplace</label>`, `<option value="amazon.de">amazon.de (no associate tag)</option>`,
		`<label for="url">URL</label>`, `<label for="imageUrl">Image URL</label>`, `<label for="description">Description</label>`)

	// Refused: the typed values come back with the field's error.
	r := b.post("/admin/products", productForm("", "foam-roller", "Foam roller for calves", "bad", "amazon.de", ""))
	r.want(t, http.StatusBadRequest, `value="Foam roller for calves"`, `value="bad"`, "must be 10 upper-case letters or digits", `role="alert"`)

	r = b.post("/admin/products", productForm("", "foam-roller", "Foam roller for calves", "B000123456", "amazon.de", ""))
	if r.Status != http.StatusSeeOther || r.location() != "/admin/products/foam-roller?done=created" {
		t.Fatalf("create: %d %q\n%.2000s", r.Status, r.location(), r.Body)
	}
	if p := apiProduct(t, s, token, "foam-roller"); p["title"] != "Foam roller for calves" || p["marketplace"] != "amazon.de" {
		t.Fatalf("API: %v", p)
	}
	// No tag for amazon.de: the page says its clicks earn nothing.
	b.get(r.location()).want(t, http.StatusOK, "Created.", "No associate tag is configured for amazon.de",
		`name="version" value="1"`, "No published article attaches this product.")

	// A stale form: the API saved version 2 meanwhile. The form comes back
	// with what was typed, at version 2, and saving again keeps it.
	testenv.WantStatus(t, testenv.Call(t, s, token, http.MethodPatch, "/api/v1/products/foam-roller",
		map[string]any{"title": "Theirs"}, "If-Match", `"1"`), http.StatusOK)
	mine := productForm("1", "foam-roller", "Mine: the calf roller", "B000123456", "amazon.de", "")
	r = b.post("/admin/products/foam-roller", mine)
	r.want(t, http.StatusPreconditionFailed, "Someone else saved this product", `value="Mine: the calf roller"`, `name="version" value="2"`)
	mine.Set("version", "2")
	if r = b.post("/admin/products/foam-roller", mine); r.Status != http.StatusSeeOther {
		t.Fatalf("save again: %d\n%.2000s", r.Status, r.Body)
	}
	if p := apiProduct(t, s, token, "foam-roller"); p["title"] != "Mine: the calf roller" {
		t.Fatalf("after save: %v", p)
	}

	// Archive at the current version, then take it back.
	r = b.post("/admin/products/foam-roller/archive", url.Values{"version": {"3"}, "archived": {"true"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("archive: %d\n%.2000s", r.Status, r.Body)
	}
	if p := apiProduct(t, s, token, "foam-roller"); p["archived"] != true {
		t.Fatalf("not archived: %v", p)
	}
	b.get(r.location()).want(t, http.StatusOK, "Archived.", "Archived: its /go/ link answers 410 Gone", ">Unarchive<")
	b.post("/admin/products/foam-roller/archive", url.Values{"version": {"3"}, "archived": {"false"}}).
		want(t, http.StatusPreconditionFailed, "Someone else changed this product")
	if r = b.post("/admin/products/foam-roller/archive", url.Values{"version": {"4"}, "archived": {"false"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("unarchive: %d\n%.2000s", r.Status, r.Body)
	}
	if p := apiProduct(t, s, token, "foam-roller"); p["archived"] != false {
		t.Fatalf("still archived: %v", p)
	}
}

func TestProductsSearchPagesAndUsage(t *testing.T) {
	// A tagged store, so that an article may publish with the product.
	s := testenv.NewServer(t, func(o *server.Options) { o.AmazonTags = map[string]string{"amazon.com": "clinic-20"} })
	token, _ := s.User(t, auth.Editor)
	b := signIn(t, s, auth.Editor)
	for _, p := range []map[string]any{
		{"code": "foam-roller", "title": "Foam roller", "url": "https://www.amazon.com/dp/B000123456"},
		{"code": "heat-pad", "title": "Heat pad for the lower back", "asin": "B000654321", "marketplace": "amazon.com"},
		{"code": "yoga-mat", "title": "Yoga mat", "asin": "B000111111", "marketplace": "amazon.com"},
	} {
		testenv.WantStatus(t, testenv.Call(t, s, token, http.MethodPost, "/api/v1/products", p), http.StatusCreated)
	}
	r := b.get("/admin/products?q=BACK")
	r.want(t, http.StatusOK, `href="/admin/products/heat-pad"`)
	if strings.Contains(r.Body, "yoga-mat") || strings.Contains(r.Body, "foam-roller") {
		t.Fatalf("search shows other products:\n%s", r.Body)
	}
	b.get("/admin/products?q=yoga").want(t, http.StatusOK, `href="/admin/products/yoga-mat"`)
	b.get("/admin/products?status=gone").want(t, http.StatusBadRequest, "must be active or archived")
	b.get("/admin/products?after=foam-roller").want(t, http.StatusOK, "heat-pad", "yoga-mat")
	if r := b.get("/admin/products?after=foam-roller"); strings.Contains(r.Body, `href="/admin/products/foam-roller"`) {
		t.Fatal("the page after foam-roller shows it")
	}

	a := testenv.Publish(t, s, token, map[string]any{"title": "Heat for back pain", "body": "<p>Warm it.</p>",
		"products": []map[string]string{{"code": "heat-pad"}}})
	b.get("/admin/products/heat-pad").want(t, http.StatusOK, "Where it is used", `href="/admin/articles?q=`+a.Slug+`"`)
}

// The catalogue may hold thousands: the list is a page at a time, with
// a link to the next.
func TestProductsPaging(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Editor)
	b := signIn(t, s, auth.Editor)
	for i := range 51 {
		code := "p-" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		body, _ := json.Marshal(map[string]any{"code": code, "title": "Product " + code, "asin": "B000123456", "marketplace": "amazon.com"})
		testenv.WantStatus(t, testenv.Call(t, s, token, http.MethodPost, "/api/v1/products", body), http.StatusCreated)
	}
	r := b.get("/admin/products")
	r.want(t, http.StatusOK, `href="/admin/products/p-ax"`, `href="/admin/products?after=p-bx"`)
	if strings.Contains(r.Body, `href="/admin/products/p-by"`) {
		t.Fatal("the first page shows the 51st product")
	}
	b.get("/admin/products?after=p-bx").want(t, http.StatusOK, `href="/admin/products/p-by"`)
}
