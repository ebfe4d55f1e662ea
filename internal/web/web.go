// Package web holds the small HTTP conventions every feature package shares:
// handlers that return errors, strict JSON decoding, the per-request logger
// and request ID. It knows Gin; the domain types it serves do not.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
)

// Context keys, unexported in spirit: only this package reads them.
const (
	keyRequest = "web.request"
	keyBody    = "web.body"
	keyLimit   = "web.limit"
)

// DefaultBodyLimit bounds request bodies unless a route raises it.
const DefaultBodyLimit = 1 << 20

// HandlerFunc is a Gin handler that reports failure by returning an error.
type HandlerFunc func(c *gin.Context) error

// Handle adapts fn to Gin: a returned error becomes problem+json.
func Handle(fn HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			Fail(c, err)
		}
	}
}

// Fail writes err as problem+json and stops the handler chain. Internal
// errors are logged with their cause; the client sees a generic message.
func Fail(c *gin.Context, err error) {
	if c.Writer.Written() {
		Logger(c).Error("error after response started", "err", err)
		c.Abort()
		return
	}
	if problem.KindOf(err) == problem.Internal {
		Logger(c).Error("request failed", "err", err)
	}
	problem.Write(c.Writer, c.Request, RequestID(c), err)
	c.Abort()
}

// request is what the server middleware records of each request: its ID
// and the logger its lines go to. One value stored once, because every
// request pays for it, and most log nothing but their access line.
type request struct {
	id     string
	logger *slog.Logger
}

// BeginRequest records the request's ID and the logger whose lines
// Logger tags with it; the server middleware calls it first.
func BeginRequest(c *gin.Context, id string, logger *slog.Logger) {
	c.Set(keyRequest, &request{id: id, logger: logger})
}

func requestOf(c *gin.Context) *request {
	v, _ := c.Get(keyRequest)
	r, _ := v.(*request)
	return r
}

// RequestID returns the request's ID, or "" outside the server middleware.
func RequestID(c *gin.Context) string {
	if r := requestOf(c); r != nil {
		return r.id
	}
	return ""
}

// Logger returns the request-scoped logger: the server's, with the
// request ID attached. It is made when asked for, not for every request.
func Logger(c *gin.Context) *slog.Logger {
	if r := requestOf(c); r != nil {
		return r.logger.With("requestId", r.id)
	}
	return slog.Default()
}

// LimitBody caps the request body at n bytes. The server applies the default
// to every request; a route that needs more installs BodyLimit(n), which
// re-wraps the original body rather than nesting inside the smaller cap.
// Decode refuses a declared Content-Length over the cap before reading.
func LimitBody(c *gin.Context, n int64) {
	if c.Request.Body == http.NoBody {
		return // nothing to read (most GETs): nothing to cap or remember
	}
	orig, ok := c.Get(keyBody)
	if !ok {
		orig = c.Request.Body
		c.Set(keyBody, orig)
	}
	c.Set(keyLimit, n)
	c.Request.Body = http.MaxBytesReader(c.Writer, orig.(io.ReadCloser), n)
}

// BodyLimit is route middleware raising (or lowering) the body cap to n.
func BodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) { LimitBody(c, n) }
}

// Decode reads a JSON body into dst strictly: the media type must be JSON
// (415), the body must fit the route's limit (413), must be one well-formed
// value (400), and every member it has that dst has no field for, or of
// the wrong type, is named in one 400 answer. dst should be a typed
// struct, never a map, so that operator injection like {"$gt":""} fails
// as a type error. A body that may be a fetched resource sent back is
// decoded with DecodeUpdate instead.
func Decode(c *gin.Context, dst any) error { return DecodeUpdate(c, dst, nil, nil) }

// DecodeBytes is Decode's strict JSON step on an already read body. Every
// error names the member it concerns by its JSON path (seo.canonicalUrl),
// at the top level and inside Optional members alike.
func DecodeBytes(data []byte, dst any) error { return DecodeUpdateBytes(data, dst, nil, nil) }

// readBody reads the request body under the route's limit.
func readBody(c *gin.Context) ([]byte, error) {
	if err := checkJSONMediaType(c.GetHeader("Content-Type")); err != nil {
		return nil, err
	}
	if n := c.GetInt64(keyLimit); n > 0 && c.Request.ContentLength > n {
		return nil, problem.New(problem.TooLarge, "the body exceeds %d bytes", n)
	}
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return nil, BodyError(err)
	}
	return data, nil
}

// decodeBody decodes data into dst and returns what is wrong with its
// members: the wrong types (with every failure inside Optional members)
// in f, and the members dst has no field for in unknown, in document
// order (more: there were more than maxUnknown). err is a body that is
// not one well-formed JSON value, or that no member accounts for.
func decodeBody(data []byte, dst any) (f problem.Fields, unknown []unknownMember, more bool, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, false, problem.New(problem.BadRequest, "the body is empty; a JSON object is expected")
	}
	// Not DisallowUnknownFields: it reports only the first one, and
	// walkBody finds them all below.
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			return nil, nil, false, problem.New(problem.BadRequest, "malformed JSON at byte %d", syn.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, nil, false, problem.New(problem.BadRequest, "the JSON body ends early")
		}
		path, msg, ok := memberError(err, reflect.TypeOf(dst))
		if !ok {
			return nil, nil, false, problem.Wrap(problem.BadRequest, err, "the body is not valid JSON for this endpoint")
		}
		if path == "" {
			path = "(body)"
		}
		f.Add(path, "%s", msg)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, false, problem.New(problem.BadRequest, "the body has data after the JSON value")
	}
	// Optional members decode without failing; report their failures the
	// way a top-level failure is, all at once.
	f = append(f, memberErrors(dst)...)
	unknown, wrong, more, err := walkBody(data, reflect.TypeOf(dst))
	if err != nil {
		// dec accepted data as one JSON value, so this is a bug here.
		return nil, nil, false, fmt.Errorf("find unknown members: %w", err)
	}
	// encoding/json reported the first wrong type only; the walk finds
	// them all, in document order. What only encoding/json saw (1.5 for
	// an integer) follows.
	for _, e := range f {
		if !slices.ContainsFunc(wrong, func(g problem.FieldError) bool { return g.Field == e.Field }) {
			wrong = append(wrong, e)
		}
	}
	f = wrong
	return f, unknown, more, nil
}

func checkJSONMediaType(ct string) error {
	if ct == "" {
		return problem.New(problem.UnsupportedMediaType, "Content-Type must be application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return problem.New(problem.UnsupportedMediaType, "Content-Type must be application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return problem.New(problem.UnsupportedMediaType, "only the utf-8 charset is accepted")
	}
	return nil
}

// memberError is the one mapping of an encoding/json error to the member
// it concerns: its JSON path relative to the value decoded and a message
// for the client. ok is false for errors no member owns.
func memberError(err error, t reflect.Type) (path, msg string, ok bool) {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		// Field is the dotted path from the root (array indexes are left
		// out), but with embedded structs' Go names in it.
		return jsonPath(t, typ.Field), "must be " + jsonKind(typ.Type), true
	}
	return "", "", false
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "of another type"
}
