// Package openapi serves the service's OpenAPI 3.1 description: a document
// written by hand (openapi.yaml), embedded in the binary and served as JSON
// at GET /api/v1/openapi.json.
//
// It is the reference for every route, body and field. Tests keep it
// honest: this package's test checks it is a valid OpenAPI 3.1 document,
// internal/server's that its paths and methods are exactly the router's
// routes, and the recorder in internal/testenv validates every response the
// integration tests produce against it.
package openapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"

	"github.com/wellness/cms/internal/web"
)

// Path is where the document is served.
const Path = "/api/v1/openapi.json"

// CacheControl lets browsers and CDNs keep the document for a while: it
// changes only with a new release, and the ETag makes revalidation cheap.
const CacheControl = "public, max-age=300, stale-while-revalidate=3600"

//go:embed openapi.yaml
var source []byte

// Document is the description in the form it is served: JSON, converted
// once, with the strong ETag of those bytes.
type Document struct {
	body []byte
	etag string
}

// Load converts the embedded YAML into compact JSON. It fails only if the
// embedded source is broken, which the package's tests catch.
func Load() (*Document, error) {
	js, err := yaml.YAMLToJSON(source)
	if err != nil {
		return nil, fmt.Errorf("openapi: convert openapi.yaml: %w", err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, js); err != nil {
		return nil, fmt.Errorf("openapi: compact the converted document: %w", err)
	}
	sum := sha256.Sum256(b.Bytes())
	return &Document{body: b.Bytes(), etag: `"` + hex.EncodeToString(sum[:16]) + `"`}, nil
}

// JSON is the served document. The caller must not modify it.
func (d *Document) JSON() []byte { return d.body }

// Serve answers GET and HEAD of Path: the document with its ETag and
// Cache-Control, or 304 when If-None-Match names it. A HEAD answer's body
// is dropped by net/http.
func (d *Document) Serve(c *gin.Context) error {
	h := c.Writer.Header()
	h.Set("Cache-Control", CacheControl)
	if web.NotModified(c, d.etag) {
		return nil
	}
	h.Set("ETag", d.etag)
	h.Set("Content-Length", strconv.Itoa(len(d.body)))
	c.Data(http.StatusOK, "application/json; charset=utf-8", d.body)
	return nil
}
