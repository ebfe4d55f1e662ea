package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// validRequestID limits an incoming X-Request-ID to a safe token, so a
// client cannot inject log lines or huge values through it: 1 to 128 of
// A-Z a-z 0-9 . _ : -. A loop, not a regexp: it runs on every request.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9',
			b == '.', b == '_', b == ':', b == '-':
		default:
			return false
		}
	}
	return true
}

// Request IDs are a per-process random prefix and a counter: unique across
// instances and restarts (64 random bits), and cheap. A request ID only
// correlates log lines; it grants nothing, so it need not be unguessable
// per request, and crypto/rand on every request cost more than the
// handler of a cached article.
var (
	requestIDPrefix = func() string {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:]) + "-"
	}()
	requestIDSeq atomic.Uint64
)

func newRequestID() string {
	var buf [16 + 1 + 16]byte
	b := append(buf[:0], requestIDPrefix...)
	return string(strconv.AppendUint(b, requestIDSeq.Add(1), 36))
}

// requestContext assigns the request ID and the request-scoped logger, and
// writes one JSON access-log line when the request is done: encoded by
// hand straight into lines, the writer the logger's JSON handler writes
// to, when there is one (see access); through the logger otherwise.
func requestContext(logger *slog.Logger, lines io.Writer) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-ID")
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Writer.Header()["X-Request-Id"] = []string{id} // canonical already: Set would re-case it
		web.BeginRequest(c, id, logger)

		c.Next()

		if !logger.Enabled(c.Request.Context(), slog.LevelInfo) {
			return
		}
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		if lines != nil {
			a := access{at: time.Now(), id: id, method: c.Request.Method, route: route, path: c.Request.URL.Path,
				query: redactQuery(c.Request.URL.RawQuery), status: c.Writer.Status(), bytes: max(c.Writer.Size(), 0),
				clientIP: c.ClientIP()}
			a.duration = a.at.Sub(start)
			buf := accessBufs.Get().(*[]byte)
			*buf = a.appendJSON((*buf)[:0])
			_, _ = lines.Write(*buf)
			accessBufs.Put(buf)
			return
		}
		logger.LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
			slog.String("requestId", id),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.String("path", c.Request.URL.Path),
			slog.String("query", redactQuery(c.Request.URL.RawQuery)),
			slog.Int("status", c.Writer.Status()),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.Duration("duration", time.Since(start)),
			slog.String("clientIp", c.ClientIP()),
		)
	}
}

// sensitiveWords in a query key (case-insensitive) mean its value must
// never reach a log: preview tokens, and anything a client might misplace
// there.
var sensitiveWords = []string{"token", "preview", "password", "secret", "key", "code_verifier"}

func sensitiveParam(key string) bool {
	for _, w := range sensitiveWords {
		if len(key) < len(w) {
			continue
		}
		for i := 0; i+len(w) <= len(key); i++ {
			if strings.EqualFold(key[i:i+len(w)], w) {
				return true
			}
		}
	}
	return false
}

// redactQuery keeps the query for debugging but masks secret values. It
// works on the raw query, pair by pair, and returns it unchanged (no
// allocation) when no key is sensitive: most requests have no query or a
// harmless one. A key is judged decoded, so pr%65view is masked too.
func redactQuery(raw string) string {
	var out []byte
	for start := 0; start < len(raw); {
		end := strings.IndexByte(raw[start:], '&')
		if end < 0 {
			end = len(raw)
		} else {
			end += start
		}
		pair := raw[start:end]
		rawKey, _, hasValue := strings.Cut(pair, "=")
		key := rawKey
		if dec, err := url.QueryUnescape(rawKey); err == nil {
			key = dec
		}
		switch {
		case hasValue && sensitiveParam(key):
			if out == nil {
				out = append(make([]byte, 0, len(raw)+8), raw[:start]...)
			}
			out = append(append(out, rawKey...), "=REDACTED"...)
		case out != nil:
			out = append(out, pair...)
		}
		if end < len(raw) && out != nil {
			out = append(out, '&')
		}
		start = end + 1
	}
	if out == nil {
		return raw
	}
	return string(out)
}

// securityHeaders sets the headers every response carries.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h["X-Content-Type-Options"] = nosniff
	h["Referrer-Policy"] = referrerPolicy
	h["X-Frame-Options"] = frameDeny
	c.Next()
}

// The values securityHeaders sets, built once: Header.Set would allocate
// a slice for each on every request. A later Add copies (capacity 1).
var (
	nosniff        = []string{"nosniff"}
	referrerPolicy = []string{"strict-origin-when-cross-origin"}
	frameDeny      = []string{"DENY"}
)

// bodyLimit applies the default cap to every request body; routes that
// need more raise it with web.BodyLimit.
func bodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		web.LimitBody(c, n)
		c.Next()
	}
}

// recovery turns a panic into a logged 500 problem. The stack goes to the
// log only. http.ErrAbortHandler keeps its meaning: abort the connection.
func recovery(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(v)
		}
		web.Logger(c).Error("panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		web.Fail(c, fmt.Errorf("panic: %v", v))
	}()
	c.Next()
}

func notFound(c *gin.Context) {
	web.Fail(c, problem.New(problem.NotFound, "no resource at %s", c.Request.URL.Path))
	sendHeader(c)
}

func methodNotAllowed(c *gin.Context) {
	web.Fail(c, problem.New(problem.MethodNotAllowed, "%s is not supported here", c.Request.Method))
	sendHeader(c)
}

// sendHeader commits the status line of a bodiless answer (HEAD). Gin
// writes its own text/plain 404 or 405 over an unwritten NoRoute or
// NoMethod answer, replacing the problem+json Content-Type.
func sendHeader(c *gin.Context) {
	if !c.Writer.Written() {
		c.Writer.WriteHeaderNow()
	}
}

// statusLabel keeps the metric label set small.
func statusLabel(code int) string {
	if code <= 0 {
		return "0"
	}
	return strconv.Itoa(code)
}

// routeLabel is the route pattern, never the raw path, so that IDs and slugs
// do not explode the metric cardinality.
func routeLabel(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
