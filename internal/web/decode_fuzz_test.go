package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
)

// fuzzBody has the shapes real request bodies use: nested objects, arrays
// of objects, pointer fields (absent vs null vs set), maps and numbers.
type fuzzBody struct {
	Title   string            `json:"title"`
	Count   int               `json:"count"`
	Ratio   float64           `json:"ratio"`
	Draft   *bool             `json:"draft"`
	Summary *string           `json:"summary"`
	Tags    []string          `json:"tags"`
	Labels  map[string]string `json:"labels"`
	Cover   *fuzzImage        `json:"cover"`
	Sources []fuzzImage       `json:"sources"`
	Nested  struct {
		Depth *int         `json:"depth"`
		Items []*fuzzImage `json:"items"`
	} `json:"nested"`
}

type fuzzImage struct {
	URL string  `json:"url"`
	Alt *string `json:"alt"`
}

// wantClientProblem fails unless err is a problem the client caused: a
// 4xx kind, never Internal.
func wantClientProblem(t *testing.T, input []byte, err error) {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Kind == problem.Internal {
		t.Fatalf("%q: error %v (%T) is not a client problem", input, err, err)
	}
	if st := pe.Kind.Status(); st < 400 || st > 499 {
		t.Fatalf("%q: error %v has status %d", input, err, st)
	}
}

// FuzzDecodeBytes: strict decoding never panics, every refusal is a 4xx
// problem, and whatever it accepts survives encoding and decoding again
// unchanged.
func FuzzDecodeBytes(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"title":"x","count":3,"ratio":1.5}`, `{"draft":null,"summary":"s"}`,
		`{"tags":["a","b"],"labels":{"k":"v"}}`, `{"cover":{"url":"https://a.example/i.png","alt":null}}`,
		`{"sources":[{"url":"u"}],"nested":{"depth":2,"items":[null,{"url":"v"}]}}`,
		`{"title":{"$gt":""}}`, `{"unknown":1}`, `{"count":1e400}`, `{"count":"3"}`, `{} {}`, `{`, `[`, ``, ` `,
		`{"title":"\ud800"}`, "{\"title\":\"\xff\"}", `{"TITLE":"case"}`, `{"title":"a","title":"b"}`,
		`null`, `[]`, `"x"`, `{"nested":{"items":[[]]}}`, strings.Repeat("[", 10001),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v fuzzBody
		if err := DecodeBytes(data, &v); err != nil {
			wantClientProblem(t, data, err)
			return
		}
		again, err := json.Marshal(&v)
		if err != nil {
			t.Fatalf("%q: accepted value does not encode: %v", data, err)
		}
		var w fuzzBody
		if err := DecodeBytes(again, &w); err != nil {
			t.Fatalf("%q: re-encoded %s refused: %v", data, again, err)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("%q: round trip changed the value:\n%+v\n%+v", data, v, w)
		}
	})
}

// TestDecodeDeepNesting checks that pathologically nested bodies are a 400
// problem through a real handler, not a 500 or a stack overflow:
// encoding/json stops at 10,000 levels.
func TestDecodeDeepNesting(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.POST("/", Handle(func(c *gin.Context) error {
		var v fuzzBody
		if err := Decode(c, &v); err != nil {
			return err
		}
		c.Status(http.StatusNoContent)
		return nil
	}))
	for name, body := range map[string]string{
		"arrays":        strings.Repeat("[", 100_000),
		"closed arrays": strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000),
		"objects":       strings.Repeat(`{"a":`, 100_000),
		"in a field":    `{"tags":` + strings.Repeat("[", 100_000),
		"nested items":  `{"nested":{"items":` + strings.Repeat("[", 50_000) + strings.Repeat("]", 50_000) + `}}`,
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
		})
	}
	var v fuzzBody
	err := DecodeBytes([]byte(strings.Repeat("[", 100_000)), &v)
	if problem.KindOf(err) != problem.BadRequest {
		t.Fatalf("kind %v, want BadRequest: %v", problem.KindOf(err), err)
	}
}

// FuzzDecodeUpdate: a body sent back never panics, every refusal is a 4xx
// problem, and an accepted body's members the server owns are the
// current ones.
func FuzzDecodeUpdate(f *testing.F) {
	for _, s := range []string{
		`{"id":"a1"}`, `{"id":"b2","title":"x"}`, `{"updatedAt":"2026-01-02T04:04:05+01:00"}`,
		`{"cover":{"url":"u","size":12}}`, `{"cover":{"size":[12]}}`, `{"cover":{"url":"u","size":1e400}}`, `{"a":1,"b":{"c":2},"id":null}`,
		`{"lastSeen":{"x":[1,2]}}`, `{"status":"draft","status":"live"}`, `{"ID":"a1"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b roBody
		err := DecodeUpdateBytes(data, &b, roList, func() (any, error) { return roCurrent, nil })
		if err != nil {
			wantClientProblem(t, data, err)
			return
		}
		var sent map[string]any
		if json.Unmarshal(data, &sent) != nil {
			return
		}
		served, _ := asJSON(roCurrent)
		for name, msg := range roList {
			if v, ok := sent[name]; ok && msg != Volatile && !strings.Contains(name, ".") && !sameJSON(v, member(served, name)) {
				t.Fatalf("%q: accepted a changed %s", data, name)
			}
		}
	})
}
