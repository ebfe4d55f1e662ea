package web

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// unknownMember is an object member that the body's type has no field
// for: its dotted JSON path and its value as sent.
type unknownMember struct {
	path string
	raw  json.RawMessage
}

// maxUnknown bounds the unknown members one answer lists: a body of a
// million unknown keys gets a short answer, not a long one.
const maxUnknown = 100

// unknownMembers lists, in document order, the object members in data
// (one well-formed JSON value) that type t has no field for, at every
// depth and inside Optional members; more reports that there were more
// than maxUnknown. encoding/json ignores such members, or stops at the
// first one; a client sending back a fetched body wants them all named
// at once. The walk is one pass over data. Values of another type with
// its own UnmarshalJSON are not looked into, nor are unknown members'
// values. Array indexes are left out of paths, as encoding/json leaves
// them out of a type error's path.
func unknownMembers(data []byte, t reflect.Type) (found []unknownMember, more bool, err error) {
	w := unknownWalk{dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	err = w.value(t, "")
	return w.found, w.more, err
}

type unknownWalk struct {
	dec   *json.Decoder
	found []unknownMember
	more  bool
}

// value reads one value of type t (nil: of no known type) from w.dec.
func (w *unknownWalk) value(t reflect.Type, path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	t = knownType(t)
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
func (w *unknownWalk) unknown(path string) error {
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
