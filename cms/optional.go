package cms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/wellness/cms/internal/problem"
)

// Optional is one member of a JSON merge patch (RFC 7396). A pointer
// cannot tell "absent, leave it" from "null, clear it"; Optional can: Set
// is false when the member was absent, Null is true when it was null.
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T

	// err is a decoding failure kept for decodeErrors, which knows the
	// member's name; encoding/json would report it without one.
	err error
}

// Some returns a present, non-null member, for building updates in code.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: v} }

// UnmarshalJSON records presence and decodes the value strictly: unknown
// fields inside a nested object are refused like at the top level.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	*o = Optional[T]{Set: true}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o.Value); err != nil {
		o.err = err
	}
	return nil
}

// decodeFailure is how decodeErrors reaches the error inside any
// Optional[T].
type decodeFailure interface{ decodeErr() error }

func (o Optional[T]) decodeErr() error { return o.err }

// decodeErrors walks a struct of Optional members (and the structs inside
// them) and names every member that failed to decode, with its JSON path.
func decodeErrors(v any) problem.Fields {
	var f problem.Fields
	walkDecodeErrors(reflect.ValueOf(v), "", &f)
	return f
}

func walkDecodeErrors(v reflect.Value, prefix string, f *problem.Fields) {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		fv := v.Field(i)
		d, ok := fv.Interface().(decodeFailure)
		if !ok {
			continue
		}
		if err := d.decodeErr(); err != nil {
			field, msg := describeDecodeError(err)
			if field != "" {
				path += "." + field
			}
			f.Add(path, "%s", msg)
			continue
		}
		walkDecodeErrors(fv.FieldByName("Value"), path+".", f)
	}
}

// describeDecodeError turns a json error into a client message and the
// path inside the member it concerns.
func describeDecodeError(err error) (field, msg string) {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		return typ.Field, "must be " + jsonTypeName(typ.Type)
	case errors.As(err, &syn):
		return "", "is not valid JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field"
	}
	return "", fmt.Sprintf("is not valid (%s)", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonTypeName names a Go type the way a JSON client thinks of it.
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "of another type"
}
