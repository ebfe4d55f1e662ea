package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestResanitizeCommand(t *testing.T) {
	dir := t.TempDir()
	env := envFrom(map[string]string{"CMS_DATA_DIR": dir, "CMS_LOG_LEVEL": "error"})
	ctx := context.Background()
	seedArticle(t, dir)

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
