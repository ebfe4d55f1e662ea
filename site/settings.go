// Package site holds the site settings: the one document that names the
// site (its name, description, address, language, logo and publisher)
// for everything the service renders about it, the RSS feed and the
// articles' JSON-LD first. Every instance keeps it in memory and follows
// its change feed, so a change shows everywhere within a poll.
package site

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// DefaultLocale is the locale of a site that never set one.
const DefaultLocale = "en"

// Limits on the settings' text.
const (
	MaxName        = 100
	MaxDescription = 500
	maxLocale      = 35
)

// Settings are the site settings as every reader of them sees them:
// with the defaults filled in where nothing was set.
type Settings struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	URL         string    `json:"url"`
	Locale      string    `json:"locale"`
	LogoURL     string    `json:"logoUrl"`
	Publisher   Publisher `json:"publisher"`
	// UpdatedAt is when an admin last changed them; nil before the
	// first change.
	UpdatedAt *time.Time `json:"updatedAt"`
	// Version counts the changes (0: never set); the ETag is made of it.
	Version int64 `json:"-"`
}

// Publisher is the organization that publishes the site, for the
// articles' JSON-LD. An empty Name means none is declared.
type Publisher struct {
	Name    string `json:"name"`
	LogoURL string `json:"logoUrl"`
}

// ETag is the settings' strong validator, as articles have theirs.
func (s Settings) ETag() string { return web.ETag(s.Version) }

// Defaults are the settings of a site that never set any: named after the
// host of its public URL (what the feed was titled before there were
// settings), at that URL, in English.
func Defaults(publicURL string) Settings {
	pub := strings.TrimRight(publicURL, "/")
	host := strings.TrimPrefix(strings.TrimPrefix(pub, "https://"), "http://")
	return Settings{Name: host, URL: pub, Locale: DefaultLocale}
}

// Patch is the body of PATCH /api/v1/settings/site, a JSON merge patch
// (RFC 7396): an absent member is left as it is, null returns it to its
// default (name, url, locale) or clears it (the others). updatedAt is the
// server's (readOnly).
type Patch struct {
	Name        web.Optional[string]         `json:"name"`
	Description web.Optional[string]         `json:"description"`
	URL         web.Optional[string]         `json:"url"`
	Locale      web.Optional[string]         `json:"locale"`
	LogoURL     web.Optional[string]         `json:"logoUrl"`
	Publisher   web.Optional[PublisherPatch] `json:"publisher"`
}

// readOnly is the member of Settings that a PATCH does not take: a
// fetched body sent back carries it, and it must be unchanged.
var readOnly = web.ReadOnlyMembers("updatedAt")

// PublisherPatch is the merge patch of Publisher.
type PublisherPatch struct {
	Name    web.Optional[string] `json:"name"`
	LogoURL web.Optional[string] `json:"logoUrl"`
}

// apply merges p into cur, whose unset members hold def's values, checks
// the result and returns it. Every bad member is named in one Invalid
// error.
func (p *Patch) apply(cur, def Settings) (Settings, error) {
	var f problem.Fields
	next := cur
	orDefault := func(o web.Optional[string], dst *string, dflt string) {
		if o.Null {
			*dst = dflt
		} else if o.Set {
			*dst = strings.TrimSpace(o.Value)
		}
	}
	orDefault(p.Name, &next.Name, def.Name)
	orDefault(p.Description, &next.Description, "")
	orDefault(p.URL, &next.URL, def.URL)
	orDefault(p.Locale, &next.Locale, def.Locale)
	orDefault(p.LogoURL, &next.LogoURL, "")
	if p.Publisher.Null {
		next.Publisher = Publisher{}
	} else if p.Publisher.Set {
		orDefault(p.Publisher.Value.Name, &next.Publisher.Name, "")
		orDefault(p.Publisher.Value.LogoURL, &next.Publisher.LogoURL, "")
	}

	checkText(&f, "name", next.Name, MaxName, true)
	checkText(&f, "description", next.Description, MaxDescription, false)
	checkText(&f, "publisher.name", next.Publisher.Name, MaxName, false)
	// The configured public URL is the default address and was checked at
	// start-up (it may name a port, which links may not): sent back, it
	// is accepted as it is.
	if next.URL != def.URL {
		checkURL(&f, "url", &next.URL, true)
	}
	checkURL(&f, "logoUrl", &next.LogoURL, false)
	checkURL(&f, "publisher.logoUrl", &next.Publisher.LogoURL, false)
	if msg := localeProblem(next.Locale); msg != "" {
		f.Add("locale", "%s", msg)
	}
	if err := f.Err(); err != nil {
		return Settings{}, err
	}
	return next, nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

// checkText bounds a one-line text and refuses control characters.
func checkText(f *problem.Fields, field, s string, max int, required bool) {
	switch {
	case s == "" && required:
		f.Add(field, "is required (null returns it to its default)")
	case utf8.RuneCountInString(s) > max:
		f.Add(field, "must be at most %d characters", max)
	case strings.ContainsFunc(s, unicode.IsControl):
		f.Add(field, "must not contain control characters")
	}
}

// checkURL applies the rule of every URL a page links to or loads
// (affiliate.CheckLinkURL: absolute http or https, a plain host, no port
// or user information) and puts *raw in its stored form.
func checkURL(f *problem.Fields, field string, raw *string, required bool) {
	if *raw == "" {
		if required {
			f.Add(field, "is required (null returns it to its default)")
		}
		return
	}
	u, err := affiliate.CheckLinkURL(*raw)
	if err != nil {
		f.Add(field, "%s", err)
		return
	}
	*raw = u
}

// localePattern is what a BCP 47 language tag looks like: a language of
// two or three letters, then subtags of letters and digits (script,
// region, variants), like en, en-GB, pt-BR or zh-Hant-TW.
var localePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// localeProblem says what is wrong with a locale, or "".
func localeProblem(s string) string {
	switch {
	case s == "":
		return "is required (null returns it to " + DefaultLocale + ")"
	case len(s) > maxLocale || !localePattern.MatchString(s):
		return "must be a BCP 47 language tag like en, en-GB or pt-BR"
	}
	return ""
}
