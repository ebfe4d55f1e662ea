package affiliate

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Click is one followed /go/ link. It is written as it is to the clicks
// collection and, while the database is away, to the spill file, so it
// carries no raw client address: only a salted hash that changes daily.
type Click struct {
	// ID is random and the document _id, so writing a click twice (a
	// replayed spill file) stores it once.
	ID      string `bson:"_id" json:"id"`
	Product string `bson:"product" json:"product"`
	Article string `bson:"article,omitempty" json:"article,omitempty"`
	// Position is the 1-based place of the link in the article, 0 when
	// the link did not say.
	Position int       `bson:"position,omitempty" json:"position,omitempty"`
	Time     time.Time `bson:"time" json:"time"`
	// Day is Time's UTC date, the unit of the rollups.
	Day string `bson:"day" json:"day"`
	// Referrer is the host of the Referer header only: paths can carry
	// personal data.
	Referrer string `bson:"referrer,omitempty" json:"referrer,omitempty"`
	Bot      bool   `bson:"bot" json:"bot"`
	// Country is set only from a trusted proxy's header.
	Country string `bson:"country,omitempty" json:"country,omitempty"`
	// Visitor is HMAC-SHA256 of the client address under the day's salt,
	// enough to count unique visitors of a day and nothing more.
	Visitor string `bson:"visitor" json:"visitor"`
}

// dayLayout is the form of Click.Day and of the stats API's dates.
const dayLayout = "2006-01-02"

// dayOf is the UTC date of t.
func dayOf(t time.Time) string { return t.UTC().Format(dayLayout) }

// newClickID returns 128 random bits in hex.
func newClickID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var (
	slugPattern     = regexp.MustCompile(`^[a-z0-9-]{1,200}$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
	clickIDPattern  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	visitorPattern  = regexp.MustCompile(`^[0-9a-f]{0,64}$`)
	refererHostChar = regexp.MustCompile(`^[a-z0-9.-]{1,253}$`)
)

// maxPosition bounds p: a link position, not a number to store anything in.
const maxPosition = 999

// articleParam keeps a as the click's article when it looks like a slug;
// anything else is dropped, never failing the redirect.
func articleParam(a string) string {
	if slugPattern.MatchString(a) {
		return a
	}
	return ""
}

// positionParam keeps p when it is a small positive integer.
func positionParam(p string) int {
	if p == "" || len(p) > 3 {
		return 0
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > maxPosition || p[0] == '+' || p[0] == '0' {
		return 0
	}
	return n
}

// referrerHost keeps only the host of a Referer header.
func referrerHost(ref string) string {
	if ref == "" || len(ref) > MaxURLLength {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	h := strings.ToLower(u.Hostname())
	if !refererHostChar.MatchString(h) {
		return ""
	}
	return h
}

// countryCode keeps a two-letter country code.
func countryCode(v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	if countryPattern.MatchString(v) {
		return v
	}
	return ""
}

// valid reports whether a click read back from the spill file is whole.
func (c *Click) valid() bool {
	return clickIDPattern.MatchString(c.ID) && codePattern.MatchString(c.Product) &&
		(c.Article == "" || slugPattern.MatchString(c.Article)) &&
		c.Position >= 0 && c.Position <= maxPosition && !c.Time.IsZero() &&
		c.Day == dayOf(c.Time) && visitorPattern.MatchString(c.Visitor)
}

// saltBook holds the daily salts of visitor hashes. Every instance must
// hash with the same salt on the same day, so salts live in the database
// (created insert-if-absent); the book keeps today's and tomorrow's in
// memory so the redirect never waits for them. When the database could not
// be asked (an outage over midnight), a process-local salt stands in and
// unique counts for that day may count a visitor once per instance.
type saltBook struct {
	mu    sync.RWMutex
	salts map[string][]byte
	local map[string]bool
}

func newSaltBook() *saltBook {
	return &saltBook{salts: map[string][]byte{}, local: map[string]bool{}}
}

// visitor hashes ip under day's salt.
func (b *saltBook) visitor(day, ip string) string {
	b.mu.RLock()
	salt := b.salts[day]
	b.mu.RUnlock()
	if salt == nil {
		salt = b.localSalt(day)
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(ip))
	return hex.EncodeToString(m.Sum(nil))
}

func (b *saltBook) localSalt(day string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.salts[day]; s != nil {
		return s
	}
	s := make([]byte, 32)
	_, _ = rand.Read(s)
	b.salts[day] = s
	b.local[day] = true
	return s
}

// set records the shared salt of day. It reports whether a local salt was
// replaced, which the caller logs.
func (b *saltBook) set(day string, salt []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasLocal := b.local[day]
	b.salts[day] = salt
	delete(b.local, day)
	return wasLocal
}

// has reports whether day's shared salt is known.
func (b *saltBook) has(day string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.salts[day] != nil && !b.local[day]
}

// forget drops salts of days before keep, so old hashes can no longer be
// linked to addresses even by this process.
func (b *saltBook) forget(keep string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for d := range b.salts {
		if d < keep {
			delete(b.salts, d)
			delete(b.local, d)
		}
	}
}
