package admin_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// pngOf is a w×h PNG.
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 128, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type filePart struct {
	name string
	data []byte
}

// upload posts a multipart form as the browser's file input (or the drop
// zone, with accept set to application/json) does.
func (b *browser) upload(path, accept string, fields url.Values, files ...filePart) *page {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		w, err := mw.CreateFormFile("file", f.name)
		if err != nil {
			b.t.Fatal(err)
		}
		_, _ = w.Write(f.data)
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, b.s.URL+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return b.do(req)
}

type uploadedItem struct {
	ID, URL, Alt, Thumb string
	Width, Height       int
}

// uploadJSON uploads one image as the editor's dialog does.
func uploadJSON(t *testing.T, b *browser, name, alt string, data []byte) uploadedItem {
	t.Helper()
	r := b.upload("/admin/media", "application/json", url.Values{"alt": {alt}}, filePart{name, data})
	if r.Status != http.StatusCreated || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("upload: %d %s\n%s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	var it uploadedItem
	if err := json.Unmarshal([]byte(r.Body), &it); err != nil {
		t.Fatal(err)
	}
	return it
}

func TestMediaAccess(t *testing.T) {
	s := testenv.NewServer(t)
	for _, tc := range []struct {
		role      auth.Role
		canUpload bool
	}{
		{auth.Contributor, false},
		{auth.Author, true},
		{auth.Editor, true},
		{auth.Admin, true},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			b := signIn(t, s, tc.role)
			r := b.get("/admin/media")
			r.want(t, http.StatusOK, "<h1>Media</h1>", `aria-current="page">Media</a>`)
			if got := strings.Contains(r.Body, `<label for="upload-file">Upload images</label>`); got != tc.canUpload {
				t.Errorf("upload form shown: %v, want %v", got, tc.canUpload)
			}
			r = b.upload("/admin/media", "application/json", nil, filePart{"a.png", pngOf(t, 20, 20)})
			want := http.StatusForbidden
			if tc.canUpload {
				want = http.StatusCreated
			}
			if r.Status != want {
				t.Fatalf("upload: %d, want %d\n%s", r.Status, want, r.Body)
			}
			if !tc.canUpload && r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("refusal is %s", r.Header.Get("Content-Type"))
			}
		})
	}
}

func TestMediaUploadJSONAndForm(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Author)
	b := signIn(t, s, auth.Author)

	b.get("/admin/media").want(t, http.StatusOK, `<form data-dropzone method="post" action="/admin/media" enctype="multipart/form-data"`,
		`<label for="upload-file">Upload images</label>`, `<input id="upload-file" name="file" type="file" accept="image/*" multiple required>`,
		`<label for="upload-alt">Alt text</label>`, `>Upload</button>`, "The library is empty.")

	it := uploadJSON(t, b, "calf.png", "A calf stretch", pngOf(t, 400, 300))
	if it.ID == "" || it.Alt != "A calf stretch" || it.Width != 400 || it.Height != 300 || it.URL == "" || it.Thumb == "" || it.Thumb == it.URL {
		t.Fatalf("item = %+v", it)
	}
	r := testenv.Call(t, s, token, http.MethodGet, "/api/v1/media/"+it.ID, nil)
	testenv.WantStatus(t, r, http.StatusOK)

	// Not an image: problem+json for a script.
	r2 := b.upload("/admin/media", "application/json", url.Values{"alt": {"x"}}, filePart{"notes.png", []byte("just text")})
	if r2.Status < 400 || r2.Status >= 500 || r2.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("non-image: %d %s\n%s", r2.Status, r2.Header.Get("Content-Type"), r2.Body)
	}

	// A plain form may send several files; they come back in the library.
	p := b.upload("/admin/media", "", url.Values{"alt": {"Room"}}, filePart{"one.png", pngOf(t, 30, 20)}, filePart{"two.png", pngOf(t, 20, 30)})
	if p.Status != http.StatusSeeOther || p.location() != "/admin/media?done=uploaded" {
		t.Fatalf("form upload: %d %q\n%.2000s", p.Status, p.location(), p.Body)
	}
	b.get(p.location()).want(t, http.StatusOK, "Uploaded.", "one.png", "two.png", "calf.png", it.Thumb)
	b.get("/admin/media?q=two").want(t, http.StatusOK, "two.png")
	if r := b.get("/admin/media?q=two"); strings.Contains(r.Body, "calf.png") {
		t.Fatal("search shows calf.png")
	}

	// Refused: the page again, with the alt text kept.
	p = b.upload("/admin/media", "", url.Values{"alt": {"Kept alt"}}, filePart{"notes.txt", []byte("just text")})
	if p.Status < 400 || p.Status >= 500 {
		t.Fatalf("form non-image: %d", p.Status)
	}
	p.want(t, p.Status, `value="Kept alt"`, `role="alert"`)
}

func TestMediaEditAndDelete(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Editor)
	b := signIn(t, s, auth.Editor)
	it := uploadJSON(t, b, "room.png", "Room", pngOf(t, 200, 100))
	page := "/admin/media/" + it.ID

	b.get(page).want(t, http.StatusOK, `<label for="alt">Alt text</label>`, `<label for="caption">Caption</label>`,
		"No published article shows this image.", ">Delete</button>")
	r := b.post(page, url.Values{"version": {"1"}, "alt": {"Our treatment room"}, "caption": {"Open daily"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%.2000s", r.Status, r.Body)
	}
	var v struct{ Alt, Caption string }
	testenv.Call(t, s, token, http.MethodGet, "/api/v1/media/"+it.ID, nil).JSON(t, &v)
	if v.Alt != "Our treatment room" || v.Caption != "Open daily" {
		t.Fatalf("after save: %+v", v)
	}
	// A stale form keeps what was typed.
	b.post(page, url.Values{"version": {"1"}, "alt": {"Stale alt"}, "caption": {""}}).
		want(t, http.StatusPreconditionFailed, `value="Stale alt"`, "Someone else changed this image", `name="version" value="2"`)

	// In use by a published article: refused, naming it; then forced.
	a := testenv.Publish(t, s, token, map[string]any{"title": "Our rooms", "body": "<p>Come in.</p>",
		"coverImage": map[string]any{"mediaId": it.ID}})
	b.get(page).want(t, http.StatusOK, `href="/admin/articles?q=`+a.Slug+`"`)
	b.post(page+"/delete", url.Values{"version": {"2"}}).
		want(t, http.StatusConflict, a.Slug, ">Delete anyway</button>", `name="force" value="true"`)
	if r := b.post(page+"/delete", url.Values{"version": {"2"}, "force": {"true"}}); r.Status != http.StatusSeeOther || r.location() != "/admin/media?done=deleted" {
		t.Fatalf("forced delete: %d %q\n%.2000s", r.Status, r.location(), r.Body)
	}
	testenv.WantStatus(t, testenv.Call(t, s, token, http.MethodGet, "/api/v1/media/"+it.ID, nil), http.StatusNotFound)
}

// An author's own image in use: the refusal is shown, but forcing is an
// editor's decision.
func TestMediaDeleteInUseAsAuthor(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	token, _ := s.User(t, auth.Editor)
	it := uploadJSON(t, b, "room.png", "Room", pngOf(t, 50, 50))
	testenv.Publish(t, s, token, map[string]any{"title": "Our rooms", "body": "<p>Come in.</p>",
		"coverImage": map[string]any{"mediaId": it.ID}})
	r := b.post("/admin/media/"+it.ID+"/delete", url.Values{"version": {"1"}})
	r.want(t, http.StatusConflict, "Ask an editor")
	if strings.Contains(r.Body, "Delete anyway") {
		t.Fatal("an author is offered Delete anyway")
	}
}
