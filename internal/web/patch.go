package web

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/wellness/cms/internal/problem"
)

// Optional is one member of a JSON merge patch (RFC 7396), the one shape
// every PATCH body in the API is made of. A pointer cannot tell "absent,
// leave it" from "null, clear it"; Optional can: Set is false when the
// member was absent, Null is true when it was null. Decode patches with
// Decode or DecodeBytes: a member that fails to decode is Set with a
// partial Value, and only they report it.
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T

	// failed is a decoding failure of the member's value, kept for
	// DecodeBytes, which knows the member's path; encoding/json would
	// report it without one.
	failed *memberFailure
}

// memberFailure is a member that did not decode: path is relative to the
// member's value ("" for the value itself).
type memberFailure struct {
	path, message string
}

// Some returns a present, non-null member, for building updates in code.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: v} }

// UnmarshalJSON records presence and decodes the value. It never fails,
// so one bad member does not hide the others; DecodeBytes reports every
// failure with its path, and every unknown field inside the value (it
// looks into Optional members as into any other), so decode patches with
// it only.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	*o = Optional[T]{Set: true}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	if err := json.Unmarshal(b, &o.Value); err != nil {
		path, msg, ok := memberError(err, reflect.TypeFor[T]())
		if !ok {
			msg = "is not valid JSON"
		}
		o.failed = &memberFailure{path: path, message: msg}
	}
	return nil
}

// Merge applies the member to *dst the RFC 7396 way for a plain value:
// absent leaves it, a value replaces it, null clears it to the zero value
// (which the domain types read as "not set").
func (o Optional[T]) Merge(dst *T) {
	if o.Set {
		*dst = o.Value
	}
}

// CannotClear is the message for null on a member that cannot be removed.
const CannotClear = "cannot be cleared"

// RefuseNull adds a "cannot be cleared" error for the member name to f when
// o is null: RFC 7396 null means "remove the member", which a required
// member cannot be, and ignoring it would make null mean "unchanged".
func RefuseNull[T any](f *problem.Fields, name string, o Optional[T]) {
	if o.Null {
		f.Add(name, CannotClear)
	}
}

// patchMember is how the walk reaches any Optional[T].
type patchMember interface {
	decodeFailure() *memberFailure
	value() any
}

func (o Optional[T]) decodeFailure() *memberFailure { return o.failed }
func (o Optional[T]) value() any                    { return o.Value }

// elemType lets the search for unknown members look into the value.
func (Optional[T]) elemType() reflect.Type { return reflect.TypeFor[T]() }

// memberErrors walks a decoded struct (and the structs and Optional
// values inside it) and names every Optional member that failed to
// decode, with its JSON path like seo.canonicalUrl.
func memberErrors(v any) problem.Fields {
	var f problem.Fields
	walkMembers(reflect.ValueOf(v), "", &f, 0)
	return f
}

// maxWalkDepth bounds the walk; request types are a few levels deep.
const maxWalkDepth = 32

func walkMembers(v reflect.Value, prefix string, f *problem.Fields, depth int) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || depth > maxWalkDepth {
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		path := prefix + name
		fv := v.Field(i)
		m, ok := fv.Interface().(patchMember)
		if !ok {
			walkMembers(fv, path+".", f, depth+1)
			continue
		}
		if fail := m.decodeFailure(); fail != nil {
			if fail.path != "" {
				path += "." + fail.path
			}
			f.Add(path, "%s", fail.message)
			continue
		}
		walkMembers(reflect.ValueOf(m.value()), path+".", f, depth+1)
	}
}
