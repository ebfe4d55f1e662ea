package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// validRequestID limits an incoming X-Request-ID to a safe token, so a
// client cannot inject log lines or huge values through it.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestContext assigns the request ID and the request-scoped logger, and
// writes one JSON access-log line when the request is done.
func requestContext(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-ID")
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		c.Header("X-Request-ID", id)
		web.SetRequestID(c, id)
		web.SetLogger(c, logger.With("requestId", id))

		c.Next()

		route := c.FullPath()
		if route == "" {
			route = "unmatched"
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

// sensitiveParam matches query keys whose values must never reach a log:
// preview tokens, and anything a client might misplace there.
var sensitiveParam = regexp.MustCompile(`(?i)token|preview|password|secret|key|code_verifier`)

// redactQuery keeps query keys for debugging but masks secret values.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "(unparseable)"
	}
	for k := range q {
		if sensitiveParam.MatchString(k) {
			q[k] = []string{"REDACTED"}
		}
	}
	return q.Encode()
}

// securityHeaders sets the headers every response carries.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Frame-Options", "DENY")
	c.Next()
}

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
