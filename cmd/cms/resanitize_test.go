package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/mongodb"
)

func TestResanitizeCommand(t *testing.T) {
	dir := t.TempDir()
	env := envFrom(map[string]string{"CMS_DATA_DIR": dir, "CMS_LOG_LEVEL": "error"})
	ctx := context.Background()

	db, err := mongodb.Open(ctx, mongodb.Options{DataDir: dir, Database: "cms"})
	if err != nil {
		t.Fatal(err)
	}
	svc := cms.New(db.Database, cms.Options{})
	if _, err := svc.Create(ctx, &auth.Principal{UserID: "u1", Name: "U", Role: auth.Author}, cms.Content{Title: "Hello", Body: "<p>hi</p>"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}

	resanitize := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"resanitize"}, args...), env, nil, &out, &out)
		return out.String(), err
	}
	out, err := resanitize("--all", "--dry-run")
	if err != nil || !strings.Contains(out, "checked 1 articles") || !strings.Contains(out, "would re-render 0") {
		t.Fatalf("resanitize --all --dry-run: %v\n%s", err, out)
	}
	out, err = resanitize()
	if err != nil || !strings.Contains(out, "checked 0 articles") {
		t.Fatalf("resanitize: %v\n%s", err, out)
	}
	if _, err := resanitize("extra"); err == nil {
		t.Error("an extra argument must be refused")
	}
}
