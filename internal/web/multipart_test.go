package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/wellness/cms/internal/problem"
)

func TestParts(t *testing.T) {
	form := func(names ...string) *http.Request {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for _, n := range names {
			fw, _ := w.CreateFormField(n)
			io.WriteString(fw, "value of "+n)
		}
		w.Close()
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body.Bytes()))
		r.Header.Set("Content-Type", w.FormDataContentType())
		return r
	}
	tests := []struct {
		name       string
		parts      []string
		repeatable []string
		want       []string // the names yielded, in order
		twice      []string // the fields noted as sent more than once
	}{
		{"each once", []string{"file", "alt"}, nil, []string{"file", "alt"}, nil},
		{"a repeat skipped", []string{"alt", "file", "alt", "alt"}, nil, []string{"alt", "file"}, []string{"alt", "alt"}},
		{"a repeatable name", []string{"file", "file", "alt", "alt"}, []string{"file"}, []string{"file", "file", "alt"}, []string{"alt"}},
		{"empty form", nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := form(tt.parts...)
			mr, err := Multipart(r, "a form")
			if err != nil {
				t.Fatal(err)
			}
			var f problem.Fields
			var got []string
			for part, err := range Parts(mr, &f, tt.repeatable...) {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(part)
				if string(b) != "value of "+part.FormName() {
					t.Errorf("part %s holds %q", part.FormName(), b)
				}
				got = append(got, part.FormName())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("yielded %v, want %v", got, tt.want)
			}
			var twice []string
			for _, e := range f {
				if e.Message != "is sent more than once" {
					t.Errorf("%s: %s", e.Field, e.Message)
				}
				twice = append(twice, e.Field)
			}
			if !slices.Equal(twice, tt.twice) {
				t.Errorf("noted %v, want %v", twice, tt.twice)
			}
		})
	}

	t.Run("a malformed part", func(t *testing.T) {
		body := "--B\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nx\r\n" +
			"--B\r\nno colon in this header\r\n\r\ny\r\n--B--\r\n"
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary=B")
		mr, err := Multipart(r, "a form")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var last error
		for part, err := range Parts(mr, new(problem.Fields)) {
			if err == nil {
				got = append(got, part.FormName())
			}
			last = err
		}
		if !slices.Equal(got, []string{"alt"}) || problem.Status(last) != http.StatusBadRequest ||
			!strings.Contains(last.Error(), "could not be read") {
			t.Fatalf("yielded %v, then %v; want alt, then the body's 400", got, last)
		}
	})

	t.Run("over the limit", func(t *testing.T) {
		r := form("file", "alt")
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100)
		mr, err := Multipart(r, "a form")
		if err != nil {
			t.Fatal(err)
		}
		var last error
		for _, err := range Parts(mr, new(problem.Fields)) {
			last = err
		}
		if problem.Status(last) != http.StatusRequestEntityTooLarge {
			t.Fatalf("%v, want 413", last)
		}
	})
}
