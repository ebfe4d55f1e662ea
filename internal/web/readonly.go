package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// ReadOnly names the members a resource's GET answer has and its update
// does not take (the ones the server owns: id, version, updatedAt, what
// it derives), by JSON path, each with what a client that changes one is
// told: ReadOnlyField, or where to make the change instead. Each resource
// keeps its list next to its type. A client that sends a fetched body
// back sends them too: DecodeUpdate ignores them while they equal the
// current value.
type ReadOnly map[string]string

// ReadOnlyMembers names each of names with ReadOnlyField.
func ReadOnlyMembers(names ...string) ReadOnly {
	ro := make(ReadOnly, len(names))
	for _, n := range names {
		ro[n] = ReadOnlyField
	}
	return ro
}

// With names one more member, with its own message; it changes ro.
func (ro ReadOnly) With(name, message string) ReadOnly {
	ro[name] = message
	return ro
}

// ReadOnlyField is the message of a changed member the server owns.
const ReadOnlyField = "read-only"

// Volatile, as the message of a member, marks one that changes without a
// new version (a webhook's last delivery): no ETag can tell a client it
// is stale, so it is ignored whatever its value.
const Volatile = ""

// DecodeUpdate is Decode for a body that may be a fetched resource sent
// back changed. A member dst has no field for is refused as an unknown
// field, unless ro names it: then it is ignored when it equals the
// member of current() (the resource as its GET answer encodes it) and
// refused with ro's message when it differs. current is called only when
// the body has such members, and its error (404, a stale If-Match's 412)
// is the answer. One 400 names every bad member.
func DecodeUpdate(c *gin.Context, dst any, ro ReadOnly, current func() (any, error)) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	return DecodeUpdateBytes(data, dst, ro, current)
}

// DecodeUpdateBytes is DecodeUpdate on an already read body.
func DecodeUpdateBytes(data []byte, dst any, ro ReadOnly, current func() (any, error)) error {
	f, unknown, more, err := decodeBody(data, dst)
	if err != nil {
		return err
	}
	owned := func(m unknownMember) bool { _, ok := ro[m.path]; return ok && current != nil }
	var served any
	if slices.ContainsFunc(unknown, owned) {
		cur, err := current()
		if err != nil {
			return err
		}
		if served, err = asJSON(cur); err != nil {
			return err
		}
	}
	for _, m := range unknown {
		if !owned(m) {
			f.Add(m.path, "unknown field")
			continue
		}
		msg := ro[m.path]
		if msg == Volatile {
			continue
		}
		var sent any
		if err := json.Unmarshal(m.raw, &sent); err != nil {
			// The body parsed once, so only a number beyond float64 (1e400)
			// fails here: no value the server sends, so a changed one.
			var typ *json.UnmarshalTypeError
			if !errors.As(err, &typ) {
				return fmt.Errorf("decode member %s again: %w", m.path, err)
			}
			f.Add(m.path, "%s", msg)
			continue
		}
		if !sameJSON(sent, member(served, m.path)) {
			f.Add(m.path, "%s", msg)
		}
	}
	if more {
		f.Add("(body)", "has more than %d unknown fields; the first are listed", maxUnknown)
	}
	return f.Err()
}

// asJSON is v as a client decodes its encoding.
func asJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode the current value: %w", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode the current value: %w", err)
	}
	return out, nil
}

// member finds the member at a dotted path in a decoded JSON value; nil
// when absent, which a client sending null back means as well.
func member(v any, path string) any {
	for name := range strings.SplitSeq(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[name]
	}
	return v
}

// sameJSON reports whether two decoded JSON values are the same value.
// Two strings that are both RFC 3339 times are the same when they name
// the same instant, so a client may send back a time re-encoded in its
// own precision or zone.
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !sameJSON(av, bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case string:
		b, ok := b.(string)
		if !ok {
			return false
		}
		if a == b {
			return true
		}
		ta, errA := time.Parse(time.RFC3339Nano, a)
		tb, errB := time.Parse(time.RFC3339Nano, b)
		return errA == nil && errB == nil && ta.Equal(tb)
	default:
		return a == b
	}
}

// ReadUpdate reads a write to a versioned resource: a request with no
// query, its If-Match (optional) and its body into dst (DecodeUpdate with
// ro). load reads the resource as its GET answer encodes it, with its
// version; it runs only when the body carries members of ro, and a stale
// If-Match is then the 412 it is, not a 400 about those members. noun
// names the resource in messages ("product").
func ReadUpdate(c *gin.Context, noun string, dst any, ro ReadOnly, load func() (any, int64, error)) (Precondition, error) {
	if _, err := ParseQuery(c); err != nil {
		return Precondition{}, err
	}
	at, err := IfMatch(c, false, noun)
	if err != nil {
		return Precondition{}, err
	}
	err = DecodeUpdate(c, dst, ro, func() (any, error) {
		v, version, err := load()
		if err != nil {
			return nil, err
		}
		return v, at.Check(noun, version)
	})
	return at, err
}
