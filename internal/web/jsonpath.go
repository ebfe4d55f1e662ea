package web

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/wellness/cms/internal/problem"
)

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// unknownMember is an object member that the body's type has no field
// for: its dotted JSON path and its value as sent.
type unknownMember struct {
	path string
	raw  json.RawMessage
}

// maxUnknown bounds the unknown members one answer lists: a body of a
// million unknown keys gets a short answer, not a long one.
const maxUnknown = 100

// walkMembers lists, in document order, the object members in data (one
// well-formed JSON value) that type t has no field for, at every depth
// and inside Optional members (more reports that there were more than
// maxUnknown), and the members whose JSON type cannot decode into their
// field (wrong, at most maxUnknown). encoding/json ignores unknown
// members or stops at the first one, and reports only the first wrong
// type; a client sending back a fetched body wants them all named at
// once. The walk is one pass over data. Values of another type with its
// own UnmarshalJSON are not looked into, nor are unknown members' values
// or those of a wrong type. Array indexes are left out of paths, as
// encoding/json leaves them out of a type error's path.
func walkBody(data []byte, t reflect.Type) (found []unknownMember, wrong problem.Fields, more bool, err error) {
	w := bodyWalk{dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	err = w.value(t, "")
	return w.found, w.wrong, w.more, err
}

type bodyWalk struct {
	dec   *json.Decoder
	found []unknownMember
	wrong problem.Fields
	more  bool
}

// value reads one value of type t (nil: of no known type) from w.dec.
func (w *bodyWalk) value(t reflect.Type, path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	t = knownType(t)
	if t != nil && !decodesInto(tok, t) {
		if len(w.wrong) < maxUnknown {
			at := path
			if at == "" {
				at = "(body)"
			}
			w.wrong.Add(at, "must be %s", jsonKind(t))
		}
		t = nil // read the rest of the value without a type
	}
	switch tok {
	case json.Delim('{'):
		for w.dec.More() {
			key, err := w.dec.Token()
			if err != nil {
				return err
			}
			name, _ := key.(string)
			at := name
			if path != "" {
				at = path + "." + name
			}
			var ft reflect.Type
			if t != nil {
				switch t.Kind() {
				case reflect.Struct:
					f, ok := fieldByJSONName(t, name)
					if !ok {
						if err := w.unknown(at); err != nil {
							return err
						}
						continue
					}
					ft = f
				case reflect.Map:
					ft = t.Elem()
				}
			}
			if err := w.value(ft, at); err != nil {
				return err
			}
		}
		_, err = w.dec.Token()
		return err
	case json.Delim('['):
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for w.dec.More() {
			if err := w.value(et, path); err != nil {
				return err
			}
		}
		_, err = w.dec.Token()
		return err
	}
	return nil
}

// unknown records the member at path and reads its value whole.
func (w *bodyWalk) unknown(path string) error {
	var raw json.RawMessage
	if err := w.dec.Decode(&raw); err != nil {
		return err
	}
	if len(w.found) == maxUnknown {
		w.more = true
		return nil
	}
	w.found = append(w.found, unknownMember{path: path, raw: raw})
	return nil
}

// decodesInto reports whether a JSON value starting with tok can decode
// into a value of type t (seen through by knownType) as far as its JSON
// type goes; what the value itself holds (1.5 for an int) is left to
// encoding/json.
func decodesInto(tok json.Token, t reflect.Type) bool {
	k := t.Kind()
	if k == reflect.Interface {
		return true
	}
	switch v := tok.(type) {
	case nil:
		return true
	case json.Delim:
		if v == '{' {
			return k == reflect.Struct || k == reflect.Map
		}
		return k == reflect.Slice || k == reflect.Array
	case string:
		return k == reflect.String || t.Implements(textUnmarshalerType) ||
			reflect.PointerTo(t).Implements(textUnmarshalerType) ||
			(k == reflect.Slice && t.Elem().Kind() == reflect.Uint8) // base64
	case json.Number:
		return k >= reflect.Int && k <= reflect.Float64
	case bool:
		return k == reflect.Bool
	}
	return true
}

// optionalMember is how the walk sees through an Optional[T] to T.
type optionalMember interface{ elemType() reflect.Type }

var optionalMemberType = reflect.TypeFor[optionalMember]()

// knownType is the type whose fields a value of type t is decoded into:
// pointers and Optional are seen through; nil when t is nil or decodes
// itself.
func knownType(t reflect.Type) reflect.Type {
	for t != nil {
		switch {
		case t.Kind() == reflect.Pointer:
			t = t.Elem()
		case t.Implements(optionalMemberType):
			t = reflect.Zero(t).Interface().(optionalMember).elemType()
		case t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType):
			return nil
		default:
			return t
		}
	}
	return nil
}

// jsonPath turns the path encoding/json gives a type error in a value of
// type t into the member's JSON path: encoding/json names an embedded
// struct by its Go name ("Content.tags" for tags of an embedded Content),
// which no client sent.
func jsonPath(t reflect.Type, path string) string {
	if path == "" || t == nil {
		return path
	}
	var out []string
	for seg := range strings.SplitSeq(path, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			t = t.Elem()
		}
		switch {
		case t != nil && t.Kind() == reflect.Struct:
			if ft, ok := fieldByJSONName(t, seg); ok {
				out, t = append(out, seg), ft
				continue
			}
			if sf, ok := t.FieldByName(seg); ok && sf.Anonymous {
				t = sf.Type // the embedded struct's Go name: not part of the JSON path
				continue
			}
			out, t = append(out, seg), nil
		case t != nil && t.Kind() == reflect.Map:
			out, t = append(out, seg), t.Elem()
		default:
			out = append(out, seg)
		}
	}
	return strings.Join(out, ".")
}

// fieldByJSONName finds the type of struct t's field that encoding/json
// decodes the member name into: the exact name first, then regardless of
// case, looking into embedded structs as encoding/json does.
func fieldByJSONName(t reflect.Type, name string) (reflect.Type, bool) {
	var folded reflect.Type
	var visit func(t reflect.Type, depth int) reflect.Type
	visit = func(t reflect.Type, depth int) reflect.Type {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			fname, _, _ := strings.Cut(tag, ",")
			if sf.Anonymous && fname == "" {
				et := sf.Type
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct && depth < 16 {
					if ft := visit(et, depth+1); ft != nil {
						return ft
					}
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if fname == "" {
				fname = sf.Name
			}
			switch {
			case fname == name:
				return sf.Type
			case folded == nil && strings.EqualFold(fname, name):
				folded = sf.Type
			}
		}
		return nil
	}
	if ft := visit(t, 0); ft != nil {
		return ft, true
	}
	return folded, folded != nil
}
