package admin_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// postImport posts the import form as the page's browser would.
func (b *browser) postImport(export []byte, dryRun bool) *page {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("file", "export.xml")
	fw.Write(export)
	w.WriteField("media", "keep")
	if dryRun {
		w.WriteField("dryRun", "true")
	}
	w.Close()
	req, err := http.NewRequest(http.MethodPost, b.s.URL+"/admin/import", &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func TestImportPage(t *testing.T) {
	s := testenv.NewServer(t)
	export, err := os.ReadFile(filepath.Join("..", "internal", "wordpress", "testdata", "clinic-1.2.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []auth.Role{auth.Contributor, auth.Author, auth.Editor} {
		b := signIn(t, s, role)
		b.get("/admin/import").want(t, http.StatusForbidden)
		b.postImport(export, true).want(t, http.StatusForbidden)
	}
	b := signIn(t, s, auth.Admin)
	b.get("/admin/import").want(t, http.StatusOK, `<label for="import-file">WordPress export file</label>`,
		`<label for="import-dry">Dry run`, `>Import</button>`)
	b.get("/admin/settings").want(t, http.StatusOK, `href="/admin/import"`)

	b.postImport(export, true).want(t, http.StatusOK, "Dry run: nothing was written", "Report for harbor-massage.example",
		"Massage for chronic pain relief", "contact-form-7", "amzn.to")
	if r := b.get("/admin/articles"); bytes.Contains([]byte(r.Body), []byte("Massage for chronic pain relief")) {
		t.Fatal("the dry run wrote an article")
	}
	b.postImport(export, false).want(t, http.StatusOK, "Imported.", "created")
	b.get("/admin/articles").want(t, http.StatusOK, "Massage for chronic pain relief")

	// A broken file says why, on the page.
	b.postImport([]byte("<rss><channel><item><title>cut"), false).want(t, http.StatusBadRequest, "Import from WordPress")
	// From another site: refused.
	b.postRaw("/admin/import", url.Values{}, "Origin", "https://evil.example").want(t, http.StatusForbidden)
}
