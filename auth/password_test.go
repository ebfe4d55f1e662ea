package auth

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
)

// A PHC string of the current parameters, for seeds and tables.
const goodPHC = "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$eW91IGNhbm5vdCBndWVzcyB0aGlzIGtleSBhdCBhbGw"

func TestParsePHC(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"current parameters", goodPHC, true},
		{"older, weaker parameters", strings.Replace(goodPHC, "m=19456,t=2", "m=8192,t=1", 1), true},
		{"empty", "", false},
		{"argon2i", strings.Replace(goodPHC, "argon2id", "argon2i", 1), false},
		{"version 16", strings.Replace(goodPHC, "v=19", "v=16", 1), false},
		{"version with trailing bytes", strings.Replace(goodPHC, "v=19", "v=19x", 1), false},
		{"memory with a sign", strings.Replace(goodPHC, "m=19456", "m=+19456", 1), false},
		{"memory with a leading zero", strings.Replace(goodPHC, "m=19456", "m=019456", 1), false},
		{"memory zero", strings.Replace(goodPHC, "m=19456", "m=0", 1), false},
		{"memory too large", strings.Replace(goodPHC, "m=19456", "m=99999999999", 1), false},
		{"passes too many", strings.Replace(goodPHC, "t=2", "t=17", 1), false},
		{"lanes overflow", strings.Replace(goodPHC, "p=1", "p=256", 1), false},
		{"trailing parameter bytes", strings.Replace(goodPHC, "p=1", "p=1 ", 1), false},
		{"parameters reordered", strings.Replace(goodPHC, "m=19456,t=2", "t=2,m=19456", 1), false},
		{"padded salt", strings.Replace(goodPHC, "RlZg$", "RlZg==$", 1), false},
		{"salt with a line break", strings.Replace(goodPHC, "MDEy", "MD\nEy", 1), false},
		{"non-canonical last base64 digit", strings.Replace(goodPHC, "RlZg$", "RlZh$", 1), false},
		{"salt too short", strings.Replace(goodPHC, "MDEyMzQ1Njc4OWFiY2RlZg", "MDEy", 1), false},
		{"key too short", strings.Replace(goodPHC, "eW91IGNhbm5vdCBndWVzcyB0aGlzIGtleSBhdCBhbGw", "eW91", 1), false},
		{"extra field", goodPHC + "$", false},
		{"leading text", "x" + goodPHC, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePHC(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("parsePHC(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			}
			if tt.ok && p.String() != tt.in {
				t.Fatalf("round trip: %q became %q", tt.in, p.String())
			}
		})
	}
}

// FuzzPHC: the parser never panics, accepts only strings exactly as
// String writes them, and reads back every hash String writes.
func FuzzPHC(f *testing.F) {
	f.Add(goodPHC)
	f.Add(strings.Replace(goodPHC, "m=19456,t=2", "m=8192,t=1", 1))
	f.Add("$argon2id$v=19$m=1,t=1,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=019456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg==$eW91")
	f.Add("$argon2id$v=19x$m=19456,t=2,p=1$$")
	f.Add("")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := parsePHC(s); err == nil {
			if got := p.String(); got != s {
				t.Fatalf("accepted %q, which String writes as %q", s, got)
			}
			if p.memory == 0 || p.memory > phcMaxMemory || p.time == 0 || p.time > phcMaxTime || p.threads == 0 ||
				len(p.salt) < phcMinSalt || len(p.salt) > phcMaxSalt || len(p.key) < phcMinKey || len(p.key) > phcMaxKey {
				t.Fatalf("accepted %q with parameters out of bounds: %+v", s, p)
			}
		}
		// Whatever the input, a hash made of parameters derived from it
		// reads back as itself.
		sum := sha256.Sum256([]byte(s))
		made := phc{
			memory:  1 + uint32(sum[0])<<8 | uint32(sum[1]),
			time:    1 + uint32(sum[2])%phcMaxTime,
			threads: 1 + sum[3]%255,
			salt:    append([]byte(s), bytes.Repeat(sum[:], 2)...)[:phcMinSalt+int(sum[4])%(phcMaxSalt-phcMinSalt+1)],
			key:     bytes.Repeat(sum[:], 2)[:phcMinKey+int(sum[5])%(phcMaxKey-phcMinKey+1)],
		}
		back, err := parsePHC(made.String())
		if err != nil {
			t.Fatalf("String wrote %q, which does not parse: %v", made.String(), err)
		}
		if back.memory != made.memory || back.time != made.time || back.threads != made.threads ||
			!bytes.Equal(back.salt, made.salt) || !bytes.Equal(back.key, made.key) {
			t.Fatalf("round trip of %q: got %+v, want %+v", made.String(), back, made)
		}
	})
}
