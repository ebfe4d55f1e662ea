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
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey(pw, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
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

type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

var errBadHash = errors.New("stored password hash is malformed")

func parsePHC(s string) (phc, error) {
	var p phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, errBadHash
	}
	if p.memory == 0 || p.memory > 1<<22 || p.time == 0 || p.time > 16 || p.threads == 0 {
		return p, errBadHash
	}
	b64 := base64.RawStdEncoding
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, errBadHash
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return p, errBadHash
	}
	return p, nil
}
