package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/server"
)

// Server is the full service router over a database of the test's own,
// served on a loopback port so requests cross real HTTP.
type Server struct {
	*server.Server
	DB  *mongodb.DB
	URL string
	// MetricsURL is the base URL of the metrics listener, which serves
	// /metrics (the main listener does not, without a token).
	MetricsURL string
	t          testing.TB
}

// NewServer builds the service as cmd/cms does, over a fresh database.
// Options may adjust the configuration before the server is built.
func NewServer(t testing.TB, opts ...func(*server.Options)) *Server {
	t.Helper()
	return NewServerOn(t, OpenDB(t), opts...)
}

// NewServerOn builds the service over db, which another server of the
// test may share: that is how tests run several instances against one
// database.
func NewServerOn(t testing.TB, db *mongodb.DB, opts ...func(*server.Options)) *Server {
	t.Helper()
	cfg := server.Options{
		PublicURL: "http://cms.test",
		DataDir:   t.TempDir(),
		Logger:    Quiet(),
		// Test receivers listen on loopback.
		WebhookAllowPrivate: true,
		Keys:                Keys(t),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(context.Background(), cfg, db)
	if err != nil {
		t.Fatalf("build server: %v", err)
	}
	// Every answer is validated against the OpenAPI document.
	hs := httptest.NewServer(validateResponses(t, srv.Engine()))
	ms := httptest.NewServer(srv.MetricsHandler())
	t.Cleanup(func() {
		hs.Close()
		ms.Close()
		_ = srv.Shutdown(context.Background())
	})
	return &Server{Server: srv, DB: db, URL: hs.URL, MetricsURL: ms.URL, t: t}
}

// Metrics scrapes the metrics listener and returns the Prometheus text.
func (s *Server) Metrics(t testing.TB) string {
	t.Helper()
	resp, err := http.Get(s.MetricsURL + "/metrics")
	if err != nil {
		t.Fatalf("scrape metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

// Keys returns a fresh random signing key set.
func Keys(t testing.TB) *auth.KeySet {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	ks, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// Password is the password of every user made by User.
const Password = "a long test password 4 users"

var (
	hashOnce sync.Once
	hash     string
)

// User creates a user with role and returns a real access token for it,
// signed by the server's keys. The password is Password.
func (s *Server) User(t testing.TB, role auth.Role) (token, userID string) {
	t.Helper()
	u := s.NewUser(t, role)
	token, _, err := s.Services().Auth.Tokens().Issue(u.ID, u.Role, u.SessionVersion)
	if err != nil {
		t.Fatal(err)
	}
	return token, u.ID
}

var userCounter atomic.Int64

// NewUser stores a user with role and the password Password. The hash is
// computed once per test binary: Argon2id is slow on purpose.
func (s *Server) NewUser(t testing.TB, role auth.Role) *auth.User {
	t.Helper()
	hashOnce.Do(func() {
		var err error
		hash, err = auth.NewHasher(1).Hash(context.Background(), Password)
		if err != nil {
			panic(err)
		}
	})
	n := userCounter.Add(1)
	now := time.Now().UTC()
	u := &auth.User{
		ID: bson.NewObjectID().Hex(), Email: fmt.Sprintf("%s%d@example.com", role, n),
		Name: fmt.Sprintf("Test %s %d", role, n), Role: role, PasswordHash: hash,
		SessionVersion: 1, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Services().Auth.Store().InsertUser(context.Background(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
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

// WantField fails the test unless r is a problem whose errors[] names
// field with message msg.
func (r *Response) WantField(t testing.TB, field, msg string) {
	t.Helper()
	fields, _ := r.Problem(t)["errors"].([]any)
	for _, f := range fields {
		if m, _ := f.(map[string]any); m["field"] == field && m["message"] == msg {
			return
		}
	}
	t.Errorf("problem does not name %s (%q): %s", field, msg, r.Body)
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
