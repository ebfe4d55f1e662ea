package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestHookETags: a hook carries an ETag on GET and on every write answer;
// PATCH and DELETE with a stale If-Match are 412 saying the current one,
// with the current one they succeed; If-None-Match is 304.
func TestHookETags(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	created := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/webhooks", Token: admin,
		Body: map[string]any{"url": "https://hooks.example/rebuild", "events": []string{eventPublished}}})
	testenv.WantStatus(t, created, http.StatusCreated)
	if got := created.Header.Get("ETag"); got != `"1"` {
		t.Errorf("create ETag = %q, want \"1\"", got)
	}
	var hook map[string]any
	created.JSON(t, &hook)
	path := "/api/v1/webhooks/" + hook["id"].(string)
	var got map[string]any
	s.Do(testenv.Request{Path: path, Token: admin}).JSON(t, &got)
	for _, k := range []string{"createdAt", "updatedAt"} {
		if hook[k] != got[k] {
			t.Errorf("%s: create answered %v, GET %v", k, hook[k], got[k])
		}
	}

	tests := []struct {
		method string
		body   any
	}{
		{"PATCH", map[string]any{"active": false}},
		{"PATCH", map[string]any{"events": []string{eventPublished, eventDeleted}}},
		{"DELETE", nil},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			ok := testenv.Conditional(t, s, admin, tc.method, path, tc.body)
			if tc.method == "DELETE" {
				testenv.WantStatus(t, ok, http.StatusNoContent)
				testenv.WantStatus(t, s.Do(testenv.Request{Path: path, Token: admin}), http.StatusNotFound)
				return
			}
			testenv.WantStatus(t, ok, http.StatusOK)
			var patched, read map[string]any
			ok.JSON(t, &patched)
			s.Do(testenv.Request{Path: path, Token: admin}).JSON(t, &read)
			if patched["updatedAt"] != read["updatedAt"] {
				t.Errorf("GET updatedAt %v, the write answered %v", read["updatedAt"], patched["updatedAt"])
			}
		})
	}
}

// TestDeliveryTimestamps: a delivery's createdAt in the list is the
// payload's createdAt, in UTC with milliseconds.
func TestDeliveryTimestamps(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	rc := newReceiver(t)
	id, _ := createHook(t, s, admin, rc.srv.URL, eventPublished)
	if err := s.Services().Webhooks.Emit(context.Background(), eventPublished, map[string]string{"slug": "a"}); err != nil {
		t.Fatal(err)
	}
	rc.waitFor(t, 1)
	var payload struct {
		CreatedAt string `json:"createdAt"`
	}
	if err := json.Unmarshal(rc.bodies[0], &payload); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	s.Do(testenv.Request{Path: "/api/v1/webhooks/" + id + "/deliveries", Token: admin}).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0]["createdAt"] != payload.CreatedAt {
		t.Fatalf("deliveries %v, payload createdAt %s", list.Items, payload.CreatedAt)
	}
	if ts := payload.CreatedAt; !strings.HasSuffix(ts, "Z") || len(ts) > len("2006-01-02T15:04:05.000Z") {
		t.Errorf("createdAt %q is not UTC with at most milliseconds", ts)
	}
}
