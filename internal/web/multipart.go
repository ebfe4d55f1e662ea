package web

import (
	"errors"
	"mime"
	"mime/multipart"
	"net/http"

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

// BodyError is the problem of a request body that could not be read: 413
// past the route's limit (BodyLimit), else 400.
func BodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem.New(problem.TooLarge, "the body exceeds %d bytes (%d MB)", mbe.Limit, mbe.Limit>>20)
	}
	return problem.New(problem.BadRequest, "the body could not be read: %v", err)
}
