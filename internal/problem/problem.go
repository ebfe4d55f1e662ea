// Package problem is the error vocabulary shared by the domain packages and
// the one place that maps it to HTTP status codes and RFC 9457 problem
// details. Domain code returns kinds; only this package knows about status
// codes, so a driver error or stack trace can never reach a client.
package problem

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Kind classifies an error by what the client can do about it. A Kind is
// itself an error so that callers can write errors.Is(err, problem.NotFound).
type Kind int

// The kinds, each mapped to one status code in the table below.
const (
	Internal Kind = iota
	BadRequest
	Invalid
	Unauthorized
	Forbidden
	NotFound
	MethodNotAllowed
	Conflict
	Gone
	PreconditionFailed
	TooLarge
	UnsupportedMediaType
	PreconditionRequired
	TooManyRequests
	Unavailable
	// RangeNotSatisfiable is a Range header outside the file.
	RangeNotSatisfiable
	// Unprocessable is a well-formed request the resource's state refuses,
	// such as publishing an article with compliance errors.
	Unprocessable
)

// kinds maps each kind to its status code and stable title. The type URI is
// derived from the slug so clients can switch on it.
var kinds = map[Kind]struct {
	status int
	slug   string
	title  string
}{
	Internal:             {http.StatusInternalServerError, "internal", "Internal server error"},
	BadRequest:           {http.StatusBadRequest, "bad-request", "Malformed request"},
	Invalid:              {http.StatusBadRequest, "validation", "Validation failed"},
	Unauthorized:         {http.StatusUnauthorized, "unauthorized", "Authentication required"},
	Forbidden:            {http.StatusForbidden, "forbidden", "Not allowed"},
	NotFound:             {http.StatusNotFound, "not-found", "Not found"},
	MethodNotAllowed:     {http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"},
	Conflict:             {http.StatusConflict, "conflict", "Conflict"},
	Gone:                 {http.StatusGone, "gone", "Gone"},
	PreconditionFailed:   {http.StatusPreconditionFailed, "precondition-failed", "Precondition failed"},
	TooLarge:             {http.StatusRequestEntityTooLarge, "too-large", "Request body too large"},
	Unprocessable:        {http.StatusUnprocessableEntity, "unprocessable", "Unprocessable content"},
	UnsupportedMediaType: {http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"},
	PreconditionRequired: {http.StatusPreconditionRequired, "precondition-required", "Precondition required"},
	TooManyRequests:      {http.StatusTooManyRequests, "rate-limited", "Too many requests"},
	Unavailable:          {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	RangeNotSatisfiable:  {http.StatusRequestedRangeNotSatisfiable, "range-not-satisfiable", "Range not satisfiable"},
}

func (k Kind) Error() string { return kinds[k].title }

// Status is the HTTP status code of the kind.
func (k Kind) Status() int {
	if v, ok := kinds[k]; ok {
		return v.status
	}
	return http.StatusInternalServerError
}

// FieldError names one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a classified error. Detail is shown to the client and must not
// contain internals; Err is the cause, logged but never shown.
type Error struct {
	Kind       Kind
	Detail     string
	Fields     []FieldError
	RetryAfter time.Duration
	// Extensions are further members of the problem details (RFC 9457
	// section 3.2), such as the findings of a refused publication. They
	// never replace a standard member.
	Extensions map[string]any
	Err        error
}

func (e *Error) Error() string {
	msg := e.Kind.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match an *Error against its Kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// New returns an error of kind k with a client-safe detail message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// Wrap classifies cause as kind k. The cause is kept for logs only.
func Wrap(k Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...), Err: cause}
}

// Fields accumulates validation failures; the zero value is ready to use.
type Fields []FieldError

// Add records that field is invalid.
func (f *Fields) Add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was added, else an Invalid error listing
// every field.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Detail: "one or more fields are invalid", Fields: f}
}

// KindOf finds the kind of err; unclassified errors are Internal.
func KindOf(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	return Internal
}

// Status is the HTTP status code for err.
func Status(err error) int { return KindOf(err).Status() }
