package wordpress

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrSerialized is wrapped by every error Unserialize returns.
var ErrSerialized = errors.New("not valid PHP serialized data")

// maxPHPDepth bounds the nesting of arrays and objects.
const maxPHPDepth = 64

// PHPArray is a PHP array or object: its keys (int64 or string) and values
// in order. Class is the class name of an object, empty for an array.
type PHPArray struct {
	Class  string
	Keys   []any
	Values []any
}

// Get returns the value under key, matching a string key or an integer key
// written in decimal ("0" finds the key 0, as PHP itself would).
func (a *PHPArray) Get(key string) (any, bool) {
	for i, k := range a.Keys {
		switch k := k.(type) {
		case string:
			if k == key {
				return a.Values[i], true
			}
		case int64:
			if strconv.FormatInt(k, 10) == key {
				return a.Values[i], true
			}
		}
	}
	return nil, false
}

// GetString returns the value under key when it is a string.
func (a *PHPArray) GetString(key string) (string, bool) {
	v, ok := a.Get(key)
	s, isString := v.(string)
	return s, ok && isString
}

// Unserialize decodes a PHP serialize() string: s (string, length in
// bytes), i (int64), d (float64), b (bool), N (nil), a (array: *PHPArray),
// O (object: *PHPArray with Class set). It is linear in len(s), nests at
// most 64 deep, and refuses trailing data, lengths past the end, and
// references (r:, R:) and custom serializations (C:), which postmeta does
// not use.
//
// A string whose byte length is wrong (an export converted between
// charsets after PHP wrote it: "s:5:"Crème";" counted Latin-1 bytes) is
// read up to the first `";` after its opening quote instead; that single
// forward search keeps the work linear. Errors wrap ErrSerialized.
func Unserialize(s string) (any, error) {
	p := phpParser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.i != len(s) {
		return nil, p.fail("trailing data")
	}
	return v, nil
}

// IsSerialized reports whether s looks like serialized data, the test
// WordPress applies before unserializing a meta value: after trimming
// space, N; or a type letter (a, O, s, i, d, b) and a colon, ending as
// that type ends (";" or "}"). It does not decode; Unserialize may still
// refuse s.
func IsSerialized(s string) bool {
	s = strings.TrimSpace(s)
	if s == "N;" {
		return true
	}
	if len(s) < 4 || s[1] != ':' {
		return false
	}
	last := s[len(s)-1]
	switch s[0] {
	case 'a', 'O':
		return last == '}' && strings.IndexByte(s[2:], ':') > 0
	case 's':
		return last == ';' && s[len(s)-2] == '"' && strings.IndexByte(s[2:], ':') > 0
	case 'i', 'd':
		if last != ';' {
			return false
		}
		body := s[2 : len(s)-1]
		if s[0] == 'i' {
			_, err := strconv.ParseInt(body, 10, 64)
			return err == nil
		}
		_, err := parseFloat(body)
		return err == nil
	case 'b':
		return s == "b:0;" || s == "b:1;"
	}
	return false
}

type phpParser struct {
	s string
	i int
}

func (p *phpParser) fail(msg string) error {
	return fmt.Errorf("at byte %d: %s: %w", p.i, msg, ErrSerialized)
}

// expect consumes c.
func (p *phpParser) expect(c byte) error {
	if p.i >= len(p.s) || p.s[p.i] != c {
		return p.fail(fmt.Sprintf("want %q", c))
	}
	p.i++
	return nil
}

// until returns the text up to the byte end and consumes it and end.
func (p *phpParser) until(end byte) (string, error) {
	j := strings.IndexByte(p.s[p.i:], end)
	if j < 0 {
		return "", p.fail(fmt.Sprintf("no %q", end))
	}
	v := p.s[p.i : p.i+j]
	p.i += j + 1
	return v, nil
}

// length reads "N:" for a string, array or object length.
func (p *phpParser) length() (int, error) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' && p.i-start < 12 {
		p.i++
	}
	if p.i == start {
		return 0, p.fail("want a length")
	}
	n, err := strconv.Atoi(p.s[start:p.i])
	if err != nil || n > len(p.s) {
		return 0, p.fail("length past the end")
	}
	return n, p.expect(':')
}

func (p *phpParser) value(depth int) (any, error) {
	if p.i+1 >= len(p.s) {
		return nil, p.fail("unexpected end")
	}
	typ := p.s[p.i]
	if typ == 'N' {
		p.i++
		return nil, p.expect(';')
	}
	p.i++
	if err := p.expect(':'); err != nil {
		return nil, err
	}
	switch typ {
	case 'b':
		v, err := p.until(';')
		if err != nil {
			return nil, err
		}
		switch v {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return nil, p.fail("bad bool")
	case 'i':
		v, err := p.until(';')
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, p.fail("bad int")
		}
		return n, nil
	case 'd':
		v, err := p.until(';')
		if err != nil {
			return nil, err
		}
		f, err := parseFloat(v)
		if err != nil {
			return nil, p.fail("bad float")
		}
		return f, nil
	case 's':
		return p.str()
	case 'a':
		return p.array(depth, "")
	case 'O':
		n, err := p.length()
		if err != nil {
			return nil, err
		}
		if err := p.expect('"'); err != nil {
			return nil, err
		}
		if p.i+n+2 > len(p.s) || p.s[p.i+n] != '"' || p.s[p.i+n+1] != ':' {
			return nil, p.fail("bad class name")
		}
		class := p.s[p.i : p.i+n]
		p.i += n + 2
		if class == "" {
			return nil, p.fail("empty class name")
		}
		return p.array(depth, class)
	}
	p.i -= 2
	return nil, p.fail(fmt.Sprintf("unsupported type %q", typ))
}

// str reads `N:"...";` after "s:".
func (p *phpParser) str() (string, error) {
	n, err := p.length()
	if err != nil {
		return "", err
	}
	if err := p.expect('"'); err != nil {
		return "", err
	}
	if end := p.i + n; end+2 <= len(p.s) && p.s[end] == '"' && p.s[end+1] == ';' {
		v := p.s[p.i:end]
		p.i = end + 2
		return v, nil
	}
	// The length is wrong: read to the first `";`.
	j := strings.Index(p.s[p.i:], `";`)
	if j < 0 {
		return "", p.fail("string past the end")
	}
	v := p.s[p.i : p.i+j]
	p.i += j + 2
	return v, nil
}

// array reads `N:{key;value...}` after "a:" or an object's class.
func (p *phpParser) array(depth int, class string) (*PHPArray, error) {
	if depth >= maxPHPDepth {
		return nil, p.fail("nested too deep")
	}
	n, err := p.length()
	if err != nil {
		return nil, err
	}
	if err := p.expect('{'); err != nil {
		return nil, err
	}
	// Each entry takes at least 4 bytes ("i:0;N;" is 6), so n cannot
	// ask for more memory than the input justifies.
	if n > (len(p.s)-p.i)/4 {
		return nil, p.fail("more entries than bytes")
	}
	a := &PHPArray{Class: class, Keys: make([]any, 0, n), Values: make([]any, 0, n)}
	for range n {
		if p.i >= len(p.s) {
			return nil, p.fail("unexpected end")
		}
		var key any
		switch p.s[p.i] {
		case 'i':
			p.i++
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			v, err := p.until(';')
			if err != nil {
				return nil, err
			}
			k, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, p.fail("bad int key")
			}
			key = k
		case 's':
			p.i++
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			key = k
		default:
			return nil, p.fail("bad key")
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a.Keys = append(a.Keys, key)
		a.Values = append(a.Values, v)
	}
	if err := p.expect('}'); err != nil {
		return nil, err
	}
	return a, nil
}

// parseFloat reads a PHP float: decimal, exponent, INF, -INF or NAN.
func parseFloat(s string) (float64, error) {
	switch s {
	case "INF":
		return math.Inf(1), nil
	case "-INF":
		return math.Inf(-1), nil
	case "NAN":
		return math.NaN(), nil
	}
	if s == "" || strings.ContainsAny(s, "xXpP_nNiI") {
		return 0, ErrSerialized // not Go's hex, underscores, Inf or NaN spellings
	}
	return strconv.ParseFloat(s, 64)
}
