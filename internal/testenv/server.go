package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/server"
)

// Server is the full service router over a database of the test's own,
// served on a loopback port so requests cross real HTTP.
type Server struct {
	*server.Server
	DB  *mongodb.DB
	URL string
	t   testing.TB
}

// NewServer builds the service as cmd/cms does, over a fresh database.
// Options may adjust the configuration before the server is built.
func NewServer(t testing.TB, opts ...func(*server.Config)) *Server {
	t.Helper()
	db := OpenDB(t)
	cfg := server.Config{
		PublicURL: "http://cms.test",
		Logger:    Quiet(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(context.Background(), cfg, db)
	if err != nil {
		t.Fatalf("build server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Shutdown(context.Background())
	})
	return &Server{Server: srv, DB: db, URL: hs.URL, t: t}
}

// Response is a fully read HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.Body)
	}
}

// Problem decodes a problem+json body, checking the media type.
func (r *Response) Problem(t testing.TB) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p map[string]any
	r.JSON(t, &p)
	return p
}

// Request is one call to the server. Body may be a string or []byte (sent
// as is) or any other value (sent as JSON).
type Request struct {
	Method string
	Path   string
	Body   any
	Header map[string]string
	Token  string
}

// Do sends req and reads the whole response. A JSON content type is set
// when there is a body and the caller did not set one.
func (s *Server) Do(req Request) *Response {
	s.t.Helper()
	var body io.Reader
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.t.Fatalf("encode request body: %v", err)
		}
		body = bytes.NewReader(data)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequest(method, s.URL+req.Path, body)
	if err != nil {
		s.t.Fatalf("build request: %v", err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		hr.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(hr)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, req.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("read response: %v", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// noRedirect lets tests see 301 and 302 answers themselves.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}
