package affiliate

import (
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// DefaultDisclosure is Amazon's required statement for associates.
const DefaultDisclosure = "As an Amazon Associate I earn from qualifying purchases."

// Settings are the site-wide affiliate settings, one document shared by
// every instance.
type Settings struct {
	// Tags maps a marketplace (amazon.com) to its associate tag.
	Tags map[string]string `json:"tags"`
	// DisclosureText is shown before the first affiliate link.
	DisclosureText string `json:"disclosureText"`
	// AllowedHosts are the exact host names product targets may use.
	AllowedHosts []string `json:"allowedHosts"`
	// LinkMode is how the Amazon links of article bodies are counted:
	// LinkModePing (the default) keeps the tagged store URL as href and
	// counts follows by the HTML ping attribute; LinkModeRedirect sends
	// them through /go/ instead, which counts every browser but hides the
	// store behind this site's address until the redirect.
	LinkMode  string    `json:"linkMode"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Version counts the writes of the settings and is their ETag.
	Version int64 `json:"-"`
}

// The link modes of Settings.LinkMode.
const (
	LinkModePing     = "ping"
	LinkModeRedirect = "redirect"
)

// ETag is the strong entity tag of this version.
func (s *Settings) ETag() string { return web.ETag(s.Version) }

// settingsReadOnly is the member of the settings' JSON that PUT and
// PATCH do not take.
var settingsReadOnly = web.ReadOnlyMembers("updatedAt")

// SettingsUpdate is a JSON merge patch (RFC 7396) of the settings: absent
// members stay. Tags merge member by member, so one marketplace's tag
// changes alone, and null on one removes it; allowedHosts, a list, is
// replaced whole. Null on tags, disclosureText or allowedHosts is
// Invalid: the settings always have them.
type SettingsUpdate struct {
	Tags           web.Optional[map[string]*string] `json:"tags"`
	DisclosureText web.Optional[string]             `json:"disclosureText"`
	AllowedHosts   web.Optional[[]string]           `json:"allowedHosts"`
	LinkMode       web.Optional[string]             `json:"linkMode"`
}

// Apply changes st in place (not yet validated). A null on a member that
// cannot be cleared is Invalid and leaves st alone.
func (u *SettingsUpdate) Apply(st *Settings) error {
	var f problem.Fields
	web.RefuseNull(&f, "tags", u.Tags)
	web.RefuseNull(&f, "disclosureText", u.DisclosureText)
	web.RefuseNull(&f, "allowedHosts", u.AllowedHosts)
	web.RefuseNull(&f, "linkMode", u.LinkMode)
	if err := f.Err(); err != nil {
		return err
	}
	if u.Tags.Set {
		tags := maps.Clone(st.Tags)
		if tags == nil {
			tags = map[string]string{}
		}
		for mp, tag := range u.Tags.Value {
			if tag == nil {
				delete(tags, mp)
			} else {
				tags[mp] = *tag
			}
		}
		st.Tags = tags
	}
	u.DisclosureText.Merge(&st.DisclosureText)
	u.AllowedHosts.Merge(&st.AllowedHosts)
	u.LinkMode.Merge(&st.LinkMode)
	return nil
}

// DefaultSettings are what a fresh installation starts with, the tags
// coming from configuration (CMS_AMAZON_TAGS).
func DefaultSettings(tags map[string]string) Settings {
	t := make(map[string]string, len(tags))
	maps.Copy(t, tags)
	return Settings{Tags: t, DisclosureText: DefaultDisclosure, AllowedHosts: DefaultAllowedHosts(), LinkMode: LinkModePing}
}

// TagProblem says what is wrong with tag as the associate tag of the
// marketplace mp, or "" when nothing is: the one rule for the settings API
// and CMS_AMAZON_TAGS.
func TagProblem(mp, tag string) string {
	switch {
	case strings.HasPrefix(mp, "www.") && marketplaceSet[strings.TrimPrefix(mp, "www.")]:
		return "name the marketplace without www., like " + strings.TrimPrefix(mp, "www.")
	case !marketplaceSet[mp]:
		return "is not an Amazon marketplace; use a store domain like amazon.com or amazon.co.uk"
	case !tagPattern.MatchString(tag):
		return "must be an associate tag like mysite-20 (letters, digits, - and _)"
	}
	return ""
}

var (
	tagPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,` + strconv.Itoa(maxTagLength) + `}$`)
	hostPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
)

// Limits on the settings document.
const (
	maxTagLength    = 64
	maxDisclosure   = 1000
	maxAllowedHosts = 200
)

// Validate checks the settings and normalizes them: hosts in lower case,
// sorted, without duplicates. It returns an Invalid error naming each bad
// entry.
func (s *Settings) Validate() error {
	var f problem.Fields
	if s.Tags == nil {
		s.Tags = map[string]string{}
	}
	for _, mp := range slices.Sorted(maps.Keys(s.Tags)) {
		if msg := TagProblem(mp, s.Tags[mp]); msg != "" {
			f.Add("tags."+mp, "%s", msg)
		}
	}
	text := strings.TrimSpace(s.DisclosureText)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		f.Add("disclosureText", "is required: Amazon requires a disclosure")
	case n > maxDisclosure:
		f.Add("disclosureText", "must be at most %d characters", maxDisclosure)
	case hasControl(text):
		f.Add("disclosureText", "must not contain control characters")
	}
	s.DisclosureText = text
	if len(s.AllowedHosts) == 0 {
		f.Add("allowedHosts", "must list at least one host")
	}
	if len(s.AllowedHosts) > maxAllowedHosts {
		f.Add("allowedHosts", "must list at most %d hosts", maxAllowedHosts)
	}
	hosts := make([]string, 0, len(s.AllowedHosts))
	for _, h := range s.AllowedHosts {
		h = strings.ToLower(h)
		_, ipErr := netip.ParseAddr(h)
		switch {
		case shortLinkHosts[h]:
			f.Add("allowedHosts", "%s: %s", h, errShortLink)
		case ipErr == nil:
			f.Add("allowedHosts", "%s: must be a domain name, not an IP address", h)
		case len(h) > 253 || !hostPattern.MatchString(h):
			f.Add("allowedHosts", "%q is not a host name like www.amazon.com (no scheme, port or path)", h)
		default:
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	s.AllowedHosts = slices.Compact(hosts)
	switch s.LinkMode {
	case "":
		s.LinkMode = LinkModePing
	case LinkModePing, LinkModeRedirect:
	default:
		f.Add("linkMode", "must be %s or %s", LinkModePing, LinkModeRedirect)
	}
	return f.Err()
}

// allowSet is the allow list as a set.
func (s *Settings) allowSet() map[string]bool {
	m := make(map[string]bool, len(s.AllowedHosts))
	for _, h := range s.AllowedHosts {
		m[h] = true
	}
	return m
}
