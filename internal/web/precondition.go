package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
)

// The conditional requests of versioned resources (RFC 9110 section 13):
// each resource counts its versions and sends the count as a strong ETag,
// "<version>". Articles require If-Match on their changes; the other
// resources honour it when sent.

// ETag is the strong entity tag of a version.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// Precondition is a request's If-Match: the version the client last saw,
// when it sent one. The zero value asks for nothing.
type Precondition struct {
	Version int64
	Sent    bool
}

// IfMatch reads If-Match. Without it the request asks for nothing, unless
// required (428). "*" would let a client overwrite a version it has not
// seen by pretending to have sent one, so it is 428 too. A tag we never
// send names no version: 412. noun names the resource in messages
// ("product").
func IfMatch(c *gin.Context, required bool, noun string) (Precondition, error) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	switch {
	case h == "" && !required:
		return Precondition{}, nil
	case h == "" || h == "*":
		return Precondition{}, problem.New(problem.PreconditionRequired, "send If-Match with the ETag of the version you edited")
	case strings.Contains(h, ","):
		return Precondition{}, problem.New(problem.BadRequest, "If-Match must carry exactly one ETag")
	}
	// Strong comparison: only the exact tag we send names a version;
	// W/"3", 3, "03" and "+3" name none.
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v < 0 || h != ETag(v) {
		return Precondition{}, NoSuchVersion(noun)
	}
	return Precondition{Version: v, Sent: true}, nil
}

// NoSuchVersion is the 412 of an If-Match that names no version at all.
func NoSuchVersion(noun string) error {
	return problem.New(problem.PreconditionFailed, "If-Match does not name a version of this %s", noun)
}

// Check is nil when p holds for the noun at version current, else the 412
// that says the current ETag, so the client knows what to reload.
func (p Precondition) Check(noun string, current int64) error {
	if !p.Sent || p.Version == current {
		return nil
	}
	return problem.New(problem.PreconditionFailed,
		"If-Match names version %d but the %s is at version %d (ETag %s); reload it and apply your change again",
		p.Version, noun, current, ETag(current))
}

// NotModified answers 304 with the ETag when If-None-Match lists etag,
// and reports whether it did; the caller then writes nothing more.
func NotModified(c *gin.Context, etag string) bool {
	if !ETagListed(c.GetHeader("If-None-Match"), etag) {
		return false
	}
	c.Header("ETag", etag)
	c.Status(http.StatusNotModified)
	return true
}
