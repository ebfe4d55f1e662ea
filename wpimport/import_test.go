package wpimport_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/wpimport"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a WXR file of internal/wordpress's tests.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "wordpress", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// form is a multipart import request: the export as "file", and fields.
func form(t testing.TB, export []byte, fields map[string]string) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, err := w.CreateFormFile("file", "export.xml")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(export)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}

func importWXR(t testing.TB, s *testenv.Server, token string, export []byte, fields map[string]string) *testenv.Response {
	t.Helper()
	body, ct := form(t, export, fields)
	return s.Do(testenv.Request{Method: "POST", Path: "/api/v1/import/wxr", Token: token, Body: body,
		Header: map[string]string{"Content-Type": ct}})
}

func report(t testing.TB, r *testenv.Response) *wpimport.Report {
	t.Helper()
	testenv.WantStatus(t, r, http.StatusOK)
	var rep wpimport.Report
	r.JSON(t, &rep)
	return &rep
}

// clinic is a server with the associate tags the fixtures' products need.
func clinic(t testing.TB, opts ...func(*server.Options)) *testenv.Server {
	t.Helper()
	return testenv.NewServer(t, append([]func(*server.Options){func(o *server.Options) {
		o.AmazonTags = map[string]string{"amazon.com": "harbor-20", "amazon.co.uk": "harbor-21"}
	}}, opts...)...)
}

func item(rep *wpimport.Report, id int64) (wpimport.Item, bool) {
	for _, it := range rep.Items {
		if it.WordPressID == id {
			return it, true
		}
	}
	return wpimport.Item{}, false
}

func TestImportClinic(t *testing.T) {
	s := clinic(t)
	admin, _ := s.User(t, auth.Admin)
	rep := report(t, importWXR(t, s, admin, fixture(t, "clinic-1.2.xml"), nil))

	if rep.Site != "harbor-massage.example" {
		t.Errorf("site = %q", rep.Site)
	}
	for id, want := range map[int64]string{101: "created", 102: "created", 103: "created", 104: "created",
		105: "created", 106: "skipped", 107: "skipped", 110: "created", 301: "created", 302: "created", 120: "skipped"} {
		it, ok := item(rep, id)
		if !ok || it.Outcome != want {
			t.Errorf("item %d: %+v, want %s", id, it, want)
		}
	}
	if len(rep.Users) != 2 || rep.Users[0].Outcome != "created (disabled)" {
		t.Errorf("users = %+v", rep.Users)
	}
	var names []string
	for _, sc := range rep.Shortcodes {
		names = append(names, sc.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "contact-form-7") {
		t.Errorf("shortcodes = %v", names)
	}
	found := false
	for _, l := range rep.Links {
		found = found || strings.Contains(l.Href, "amzn.to")
	}
	if !found {
		t.Errorf("links = %+v, want the amzn.to link", rep.Links)
	}

	// The published post, as readers get it.
	r := s.Do(testenv.Request{Path: "/api/v1/content/articles/massage-for-chronic-pain-relief"})
	testenv.WantStatus(t, r, http.StatusOK)
	var a struct {
		Title, HTML, Summary, PublishedAt, Category string
		Tags                                        []string
		Author                                      struct{ Name string }
		CoverImage                                  struct{ URL, Alt string }
		SEO                                         struct{ Title, Description, CanonicalURL string }
	}
	r.JSON(t, &a)
	if a.PublishedAt != "2024-03-05T09:30:00Z" {
		t.Errorf("publishedAt = %s", a.PublishedAt)
	}
	if a.Author.Name != "Anna Lindqvist" || a.Category != "Pain relief" {
		t.Errorf("author %q, category %q", a.Author.Name, a.Category)
	}
	if !strings.HasSuffix(a.CoverImage.URL, "/2024/03/back.jpg") || a.CoverImage.Alt != "Therapist working on a lower back" {
		t.Errorf("cover = %+v", a.CoverImage)
	}
	if a.SEO.Title != "Massage for chronic pain relief - Harbor Massage Clinic" || a.SEO.Description == "" ||
		a.SEO.CanonicalURL == "" {
		t.Errorf("seo = %+v", a.SEO)
	}
	for _, want := range []string{"<p>Living with chronic pain", "<figure", "<figcaption>Deep tissue work", "<h2>How massage helps</h2>",
		"<ol>", "(555) 010-2030", "B000FOAM12", "heating pad"} {
		if !strings.Contains(a.HTML, want) {
			t.Errorf("html lacks %q:\n%s", want, a.HTML)
		}
	}
	for _, unwanted := range []string{"[contact-form-7", "[caption", "/recommends/", "oldtag-20", "amzn.to"} {
		if strings.Contains(a.HTML, unwanted) {
			t.Errorf("html has %q:\n%s", unwanted, a.HTML)
		}
	}
	// The Gutenberg post, with Rank Math's SEO fields.
	r = s.Do(testenv.Request{Path: "/api/v1/content/articles/five-stretches-for-desk-workers"})
	testenv.WantStatus(t, r, http.StatusOK)
	var g struct {
		HTML string
		SEO  struct{ Title, Description, CanonicalURL string }
	}
	r.JSON(t, &g)
	if !strings.Contains(g.HTML, "// ]]&gt; is how CDATA ends") {
		t.Errorf("the ]]> split across CDATA sections is not whole:\n%s", g.HTML)
	}
	if strings.Contains(g.HTML, "wp:") || g.SEO.Title != "Five stretches for desk workers - Harbor Massage Clinic" || g.SEO.CanonicalURL == "" {
		t.Errorf("gutenberg post: seo %+v\n%s", g.SEO, g.HTML)
	}
	// Old URLs redirect.
	for _, old := range []string{"massage-chronic-pain", "chronic-pain-massage-2023"} {
		r := s.Do(testenv.Request{Path: "/api/v1/content/articles/" + old})
		if r.Status != http.StatusMovedPermanently {
			t.Errorf("old slug %s: %d", old, r.Status)
		}
	}
	// The page is tagged page; the future post is scheduled, the drafts
	// are drafts.
	r = s.Do(testenv.Request{Path: "/api/v1/content/articles/about"})
	testenv.WantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"page"`) {
		t.Errorf("the page is not tagged page: %s", r.Body)
	}
	for id, status := range map[int64]string{103: "scheduled", 104: "draft", 105: "draft"} {
		it, _ := item(rep, id)
		r := s.Do(testenv.Request{Path: "/api/v1/articles/" + it.ArticleID, Token: admin})
		testenv.WantStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.Body), `"status":"`+status+`"`) {
			t.Errorf("post %d: want %s: %s", id, status, r.Body)
		}
	}
	// The ThirstyAffiliates links are products with our tag.
	r = s.Do(testenv.Request{Path: "/api/v1/products/massage-gun", Token: admin})
	testenv.WantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"marketplace":"amazon.co.uk"`) {
		t.Errorf("massage-gun: %s", r.Body)
	}
	// The authors are disabled users.
	r = s.Do(testenv.Request{Path: "/api/v1/users", Token: admin})
	if !strings.Contains(string(r.Body), "anna@harbor-massage.example") || strings.Count(string(r.Body), `"disabled":true`) != 2 {
		t.Errorf("users: %s", r.Body)
	}

	// A rerun changes nothing and duplicates nothing.
	again := report(t, importWXR(t, s, admin, fixture(t, "clinic-1.2.xml"), nil))
	for _, it := range again.Items {
		if it.Outcome == "created" || it.Outcome == "updated" || it.Outcome == "failed" {
			t.Errorf("rerun: %+v", it)
		}
	}
	if got := again.Counts["post"]["publish unchanged"]; got != 2 {
		t.Errorf("rerun counts = %v", again.Counts)
	}
	// A post changed in WordPress is updated in place.
	changed := bytes.Replace(fixture(t, "clinic-1.2.xml"), []byte("Regular massage can loosen"), []byte("Weekly massage can loosen"), 1)
	third := report(t, importWXR(t, s, admin, changed, nil))
	if it, _ := item(third, 101); it.Outcome != "updated" {
		t.Errorf("changed post: %+v", it)
	}
	r = s.Do(testenv.Request{Path: "/api/v1/content/articles/massage-for-chronic-pain-relief"})
	if !strings.Contains(string(r.Body), "Weekly massage") {
		t.Errorf("the change is not published: %s", r.Body)
	}
	r = s.Do(testenv.Request{Path: "/api/v1/articles?limit=100", Token: admin})
	if n := strings.Count(string(r.Body), `"slug":"massage-for-chronic-pain-relief"`); n != 1 {
		t.Errorf("%d articles of the slug after three runs", n)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	s := clinic(t)
	admin, _ := s.User(t, auth.Admin)
	rep := report(t, importWXR(t, s, admin, fixture(t, "clinic-1.2.xml"), map[string]string{"dryRun": "true"}))
	if !rep.DryRun || rep.Counts["post"]["publish created"] != 2 {
		t.Errorf("report = %+v", rep.Counts)
	}
	r := s.Do(testenv.Request{Path: "/api/v1/articles", Token: admin})
	if strings.Contains(string(r.Body), `"slug"`) {
		t.Errorf("a dry run wrote articles: %s", r.Body)
	}
	r = s.Do(testenv.Request{Path: "/api/v1/users", Token: admin})
	if strings.Contains(string(r.Body), "harbor-massage.example") {
		t.Errorf("a dry run wrote users: %s", r.Body)
	}
}

func TestImportRefuses(t *testing.T) {
	s := clinic(t)
	admin, _ := s.User(t, auth.Admin)
	editor, _ := s.User(t, auth.Editor)

	r := importWXR(t, s, editor, fixture(t, "clinic-1.2.xml"), nil)
	testenv.WantStatus(t, r, http.StatusForbidden)

	r = importWXR(t, s, admin, fixture(t, "truncated.xml"), nil)
	testenv.WantStatus(t, r, http.StatusBadRequest)
	if p := r.Problem(t); !strings.Contains(p["detail"].(string), "line") {
		t.Errorf("truncated: %v", p)
	}
	r = s.Do(testenv.Request{Path: "/api/v1/articles", Token: admin})
	if strings.Contains(string(r.Body), `"slug"`) {
		t.Errorf("a truncated file wrote articles: %s", r.Body)
	}

	r = importWXR(t, s, admin, []byte("<html><body>not an export</body></html>"), nil)
	testenv.WantStatus(t, r, http.StatusBadRequest)
	r = importWXR(t, s, admin, fixture(t, "clinic-1.2.xml"), map[string]string{"media": "everything"})
	testenv.WantStatus(t, r, http.StatusBadRequest)
	r = s.Do(testenv.Request{Method: "POST", Path: "/api/v1/import/wxr", Token: admin, Body: map[string]string{"file": "x"}})
	testenv.WantStatus(t, r, http.StatusUnsupportedMediaType)
}

func TestImportOtherExports(t *testing.T) {
	s := clinic(t)
	admin, _ := s.User(t, auth.Admin)
	for _, name := range []string{"wpcom-1.2.xml", "latin1-1.1.xml"} {
		rep := report(t, importWXR(t, s, admin, fixture(t, name), nil))
		if rep.Failures() > 0 || rep.Counts["post"]["publish created"] == 0 {
			t.Errorf("%s: %+v %+v", name, rep.Counts, rep.Items)
		}
	}
	r := s.Do(testenv.Request{Path: "/api/v1/content/articles?limit=50"})
	if !strings.Contains(string(r.Body), "Crème") {
		t.Errorf("the Latin-1 export is not decoded: %s", r.Body)
	}
}

// jpegOf is a small photo-like JPEG.
func jpegOf(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestImportMedia takes the images into the library, fetched from the
// site (a loopback server standing in for it, which the test server may
// reach) and from a copy of wp-content/uploads.
func TestImportMedia(t *testing.T) {
	photo := jpegOf(t)
	fetched := 0
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/wp-content/uploads/2024/03/back.jpg" {
			http.NotFound(w, r)
			return
		}
		fetched++
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(photo)
	}))
	defer site.Close()
	export := bytes.ReplaceAll(fixture(t, "clinic-1.2.xml"), []byte("https://harbor-massage.example/wp-content/"), []byte(site.URL+"/wp-content/"))

	s := clinic(t)
	admin, _ := s.User(t, auth.Admin)
	rep := report(t, importWXR(t, s, admin, export, map[string]string{"media": "import"}))
	if rep.Failures() > 0 || fetched == 0 {
		t.Fatalf("fetched %d: %+v", fetched, rep.Items)
	}
	r := s.Do(testenv.Request{Path: "/api/v1/content/articles/massage-for-chronic-pain-relief"})
	body := string(r.Body)
	if !strings.Contains(body, `"url":"http://cms.test/media/`) || strings.Contains(body, "wp-content/uploads/2024/03/back.jpg") {
		t.Errorf("the cover and the body image are not the library's: %s", body)
	}
	// A rerun does not fetch again or add a second item.
	before := fetched
	report(t, importWXR(t, s, admin, export, map[string]string{"media": "import"}))
	if fetched != before {
		t.Errorf("the rerun fetched the image again")
	}
	r = s.Do(testenv.Request{Path: "/api/v1/media", Token: admin})
	if n := strings.Count(string(r.Body), `"fileName":"back.jpg"`); n != 1 {
		t.Errorf("%d library items of back.jpg", n)
	}

	// From a directory, with the command's Run (the API has no such
	// field: the directory is the server's).
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "2024", "03"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2024", "03", "back.jpg"), photo, 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := clinic(t)
	_, userID := s2.User(t, auth.Admin)
	by := &auth.Principal{UserID: userID, Name: "Admin", Role: auth.Admin}
	f, err := os.Open(filepath.Join("..", "internal", "wordpress", "testdata", "clinic-1.2.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep2, err := s2.Services().Import.Import(t.Context(), f, wpimport.Run{By: by, Media: wpimport.MediaDir, MediaDir: dir})
	if err != nil || rep2.Failures() > 0 {
		t.Fatalf("%v %+v", err, rep2)
	}
	testenv.Eventually(t, "the imported article is served", func() bool {
		r := s2.Do(testenv.Request{Path: "/api/v1/content/articles/massage-for-chronic-pain-relief"})
		return strings.Contains(string(r.Body), `"url":"http://cms.test/media/`)
	})
}

func TestImportPrettyLinks(t *testing.T) {
	s := clinic(t)
	admin, _ := s.User(t, auth.Admin)
	export := bytes.Replace(fixture(t, "clinic-1.2.xml"), []byte("https://amzn.to/3xYzAbC"), []byte("https://harbor-massage.example/go/heat-pad/"), 1)
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, _ := w.CreateFormFile("file", "export.xml")
	fw.Write(export)
	pw, _ := w.CreateFormFile("prettyLinks", "pretty-links.csv")
	pw.Write([]byte("id,name,slug,url,redirect_type\n7,Heating pad,go/heat-pad,https://www.amazon.com/dp/B0HEATPAD1?tag=old-20,307\n"))
	w.Close()
	rep := report(t, s.Do(testenv.Request{Method: "POST", Path: "/api/v1/import/wxr", Token: admin, Body: b.Bytes(),
		Header: map[string]string{"Content-Type": w.FormDataContentType()}}))
	found := false
	for _, it := range rep.Items {
		found = found || (it.Type == "pretty-link" && it.ProductCode == "go-heat-pad" && it.Outcome == "created")
	}
	if !found {
		t.Fatalf("no product from the CSV: %+v", rep.Items)
	}
	r := s.Do(testenv.Request{Path: "/api/v1/content/articles/massage-for-chronic-pain-relief"})
	if !strings.Contains(string(r.Body), "B0HEATPAD1") || strings.Contains(string(r.Body), "go/heat-pad") {
		t.Errorf("the Pretty Link is not a product link: %s", r.Body)
	}
}

func TestImportAuthorMap(t *testing.T) {
	s := clinic(t)
	admin, _ := s.User(t, auth.Admin)
	owner := s.NewUser(t, auth.Editor)
	r := importWXR(t, s, admin, fixture(t, "clinic-1.2.xml"), map[string]string{"authorMap": "nobody"})
	testenv.WantStatus(t, r, http.StatusBadRequest)
	r.WantField(t, "authorMap", `"nobody" is not login=email`)

	rep := report(t, importWXR(t, s, admin, fixture(t, "clinic-1.2.xml"), map[string]string{"authorMap": "anna=" + owner.Email + "\n"}))
	if len(rep.Users) == 0 || rep.Users[0].Outcome != "mapped" || rep.Users[0].UserID != owner.ID {
		t.Fatalf("users = %+v", rep.Users)
	}
	r = s.Do(testenv.Request{Path: "/api/v1/content/articles/massage-for-chronic-pain-relief"})
	if !strings.Contains(string(r.Body), owner.Name) {
		t.Errorf("the post is not under the mapped user: %s", r.Body)
	}
}

// TestImportSlugTaken imports a post whose slug an article here has: the
// post gets a slug of its own, said in the report, and a rerun keeps it.
func TestImportSlugTaken(t *testing.T) {
	s := clinic(t)
	admin, _ := s.User(t, auth.Admin)
	mine := testenv.CreateArticle(t, s, admin, map[string]any{"title": "Ours", "slug": "about", "body": "<p>Ours.</p>"})
	rep := report(t, importWXR(t, s, admin, fixture(t, "clinic-1.2.xml"), nil))
	it, _ := item(rep, 110)
	if it.Outcome != "created" || it.Slug == "about" || it.Slug == "" || !strings.Contains(it.Reason, `slug "about" is another article's`) {
		t.Fatalf("page: %+v", it)
	}
	again := report(t, importWXR(t, s, admin, fixture(t, "clinic-1.2.xml"), nil))
	if it, ok := item(again, 110); ok && it.Outcome != "unchanged" {
		t.Errorf("rerun: %+v", it)
	}
	r := s.Do(testenv.Request{Path: "/api/v1/articles/" + mine.ID, Token: admin})
	if !strings.Contains(string(r.Body), `"slug":"about"`) {
		t.Errorf("our article lost its slug: %s", r.Body)
	}
}
