package web

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/wellness/cms/internal/problem"
)

// A cursor is the one way every list names a position: the keys of the
// last item shown (an ID, a time, a score), bound to a scope that names the
// list and its filters, so a cursor cannot be replayed against another
// list. It is opaque to clients: base64url without padding of a version
// byte, a 32-bit FNV-1a hash of the scope, then each key (a string as its
// uvarint length and bytes, an integer as a zigzag varint).
//
// Decoding is canonical: only the exact text EncodeCursor writes is
// accepted, never another spelling of the same position (stray base64
// bits, line breaks, padding, over-long varints), so one position has one
// cursor and one cache key.

// cursorVersion leads every cursor, so the format can change later and
// old cursors be told apart.
const cursorVersion = 1

// MaxCursorLen bounds a cursor's text; longer ones are refused unread. It
// leaves room for about 180 bytes of keys, far more than the IDs, codes and
// numbers lists use.
const MaxCursorLen = 256

// The two ways a cursor is refused. Their texts are the field messages a
// client sees on the cursor parameter.
var (
	// ErrCursor is a cursor this API did not write.
	ErrCursor = errors.New("is not a cursor this API returned")
	// ErrCursorScope is a cursor of another list, or of this list with
	// other filters.
	ErrCursorScope = errors.New("belongs to a list with other filters")
)

// EncodeCursor is the cursor of the position keys in the list scope. Each
// key is a string, an int or an int64; any other type is a programming
// error and panics. DecodeCursor reads it back with pointers to keys of the
// same types, in the same order.
func EncodeCursor(scope string, keys ...any) string {
	return base64.RawURLEncoding.EncodeToString(appendCursor(make([]byte, 0, 64), scope, keys))
}

func appendCursor(b []byte, scope string, keys []any) []byte {
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint32(b, scopeHash(scope))
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			b = binary.AppendUvarint(b, uint64(len(k)))
			b = append(b, k...)
		case int:
			b = binary.AppendVarint(b, int64(k))
		case int64:
			b = binary.AppendVarint(b, k)
		default:
			panic(fmt.Sprintf("web: cursor key of type %T", k))
		}
	}
	return b
}

func scopeHash(scope string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(scope))
	return h.Sum32()
}

// DecodeCursor reads the cursor s of the list scope into keys, each a
// *string, *int or *int64 matching what EncodeCursor was given (any other
// type panics). It returns ErrCursor for text EncodeCursor did not write
// with keys of these types, and ErrCursorScope for a cursor of another
// scope; keys are set only on success. Whether the keys name something
// that can exist (an ID's pattern, a positive number) is the caller's
// check.
func DecodeCursor(s, scope string, keys ...any) error {
	if s == "" || len(s) > MaxCursorLen {
		return ErrCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != s {
		return ErrCursor // the decoder alone skips line breaks and stray bits
	}
	if len(raw) < 5 || raw[0] != cursorVersion {
		return ErrCursor
	}
	if binary.BigEndian.Uint32(raw[1:5]) != scopeHash(scope) {
		return ErrCursorScope
	}
	rest := raw[5:]
	vals := make([]any, len(keys))
	for i, k := range keys {
		switch k.(type) {
		case *string:
			n, w := binary.Uvarint(rest)
			if w <= 0 || n > uint64(len(rest)-w) {
				return ErrCursor
			}
			vals[i] = string(rest[w : w+int(n)])
			rest = rest[w+int(n):]
		case *int, *int64:
			v, w := binary.Varint(rest)
			if w <= 0 {
				return ErrCursor
			}
			if _, isInt := k.(*int); isInt {
				if int64(int(v)) != v {
					return ErrCursor
				}
				vals[i] = int(v)
			} else {
				vals[i] = v
			}
			rest = rest[w:]
		default:
			panic(fmt.Sprintf("web: cursor key of type %T", k))
		}
	}
	// Left-over bytes, or a varint longer than it need be, are not what
	// EncodeCursor writes.
	if len(rest) != 0 || !bytes.Equal(appendCursor(make([]byte, 0, len(raw)), scope, vals), raw) {
		return ErrCursor
	}
	for i, k := range keys {
		switch k := k.(type) {
		case *string:
			*k = vals[i].(string)
		case *int:
			*k = vals[i].(int)
		case *int64:
			*k = vals[i].(int64)
		}
	}
	return nil
}

// Cursor reads q's cursor parameter of the list scope into keys, as
// DecodeCursor does, and reports whether one was given and accepted. A
// cursor that does not decode, or whose keys valid (nil: any) refuses, is
// a field error on cursor with DecodeCursor's message; keys are then not
// to be used.
func (q Query) Cursor(f *problem.Fields, scope string, valid func() bool, keys ...any) bool {
	v, ok := q["cursor"]
	if !ok {
		return false
	}
	err := DecodeCursor(v, scope, keys...)
	if err == nil && valid != nil && !valid() {
		err = ErrCursor
	}
	if err != nil {
		f.Add("cursor", "%s", err)
		return false
	}
	return true
}
