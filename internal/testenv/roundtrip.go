package testenv

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Edit is a round trip's changes to a fetched body: Field, a member the
// write takes, gets Value; ReadOnly, a member the server owns, gets
// Changed, a value it does not have.
type Edit struct {
	Field    string
	Value    any
	ReadOnly string
	Changed  any
}

// RoundTrip sends back what GET path answers as the body of method, with
// its ETag as If-Match, three times: with e.Field changed (200, and the
// answer shows the new value), with e.ReadOnly changed (400 naming it as
// read-only), and with e.ReadOnly changed and two unknown members added
// (one 400 naming all three, and nothing else). The refused writes change
// nothing.
func RoundTrip(t testing.TB, s *Server, token, method, path string, e Edit) {
	t.Helper()
	fetch := func() (map[string]any, string) {
		t.Helper()
		r := s.Do(Request{Path: path, Token: token})
		WantStatus(t, r, http.StatusOK)
		var body map[string]any
		r.JSON(t, &body)
		return body, r.Header.Get("ETag")
	}
	send := func(body map[string]any, etag string) *Response {
		t.Helper()
		return s.Do(Request{Method: method, Path: path, Token: token, Body: body, Header: map[string]string{"If-Match": etag}})
	}

	body, etag := fetch()
	body[e.Field] = e.Value
	ok := send(body, etag)
	WantStatus(t, ok, http.StatusOK)
	var got map[string]any
	ok.JSON(t, &got)
	if want, have := jsonOf(t, e.Value), jsonOf(t, got[e.Field]); want != have {
		t.Errorf("%s %s: %s = %s, want %s", method, path, e.Field, have, want)
	}

	body, etag = fetch()
	body[e.ReadOnly] = e.Changed
	refused := send(body, etag)
	WantStatus(t, refused, http.StatusBadRequest)
	wantFields(t, refused, e.ReadOnly)

	body[e.Field+"Typo"] = e.Value
	body["notAMember"] = map[string]any{"x": 1}
	refused = send(body, etag)
	WantStatus(t, refused, http.StatusBadRequest)
	named := wantFields(t, refused, e.ReadOnly, e.Field+"Typo", "notAMember")
	if named[e.ReadOnly] == "" || !strings.HasPrefix(named[e.ReadOnly], "read-only") {
		t.Errorf("%s is refused with %q, want read-only", e.ReadOnly, named[e.ReadOnly])
	}
	if named["notAMember"] != "unknown field" {
		t.Errorf("notAMember is refused with %q, want unknown field", named["notAMember"])
	}
	if _, now := fetch(); now != etag {
		t.Errorf("a refused %s changed the resource: ETag %s, was %s", method, now, etag)
	}
}

// wantFields fails the test unless the problem r names exactly fields in
// errors[]; it returns each one's message.
func wantFields(t testing.TB, r *Response, fields ...string) map[string]string {
	t.Helper()
	errs, _ := r.Problem(t)["errors"].([]any)
	named := map[string]string{}
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		named[f], _ = m["message"].(string)
	}
	for _, f := range fields {
		if _, ok := named[f]; !ok {
			t.Errorf("problem does not name %s: %s", f, r.Body)
		}
	}
	if len(named) != len(fields) || len(errs) != len(fields) {
		t.Errorf("problem names %d fields, want %v: %s", len(errs), fields, r.Body)
	}
	return named
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %v: %v", v, err)
	}
	return string(b)
}
