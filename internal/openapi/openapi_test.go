package openapi_test

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/orderedmap"

	"github.com/wellness/cms/internal/openapi"
)

// load parses the served document with libopenapi, failing on any error
// or warning it logs: a dangling $ref is only a warning there.
func load(t *testing.T) libopenapi.Document {
	t.Helper()
	d, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	doc, err := libopenapi.NewDocumentWithConfiguration(d.JSON(), cfg)
	if err != nil {
		t.Fatalf("parse the document: %v", err)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("build the model: %v", err)
	}
	if logs.Len() > 0 {
		t.Fatalf("libopenapi warned about the document:\n%s", logs.String())
	}
	return doc
}

// TestDocumentValid checks the document against the OpenAPI 3.1 schema.
func TestDocumentValid(t *testing.T) {
	doc := load(t)
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("openapi version %q, want 3.1.0", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("build the validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s", e.Error())
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s: %s", se.FieldPath, se.Reason)
			}
		}
	}
}

// TestHouseRules checks what the OpenAPI schema cannot: operation IDs are
// unique, every error answer of a GET or write is problem+json with the
// Problem schema, and HEAD and OPTIONS answers declare no body.
func TestHouseRules(t *testing.T) {
	m, err := load(t).BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for path, item := range m.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			where := strings.ToUpper(method) + " " + path
			if op.OperationId == "" {
				t.Errorf("%s: no operationId", where)
			} else if prev, dup := ids[op.OperationId]; dup {
				t.Errorf("%s: operationId %q is also %s's", where, op.OperationId, prev)
			}
			ids[op.OperationId] = where
			bodiless := method == "head" || method == "options"
			for code, resp := range op.Responses.Codes.FromOldest() {
				n := orderedmap.Len(resp.Content)
				switch {
				case bodiless && n > 0:
					t.Errorf("%s %s: declares a body", where, code)
				case !bodiless && (code[0] == '4' || code[0] == '5'):
					// The one exception: a dead /go/ link answers a
					// browser with a page for people (the contract's
					// "Affiliate links"), beside problem+json.
					if op.OperationId == "followProductLink" && (code == "404" || code == "410") &&
						resp.Content.GetOrZero("text/html") != nil {
						n--
					}
					if n != 1 {
						t.Errorf("%s %s: an error answer must be application/problem+json only", where, code)
						continue
					}
					mt := resp.Content.GetOrZero("application/problem+json")
					if mt == nil || mt.Schema == nil || mt.Schema.GetReference() != "#/components/schemas/Problem" {
						t.Errorf("%s %s: an error answer must be application/problem+json with the Problem schema", where, code)
					}
				}
			}
			if op.Responses.Default != nil {
				t.Errorf("%s: a default response would declare every status code", where)
			}
			if !bodiless && !slices.ContainsFunc(slices.Collect(op.Responses.Codes.KeysFromOldest()), func(c string) bool { return c[0] == '2' || c[0] == '3' }) {
				t.Errorf("%s: no success answer", where)
			}
		}
	}
}
