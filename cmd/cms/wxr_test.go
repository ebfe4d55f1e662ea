package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wellness/cms/internal/testenv"
)

// TestImportWXRCommand imports a WordPress export from the command line
// while the server runs on the same data directory: the command attaches
// to its embedded engine, and the server serves what it imported.
func TestImportWXRCommand(t *testing.T) {
	addr := freeAddr(t)
	env := envFrom(map[string]string{"CMS_DATA_DIR": t.TempDir(), "CMS_LOG_LEVEL": "error", "CMS_ADDR": addr,
		"CMS_METRICS_ADDR": "off", "CMS_AMAZON_TAGS": "amazon.com=harbor-20,amazon.co.uk=harbor-21"})
	startServe(t, addr, env, "serve")

	cmd := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, env, strings.NewReader(stdin), &out, &out)
		return out.String(), err
	}
	export := filepath.Join("..", "..", "internal", "wordpress", "testdata", "clinic-1.2.xml")
	if out, err := cmd("", "import", "wxr", export); err == nil || !strings.Contains(err.Error(), "no active admin") {
		t.Fatalf("without an admin: %v\n%s", err, out)
	}
	if out, err := cmd("clinic owner password\n", "user", "add", "--email", "owner@clinic.example", "--role", "admin", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	out, err := cmd("", "import", "wxr", "--dry-run", export)
	if err != nil || !strings.Contains(out, "dry run: nothing was written") || !strings.Contains(out, "[contact-form-7]") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = cmd("", "import", "wxr", "--author-map", "anna=owner@clinic.example", export)
	if err != nil || !strings.Contains(out, "2 publish created") || !strings.Contains(out, "anna -> owner@clinic.example (mapped)") ||
		!strings.Contains(out, "amzn.to") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	testenv.Eventually(t, "the running server serves the imported article", func() bool {
		resp, err := http.Get("http://" + addr + "/api/v1/content/articles/massage-for-chronic-pain-relief")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "Deep tissue work")
	})
	if out, err := cmd("", "import", "wxr", "--author-map", "anna=owner@clinic.example", export); err != nil || !strings.Contains(out, "2 publish unchanged") {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	for _, bad := range [][]string{
		{"import", "wxr"},
		{"import", "wxr", "--media", "all", export},
		{"import", "wxr", "--author-map", "anna", export},
		{"import", "wxr", "--author-map", "anna=nobody@clinic.example", export},
		{"import", "wxr", filepath.Join("..", "..", "internal", "wordpress", "testdata", "truncated.xml")},
		{"import", "nothing"},
	} {
		if out, err := cmd("", bad...); err == nil {
			t.Errorf("%v: no error\n%s", bad, out)
		}
	}
}
