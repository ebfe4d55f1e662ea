package affiliate_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wellness/cms/internal/testenv"
)

// TestETags: products and the settings carry an ETag on GET and on every
// write answer; a write with the current one succeeds and gives the next;
// a stale one is 412 saying the current ETag, whatever the method; a GET
// with If-None-Match of the current one is 304. If-Match stays optional.
func TestETags(t *testing.T) {
	s := newServer(t)
	admin := adminToken(t, s)
	created := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/products", Token: admin,
		Body: map[string]any{"code": "mat", "title": "Mat", "asin": "B000123456", "marketplace": "amazon.com"}})
	testenv.WantStatus(t, created, http.StatusCreated)
	if got := created.Header.Get("ETag"); got != `"1"` {
		t.Fatalf("create ETag = %q, want \"1\"", got)
	}
	settings := "/api/v1/settings/affiliate"
	putBody := map[string]any{"tags": map[string]string{"amazon.com": "put-20"}, "disclosureText": "I earn from purchases.",
		"allowedHosts": []string{"www.amazon.com", "amazon.com"}}
	tests := []struct {
		name, path, method string
		body               any
		// check reads the answer of the successful write.
		check func(t *testing.T, got map[string]any)
	}{
		{"product PATCH", "/api/v1/products/mat", "PATCH", map[string]any{"title": "Yoga mat"}, func(t *testing.T, got map[string]any) {
			if got["title"] != "Yoga mat" {
				t.Errorf("title = %v", got["title"])
			}
		}},
		{"settings PUT", settings, "PUT", putBody, func(t *testing.T, got map[string]any) {
			if tags, _ := got["tags"].(map[string]any); tags["amazon.com"] != "put-20" {
				t.Errorf("tags = %v", got["tags"])
			}
		}},
		{"settings PATCH", settings, "PATCH", map[string]any{"tags": map[string]any{"amazon.co.uk": "patch-21"}}, func(t *testing.T, got map[string]any) {
			// A merge patch changes the one tag it names.
			if tags, _ := got["tags"].(map[string]any); tags["amazon.co.uk"] != "patch-21" || tags["amazon.com"] != "put-20" {
				t.Errorf("tags = %v", got["tags"])
			}
		}},
		{"product DELETE", "/api/v1/products/mat", "DELETE", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok := testenv.Conditional(t, s, admin, tc.method, tc.path, tc.body)
			if tc.method == "DELETE" {
				testenv.WantStatus(t, ok, http.StatusNoContent)
				return
			}
			testenv.WantStatus(t, ok, http.StatusOK)
			var got map[string]any
			ok.JSON(t, &got)
			tc.check(t, got)
		})
	}
}

// TestETagOptional: without If-Match a change applies to the current
// version; a malformed If-Match names no version.
func TestETagOptional(t *testing.T) {
	s := newServer(t)
	admin := adminToken(t, s)
	createProduct(t, s, admin, map[string]any{"code": "band", "title": "Band", "asin": "B000123457", "marketplace": "amazon.com"})
	for _, tc := range []struct {
		name, ifMatch string
		status        int
	}{
		{"absent", "", 200},
		{"weak", `W/"2"`, 412},
		{"unquoted", `2`, 412},
		{"star", `*`, 428},
		{"list", `"2", "3"`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.ifMatch != "" {
				h["If-Match"] = tc.ifMatch
			}
			r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/products/band", Token: admin, Header: h,
				Body: map[string]any{"description": tc.name}})
			testenv.WantStatus(t, r, tc.status)
		})
	}
}

// TestPatchSettings: the merge patch rules of the settings.
func TestPatchSettings(t *testing.T) {
	s := newServer(t)
	admin := adminToken(t, s)
	path := "/api/v1/settings/affiliate"
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"null tags", map[string]any{"tags": nil}, 400, "tags"},
		{"null disclosure", map[string]any{"disclosureText": nil}, 400, "disclosureText"},
		{"null hosts", map[string]any{"allowedHosts": nil}, 400, "allowedHosts"},
		{"bad tag", map[string]any{"tags": map[string]any{"amazon.com": "bad tag"}}, 400, "tags.amazon.com"},
		{"unknown member", map[string]any{"colour": "red"}, 400, "colour"},
		{"remove a tag", map[string]any{"tags": map[string]any{"amazon.co.uk": nil}}, 200, ""},
		{"hosts replaced whole", map[string]any{"allowedHosts": []string{"www.amazon.com"}}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(testenv.Request{Method: "PATCH", Path: path, Token: admin, Body: tc.body})
			testenv.WantStatus(t, r, tc.status)
			if tc.field != "" && !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
				t.Errorf("problem does not name %s: %s", tc.field, r.Body)
			}
		})
	}
	var st struct {
		Tags         map[string]string `json:"tags"`
		AllowedHosts []string          `json:"allowedHosts"`
	}
	s.Do(testenv.Request{Path: path, Token: admin}).JSON(t, &st)
	if _, ok := st.Tags["amazon.co.uk"]; ok || st.Tags["amazon.com"] != "mysite-20" {
		t.Errorf("tags after patches = %v", st.Tags)
	}
	if len(st.AllowedHosts) != 1 {
		t.Errorf("allowedHosts after patches = %v", st.AllowedHosts)
	}
}

// TestProductTimestamps: the create answer shows the times GET shows.
func TestProductTimestamps(t *testing.T) {
	s := newServer(t)
	admin := adminToken(t, s)
	created := createProduct(t, s, admin, map[string]any{"code": "block", "title": "Block", "asin": "B000123458", "marketplace": "amazon.com"})
	var got map[string]any
	s.Do(testenv.Request{Path: "/api/v1/products/block", Token: admin}).JSON(t, &got)
	for _, k := range []string{"createdAt", "updatedAt"} {
		if created[k] != got[k] {
			t.Errorf("%s: create answered %v, GET %v", k, created[k], got[k])
		}
	}
}
