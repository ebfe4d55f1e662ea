package testenv

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestMain(m *testing.M) { Main(m) }

// errorsOf is a testing.TB that keeps what the recorder reports.
type errorsOf struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (e *errorsOf) Helper() {}

func (e *errorsOf) Errorf(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

const userID = "0123456789abcdef01234567"

// user is a user's JSON with role and createdAt.
func user(role, createdAt string) []byte {
	return []byte(`{"id":"` + userID + `","email":"a@clinic.example","name":"A","role":"` + role +
		`","disabled":false,"createdAt":"` + createdAt + `","updatedAt":"2026-01-02T03:04:05Z"}`)
}

// TestRecorderCatchesDrift: the recorder passes an answer the document
// describes and reports one that drifts from it, by what drifted; the
// router's own 404 is not checked.
func TestRecorderCatchesDrift(t *testing.T) {
	for _, tc := range []struct {
		name        string
		path        string
		status      int
		contentType string
		encoding    string
		body        []byte
		want        string // in the report; "" = no report
	}{
		{"conforming", "/healthz", 200, "application/json", "", []byte(`{"status":"ok"}`), ""},
		{"conforming gzip", "/healthz", 200, "application/json", "gzip", gzipped(`{"status":"ok"}`), ""},
		{"extra member", "/healthz", 200, "application/json", "", []byte(`{"status":"ok","uptime":3}`), "uptime"},
		{"extra member gzip", "/healthz", 200, "application/json", "gzip", gzipped(`{"status":"ok","uptime":3}`), "uptime"},
		{"wrong type", "/healthz", 200, "application/json", "", []byte(`{"status":1}`), "status"},
		{"missing member", "/healthz", 200, "application/json", "", []byte(`{}`), "status"},
		{"undeclared status", "/healthz", 418, "application/problem+json", "", []byte(`{}`), "418"},
		{"undeclared content type", "/healthz", 200, "text/plain", "", []byte("ok"), "text/plain"},
		{"problem without detail", "/readyz", 503, "application/problem+json", "",
			[]byte(`{"type":"https://wellness-cms.dev/problems/unavailable","title":"Service unavailable","status":503}`), "detail"},
		{"problem", "/readyz", 503, "application/problem+json", "",
			[]byte(`{"type":"https://wellness-cms.dev/problems/unavailable","title":"Service unavailable","status":503,"detail":"the database does not answer"}`), ""},
		{"path parameter", "/api/v1/users/" + userID, 200, "application/json", "", user("admin", "2026-01-02T03:04:05Z"), ""},
		{"not in an enum", "/api/v1/users/" + userID, 200, "application/json", "", user("owner", "2026-01-02T03:04:05Z"), "role"},
		{"not a date-time", "/api/v1/users/" + userID, 200, "application/json", "", user("admin", "yesterday"), "createdAt"},
		{"unrouted", "/nowhere", 404, "text/plain", "", []byte("404 page not found"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer := func(c *gin.Context) {
				if tc.encoding != "" {
					c.Header("Content-Encoding", tc.encoding)
				}
				c.Data(tc.status, tc.contentType, tc.body)
			}
			e := gin.New()
			e.GET("/healthz", answer)
			e.GET("/readyz", answer)
			e.GET("/api/v1/users/:id", answer)
			rt := &errorsOf{TB: t}
			validateResponses(rt, e).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.path, nil))
			switch {
			case tc.want == "" && len(rt.errs) > 0:
				t.Errorf("reported a conforming answer: %v", rt.errs)
			case tc.want != "" && len(rt.errs) == 0:
				t.Errorf("no report, want one naming %q", tc.want)
			case tc.want != "" && !strings.Contains(strings.Join(rt.errs, "\n"), tc.want):
				t.Errorf("report does not name %q: %v", tc.want, rt.errs)
			}
		})
	}
}
