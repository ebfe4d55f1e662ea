package affiliate

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// marketplaces are the Amazon store domains. An associate tag is configured
// per marketplace, and both the bare and the www. form of each are allowed
// affiliate hosts by default.
var marketplaces = []string{
	"amazon.com", "amazon.co.uk", "amazon.de", "amazon.fr", "amazon.it",
	"amazon.es", "amazon.ca", "amazon.com.au", "amazon.co.jp", "amazon.in",
	"amazon.com.mx", "amazon.com.br", "amazon.nl", "amazon.se", "amazon.pl",
	"amazon.sg", "amazon.ae", "amazon.sa", "amazon.com.tr", "amazon.com.be",
	"amazon.ie", "amazon.eg",
}

var marketplaceSet = func() map[string]bool {
	m := make(map[string]bool, len(marketplaces))
	for _, mp := range marketplaces {
		m[mp] = true
	}
	return m
}()

// shortLinkHosts are link shorteners and redirectors. A link through one of
// them hides its destination and its associate tag, so the tag can be
// neither checked nor applied: they are refused as product targets and as
// allowed hosts. The first group is Amazon's own.
var shortLinkHosts = map[string]bool{
	"amzn.to": true, "amzn.eu": true, "amzn.asia": true, "amzn.com": true,
	"www.amzn.com": true, "a.co": true, "amzn.in": true,
	"bit.ly": true, "tinyurl.com": true, "t.co": true, "goo.gl": true,
	"ow.ly": true, "buff.ly": true, "is.gd": true, "rebrand.ly": true,
	"cutt.ly": true, "shorturl.at": true, "tiny.cc": true, "lnkd.in": true,
	"t.ly": true, "rb.gy": true, "geni.us": true, "bl.ink": true,
}

// amazonShortHosts are the shorteners that lead to Amazon: links through
// them are Amazon links even though they cannot be tagged.
var amazonShortHosts = map[string]bool{
	"amzn.to": true, "amzn.eu": true, "amzn.asia": true, "amzn.com": true,
	"www.amzn.com": true, "a.co": true, "amzn.in": true,
}

// DefaultAllowedHosts is the allow list a fresh installation starts with:
// every marketplace, bare and with www.
func DefaultAllowedHosts() []string {
	out := make([]string, 0, 2*len(marketplaces))
	for _, mp := range marketplaces {
		out = append(out, mp, "www."+mp)
	}
	slices.Sort(out)
	return out
}

// marketplaceOf returns the Amazon marketplace a host belongs to, if any:
// the host itself or its www. form, never a longer suffix.
func marketplaceOf(host string) (string, bool) {
	mp := strings.TrimPrefix(host, "www.")
	return mp, marketplaceSet[mp]
}

// merchantOf names the store a target host belongs to, for front ends that
// label outgoing links.
func merchantOf(host string) string {
	if _, ok := marketplaceOf(host); ok {
		return "Amazon"
	}
	return strings.TrimPrefix(host, "www.")
}

// MaxURLLength bounds stored URLs; browsers and Amazon handle far longer,
// but a product link that long is a mistake or an attack.
const MaxURLLength = 2048

// hostChars is what a domain name may be written with. Anything else in
// the authority (percent escapes, brackets, non-ASCII look-alikes) is
// refused rather than normalized, so what was checked is what is emitted.
var hostChars = regexp.MustCompile(`^[A-Za-z0-9.-]+$`)

// errShortLink explains why amzn.to and friends are refused.
var errShortLink = errors.New("short links (amzn.to, a.co, bit.ly, ...) are refused: their associate tag can be neither checked nor applied; use the full product URL from the store")

// checkRawURL applies the character rules every stored URL must meet:
// bounded, ASCII, no whitespace, control characters or backslashes (which
// browsers may read as a slash and so as a different host).
func checkRawURL(raw string) error {
	if raw == "" {
		return errors.New("is required")
	}
	if len(raw) > MaxURLLength {
		return fmt.Errorf("must be at most %d characters", MaxURLLength)
	}
	for i := 0; i < len(raw); i++ {
		switch b := raw[i]; {
		case b <= ' ' || b == 0x7f:
			return errors.New("must not contain spaces or control characters")
		case b == '\\':
			return errors.New("must not contain backslashes")
		case b >= 0x80:
			return errors.New("must be ASCII: percent-encode other characters, and use the store's own domain rather than an internationalised look-alike")
		}
	}
	return nil
}

// splitHTTPS checks that raw is an absolute https URL with a plain host and
// returns that host in lower case. It reads the authority from the raw
// text itself, not from a parser's interpretation of it, so no parser
// difference between this service and a browser can change the host.
func splitHTTPS(raw string) (string, error) {
	if err := checkRawURL(raw); err != nil {
		return "", err
	}
	rest, ok := cutScheme(raw, "https://")
	if !ok {
		if _, ok := cutScheme(raw, "http://"); ok {
			return "", errors.New("must use https")
		}
		return "", errors.New("must be an absolute https URL")
	}
	return checkAuthority(rest)
}

// cutScheme removes scheme (in any case) from the front of raw.
func cutScheme(raw, scheme string) (string, bool) {
	if len(raw) < len(scheme) || !strings.EqualFold(raw[:len(scheme)], scheme) {
		return "", false
	}
	return raw[len(scheme):], true
}

// checkAuthority checks the host part of rest (a URL after its scheme)
// and returns the host in lower case.
func checkAuthority(rest string) (string, error) {
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	switch {
	case authority == "":
		return "", errors.New("must name a host")
	case strings.Contains(authority, "@"):
		return "", errors.New("must not contain user information (user@host)")
	case strings.ContainsAny(authority, "[]"):
		return "", errors.New("has a host with characters a domain name cannot have (IP addresses are not store hosts)")
	case strings.Contains(authority, ":"):
		return "", errors.New("must not name a port")
	case !hostChars.MatchString(authority):
		return "", errors.New("has a host with characters a domain name cannot have")
	}
	return strings.ToLower(authority), nil
}

// CheckLinkURL checks raw as a URL that a page links to or loads (an
// article's cover image, canonical URL, sources and call to action) under
// the rules of product URLs, http allowed besides https: bounded, ASCII,
// no spaces, control characters or backslashes, a plain host without user
// information or port. It returns the form to store, in which the
// characters that could end an HTML attribute, a quoted string or a
// template literal, and the others RFC 3986 never allows in a URL
// (" ' < > ` { } | ^), are percent-encoded: a page that prints the URL
// without escaping it still cannot be broken out of, and links work as
// before. The message of an error is meant for the client.
func CheckLinkURL(raw string) (string, error) {
	if err := checkRawURL(raw); err != nil {
		return "", err
	}
	rest, ok := cutScheme(raw, "https://")
	if !ok {
		rest, ok = cutScheme(raw, "http://")
	}
	if !ok {
		return "", errors.New("must be an absolute http or https URL")
	}
	if _, err := checkAuthority(rest); err != nil {
		return "", err
	}
	out := attributeSafe(raw)
	if len(out) > MaxURLLength {
		return "", fmt.Errorf("must be at most %d characters once percent-encoded", MaxURLLength)
	}
	if _, err := url.Parse(out); err != nil {
		return "", errors.New("is not a valid URL")
	}
	return out, nil
}

// attributeSafe percent-encodes the characters of a URL that could end an
// HTML attribute, a quoted string or a template literal, and the others
// RFC 3986 never allows (" ' < > ` { } | ^): every URL this service stores
// and serves is in that form, so a page that prints one without escaping
// it cannot be broken out of, and the link still goes where it went.
func attributeSafe(raw string) string {
	if !strings.ContainsAny(raw, "\"'<>`{}|^") {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; strings.IndexByte("\"'<>`{}|^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// CheckTarget validates raw as an affiliate target under allowed (exact
// host names) and returns it parsed, host in lower case. The message of an
// error is meant for the client.
func CheckTarget(raw string, allowed map[string]bool) (*url.URL, error) {
	host, err := splitHTTPS(raw)
	if err != nil {
		return nil, err
	}
	if shortLinkHosts[host] {
		return nil, errShortLink
	}
	if !allowed[host] {
		return nil, fmt.Errorf("host %s is not an allowed affiliate host", host)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("is not a valid URL")
	}
	// The raw checks above already rule these out; a parser that sees
	// them anyway means the two readings differ, and then neither is
	// trusted.
	if u.Scheme != "https" || u.Opaque != "" || u.User != nil || !strings.EqualFold(u.Host, host) {
		return nil, errors.New("is not a valid URL")
	}
	u.Host = host
	return u, nil
}

// tagTarget applies the marketplace's tag to u and returns the URL the
// service sends readers to. Tagging re-encodes the query, which can grow
// it past what a target may be (FuzzTagLink found a query of 700
// apostrophes, FuzzProductTarget one of 1,900 asterisks): such a URL
// cannot carry the tag, and is refused rather than sent untagged.
func tagTarget(u *url.URL, tags map[string]string) (string, error) {
	applyTag(u, tags)
	out := u.String()
	if len(out) > MaxURLLength {
		return "", fmt.Errorf("must be at most %d characters once its query is re-encoded with the associate tag", MaxURLLength)
	}
	return out, nil
}

// longestTags tags every marketplace with the longest tag the settings
// accept, so that a product is checked at save against any tag it may get.
var longestTags = func() map[string]string {
	m := make(map[string]string, len(marketplaces))
	for _, mp := range marketplaces {
		m[mp] = strings.Repeat("x", maxTagLength)
	}
	return m
}()

// applyTag sets the associate tag of u's marketplace, replacing any tag the
// URL already carries (someone else's, or an old one of ours). With no tag
// configured for the marketplace a foreign tag is still removed: the
// service never sends readers out under another associate's ID. Hosts that
// are not Amazon marketplaces are left as they are.
func applyTag(u *url.URL, tags map[string]string) {
	mp, ok := marketplaceOf(u.Host)
	if !ok {
		return
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "tag") {
			delete(q, k)
		}
	}
	if tag := tags[mp]; tag != "" {
		q.Set("tag", tag)
	}
	u.RawQuery = q.Encode()
}

// asinTarget is the product page of an ASIN on a marketplace.
func asinTarget(asin, marketplace string) string {
	return "https://www." + marketplace + "/dp/" + asin
}

// RelFor returns the rel value of an affiliate link: the tokens Google and
// the FTC expect (sponsored, nofollow) and noopener, plus whatever else the
// author wrote, minus noreferrer and no-referrer, which would hide the
// referring site that Amazon attributes the sale to.
func RelFor(existing string) string {
	out := []string{"sponsored", "nofollow", "noopener"}
	for _, tok := range strings.Fields(strings.ToLower(existing)) {
		if tok == "noreferrer" || tok == "no-referrer" || slices.Contains(out, tok) {
			continue
		}
		out = append(out, tok)
	}
	return strings.Join(out, " ")
}

// isAmazonHost reports whether host is an Amazon store or one of Amazon's
// short-link domains.
func isAmazonHost(host string) bool {
	if _, ok := marketplaceOf(host); ok {
		return true
	}
	return amazonShortHosts[host]
}

// asinPath finds the ASIN in the paths of Amazon product pages:
// /dp/ASIN, /Some-Title/dp/ASIN, /gp/product/ASIN, /gp/aw/d/ASIN and
// /exec/obidos/ASIN/ASIN.
var asinPath = regexp.MustCompile(`(?:^|/)(?:dp|gp/product|gp/aw/d|exec/obidos/ASIN)/([A-Z0-9]{10})(?:[/?]|$)`)

// AmazonProductOf returns the marketplace and ASIN of a link to an Amazon
// product page, and false for any other link (a search, a store front, a
// short link): only a product page names the product a click is for.
func AmazonProductOf(href string) (marketplace, asin string, ok bool) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", false
	}
	mp, ok := marketplaceOf(strings.ToLower(u.Hostname()))
	if !ok {
		return "", "", false
	}
	m := asinPath.FindStringSubmatch(u.EscapedPath())
	if m == nil {
		return "", "", false
	}
	return mp, m[1], true
}

// autoCode is the code of the product created for a body link to the ASIN
// on the marketplace: derived from both, so that every instance creating
// it at once inserts the same _id and exactly one insert wins, the only
// race the embedded engine arbitrates (see internal/mongodb).
func autoCode(marketplace, asin string) string {
	return strings.ReplaceAll(marketplace, ".", "-") + "-" + strings.ToLower(asin)
}

// MarketplaceOfLink returns the Amazon marketplace an http(s) link goes
// to, and false for a link anywhere else.
func MarketplaceOfLink(href string) (string, bool) {
	host, ok := linkHost(href)
	if !ok {
		return "", false
	}
	return marketplaceOf(host)
}
