package web

import (
	"net/url"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
)

// Query is a query string read by ParseQuery: one non-empty value per
// parameter the route accepts.
type Query map[string]string

// ParseQuery reads the request's query string strictly, the one rule every
// route shares: a query that does not parse (bad percent-encoding, a
// semicolon) is a 400, and so is a parameter the route does not name in
// allowed, one given more than once or one given without a value. Each
// failure names its parameter. A route that takes no parameters passes
// none, so anything sent is refused. Parsing keeps going after a bad pair,
// so a malformed cursor never hides an unknown parameter.
func ParseQuery(c *gin.Context, allowed ...string) (Query, error) {
	return ParseRawQuery(c.Request.URL.RawQuery, allowed...)
}

// ParseRawQuery is ParseQuery on a raw query string.
func ParseRawQuery(raw string, allowed ...string) (Query, error) {
	if raw == "" {
		return nil, nil // reads as empty; the content API's hot path allocates nothing
	}
	var f problem.Fields
	values, err := url.ParseQuery(raw)
	if err != nil {
		f.Add("(query)", "the query string is malformed: %s", queryErrorMessage(err))
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys) // errors in a stable order
	q := make(Query, len(values))
	for _, k := range keys {
		vs := values[k]
		switch {
		case !contains(allowed, k):
			f.Add(k, "unknown query parameter")
		case len(vs) > 1:
			f.Add(k, "given more than once")
		case vs[0] == "":
			f.Add(k, "must have a value")
		default:
			q[k] = vs[0]
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return q, nil
}

// Limit reads q's limit: default when absent, else a whole number from 1 to
// max; anything else is a field error on limit.
func (q Query) Limit(f *problem.Fields, def, max int) int {
	v, ok := q["limit"]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		f.Add("limit", "must be a whole number from 1 to %d", max)
		return def
	}
	return n
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// queryErrorMessage describes a url.ParseQuery failure without echoing
// more of the input than the broken escape.
func queryErrorMessage(err error) string {
	if e, ok := err.(url.EscapeError); ok {
		return "invalid percent-escape " + strconv.Quote(string(e))
	}
	return "it cannot be parsed"
}

// NoQuery is route middleware for routes that take no query parameters:
// anything sent is a 400 naming it, as ParseQuery would answer.
func NoQuery(c *gin.Context) {
	if c.Request.URL.RawQuery == "" {
		return
	}
	if _, err := ParseQuery(c); err != nil {
		Fail(c, err)
	}
}

// Force reads the query of a DELETE that may be forced: force=true or
// false, nothing else. Deleting what published articles still use (a
// product, an image) needs it.
func Force(c *gin.Context) (bool, error) {
	q, err := ParseQuery(c, "force")
	if err != nil {
		return false, err
	}
	v, ok := q["force"]
	if !ok {
		return false, nil
	}
	force, err := strconv.ParseBool(v)
	if err != nil {
		var f problem.Fields
		f.Add("force", "must be true or false")
		return false, f.Err()
	}
	return force, nil
}
