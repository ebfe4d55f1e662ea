package affiliate

import (
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Product is one catalogue entry: something an article recommends, and
// where /go/{code} sends the reader. It holds no price or rating: Amazon
// allows prices only fresh from its own API, so none are stored.
type Product struct {
	// Code is the immutable public key and the document _id, so that a
	// redirect is a key lookup on every engine.
	Code  string `bson:"_id" json:"code"`
	Title string `bson:"title" json:"title"`
	// ASIN and Marketplace together name an Amazon product page; URL is
	// the alternative. Exactly one of the two targets is set.
	ASIN        string `bson:"asin,omitempty" json:"asin"`
	Marketplace string `bson:"marketplace,omitempty" json:"marketplace"`
	URL         string `bson:"url,omitempty" json:"url"`
	// ImageURL is referenced, never copied: Amazon's images stay on
	// Amazon's servers.
	ImageURL    string `bson:"imageUrl,omitempty" json:"imageUrl"`
	Description string `bson:"description,omitempty" json:"description"`
	// Merchant is derived from the target ("Amazon" for Amazon stores) so
	// front ends can say where a link goes.
	Merchant string `bson:"merchant" json:"merchant"`
	// Archived products stay in the catalogue, so old links answer 410
	// Gone instead of 404, but no longer redirect.
	Archived bool `bson:"archived" json:"archived"`
	// AutoCreated marks a product the service created for an Amazon link
	// in an article body that no product named yet, so that the link's
	// clicks are counted; an editor may give it a better title.
	AutoCreated bool      `bson:"autoCreated,omitempty" json:"autoCreated"`
	CreatedAt   time.Time `bson:"createdAt" json:"createdAt"`
	UpdatedAt   time.Time `bson:"updatedAt" json:"updatedAt"`
	// Version counts the product's writes and is its ETag; products
	// stored before versions existed are at version 0.
	Version int64 `bson:"version" json:"-"`
}

// ETag is the strong entity tag of this version.
func (p *Product) ETag() string { return web.ETag(p.Version) }

var (
	codePattern = regexp.MustCompile(`^[a-z0-9-]{2,64}$`)
	asinPattern = regexp.MustCompile(`^[A-Z0-9]{10}$`)
)

// ValidCode reports whether code has the form of a product code.
func ValidCode(code string) bool { return codePattern.MatchString(code) }

// Field limits.
const (
	maxTitle       = 200
	maxDescription = 2000
)

// ProductInput is the body of a product creation.
type ProductInput struct {
	Code        string `json:"code"`
	Title       string `json:"title"`
	ASIN        string `json:"asin"`
	Marketplace string `json:"marketplace"`
	URL         string `json:"url"`
	ImageURL    string `json:"imageUrl"`
	Description string `json:"description"`
	Archived    bool   `json:"archived"`
}

// Product turns the input into a product (not yet validated).
func (in ProductInput) Product() *Product {
	return &Product{
		Code: in.Code, Title: strings.TrimSpace(in.Title), ASIN: in.ASIN,
		Marketplace: in.Marketplace, URL: in.URL, ImageURL: in.ImageURL,
		Description: strings.TrimSpace(in.Description), Archived: in.Archived,
	}
}

// productReadOnly are the members of a product's JSON (productView) that
// the server derives or keeps; code is in ProductUpdate, which refuses a
// different one with its own message.
var productReadOnly = web.ReadOnlyMembers("merchant", "autoCreated", "createdAt", "updatedAt", "target", "link").
	With("warnings", web.Volatile) // follow the settings, not the product's version

// ProductUpdate is a JSON merge patch (RFC 7396) of a product: absent
// members stay, null clears an optional member (asin, marketplace, url,
// imageUrl, description), which is how a target is switched from url to
// asin or back. An empty string clears too, as it always has. Null on
// code, title or archived is Invalid: they cannot be cleared. The code
// cannot change either: it is in every published /go/ link.
type ProductUpdate struct {
	Code        web.Optional[string] `json:"code"`
	Title       web.Optional[string] `json:"title"`
	ASIN        web.Optional[string] `json:"asin"`
	Marketplace web.Optional[string] `json:"marketplace"`
	URL         web.Optional[string] `json:"url"`
	ImageURL    web.Optional[string] `json:"imageUrl"`
	Description web.Optional[string] `json:"description"`
	Archived    web.Optional[bool]   `json:"archived"`
}

// Apply changes p in place. A null on a member that cannot be cleared, or
// a code other than p's own, is Invalid and leaves p alone.
func (u *ProductUpdate) Apply(p *Product) error {
	var f problem.Fields
	web.RefuseNull(&f, "code", u.Code)
	web.RefuseNull(&f, "title", u.Title)
	web.RefuseNull(&f, "archived", u.Archived)
	if u.Code.Set && !u.Code.Null && u.Code.Value != p.Code {
		f.Add("code", "cannot change: it is the product's public key in every /go/ link")
	}
	if err := f.Err(); err != nil {
		return err
	}
	u.Title.Merge(&p.Title)
	p.Title = strings.TrimSpace(p.Title)
	u.Description.Merge(&p.Description)
	p.Description = strings.TrimSpace(p.Description)
	u.ASIN.Merge(&p.ASIN)
	u.Marketplace.Merge(&p.Marketplace)
	u.URL.Merge(&p.URL)
	u.ImageURL.Merge(&p.ImageURL)
	u.Archived.Merge(&p.Archived)
	return nil
}

// Validate checks p against the rules and the current allow list, then
// normalizes it: the URL is stored with its host in lower case and the
// merchant is derived. It returns an Invalid error naming every bad field.
func (p *Product) Validate(allowed map[string]bool) error {
	var f problem.Fields
	if !codePattern.MatchString(p.Code) {
		f.Add("code", "must be 2 to 64 lower-case letters, digits or hyphens")
	}
	switch n := utf8.RuneCountInString(p.Title); {
	case n == 0:
		f.Add("title", "is required")
	case n > maxTitle:
		f.Add("title", "must be at most %d characters", maxTitle)
	case hasControl(p.Title):
		f.Add("title", "must not contain control characters")
	}
	if utf8.RuneCountInString(p.Description) > maxDescription {
		f.Add("description", "must be at most %d characters", maxDescription)
	}
	if p.ImageURL != "" {
		if _, err := splitHTTPS(p.ImageURL); err != nil {
			f.Add("imageUrl", "%s", err)
		}
		p.ImageURL = attributeSafe(p.ImageURL)
		if len(p.ImageURL) > MaxURLLength {
			f.Add("imageUrl", "must be at most %d characters once percent-encoded", MaxURLLength)
		}
	}
	p.Merchant = ""
	switch {
	case p.URL != "" && (p.ASIN != "" || p.Marketplace != ""):
		f.Add("url", "give either url or asin with marketplace, not both")
	case p.URL != "":
		u, err := CheckTarget(p.URL, allowed)
		if err != nil {
			f.Add("url", "%s", err)
			break
		}
		p.URL = attributeSafe(u.String())
		p.Merchant = merchantOf(u.Host)
		if len(p.URL) > MaxURLLength {
			f.Add("url", "must be at most %d characters once percent-encoded", MaxURLLength)
		} else if _, err := tagTarget(u, longestTags); err != nil {
			f.Add("url", "%s", err)
		}
	case p.ASIN == "" && p.Marketplace == "":
		f.Add("url", "a target is required: url, or asin with marketplace")
	default:
		if !asinPattern.MatchString(p.ASIN) {
			f.Add("asin", "must be 10 upper-case letters or digits, like B000123456")
		}
		if !marketplaceSet[p.Marketplace] {
			f.Add("marketplace", "must be an Amazon store domain like amazon.com or amazon.co.uk")
		} else if !allowed["www."+p.Marketplace] {
			f.Add("marketplace", "www.%s is not an allowed affiliate host", p.Marketplace)
		}
		p.Merchant = "Amazon"
	}
	return f.Err()
}

// target is where /go/ sends readers: the stored target with the
// marketplace's tag applied, checked again under the current allow list,
// so that a host removed from the list stops redirecting at once.
func (p *Product) target(s *Settings, allowed map[string]bool) (string, error) {
	raw := p.URL
	if raw == "" {
		if !asinPattern.MatchString(p.ASIN) || !marketplaceSet[p.Marketplace] {
			return "", errors.New("no valid asin and marketplace")
		}
		raw = asinTarget(p.ASIN, p.Marketplace)
	}
	u, err := CheckTarget(raw, allowed)
	if err != nil {
		return "", err
	}
	return tagTarget(u, s.Tags)
}

// hasControl reports whether s contains a control character.
func hasControl(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// action is something a caller does with the catalogue, its settings or
// its statistics.
type action string

const (
	manageProducts action = "products"         // list, read, create, change, delete
	readStats      action = "click statistics" // GET /stats/clicks, of one's own articles
	readAllStats   action = "everyone's click statistics"
	configure      action = "affiliate settings" // read and replace the settings
)

// leastRole is who may do what here: the one place that says so. Every
// service method asks it through may, and each route's access rule is
// derived from it (gate). None of it depends on who owns what.
var leastRole = map[action]auth.Role{
	manageProducts: auth.Editor,
	readStats:      auth.Contributor,
	readAllStats:   auth.Editor,
	configure:      auth.Admin,
}

// may checks that p may take act. Errors: Forbidden.
func may(p *auth.Principal, act action) error {
	min, ok := leastRole[act]
	if !ok || !p.AtLeast(min) {
		return problem.New(problem.Forbidden, "%s need the %s role or higher", act, min)
	}
	return nil
}

// gate is the access rule of act's routes, checked before the handler.
func gate(act action) auth.Access { return auth.AtLeast(leastRole[act]) }
