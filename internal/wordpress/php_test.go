package wordpress

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// serialize writes v as PHP's serialize() would, for round trips.
func serialize(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("N;")
	case bool:
		if v {
			b.WriteString("b:1;")
		} else {
			b.WriteString("b:0;")
		}
	case int64:
		b.WriteString("i:" + strconv.FormatInt(v, 10) + ";")
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		switch {
		case math.IsInf(v, 1):
			s = "INF"
		case math.IsInf(v, -1):
			s = "-INF"
		case math.IsNaN(v):
			s = "NAN"
		}
		b.WriteString("d:" + s + ";")
	case string:
		b.WriteString("s:" + strconv.Itoa(len(v)) + ":\"" + v + "\";")
	case *PHPArray:
		if v.Class != "" {
			b.WriteString("O:" + strconv.Itoa(len(v.Class)) + ":\"" + v.Class + "\":")
		} else {
			b.WriteString("a:")
		}
		b.WriteString(strconv.Itoa(len(v.Keys)) + ":{")
		for i, k := range v.Keys {
			serialize(b, k)
			serialize(b, v.Values[i])
		}
		b.WriteString("}")
	}
}

func TestUnserialize(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{`N;`, nil},
		{`b:1;`, true},
		{`b:0;`, false},
		{`i:-42;`, int64(-42)},
		{`d:0.5;`, 0.5},
		{`d:1.0E+25;`, 1e25},
		{`s:0:"";`, ""},
		{`s:6:"Crème";`, "Crème"},
		{`s:5:"Crème";`, "Crème"}, // a byte count from before a charset conversion
		{`s:4:"a";b";`, `a";b`},   // quotes inside, length right
		{`a:0:{}`, &PHPArray{Keys: []any{}, Values: []any{}}},
		{`a:2:{i:0;s:1:"x";s:1:"k";a:1:{i:5;N;}}`, &PHPArray{Keys: []any{int64(0), "k"}, Values: []any{"x", &PHPArray{Keys: []any{int64(5)}, Values: []any{nil}}}}},
		{`O:8:"stdClass":1:{s:3:"url";s:1:"u";}`, &PHPArray{Class: "stdClass", Keys: []any{"url"}, Values: []any{"u"}}},
	}
	for _, tt := range tests {
		got, err := Unserialize(tt.in)
		if err != nil {
			t.Errorf("Unserialize(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Unserialize(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{``, `N`, `x:1;`, `i:1`, `i:1;x`, `s:9:"ab";x`, `s:2:"ab"`, `a:1:{i:0;}`, `a:99999999:{}`, `b:2;`, `d:0x10;`,
		`a:1:{d:1;i:1;}`, `r:1;`, `C:3:"Foo":0:{}`, `O:0:"":0:{}`, strings.Repeat("a:1:{i:0;", 100) + "N;" + strings.Repeat("}", 100)} {
		if v, err := Unserialize(in); !errors.Is(err, ErrSerialized) {
			t.Errorf("Unserialize(%q) = %v, %v; want ErrSerialized", in, v, err)
		}
	}
}

func TestPHPArrayGet(t *testing.T) {
	v, err := Unserialize(`a:3:{s:7:"linkurl";s:46:"https://www.amazon.co.uk/gp/product/B0MASSAGE1";i:7;s:5:"seven";s:1:"n";i:3;}`)
	if err != nil {
		t.Fatal(err)
	}
	a := v.(*PHPArray)
	if s, ok := a.GetString("linkurl"); !ok || s != "https://www.amazon.co.uk/gp/product/B0MASSAGE1" {
		t.Errorf("linkurl %q %v", s, ok)
	}
	if s, _ := a.Get("7"); s != "seven" {
		t.Errorf("7 = %v", s)
	}
	if _, ok := a.GetString("n"); ok {
		t.Error("an int read as a string")
	}
	if _, ok := a.Get("missing"); ok {
		t.Error("missing found")
	}
}

func TestIsSerialized(t *testing.T) {
	for in, want := range map[string]bool{
		"N;": true, "b:1;": true, "i:12;": true, "d:0.5;": true, `s:1:"a";`: true, "a:0:{}": true, ` a:1:{i:0;N;} `: true,
		`O:8:"stdClass":0:{}`: true, "": false, "hello": false, "https://x.example/": false, "i:x;": false, "a:1:{": false,
		"b:2;": false, `s:1:"a"`: false, "12": false,
	} {
		if got := IsSerialized(in); got != want {
			t.Errorf("IsSerialized(%q) = %v", in, got)
		}
	}
}

func FuzzUnserialize(f *testing.F) {
	for _, s := range []string{`N;`, `b:1;`, `i:-1;`, `d:1.5;`, `d:INF;`, `s:3:"abc";`, `s:5:"Crème";`,
		`a:2:{i:0;s:1:"x";s:1:"k";a:1:{i:5;N;}}`, `O:8:"stdClass":1:{s:1:"a";d:NAN;}`,
		`a:4:{s:7:"linkurl";s:46:"https://www.amazon.co.uk/gp/product/B0MASSAGE1";s:8:"nofollow";s:2:"on";s:6:"newwindow";s:2:"on";s:8:"linkname";s:11:"Massage gun";}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Unserialize(s)
		if err != nil {
			return
		}
		var b strings.Builder
		serialize(&b, v)
		v2, err := Unserialize(b.String())
		if err != nil {
			t.Fatalf("re-encoding %q of %q does not decode: %v", b.String(), s, err)
		}
		var b2 strings.Builder
		serialize(&b2, v2)
		if b2.String() != b.String() {
			t.Fatalf("round trip of %q: %q then %q", s, b.String(), b2.String())
		}
		if !strings.ContainsAny(s, "dN") && !reflect.DeepEqual(v, v2) {
			t.Fatalf("round trip of %q: %#v then %#v", s, v, v2)
		}
	})
}
