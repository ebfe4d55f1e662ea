// Package web holds the small HTTP conventions every feature package shares:
// handlers that return errors, strict JSON decoding, the per-request logger
// and request ID. It knows Gin; the domain types it serves do not.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
)

// Context keys, unexported in spirit: only this package reads them.
const (
	keyRequestID = "web.requestID"
	keyLogger    = "web.logger"
	keyBody      = "web.body"
	keyLimit     = "web.limit"
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

// SetRequestID stores the request's ID; the server middleware calls it.
func SetRequestID(c *gin.Context, id string) { c.Set(keyRequestID, id) }

// RequestID returns the request's ID, or "" outside the server middleware.
func RequestID(c *gin.Context) string { return c.GetString(keyRequestID) }

// SetLogger stores the request-scoped logger.
func SetLogger(c *gin.Context, l *slog.Logger) { c.Set(keyLogger, l) }

// Logger returns the request-scoped logger (with the request ID attached).
func Logger(c *gin.Context) *slog.Logger {
	if v, ok := c.Get(keyLogger); ok {
		if l, ok := v.(*slog.Logger); ok {
			return l
		}
	}
	return slog.Default()
}

// LimitBody caps the request body at n bytes. The server applies the default
// to every request; a route that needs more installs BodyLimit(n), which
// re-wraps the original body rather than nesting inside the smaller cap.
// Decode refuses a declared Content-Length over the cap before reading.
func LimitBody(c *gin.Context, n int64) {
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
// value (400) with no unknown fields and no wrong types (400 naming the
// field). dst should be a typed struct, never a map, so that operator
// injection like {"$gt":""} fails as a type error.
func Decode(c *gin.Context, dst any) error {
	if err := checkJSONMediaType(c.GetHeader("Content-Type")); err != nil {
		return err
	}
	if n := c.GetInt64(keyLimit); n > 0 && c.Request.ContentLength > n {
		return problem.New(problem.TooLarge, "the body exceeds %d bytes", n)
	}
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem.New(problem.TooLarge, "the body exceeds %d bytes", mbe.Limit)
		}
		return problem.Wrap(problem.BadRequest, err, "the body could not be read")
	}
	return DecodeBytes(data, dst)
}

// DecodeBytes is Decode's strict JSON step on an already read body. Every
// error names the member it concerns by its JSON path (seo.canonicalUrl),
// at the top level and inside Optional members alike.
func DecodeBytes(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return problem.New(problem.BadRequest, "the body is empty; a JSON object is expected")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, data, dst)
	}
	if _, err := dec.Token(); err != io.EOF {
		return problem.New(problem.BadRequest, "the body has data after the JSON value")
	}
	// Optional members decode without failing; report their failures the
	// way a top-level failure is, all at once.
	return memberErrors(dst).Err()
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

// decodeError maps a failed top-level decode of data into dst to a
// problem: broken JSON is a 400, a member of the wrong type or one the
// endpoint does not accept is a 400 naming it (memberError, the same
// mapping Optional members use).
func decodeError(err error, data []byte, dst any) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return problem.New(problem.BadRequest, "malformed JSON at byte %d", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.BadRequest, "the JSON body ends early")
	}
	path, msg, ok := memberError(err, data, reflect.TypeOf(dst))
	if !ok {
		return problem.Wrap(problem.BadRequest, err, "the body is not valid JSON for this endpoint")
	}
	if path == "" {
		path = "(body)"
	}
	detail := "the body has a field this endpoint does not accept"
	if errors.As(err, &typ) {
		detail = "a field has the wrong type"
	}
	return &problem.Error{Kind: problem.Invalid, Detail: detail,
		Fields: []problem.FieldError{{Field: path, Message: msg}}}
}

// memberError is the one mapping of an encoding/json error, from decoding
// data into a value of type t, to the member it concerns: its JSON path
// relative to that value and a message for the client. ok is false for
// errors no member owns (broken JSON).
func memberError(err error, data []byte, t reflect.Type) (path, msg string, ok bool) {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		// Field is already the dotted path from the root (array indexes
		// are left out).
		return typ.Field, "must be " + jsonKind(typ.Type), true
	}
	if name, found := strings.CutPrefix(err.Error(), "json: unknown field "); found {
		name = strings.Trim(name, `"`)
		// encoding/json names only the key; find where it is.
		if p, found := unknownFieldPath(data, t); found && (p == name || strings.HasSuffix(p, "."+name)) {
			name = p
		}
		return name, "unknown field", true
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
