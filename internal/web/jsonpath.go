package web

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// unknownFieldPath finds the dotted JSON path of the first object member in
// data that type t has no field for. encoding/json reports an unknown
// field by its key alone, and, keeping only its first error, it reports
// the first such member in document order: the one this finds. Values of
// a type with its own UnmarshalJSON are not looked into (Optional checks
// its members itself). Array indexes are left out, as encoding/json leaves
// them out of a type error's path.
func unknownFieldPath(data []byte, t reflect.Type) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	path, found, _ := findUnknown(dec, t, "")
	return path, found
}

// findUnknown reads one value of type t (nil: of no known type) from dec.
func findUnknown(dec *json.Decoder, t reflect.Type, path string) (string, bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)) {
		t = nil
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return "", false, err
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
						return at, true, nil
					}
					ft = f
				case reflect.Map:
					ft = t.Elem()
				}
			}
			if p, found, err := findUnknown(dec, ft, at); found || err != nil {
				return p, found, err
			}
		}
		_, err = dec.Token()
		return "", false, err
	case json.Delim('['):
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for dec.More() {
			if p, found, err := findUnknown(dec, et, path); found || err != nil {
				return p, found, err
			}
		}
		_, err = dec.Token()
		return "", false, err
	}
	return "", false, nil
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
