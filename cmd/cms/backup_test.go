package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/internal/mongodb"
)

// TestExportImportCommands: cms export writes an archive of a data
// directory, cms import archive restores it into a new one, and refuses
// to do it twice.
func TestExportImportCommands(t *testing.T) {
	ctx := context.Background()
	from, to := t.TempDir(), t.TempDir()
	seedArticle(t, from)
	cmd := func(dir string, args ...string) (string, error) {
		var out bytes.Buffer
		env := envFrom(map[string]string{"CMS_DATA_DIR": dir, "CMS_LOG_LEVEL": "error"})
		err := run(ctx, args, env, nil, &out, &out)
		return out.String(), err
	}
	archive := filepath.Join(t.TempDir(), "site.zip")
	out, err := cmd(from, "export", archive)
	if err != nil || !strings.Contains(out, "articles 1") || !strings.Contains(out, "exported") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if _, err := os.Stat(archive + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
	out, err = cmd(to, "import", "archive", archive)
	if err != nil || !strings.Contains(out, "restored") || !strings.Contains(out, "articles 1") {
		t.Fatalf("import archive: %v\n%s", err, out)
	}
	if out, err = cmd(to, "import", "archive", archive); err == nil || !strings.Contains(err.Error(), "restored into this database already") {
		t.Errorf("a second import: %v\n%s", err, out)
	}
	if _, err = cmd(from, "export", filepath.Join(t.TempDir(), "no-such-dir", "x.zip")); err == nil {
		t.Error("an export to a directory that does not exist succeeded")
	}
	if _, err = cmd(from, "export"); err == nil {
		t.Error("an export without a file succeeded")
	}

	db, err := mongodb.Open(ctx, mongodb.Options{DataDir: to, Database: "cms"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	n, err := db.Database.Collection("articles").CountDocuments(ctx, bson.D{})
	if err != nil || n != 1 {
		t.Fatalf("restored articles: %d %v", n, err)
	}
}
