// Package webhook delivers events to URLs that site owners register,
// so static front ends can rebuild when an article changes. Deliveries go
// through an outbox collection: a restart loses none, failures are retried
// with backoff for more than a day, and each attempt is made by one
// instance only.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Hook is a registered target. Secret signs deliveries; it is shown once,
// when the hook is created.
type Hook struct {
	ID        string    `bson:"_id" json:"id"`
	URL       string    `bson:"url" json:"url"`
	Events    []string  `bson:"events" json:"events"`
	Secret    string    `bson:"secret" json:"-"`
	Active    bool      `bson:"active" json:"active"`
	CreatedAt time.Time `bson:"createdAt" json:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt" json:"updatedAt"`
	// Last delivery outcome, for the list view. Deliveries write it
	// without a new version: the ETag and If-Match are about the hook's
	// configuration, which is all an admin changes.
	LastStatus    string     `bson:"lastStatus,omitempty" json:"lastStatus,omitempty"`
	LastAttemptAt *time.Time `bson:"lastAttemptAt,omitempty" json:"lastAttemptAt,omitempty"`
	// Version counts the changes of the configuration and is the ETag;
	// hooks stored before versions existed are at version 0.
	Version int64 `bson:"version" json:"-"`
}

// ETag is the strong entity tag of this version.
func (h *Hook) ETag() string { return web.ETag(h.Version) }

// Wants reports whether the hook subscribes to event.
func (h *Hook) Wants(event string) bool {
	for _, e := range h.Events {
		if e == event {
			return true
		}
	}
	return false
}

// hookReadOnly are the members of a hook's JSON that a PATCH does not
// take. The last delivery's outcome changes without a new version, so a
// client cannot know it sends a stale one: it is ignored.
var hookReadOnly = web.ReadOnlyMembers("id", "createdAt", "updatedAt").
	With("lastStatus", web.Volatile).
	With("lastAttemptAt", web.Volatile)

// HookInput is what an admin sends to create or replace a hook.
type HookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Active *bool    `json:"active"`
}

// Validate checks the URL's form and that every event is one of events.
// Whether the host is allowed is decided at delivery, after DNS
// resolution, by the dialer.
func (in *HookInput) Validate(allowPrivate bool, events []string) error {
	var f problem.Fields
	u, err := url.Parse(in.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(in.URL) > 2048:
		f.Add("url", "must be an absolute http or https URL")
	case u.User != nil:
		f.Add("url", "must not contain credentials")
	case !allowPrivate && literalPrivateHost(u.Hostname()):
		f.Add("url", "private, loopback, link-local and other special-purpose addresses are not allowed")
	}
	if len(in.Events) == 0 {
		f.Add("events", "name at least one of %s", strings.Join(events, ", "))
	}
	seen := map[string]bool{}
	for i, e := range in.Events {
		if !slices.Contains(events, e) {
			f.Add("events["+strconv.Itoa(i)+"]", "unknown event %q", e)
		}
		if seen[e] {
			f.Add("events["+strconv.Itoa(i)+"]", "repeats %q", e)
		}
		seen[e] = true
	}
	return f.Err()
}

// Signature is the value of the signature header for a delivery: HMAC-SHA256
// over "<timestamp>.<body>" with the hook's secret. Binding the timestamp
// lets receivers refuse replays of old deliveries.
func Signature(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature as a receiver would, in constant time.
func Verify(secret string, timestamp int64, body []byte, signature string) bool {
	return hmac.Equal([]byte(Signature(secret, timestamp, body)), []byte(signature))
}

// Retry policy: the first retry after 30 s, doubling to at most an hour
// between attempts, until 25 hours after the event.
const (
	firstRetry = 30 * time.Second
	maxBackoff = time.Hour
	giveUp     = 25 * time.Hour
)

// backoff is the wait after the given number of failed attempts.
func backoff(attempts int) time.Duration {
	if attempts < 1 {
		return 0
	}
	if attempts > 12 {
		return maxBackoff
	}
	return min(firstRetry<<(attempts-1), maxBackoff)
}
