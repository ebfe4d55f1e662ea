package testenv

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/responses"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/wellness/cms/admin"
	"github.com/wellness/cms/internal/openapi"
)

// The OpenAPI document is compiled once per test binary: every server of
// every test validates against the same one.
var (
	specOnce sync.Once
	spec     *openAPISpec
	specErr  error
)

// openAPISpec is the compiled document: its path items by template, and
// the validator of answers.
type openAPISpec struct {
	paths     map[string]*v3.PathItem
	responses responses.ResponseBodyValidator
}

func loadOpenAPI() (*openAPISpec, error) {
	specOnce.Do(func() {
		d, err := openapi.Load()
		if err != nil {
			specErr = err
			return
		}
		doc, err := libopenapi.NewDocument(d.JSON())
		if err != nil {
			specErr = fmt.Errorf("parse the OpenAPI document: %w", err)
			return
		}
		m, err := doc.BuildV3Model()
		if err != nil {
			specErr = fmt.Errorf("build the OpenAPI model: %w", err)
			return
		}
		s := &openAPISpec{paths: map[string]*v3.PathItem{},
			responses: validator.NewValidatorFromV3Model(&m.Model, config.WithFormatAssertions()).GetResponseBodyValidator()}
		for path, item := range m.Model.Paths.PathItems.FromOldest() {
			s.paths[path] = item
		}
		spec = s
	})
	return spec, specErr
}

// route is one of the router's routes: its method and its pattern split
// into segments, as the document's path template too.
type route struct {
	method   string
	segments []string
	template string
}

// routesOf lists the engine's routes for matching requests to them.
func routesOf(e *gin.Engine) []route {
	var out []route
	for _, r := range e.Routes() {
		segs := strings.Split(r.Path, "/")
		tmpl := slices.Clone(segs)
		for i, s := range tmpl {
			if s != "" && (s[0] == ':' || s[0] == '*') {
				tmpl[i] = "{" + s[1:] + "}"
			}
		}
		out = append(out, route{method: r.Method, segments: segs, template: strings.Join(tmpl, "/")})
	}
	return out
}

// match finds the route serving method and path as Gin does: static
// segments equal, a :param any non-empty segment, a *catch-all the rest;
// where several match, the one with the most static segments, as Gin
// prefers /a/b to /a/:x.
func match(routes []route, method, path string) (route, bool) {
	segs := strings.Split(path, "/")
	best, found, bestStatic := route{}, false, -1
	for _, r := range routes {
		if r.method != method {
			continue
		}
		if n, ok := matches(r.segments, segs); ok && n > bestStatic {
			best, found, bestStatic = r, true, n
		}
	}
	return best, found
}

// matches reports whether pattern matches segs, and with how many static
// segments.
func matches(pattern, segs []string) (static int, ok bool) {
	for i, p := range pattern {
		if p != "" && p[0] == '*' {
			return static, true
		}
		if i >= len(segs) {
			return 0, false
		}
		switch {
		case p != "" && p[0] == ':':
			if segs[i] == "" {
				return 0, false
			}
		case p != segs[i]:
			return 0, false
		default:
			static++
		}
	}
	return static, len(pattern) == len(segs)
}

// maxRecorded bounds the body a check keeps; nothing the API answers is
// bigger (articles are at most a few MiB).
const maxRecorded = 16 << 20

// validateResponses serves e so that every answer it gives is checked
// against the OpenAPI document: the operation (method and path) must be
// described, its status code declared, its content type declared for that
// code, and its body valid under the schema. A failure is t.Errorf naming
// the request, the status and what is wrong, so a handler that drifts from
// the document fails the test that exercised it. Requests the router
// matches to no route (its own 404 and 405 answers to a test probing an
// unknown path or method) are skipped: the document describes routes, and
// internal/server's TestOpenAPICoversEveryRoute holds its operations and
// the router's routes equal. Each request is matched to the engine's own
// route table, not to the document's templates, so that an answer is
// checked against exactly the operation that produced it.
func validateResponses(t testing.TB, e *gin.Engine) http.Handler {
	spec, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	routes := routesOf(e)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		e.ServeHTTP(rec, r)
		rt, ok := match(routes, r.Method, r.URL.Path)
		if !ok || admin.Owns(rt.template) {
			return // the router's own 404 or 405, or a page of the web UI
		}
		if msg := spec.check(rt, r, rec); msg != "" {
			t.Errorf("OpenAPI: %s %s → %d: %s", r.Method, r.URL.RequestURI(), rec.status(), msg)
		}
	})
}

// check validates one answer of rt, or says why it does not conform.
func (s *openAPISpec) check(rt route, r *http.Request, rec *recorder) string {
	item, ok := s.paths[rt.template]
	if !ok {
		return "the route " + rt.template + " is not in the document"
	}
	if rec.overflow {
		return "" // too big to keep, so not checked
	}
	body := rec.body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" && len(body) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return "gzip body: " + err.Error()
		}
		if body, err = io.ReadAll(zr); err != nil {
			return "gzip body: " + err.Error()
		}
	}
	resp := &http.Response{
		StatusCode: rec.status(), Header: rec.Header().Clone(),
		Body: io.NopCloser(bytes.NewReader(body)), Request: r,
	}
	ok, errs := s.responses.ValidateResponseBodyWithPathItem(r, resp, item, rt.template)
	if ok {
		return ""
	}
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n\t%s", e.Message)
		if e.Reason != "" && e.Reason != e.Message {
			fmt.Fprintf(&b, " (%s)", e.Reason)
		}
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n\t\t%s: %s", f.FieldPath, f.Reason)
		}
	}
	snippet := body
	if len(snippet) > 400 {
		snippet = snippet[:400]
	}
	fmt.Fprintf(&b, "\n\tContent-Type %q, body: %s", rec.Header().Get("Content-Type"), snippet)
	return b.String()
}

// recorder passes the answer through while keeping a copy of its status
// and body for the check.
type recorder struct {
	http.ResponseWriter
	code     int
	body     bytes.Buffer
	overflow bool
}

func (w *recorder) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func (w *recorder) WriteHeader(code int) {
	// Informational answers (103 Early Hints) precede the real one.
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if !w.overflow {
		if w.body.Len()+len(p) > maxRecorded {
			w.overflow = true
			w.body = bytes.Buffer{}
		} else {
			w.body.Write(p)
		}
	}
	return w.ResponseWriter.Write(p)
}

// Flush and Unwrap keep what the wrapped writer offers (streaming,
// http.ResponseController) available to the handler.
func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
