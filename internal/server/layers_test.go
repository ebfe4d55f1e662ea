package server_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// layers ranks the module's packages: a package may import only packages
// of a lower rank, so imports point one way, from the binary down to the
// leaves (the README's "What is here").
var layers = map[string]int{
	"internal/problem": 0, "internal/search": 0, "internal/imagefile": 0, "internal/wordpress": 0,
	"internal/mongodb": 1, "internal/web": 1,
	"internal/changefeed": 2,
	"internal/openapi":    2,
	"auth":                3,
	"webhook":             4, "affiliate": 4, "media": 4,
	"cms": 5, "site": 5, "backup": 5,
	"content": 6, "wpimport": 6,
	"admin":            7,
	"internal/server":  8,
	"internal/testenv": 9,
	"cmd/cms":          10,
}

// TestImportDirection reads every non-test file's imports and fails on an
// import that points up or sideways, or a package missing from layers.
func TestImportDirection(t *testing.T) {
	const module = "github.com/wellness/cms/"
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if name := d.Name(); rel == "bench" || name == "node_modules" || name == "testdata" || strings.HasPrefix(name, ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		rank, ok := layers[pkg]
		if !ok {
			t.Errorf("%s: package %s has no layer; add it to layers", rel, pkg)
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			dep, ok := strings.CutPrefix(p, module)
			if !ok {
				continue
			}
			if r, known := layers[dep]; !known || r >= rank {
				t.Errorf("%s: %s (layer %d) imports %s (layer %d)", rel, pkg, rank, dep, r)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
