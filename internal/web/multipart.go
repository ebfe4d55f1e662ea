package web

import (
	"errors"
	"io"
	"iter"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"

	"github.com/wellness/cms/internal/problem"
)

// Multipart returns the reader of a multipart/form-data body, part by
// part, so that files go where the handler puts them instead of memory.
// what says what the form should carry, for the 415 of anything else.
func Multipart(r *http.Request, what string) (*multipart.Reader, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, problem.New(problem.UnsupportedMediaType, "send %s as multipart/form-data", what)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, problem.New(problem.BadRequest, "the multipart body cannot be read: %v", err)
	}
	return mr, nil
}

// Parts ranges over the parts mr reads. A part named like one before it
// is skipped and noted in f as sent more than once, unless its name is
// in repeatable (a file input with multiple). A body that cannot be read
// ends the range with its BodyError.
func Parts(mr *multipart.Reader, f *problem.Fields, repeatable ...string) iter.Seq2[*multipart.Part, error] {
	return func(yield func(*multipart.Part, error) bool) {
		seen := map[string]bool{}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, BodyError(err))
				return
			}
			name := part.FormName()
			if seen[name] && !slices.Contains(repeatable, name) {
				f.Add(name, "is sent more than once")
				continue
			}
			seen[name] = true
			if !yield(part, nil) {
				return
			}
		}
	}
}

// BodyError is the problem of a request body that could not be read: 413
// past the route's limit (BodyLimit), else 400.
func BodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem.New(problem.TooLarge, "the body exceeds %d bytes (%d MB)", mbe.Limit, mbe.Limit>>20)
	}
	return problem.New(problem.BadRequest, "the body could not be read: %v", err)
}
