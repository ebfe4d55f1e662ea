package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/backup"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// site is what seed made on a server: the paths a reader (and an
// editor) gets, to compare between the original and a restored copy.
type site struct {
	public    []string // content API, feeds, media files: no token
	authoring []string // with an editor's token
	oldSlug   string   // a former slug, which redirects
	product   string   // a product code, for /go/
	editor    *auth.User
	admin     *auth.User
}

// seed fills s with a little of everything readers see: published
// articles with products and a body Amazon link, one whose slug changed,
// a scheduled one, a draft, an uploaded cover, site and affiliate
// settings, clicks rolled up, a webhook, a preview token and a sign-in.
func seed(t *testing.T, s *testenv.Server) *site {
	t.Helper()
	st := &site{editor: s.NewUser(t, auth.Editor), admin: s.NewUser(t, auth.Admin)}
	editor := token(t, s, st.editor)
	admin := token(t, s, st.admin)

	r := testenv.Call(t, s, admin, "GET", "/api/v1/settings/site", nil)
	testenv.WantStatus(t, r, 200)
	r = testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/site", map[string]any{"name": "Calm Back Clinic", "locale": "en-GB",
		"publisher": map[string]any{"name": "Calm Back Clinic Ltd"}}, "If-Match", r.Header.Get("ETag"))
	testenv.WantStatus(t, r, 200)
	r = testenv.Call(t, s, admin, "GET", "/api/v1/settings/affiliate", nil)
	testenv.WantStatus(t, r, 200)
	r = testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/affiliate", map[string]any{"tags": map[string]any{"amazon.com": "calmback-20"}},
		"If-Match", r.Header.Get("ETag"))
	testenv.WantStatus(t, r, 200)

	for _, p := range []map[string]any{
		{"code": "foam-roller", "title": "Foam roller", "asin": "B00TEST001", "marketplace": "amazon.com"},
		{"code": "heat-pad", "title": "Heat pad", "asin": "B00TEST002", "marketplace": "amazon.com"},
	} {
		testenv.WantStatus(t, testenv.Call(t, s, editor, "POST", "/api/v1/products", p), 201)
	}
	st.product = "foam-roller"

	cover := uploadPNG(t, s, editor)
	coverPath := strings.TrimPrefix(cover.url, "http://cms.test")

	first := testenv.Publish(t, s, editor, map[string]any{"title": "Rolling out a sore back", "summary": "Five minutes a day.",
		"body": `<p>Start slowly. <a href="https://www.amazon.com/dp/B00TEST002">This heat pad</a> helps.</p><p><img src="` + cover.url + `" alt="Room"></p>`,
		"tags": []string{"back", "self-care"}, "products": []map[string]string{{"code": "foam-roller", "note": "Use daily"}},
		"coverImage": map[string]any{"mediaId": cover.id, "alt": "Our treatment room"}})
	renamed := testenv.Publish(t, s, editor, map[string]any{"title": "Desk posture", "body": "<p>Sit tall.</p>", "tags": []string{"back"}})
	st.oldSlug = renamed.Slug
	renamed = testenv.PublishChanges(t, s, editor, renamed, map[string]any{"slug": "desk-posture-guide", "body": "<p>Sit tall, often.</p>"})
	testenv.Publish(t, s, editor, map[string]any{"title": "Sleep and pain", "body": "<p>Rest matters.</p>",
		"products": []map[string]string{{"code": "heat-pad"}}})
	scheduled := testenv.CreateArticle(t, s, editor, map[string]any{"title": "Coming soon", "body": "<p>Later.</p>"})
	testenv.Transition(t, s, editor, scheduled, "publish", map[string]any{"publishAt": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)})
	draft := testenv.CreateArticle(t, s, editor, map[string]any{"title": "Half written", "body": "<p>Draft.</p>"})
	testenv.WantStatus(t, testenv.Call(t, s, editor, "POST", "/api/v1/articles/"+draft.ID+"/preview-token", nil), 200)

	// Clicks, rolled up.
	for i := range 3 {
		r := testenv.Call(t, s, "", "GET", fmt.Sprintf("/go/foam-roller?a=%s&p=%d", first.Slug, i%2+1), nil)
		testenv.WantStatus(t, r, 302)
	}
	testenv.Eventually(t, "the clicks rolled up", func() bool { return countPrefix(t, s.DB.Database, "click_rollups_") > 0 })

	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	t.Cleanup(hook.Close)
	testenv.WantStatus(t, testenv.Call(t, s, admin, "POST", "/api/v1/webhooks", map[string]any{"url": hook.URL, "events": []string{"article.published"}}), 201)
	// A sign-in (login attempts, refresh tokens).
	testenv.WantStatus(t, login(t, s, st.editor.Email), 200)

	st.public = []string{
		"/api/v1/content/articles", "/api/v1/content/articles?tag=back", "/api/v1/content/tags", "/api/v1/content/site",
		"/api/v1/content/articles/" + first.Slug, "/api/v1/content/articles/" + renamed.Slug,
		"/api/v1/content/articles/sleep-and-pain", "/api/v1/content/articles/" + st.oldSlug,
		"/api/v1/content/articles/" + scheduled.Slug, "/api/v1/content/articles/" + draft.Slug,
		"/feed.xml", "/sitemap.xml", "/robots.txt", coverPath,
	}
	st.authoring = []string{"/api/v1/products", "/api/v1/products/foam-roller", "/api/v1/articles/" + first.ID,
		"/api/v1/articles/" + first.ID + "/revisions", "/api/v1/media/" + cover.id, "/api/v1/settings/site", "/api/v1/settings/affiliate"}
	return st
}

func token(t *testing.T, s *testenv.Server, u *auth.User) string {
	t.Helper()
	tok, _, err := s.Services().Auth.Tokens().Issue(u.ID, u.Role, u.SessionVersion)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func login(t *testing.T, s *testenv.Server, email string) *testenv.Response {
	t.Helper()
	return s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": email, "password": testenv.Password}})
}

type uploadedItem struct{ id, url string }

// uploadPNG uploads a small generated picture.
func uploadPNG(t *testing.T, s *testenv.Server, tok string) uploadedItem {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var pic bytes.Buffer
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="room.png"`)
	h.Set("Content-Type", "application/octet-stream")
	pw, _ := w.CreatePart(h)
	pw.Write(pic.Bytes())
	w.WriteField("alt", "Our treatment room")
	w.Close()
	r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/media", Token: tok, Body: body.Bytes(),
		Header: map[string]string{"Content-Type": w.FormDataContentType()}})
	testenv.WantStatus(t, r, 201)
	var v struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	r.JSON(t, &v)
	return uploadedItem{id: v.ID, url: v.URL}
}

func countPrefix(t *testing.T, db *mongo.Database, prefix string) int64 {
	t.Helper()
	names, err := db.ListCollectionNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, name := range names {
		if strings.HasPrefix(name, prefix) {
			c, err := db.Collection(name).CountDocuments(context.Background(), bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			n += c
		}
	}
	return n
}

// export writes an archive of s.
func export(t *testing.T, s *testenv.Server, o backup.ExportOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := backup.Export(context.Background(), s.DB.Database, s.Services().Media, &buf, o); err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.Bytes()
}

func restore(s *testenv.Server, archive []byte) (backup.Summary, error) {
	return backup.Restore(context.Background(), s.DB.Database, s.Services().Media, bytes.NewReader(archive), int64(len(archive)),
		backup.RestoreOptions{NewCollections: s.DB.IndexNewTables})
}

var requestID = regexp.MustCompile(`"requestId":"[^"]*"`)

// answer is what a comparison looks at.
func answer(t *testing.T, s *testenv.Server, tok, path, encoding string) string {
	t.Helper()
	r := testenv.Call(t, s, tok, "GET", path, nil, "Accept-Encoding", encoding)
	h := r.Header
	// A problem names the request, whichever server answers.
	body := requestID.ReplaceAll(r.Body, nil)
	return fmt.Sprintf("%d\nETag: %s\nContent-Type: %s\nContent-Encoding: %s\nLocation: %s\nCache-Control: %s\nLast-Modified: %s\n\n%s",
		r.Status, h.Get("ETag"), h.Get("Content-Type"), h.Get("Content-Encoding"), h.Get("Location"), h.Get("Cache-Control"), h.Get("Last-Modified"), body)
}

// differences compares what a and b answer to every path of st.
func differences(t *testing.T, a, b *testenv.Server, st *site, tokA, tokB string) []string {
	t.Helper()
	var diffs []string
	for _, p := range st.public {
		for _, enc := range []string{"identity", "gzip"} {
			if x, y := answer(t, a, "", p, enc), answer(t, b, "", p, enc); x != y {
				diffs = append(diffs, fmt.Sprintf("GET %s (%s):\n--- original\n%.600s\n--- restored\n%.600s", p, enc, x, y))
			}
		}
	}
	for _, p := range st.authoring {
		if x, y := answer(t, a, tokA, p, "identity"), answer(t, b, tokB, p, "identity"); x != y {
			diffs = append(diffs, fmt.Sprintf("GET %s as admin:\n--- original\n%.600s\n--- restored\n%.600s", p, x, y))
		}
	}
	return diffs
}

// TestRoundTrip is the issue's requirement: a server restored from an
// export, while it runs, serves the same content API answers (bodies,
// ETags, types) as the original; users come without their password
// hashes unless the archive has the secrets.
func TestRoundTrip(t *testing.T) {
	a := testenv.NewServer(t)
	st := seed(t, a)
	archive := export(t, a, backup.ExportOptions{WithClicks: true, Source: "test"})

	b := testenv.NewServer(t)
	sum, err := restore(b, archive)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if len(sum.Manifest.Collections) == 0 {
		t.Fatal("the restore names no collection")
	}
	tokA, tokB := token(t, a, st.admin), token(t, b, st.admin)
	// The restored server reloads at its next polls (half a second to a
	// second); until then it answers from what it had.
	diffs := differences(t, a, b, st, tokA, tokB)
	for deadline := time.Now().Add(30 * time.Second); len(diffs) > 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		diffs = differences(t, a, b, st, tokA, tokB)
	}
	if len(diffs) > 0 {
		t.Fatalf("%d answers differ:\n%s", len(diffs), strings.Join(diffs, "\n\n"))
	}
	// A /go/ link redirects the same way (and counts a click on each).
	if x, y := answer(t, a, "", "/go/"+st.product, "identity"), answer(t, b, "", "/go/"+st.product, "identity"); x != y {
		t.Errorf("/go/%s differs:\n%s\n---\n%s", st.product, x, y)
	}
	// Click statistics come along (the rollups).
	statsPath := "/api/v1/stats/clicks?from=" + time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02") + "&to=" + time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	if r := testenv.Call(t, b, tokB, "GET", statsPath, nil); r.Status != 200 || !bytes.Contains(r.Body, []byte(`"clicks":`)) {
		t.Errorf("stats on the restored server: %d %s", r.Status, r.Body)
	}

	// Without the secrets, nobody signs in with the old password.
	if r := login(t, b, st.editor.Email); r.Status != 401 {
		t.Errorf("login on a restore without secrets: %d %s, want 401", r.Status, r.Body)
	}
	var u bson.M
	if err := b.DB.Database.Collection("users").FindOne(context.Background(), bson.D{{Key: "_id", Value: st.editor.ID}}).Decode(&u); err != nil {
		t.Fatal(err)
	}
	if u["passwordHash"] != "" {
		t.Errorf("restored passwordHash = %q, want empty", u["passwordHash"])
	}
	var hook bson.M
	if err := b.DB.Database.Collection("webhooks").FindOne(context.Background(), bson.D{}).Decode(&hook); err != nil {
		t.Fatal(err)
	}
	if hook["secret"] != "" || hook["active"] != false {
		t.Errorf("restored hook without secrets: secret %q active %v, want empty and inactive", hook["secret"], hook["active"])
	}

	// What was compared is the real thing.
	for path, want := range map[string]string{
		"/api/v1/content/articles":                         "200",
		"/api/v1/content/articles/" + st.oldSlug:           "301",
		st.public[len(st.public)-1]:                        "200\nETag: \"",
		"/api/v1/content/articles/rolling-out-a-sore-back": "200",
	} {
		if got := answer(t, b, "", path, "identity"); !strings.HasPrefix(got, want) {
			t.Errorf("GET %s on the restored server: %.300s, want %q", path, got, want)
		}
	}
	if got := answer(t, b, "", "/api/v1/content/articles/rolling-out-a-sore-back", "identity"); !strings.Contains(got, "srcset") || !strings.Contains(got, "calmback-20") {
		t.Errorf("the restored article lacks its cover's sizes or its tagged Amazon link: %.2000s", got)
	}
	t.Logf("compared %d answers of the original and the restored server", 2*len(st.public)+len(st.authoring))

	// With the secrets, every restored document is the original's, byte
	// for byte, and users sign in as before.
	withSecrets := export(t, a, backup.ExportOptions{WithClicks: true, WithSecrets: true})
	c := testenv.NewServer(t)
	sum, err = restore(c, withSecrets)
	if err != nil {
		t.Fatalf("restore with secrets: %v", err)
	}
	for _, mc := range sum.Manifest.Collections {
		if mc.Name == "clicks" || mc.Name == "click_rolled" || mc.Name == "click_visitors" || strings.HasPrefix(mc.Name, "click_") {
			continue // a's /go/ above clicked again since the export
		}
		if x, y := dump(t, a.DB.Database, mc.Name), dump(t, c.DB.Database, mc.Name); x != y {
			t.Errorf("collection %s differs after a restore with secrets:\n%.1000s\n---\n%.1000s", mc.Name, x, y)
		}
	}
	if r := login(t, c, st.editor.Email); r.Status != 200 {
		t.Errorf("login on a restore with secrets: %d %s, want 200", r.Status, r.Body)
	}

	// The same archive again, or any archive into a database with data,
	// is refused and says why.
	if _, err := restore(b, archive); !errors.Is(err, problem.Conflict) || !strings.Contains(err.Error(), "restored into this database already") {
		t.Errorf("second restore of the archive: %v, want a Conflict saying it was restored", err)
	}
	if _, err := restore(a, withSecrets); !errors.Is(err, problem.Conflict) || !strings.Contains(err.Error(), "not empty: collection") {
		t.Errorf("restore into the original: %v, want a Conflict naming a collection", err)
	}
}

// dump is every document of a collection in canonical Extended JSON,
// sorted by _id.
func dump(t *testing.T, db *mongo.Database, name string) string {
	t.Helper()
	cur, err := db.Collection(name).Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for cur.Next(context.Background()) {
		j, err := bson.MarshalExtJSON(cur.Current, true, false)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(j))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestTableClassifiesEveryCollection fails when a service creates a
// collection the backup's table does not say what to do with.
func TestTableClassifiesEveryCollection(t *testing.T) {
	s := testenv.NewServer(t)
	seed(t, s)
	names, err := s.DB.Database.ListCollectionNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	for _, name := range names {
		if !backup.Classified(name) {
			t.Errorf("collection %q is not in the backup's table (backup/collections.go): say whether an archive holds it, and why", name)
		}
	}
	if len(names) < 20 {
		t.Errorf("only %d collections after the seed: %v", len(names), names)
	}
}

// TestRestoreRefusesDamagedArchives: a truncated or corrupt archive, or
// one of a newer format, gives a clear error.
func TestRestoreRefusesDamagedArchives(t *testing.T) {
	a := testenv.NewServer(t)
	seed(t, a)
	archive := export(t, a, backup.ExportOptions{})
	corrupt := bytes.Clone(archive)
	// Flip bytes inside the first entry's data (after its header).
	for i := 200; i < 260; i++ {
		corrupt[i] ^= 0x5a
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", archive[:len(archive)/2], "not a readable archive"},
		{"not a zip", []byte("hello"), "not a readable archive"},
		{"corrupt", corrupt, "damaged"},
		{"newer format", rewriteManifest(t, archive, `"format": 1`, `"format": 99`), "format version 99, newer than this cms reads"},
		{"another program's zip", rewriteManifest(t, archive, `"app": "wellness-cms"`, `"app": "other"`), "not by cms export"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := testenv.NewServer(t)
			_, err := restore(b, tc.data)
			if !errors.Is(err, problem.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restore: %v, want Invalid with %q", err, tc.want)
			}
			for _, name := range []string{"users", "articles", "backup_restores"} {
				if n, _ := b.DB.Database.Collection(name).CountDocuments(context.Background(), bson.D{}); n != 0 {
					t.Errorf("%d documents in %s after a refused restore", n, name)
				}
			}
		})
	}
}

// rewriteManifest copies archive with its manifest's text changed.
func rewriteManifest(t *testing.T, archive []byte, old, new string) []byte {
	t.Helper()
	out, err := backup.RewriteEntry(archive, "manifest.json", func(b []byte) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("the manifest has no %q: %s", old, b)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRestoreRerunnable: a restore cut short (here: its context ends in
// the middle of the articles) completes when run again.
func TestRestoreRerunnable(t *testing.T) {
	a := testenv.NewServer(t)
	seed(t, a)
	archive := export(t, a, backup.ExportOptions{WithSecrets: true})
	b := testenv.NewServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := backup.Restore(ctx, b.DB.Database, b.Services().Media, bytes.NewReader(archive), int64(len(archive)), backup.RestoreOptions{
		Progress: func(stage string, done, total int64) {
			if stage == "article_revisions" {
				cancel()
			}
		}})
	cancel()
	if err == nil {
		t.Fatal("a restore whose context ended succeeded")
	}
	if _, err := restore(b, archive); err != nil {
		t.Fatalf("the second run: %v", err)
	}
	for _, name := range []string{"articles", "article_revisions", "slugs", "users", "products", "media"} {
		if x, y := dump(t, a.DB.Database, name), dump(t, b.DB.Database, name); x != y {
			t.Errorf("%s differs after the rerun", name)
		}
	}
}
