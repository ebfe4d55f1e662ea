package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/wellness/cms/internal/problem"
)

// Argon2id parameters (OWASP's minimum: 19 MiB, 2 passes, 1 lane). They are
// written into every hash, so they can be raised later: a login with an
// older hash re-hashes it with the current ones.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length bounds, in characters. No composition rules: length and
// a common-password check are what work (NIST SP 800-63B).
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

//go:generate go run gen_common_passwords.go
//go:embed common-passwords.txt
var commonPasswordsText string

// commonPasswords is the deny list, lower-cased.
var commonPasswords = func() map[string]struct{} {
	m := map[string]struct{}{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = struct{}{}
		}
	}
	return m
}()

// CheckPassword returns a client-safe reason why pw is not acceptable, or
// "" when it is.
func CheckPassword(pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return "must be valid UTF-8"
	case n < MinPasswordLen:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLen)
	}
	if _, ok := commonPasswords[strings.ToLower(pw)]; ok {
		return "is too common; choose a longer phrase only you would use"
	}
	return ""
}

// Hasher bounds how many Argon2id computations run at once: each takes
// 19 MiB and a core for tens of milliseconds, so a login flood would
// otherwise take every CPU and a lot of memory.
type Hasher struct {
	slots chan struct{}
	dummy string
}

// NewHasher allows n concurrent hashes; n <= 0 means half the CPUs (at
// least one), so sign-ins can never starve the content API of every core.
func NewHasher(n int) *Hasher {
	if n <= 0 {
		n = max(1, runtime.NumCPU()/2)
	}
	h := &Hasher{slots: make(chan struct{}, n)}
	h.dummy = h.hash([]byte("dummy password for timing equality"))
	return h
}

// maxHashWait bounds how long a request queues for a hashing slot; past
// it the caller is told to come back rather than piling up.
const maxHashWait = 3 * time.Second

func (h *Hasher) acquire(ctx context.Context) error {
	t := time.NewTimer(maxHashWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return &problem.Error{Kind: problem.TooManyRequests, RetryAfter: time.Second,
			Detail: "the server is busy signing people in; try again in a moment"}
	case <-ctx.Done():
		return fmt.Errorf("wait for a hashing slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of pw with a fresh salt.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hash([]byte(pw)), nil
}

func (h *Hasher) hash(pw []byte) string {
	p := phc{memory: argonMemory, time: argonTime, threads: argonThreads, salt: make([]byte, argonSaltLen)}
	_, _ = rand.Read(p.salt)
	p.key = argon2.IDKey(pw, p.salt, p.time, p.memory, p.threads, argonKeyLen)
	return p.String()
}

// Verify reports whether pw matches encoded, and whether encoded uses
// weaker parameters than today's and should be replaced. An empty encoded
// (unknown user) is checked against a dummy hash so the answer takes as
// long as for a real user.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (ok, rehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	known := encoded != ""
	if !known {
		encoded = h.dummy
	}
	p, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	match := subtle.ConstantTimeCompare(key, p.key) == 1
	weaker := p.memory < argonMemory || p.time < argonTime || p.threads < argonThreads
	return known && match, known && match && weaker, nil
}

// phc is an Argon2id hash in its PHC string form,
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key> with unpadded
// standard base64.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// PHC bounds: what a hash of this service can hold, generously. Anything
// outside them is corruption, and refused before it can make Verify spend
// gigabytes or hours.
const (
	phcMaxMemory = 1 << 22 // KiB: 4 GiB
	phcMaxTime   = 16
	phcMinSalt   = 8
	phcMaxSalt   = 64
	phcMinKey    = 16
	phcMaxKey    = 64
)

var phcBase64 = base64.RawStdEncoding.Strict()

// String is the PHC form of p.
func (p phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		phcBase64.EncodeToString(p.salt), phcBase64.EncodeToString(p.key))
}

var errBadHash = errors.New("stored password hash is malformed")

// parsePHC reads a PHC string strictly: exactly the form String writes,
// so every accepted string is the one its parameters would produce (no
// signs, leading zeros, padding, line breaks or trailing bytes).
func parsePHC(s string) (phc, error) {
	var p phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, errBadHash
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, errBadHash
	}
	m, okM := phcNumber(params[0], "m=", phcMaxMemory)
	t, okT := phcNumber(params[1], "t=", phcMaxTime)
	l, okL := phcNumber(params[2], "p=", 255)
	if !okM || !okT || !okL {
		return p, errBadHash
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(l)
	var ok bool
	if p.salt, ok = phcBytes(parts[4], phcMinSalt, phcMaxSalt); !ok {
		return p, errBadHash
	}
	if p.key, ok = phcBytes(parts[5], phcMinKey, phcMaxKey); !ok {
		return p, errBadHash
	}
	return p, nil
}

// phcNumber reads prefix followed by a decimal from 1 to max, written as
// String writes it.
func phcNumber(s, prefix string, max uint64) (uint64, bool) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || len(digits) > 10 || digits[0] == '0' {
		return 0, false
	}
	var n uint64
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n <= max
}

// phcBytes decodes canonical unpadded base64 of min to max bytes.
func phcBytes(s string, min, max int) ([]byte, bool) {
	if len(s) > phcBase64.EncodedLen(max) || strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := phcBase64.DecodeString(s)
	return b, err == nil && len(b) >= min && len(b) <= max
}
