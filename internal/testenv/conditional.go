package testenv

import (
	"net/http"
	"strings"
	"testing"
)

// Conditional drives one write of a versioned resource through its
// preconditions: GET gives an ETag, If-None-Match of it is 304 with the
// same ETag, a stale If-Match is 412 whose detail names the current ETag,
// and the write with the current ETag goes through. For a write other than
// DELETE it also checks that the answer carries a new ETag, that GET
// repeats it, and that the old ETag is stale now. It returns the write's
// answer.
func Conditional(t testing.TB, s *Server, token, method, path string, body any) *Response {
	t.Helper()
	get := s.Do(Request{Path: path, Token: token})
	WantStatus(t, get, http.StatusOK)
	etag := get.Header.Get("ETag")
	if etag == "" {
		t.Fatal("GET has no ETag")
	}
	notModified := s.Do(Request{Path: path, Token: token, Header: map[string]string{"If-None-Match": etag}})
	WantStatus(t, notModified, http.StatusNotModified)
	if got := notModified.Header.Get("ETag"); got != etag {
		t.Errorf("304 ETag = %q, want %q", got, etag)
	}
	write := func(ifMatch string) *Response {
		return s.Do(Request{Method: method, Path: path, Token: token, Body: body, Header: map[string]string{"If-Match": ifMatch}})
	}
	stale := write(`"99"`)
	WantStatus(t, stale, http.StatusPreconditionFailed)
	if detail, _ := stale.Problem(t)["detail"].(string); !strings.Contains(detail, "(ETag "+etag+")") {
		t.Errorf("412 detail %q does not say the current ETag %s", detail, etag)
	}
	ok := write(etag)
	if method == http.MethodDelete || ok.Status != http.StatusOK {
		return ok
	}
	next := ok.Header.Get("ETag")
	if next == "" || next == etag {
		t.Fatalf("write answer ETag = %q after %q", next, etag)
	}
	if got := s.Do(Request{Path: path, Token: token}).Header.Get("ETag"); got != next {
		t.Errorf("GET ETag = %q, the write answered %q", got, next)
	}
	WantStatus(t, write(etag), http.StatusPreconditionFailed)
	return ok
}
