package media_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/gen2brain/webp"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/media"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// picture is a w x h image with content a resize changes (gradients and
// a dark band), not one flat colour.
func picture(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 0xff), 255}
			if y > h/3 && y < h/2 {
				c = color.NRGBA{20, 30, 40, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeWebP(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := webp.Encode(&b, img, webp.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// form is a multipart body: parts in order, each name, file name (""
// for a plain field) and content.
type part struct{ name, fileName, content string }

func form(t testing.TB, parts ...part) (string, []byte) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.fileName != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.fileName))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(pw, p.content)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), b.Bytes()
}

func upload(t testing.TB, s *testenv.Server, token string, parts ...part) *testenv.Response {
	t.Helper()
	ct, body := form(t, parts...)
	return s.Do(testenv.Request{Method: http.MethodPost, Path: "/api/v1/media", Token: token, Body: body,
		Header: map[string]string{"Content-Type": ct}})
}

func uploaded(t testing.TB, s *testenv.Server, token, name string, data []byte, alt string) media.View {
	t.Helper()
	r := upload(t, s, token, part{"file", name, string(data)}, part{"alt", "", alt})
	testenv.WantStatus(t, r, http.StatusCreated)
	var v media.View
	r.JSON(t, &v)
	return v
}

// local is the path of one of the test server's public URLs.
func local(u string) string { return strings.TrimPrefix(u, "http://cms.test") }

func TestUploadEachTypeMakesEverySize(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Author)
	for _, tc := range []struct {
		name, contentType string
		data              []byte
	}{
		{"room.jpg", "image/jpeg", encodeJPEG(t, picture(1000, 600))},
		{"diagram.png", "image/png", encodePNG(t, picture(700, 700))},
		{"spine.webp", "image/webp", encodeWebP(t, picture(1300, 650))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := uploaded(t, s, token, tc.name, tc.data, "A picture")
			if v.ContentType != tc.contentType || v.FileName != tc.name || v.Alt != "A picture" {
				t.Fatalf("item = %+v", v)
			}
			src, _, _ := image.DecodeConfig(bytes.NewReader(tc.data))
			if v.Width != src.Width || v.Height != src.Height {
				t.Errorf("size %dx%d, want the original's %dx%d", v.Width, v.Height, src.Width, src.Height)
			}
			want := 0
			for _, w := range []int{320, 640, 960, 1280, 1920} {
				switch {
				case w >= src.Width:
				case tc.contentType == "image/webp":
					want++
				default:
					want += 2 // its own format and WebP
				}
			}
			if len(v.Sizes) != want {
				t.Fatalf("%d sizes, want %d: %+v", len(v.Sizes), want, v.Sizes)
			}
			for _, sz := range v.Sizes {
				if sz.Width >= src.Width {
					t.Errorf("a size %d wide from a %d-pixel original", sz.Width, src.Width)
				}
				r := s.Do(testenv.Request{Path: local(sz.URL)})
				testenv.WantStatus(t, r, http.StatusOK)
				cfg, format, err := image.DecodeConfig(bytes.NewReader(r.Body))
				if err != nil || cfg.Width != sz.Width || cfg.Height != sz.Height || "image/"+format != sz.ContentType {
					t.Errorf("%s: %s %dx%d (%v), want %s %dx%d", sz.URL, format, cfg.Width, cfg.Height, err, sz.ContentType, sz.Width, sz.Height)
				}
				if got := r.Header.Get("Content-Type"); got != sz.ContentType {
					t.Errorf("%s: Content-Type %q", sz.URL, got)
				}
			}
		})
	}
}

func TestNarrowImageHasNoSizes(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Author)
	v := uploaded(t, s, token, "icon.png", encodePNG(t, picture(200, 100)), "")
	if len(v.Sizes) != 0 || v.Width != 200 {
		t.Fatalf("item = %+v", v)
	}
}

func TestServingHeadersRangeAnd304(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Author)
	v := uploaded(t, s, token, "room.jpg", encodeJPEG(t, picture(800, 500)), "")
	path := local(v.Sizes[0].URL)
	r := s.Do(testenv.Request{Path: path})
	testenv.WantStatus(t, r, http.StatusOK)
	for h, want := range map[string]string{
		"Cache-Control":           "public, max-age=31536000, immutable",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
		"Accept-Ranges":           "bytes",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	etag := r.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("ETag %q is not strong", etag)
	}
	full := r.Body

	r = s.Do(testenv.Request{Path: path, Header: map[string]string{"Range": "bytes=10-19"}})
	testenv.WantStatus(t, r, http.StatusPartialContent)
	if !bytes.Equal(r.Body, full[10:20]) || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(full)) {
		t.Errorf("range: %q %q", r.Header.Get("Content-Range"), r.Body)
	}
	r = s.Do(testenv.Request{Path: path, Header: map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(full)+10)}})
	testenv.WantStatus(t, r, http.StatusRequestedRangeNotSatisfiable)
	if p := r.Problem(t); r.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(full)) || p["detail"] == "" {
		t.Errorf("416: Content-Range %q, %v", r.Header.Get("Content-Range"), p)
	}
	r = s.Do(testenv.Request{Path: path, Header: map[string]string{"If-None-Match": etag}})
	testenv.WantStatus(t, r, http.StatusNotModified)
	r = s.Do(testenv.Request{Method: http.MethodHead, Path: path})
	testenv.WantStatus(t, r, http.StatusOK)
	if len(r.Body) != 0 || r.Header.Get("Content-Length") != fmt.Sprint(len(full)) {
		t.Errorf("HEAD: %d bytes, Content-Length %q", len(r.Body), r.Header.Get("Content-Length"))
	}

	// The same bytes uploaded again have the same URLs.
	again := uploaded(t, s, token, "copy.jpg", encodeJPEG(t, picture(800, 500)), "")
	if again.ID == v.ID || again.URL != v.URL || again.Sizes[0].URL != v.Sizes[0].URL {
		t.Errorf("re-upload: %s %s, first %s %s", again.ID, again.URL, v.ID, v.URL)
	}

	for _, p := range []string{
		"/media/" + strings.Repeat("0", 32) + ".jpg", // no such file
		strings.TrimSuffix(path, ".jpg") + ".png",    // another extension
		"/media/..%2f..%2fetc%2fpasswd",              // not a key
		strings.TrimSuffix(path, ".jpg"),             // no extension
	} {
		if r := s.Do(testenv.Request{Path: p}); r.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, r.Status)
		}
	}
}

// pngHeader is a PNG signature and IHDR chunk claiming w x h, with a
// valid CRC and no pixel data: what a decompression bomb starts with.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	data := b.Bytes()
	// IHDR: 8-byte signature, 4 length, 4 "IHDR", then width and height.
	be := func(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
	out := append([]byte{}, data[:16]...)
	out = append(out, be(w)...)
	out = append(out, be(h)...)
	out = append(out, data[24:29]...)
	crc := crc32.ChecksumIEEE(out[12:29])
	return append(append(out, be(crc)...), data[33:]...)
}

func TestRefusedUploads(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Author)
	photo := encodeJPEG(t, picture(400, 300))
	polyglot := append([]byte{0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x20}, []byte("<script>alert(1)</script>    ")...)
	polyglot = append(polyglot, photo[2:]...)
	for _, tc := range []struct {
		name   string
		parts  []part
		status int
	}{
		{"svg", []part{{"file", "x.jpg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`}}, http.StatusUnsupportedMediaType},
		{"html", []part{{"file", "x.png", "<!doctype html><script>alert(1)</script>"}}, http.StatusUnsupportedMediaType},
		{"gif", []part{{"file", "x.gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00;"}}, http.StatusUnsupportedMediaType},
		{"html in a jpeg", []part{{"file", "x.jpg", string(polyglot)}}, http.StatusUnsupportedMediaType},
		{"html then a jpeg", []part{{"file", "x.jpg", "<html><body>" + string(photo)}}, http.StatusUnsupportedMediaType},
		{"empty", []part{{"file", "x.jpg", ""}}, http.StatusUnsupportedMediaType},
		{"truncated jpeg", []part{{"file", "x.jpg", string(photo[:len(photo)/2])}}, http.StatusBadRequest},
		{"truncated png", []part{{"file", "x.png", string(encodePNG(t, picture(300, 300))[:900])}}, http.StatusBadRequest},
		{"bomb", []part{{"file", "x.png", string(pngHeader(20000, 20000))}}, http.StatusRequestEntityTooLarge},
		{"over 20 MB", []part{{"file", "x.jpg", string(photo) + strings.Repeat("\x00", 20<<20)}}, http.StatusRequestEntityTooLarge},
		{"no file", []part{{"alt", "", "hello"}}, http.StatusBadRequest},
		{"unknown field", []part{{"file", "x.jpg", string(photo)}, {"owner", "", "me"}}, http.StatusBadRequest},
		{"file twice", []part{{"file", "x.jpg", string(photo)}, {"file", "y.jpg", string(photo)}}, http.StatusBadRequest},
		{"alt too long", []part{{"file", "x.jpg", string(photo)}, {"alt", "", strings.Repeat("a", 501)}}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := upload(t, s, token, tc.parts...)
			testenv.WantStatus(t, r, tc.status)
			if p := r.Problem(t); p["detail"] == "" {
				t.Errorf("no detail: %v", p)
			}
		})
	}
	// A JSON body is not an upload.
	r := s.Do(testenv.Request{Method: http.MethodPost, Path: "/api/v1/media", Token: token, Body: map[string]string{"file": "x"}})
	testenv.WantStatus(t, r, http.StatusUnsupportedMediaType)
	// Nothing was recorded.
	var page struct{ Items []media.View }
	testenv.Call(t, s, token, http.MethodGet, "/api/v1/media", nil).JSON(t, &page)
	if len(page.Items) != 0 {
		t.Errorf("%d items recorded", len(page.Items))
	}
}

func TestWhoMayDoWhat(t *testing.T) {
	s := testenv.NewServer(t)
	contributor, _ := s.User(t, auth.Contributor)
	author, _ := s.User(t, auth.Author)
	other, _ := s.User(t, auth.Author)
	editor, _ := s.User(t, auth.Editor)
	photo := string(encodeJPEG(t, picture(400, 300)))

	testenv.WantStatus(t, upload(t, s, contributor, part{"file", "x.jpg", photo}), http.StatusForbidden)
	testenv.WantStatus(t, upload(t, s, "", part{"file", "x.jpg", photo}), http.StatusUnauthorized)
	v := uploaded(t, s, author, "x.jpg", []byte(photo), "")
	path := "/api/v1/media/" + v.ID
	testenv.WantStatus(t, testenv.Call(t, s, contributor, http.MethodGet, path, nil), http.StatusOK)
	testenv.WantStatus(t, testenv.Call(t, s, contributor, http.MethodPatch, path, map[string]any{"alt": "x"}), http.StatusForbidden)
	testenv.WantStatus(t, testenv.Call(t, s, other, http.MethodPatch, path, map[string]any{"alt": "x"}), http.StatusForbidden)
	testenv.WantStatus(t, testenv.Call(t, s, other, http.MethodDelete, path, nil), http.StatusForbidden)

	r := testenv.Call(t, s, author, http.MethodPatch, path, map[string]any{"alt": "  The treatment room ", "caption": "First floor"})
	testenv.WantStatus(t, r, http.StatusOK)
	var got media.View
	r.JSON(t, &got)
	if got.Alt != "The treatment room" || got.Caption != "First floor" {
		t.Errorf("after PATCH: %+v", got)
	}
	etag := r.Header.Get("ETag")
	// A stale If-Match loses; the current one wins.
	r = s.Do(testenv.Request{Method: http.MethodPatch, Path: path, Token: editor, Body: map[string]any{"alt": "y"},
		Header: map[string]string{"If-Match": `"1"`}})
	testenv.WantStatus(t, r, http.StatusPreconditionFailed)
	r = s.Do(testenv.Request{Method: http.MethodPatch, Path: path, Token: editor, Body: map[string]any{"caption": nil},
		Header: map[string]string{"If-Match": etag}})
	testenv.WantStatus(t, r, http.StatusOK)
	testenv.WantStatus(t, testenv.Call(t, s, editor, http.MethodPatch, path, map[string]any{"width": 10}), http.StatusBadRequest)
	testenv.WantStatus(t, testenv.Call(t, s, editor, http.MethodGet, "/api/v1/media/nope", nil), http.StatusNotFound)
	testenv.WantStatus(t, testenv.Call(t, s, editor, http.MethodDelete, path, nil), http.StatusNoContent)
	testenv.WantStatus(t, testenv.Call(t, s, editor, http.MethodGet, path, nil), http.StatusNotFound)
	if r := s.Do(testenv.Request{Path: local(v.URL)}); r.Status != http.StatusNotFound {
		t.Errorf("the file of a deleted item: %d", r.Status)
	}
}

func TestListNewestFirstSearchAndPages(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Author)
	var ids []string
	for i, alt := range []string{"Lower back diagram", "Treatment room", "Foam roller", "Back stretch"} {
		v := uploaded(t, s, token, fmt.Sprintf("img-%d.png", i), encodePNG(t, picture(100+i, 80)), alt)
		ids = append([]string{v.ID}, ids...)
	}
	got := pages(t, s, token, "/api/v1/media?limit=3", "id")
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("pages = %v, want newest first %v", got, ids)
	}
	got = pages(t, s, token, "/api/v1/media?q=BACK&limit=1", "alt")
	if strings.Join(got, ",") != "Back stretch,Lower back diagram" {
		t.Errorf("q=BACK: %v", got)
	}
	got = pages(t, s, token, "/api/v1/media?q=img-2", "fileName")
	if strings.Join(got, ",") != "img-2.png" {
		t.Errorf("q=img-2: %v", got)
	}
	r := testenv.Call(t, s, token, http.MethodGet, "/api/v1/media?limit=1", nil)
	var page struct{ NextCursor string }
	r.JSON(t, &page)
	r = testenv.Call(t, s, token, http.MethodGet, "/api/v1/media?q=x&cursor="+page.NextCursor, nil)
	testenv.WantStatus(t, r, http.StatusBadRequest)
	r.WantField(t, "cursor", "belongs to a list with other filters")
}

func TestImagesInArticles(t *testing.T) {
	s := testenv.NewServer(t)
	author, _ := s.User(t, auth.Author)
	editor, _ := s.User(t, auth.Editor)
	cover := uploaded(t, s, author, "room.jpg", encodeJPEG(t, picture(1400, 800)), "Our treatment room")
	diagram := uploaded(t, s, author, "spine.png", encodePNG(t, picture(700, 500)), "The lower back")
	body := `<p>Before.</p><p><img src="` + diagram.Sizes[0].URL + `" alt="Diagram"></p><p><img src="https://elsewhere.example/x.jpg" alt="Other"></p>`

	r := testenv.Call(t, s, author, http.MethodPost, "/api/v1/articles", map[string]any{
		"title": "Massage for chronic pain relief", "body": "<p>x</p>",
		"coverImage": map[string]any{"mediaId": "0123456789abcdef01234567"}})
	testenv.WantStatus(t, r, http.StatusBadRequest)
	r.WantField(t, "coverImage.mediaId", "no media item with this ID")

	a := testenv.Publish(t, s, author, map[string]any{"title": "Massage for chronic pain relief", "body": body,
		"coverImage": map[string]any{"mediaId": cover.ID}})
	var got struct {
		HTML       string `json:"html"`
		CoverImage *struct {
			URL, Alt, Srcset, WebPSrcset string
			Width, Height                int
		} `json:"coverImage"`
		JSONLD struct {
			Image string `json:"image"`
		} `json:"jsonLd"`
	}
	testenv.Call(t, s, "", http.MethodGet, "/api/v1/content/articles/"+a.Slug, nil).JSON(t, &got)
	c := got.CoverImage
	if c == nil || c.URL != cover.URL || c.Alt != "Our treatment room" || c.Width != 1400 || c.Height != 800 {
		t.Fatalf("cover = %+v", c)
	}
	if !strings.Contains(c.Srcset, cover.Sizes[0].URL+" 320w") || !strings.HasSuffix(c.Srcset, cover.URL+" 1400w") ||
		!strings.Contains(c.WebPSrcset, ".webp 1280w") {
		t.Errorf("srcset %q, webp %q", c.Srcset, c.WebPSrcset)
	}
	if got.JSONLD.Image != cover.URL {
		t.Errorf("JSON-LD image %q, want the largest %q", got.JSONLD.Image, cover.URL)
	}
	for _, want := range []string{
		`<picture><source type="image/webp" srcset="`, `width="700" height="500" alt="Diagram" loading="lazy"`,
		`sizes="(max-width: 700px) 100vw, 700px"`, diagram.Sizes[0].URL + ` 320w, `,
		`<img src="https://elsewhere.example/x.jpg" alt="Other"/>`,
	} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("served HTML lacks %s:\n%s", want, got.HTML)
		}
	}
	// What the author edits keeps the plain tag.
	stored := testenv.ArticleOf(t, testenv.Call(t, s, author, http.MethodGet, "/api/v1/articles/"+a.ID, nil))
	if strings.Contains(stored.BodyHTML, "srcset") || strings.Contains(stored.BodyHTML, "loading=") {
		t.Errorf("stored body changed: %s", stored.BodyHTML)
	}

	// In use: the delete is refused, naming the article, until forced.
	for _, it := range []media.View{cover, diagram} {
		r = testenv.Call(t, s, editor, http.MethodDelete, "/api/v1/media/"+it.ID, nil)
		testenv.WantStatus(t, r, http.StatusConflict)
		if p := r.Problem(t); !strings.Contains(fmt.Sprint(p["detail"]), a.Slug) {
			t.Errorf("409 does not name the article: %v", p)
		}
		testenv.WantStatus(t, testenv.Call(t, s, editor, http.MethodDelete, "/api/v1/media/"+it.ID+"?force=true", nil), http.StatusNoContent)
	}
	r = testenv.Call(t, s, "", http.MethodGet, "/api/v1/content/articles/"+a.Slug, nil)
	testenv.WantStatus(t, r, http.StatusOK)
	got.CoverImage = nil
	r.JSON(t, &got)
	if got.CoverImage != nil || strings.Contains(got.HTML, "/media/") || !strings.Contains(got.HTML, "elsewhere.example") {
		t.Errorf("after the forced deletes: cover %+v, html %s", got.CoverImage, got.HTML)
	}
	// The article stays valid and editable.
	testenv.PublishChanges(t, s, author, stored, map[string]any{"summary": "Still fine."})
}

// TestTwoInstancesServeTheSameFiles runs two servers on one database with
// the files in the database, each with a data directory of its own: an
// upload through one is served by the other.
func TestTwoInstancesServeTheSameFiles(t *testing.T) {
	db := testenv.OpenDB(t)
	inDB := func(o *server.Options) { o.MediaInDatabase = true }
	a := testenv.NewServerOn(t, db, inDB)
	b := testenv.NewServerOn(t, db, inDB)
	token, _ := a.User(t, auth.Author)
	data := encodeJPEG(t, picture(700, 400))
	v := uploaded(t, a, token, "room.jpg", data, "")
	want := a.Do(testenv.Request{Path: local(v.Sizes[1].URL)})
	testenv.WantStatus(t, want, http.StatusOK)
	testenv.Eventually(t, "the other instance serves the upload", func() bool {
		r := b.Do(testenv.Request{Path: local(v.Sizes[1].URL)})
		return r.Status == http.StatusOK && bytes.Equal(r.Body, want.Body)
	})
	r := b.Do(testenv.Request{Path: local(v.URL)})
	if r.Status != http.StatusOK || len(r.Body) != int(v.Bytes) {
		t.Errorf("original through the other instance: %d, %d bytes", r.Status, len(r.Body))
	}
	btoken, _ := b.User(t, auth.Editor)
	testenv.WantStatus(t, testenv.Call(t, b, btoken, http.MethodDelete, "/api/v1/media/"+v.ID, nil), http.StatusNoContent)
	testenv.Eventually(t, "the first instance stops serving the deleted item", func() bool {
		return a.Do(testenv.Request{Path: local(v.URL)}).Status == http.StatusNotFound
	})
}

// TestCrashBeforeRecordingServesNothing stops an upload after its files
// are stored and before its item is recorded, as a crash would: nothing
// is served, and the sweep removes the files once they are old enough.
func TestCrashBeforeRecordingServesNothing(t *testing.T) {
	for _, inDB := range []bool{false, true} {
		t.Run(fmt.Sprintf("database=%v", inDB), func(t *testing.T) {
			clock := testenv.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
			s := testenv.NewServer(t, func(o *server.Options) { o.Now = clock.Now; o.MediaInDatabase = inDB })
			svc := s.Services().Media
			token, _ := s.User(t, auth.Author)
			crash := errors.New("killed")
			media.SetFailpoint(svc, func(string) error { return crash })
			r := upload(t, s, token, part{"file", "room.jpg", string(encodeJPEG(t, picture(700, 400)))})
			testenv.WantStatus(t, r, http.StatusInternalServerError)
			media.SetFailpoint(svc, nil)

			// Stored under its key, yet not served: no item names it.
			data := encodeJPEG(t, picture(700, 400))
			v := uploaded(t, s, token, "probe.jpg", data, "")
			testenv.WantStatus(t, testenv.Call(t, s, token, http.MethodDelete, "/api/v1/media/"+v.ID, nil), http.StatusNoContent)
			if r := s.Do(testenv.Request{Path: local(v.Sizes[0].URL)}); r.Status != http.StatusNotFound {
				t.Fatalf("an unrecorded file is served: %d", r.Status)
			}
			if n, err := svc.Sweep(t.Context()); err != nil || n != 0 {
				t.Fatalf("sweep within the grace period removed %d (%v)", n, err)
			}
			clock.Advance(media.SweepGrace + 1)
			token, _ = s.User(t, auth.Author) // the first one expired
			kept := uploaded(t, s, token, "kept.png", encodePNG(t, picture(400, 300)), "")
			n, err := svc.Sweep(t.Context())
			if err != nil || n == 0 {
				t.Fatalf("sweep after the grace period removed %d (%v)", n, err)
			}
			// A recorded item keeps its files.
			for _, u := range append([]string{kept.URL}, sizesOf(kept)...) {
				if r := s.Do(testenv.Request{Path: local(u)}); r.Status != http.StatusOK {
					t.Errorf("%s after the sweep: %d", u, r.Status)
				}
			}
		})
	}
}

func sizesOf(v media.View) []string {
	var out []string
	for _, s := range v.Sizes {
		out = append(out, s.URL)
	}
	return out
}

// pages reads every page of a list, following nextCursor, and returns the
// string member field of each item.
func pages(t testing.TB, s *testenv.Server, token, path, field string) []string {
	t.Helper()
	var out []string
	next := ""
	for {
		p := path
		if next != "" {
			p += "&cursor=" + next
		}
		r := testenv.Call(t, s, token, http.MethodGet, p, nil)
		testenv.WantStatus(t, r, http.StatusOK)
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"nextCursor"`
		}
		r.JSON(t, &page)
		for _, it := range page.Items {
			v, _ := it[field].(string)
			out = append(out, v)
		}
		if page.NextCursor == nil {
			return out
		}
		next = *page.NextCursor
	}
}

// TestXMPIsNotMarkup uploads a JPEG whose XMP block starts with an XML
// declaration, as some editors write it: a photo, not a polyglot.
func TestXMPIsNotMarkup(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Author)
	photo := encodeJPEG(t, picture(400, 300))
	xmp := []byte("http://ns.adobe.com/xap/1.0/\x00<?xml version=\"1.0\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>")
	seg := append([]byte{0xFF, 0xE1, byte((len(xmp) + 2) >> 8), byte(len(xmp) + 2)}, xmp...)
	withXMP := append(append(append([]byte{}, photo[:2]...), seg...), photo[2:]...)
	v := uploaded(t, s, token, "edited.jpg", withXMP, "")
	r := s.Do(testenv.Request{Path: local(v.URL)})
	if bytes.Contains(r.Body, []byte("xmpmeta")) {
		t.Error("the XMP block was kept")
	}
}
