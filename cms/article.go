// Package cms holds articles, the authoring side: create, edit, review,
// schedule, publish and revisions, with the rules of who may do which
// (permissions.go) and one HTML pipeline every body passes through on
// every write, so what is stored is what may be served. What readers see is
// built from it by package content, which reads articles only through the
// exported read API in changes.go and the OnChange listener.
package cms

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/internal/problem"
)

// Limits on article fields. They keep one article inside a 16 MiB
// database document even with its revision's copy of the previous state
// and a published article's live copy (staged.go): an article holds at
// most two copies of body and HTML (10 MiB), a revision three (15 MiB,
// the previous version's live copy without its bodies).
const (
	MaxTitle       = 200
	MaxSummary     = 500
	MaxBody        = 2 << 20 // bytes, after JSON decoding
	MaxBodyHTML    = 3 << 20 // bytes of rendered HTML (Markdown can expand)
	MaxTags        = 20
	MaxTag         = 50
	MaxCategory    = 100
	MaxSources     = 50
	MaxProducts    = 50
	MaxURL         = affiliate.MaxURLLength // one rule for every stored URL
	MaxShortText   = 300                    // names, alt texts, source titles
	MaxDescription = 500
	MaxNote        = 500
)

// Status is where an article is in the editorial workflow. Only the
// workflow operations change it; create and patch bodies cannot name it.
type Status string

// The statuses. Only published articles are served by the content API.
const (
	StatusDraft     Status = "draft"
	StatusInReview  Status = "in_review"
	StatusScheduled Status = "scheduled"
	StatusPublished Status = "published"
	StatusArchived  Status = "archived"
)

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusDraft, StatusInReview, StatusScheduled, StatusPublished, StatusArchived:
		return true
	}
	return false
}

// BodyFormat says how Body is written; the pipeline turns either into HTML.
type BodyFormat string

// The body formats. HTML is the default because most publishers paste from
// an editor that produces it.
const (
	FormatHTML     BodyFormat = "html"
	FormatMarkdown BodyFormat = "markdown"
)

// Person names a user in an article: its author, who changed it. The name
// is copied at the time so history reads right after a user is renamed.
type Person struct {
	ID   string `json:"id" bson:"id"`
	Name string `json:"name" bson:"name"`
}

// CoverImage is the article's lead picture: an item of the media library
// (MediaID; the content API then serves its sizes) or an image elsewhere
// (URL).
type CoverImage struct {
	MediaID string `json:"mediaId,omitempty" bson:"mediaId,omitempty"`
	URL     string `json:"url" bson:"url"`
	Alt     string `json:"alt" bson:"alt"`
}

// SEO overrides what search engines and social cards show.
type SEO struct {
	Title        string `json:"title" bson:"title"`
	Description  string `json:"description" bson:"description"`
	CanonicalURL string `json:"canonicalUrl" bson:"canonicalUrl"`
}

// MedicalReview records who checked a health article and when, which
// readers and search engines look for on medical topics. ReviewedAt is an
// RFC 3339 timestamp (a plain YYYY-MM-DD date is accepted and stored as
// midnight UTC).
type MedicalReview struct {
	ReviewerName        string `json:"reviewerName" bson:"reviewerName"`
	ReviewerCredentials string `json:"reviewerCredentials" bson:"reviewerCredentials"`
	ReviewedAt          string `json:"reviewedAt" bson:"reviewedAt"`
}

// Source is a reference the article cites.
type Source struct {
	Title string `json:"title" bson:"title"`
	URL   string `json:"url" bson:"url"`
}

// CTA is the call to action at the end of an article, such as "Schedule an
// Appointment" with a booking link, a phone number, or both.
type CTA struct {
	Label string `json:"label" bson:"label"`
	URL   string `json:"url" bson:"url"`
	Phone string `json:"phone" bson:"phone"`
}

// ProductRef lists an affiliate product (by its public code) at the end of
// the article, with the author's note on it.
type ProductRef struct {
	Code string `json:"code" bson:"code"`
	Note string `json:"note" bson:"note"`
}

// Content is everything an author writes: the create body, what a patch
// changes and what a revision restores. Workflow and derived fields live on
// Article.
type Content struct {
	Title         string         `json:"title" bson:"title"`
	Slug          string         `json:"slug" bson:"slug"`
	Summary       string         `json:"summary" bson:"summary"`
	Body          string         `json:"body" bson:"body"`
	BodyFormat    BodyFormat     `json:"bodyFormat" bson:"bodyFormat"`
	Tags          []string       `json:"tags" bson:"tags"`
	Category      string         `json:"category" bson:"category"`
	CoverImage    *CoverImage    `json:"coverImage" bson:"coverImage,omitempty"`
	SEO           *SEO           `json:"seo" bson:"seo,omitempty"`
	MedicalReview *MedicalReview `json:"medicalReview" bson:"medicalReview,omitempty"`
	Sources       []Source       `json:"sources" bson:"sources"`
	CTA           *CTA           `json:"cta" bson:"cta,omitempty"`
	Products      []ProductRef   `json:"products" bson:"products"`
}

// BodyLink is an Amazon link of an article's sanitized HTML, derived by
// the pipeline: where its href value lies in the HTML (the bytes
// [Start, End), escaped as in an attribute), its 1-based position among
// the article's Amazon links, its store and ASIN, and the catalogue
// product its follows count for ("" for a link to no product page).
type BodyLink struct {
	Position    int    `json:"position" bson:"position"`
	Product     string `json:"product,omitempty" bson:"product,omitempty"`
	Marketplace string `json:"marketplace" bson:"marketplace"`
	ASIN        string `json:"asin,omitempty" bson:"asin,omitempty"`
	Start       int    `json:"start" bson:"start"`
	End         int    `json:"end" bson:"end"`
}

// Transition records a workflow step: who moved the article, from where to
// where, and when.
type Transition struct {
	From Status    `json:"from" bson:"from"`
	To   Status    `json:"to" bson:"to"`
	By   Person    `json:"by" bson:"by"`
	At   time.Time `json:"at" bson:"at"`
}

// Article is a stored article: the author's content, the HTML derived from
// it, and its place in the workflow. Version grows by one with every change
// and is the ETag, so a client can never overwrite a version it has not
// seen.
type Article struct {
	ID      string `json:"id" bson:"_id"`
	Content `bson:",inline"`

	// Derived on every write by the pipeline.
	BodyHTML           string `json:"bodyHtml" bson:"bodyHtml"`
	SanitizerVersion   int    `json:"sanitizerVersion" bson:"sanitizerVersion"`
	Excerpt            string `json:"excerpt" bson:"excerpt"`
	WordCount          int    `json:"wordCount" bson:"wordCount"`
	ReadingTimeMinutes int    `json:"readingTimeMinutes" bson:"readingTimeMinutes"`
	HasAffiliateLinks  bool   `json:"hasAffiliateLinks" bson:"hasAffiliateLinks"`
	// BodyLinks are the Amazon links of BodyHTML (since SanitizerVersion
	// 4), which the content API serves with the associate tags configured
	// at the time of the request.
	BodyLinks []BodyLink `json:"-" bson:"bodyLinks,omitempty"`
	// The authoring list's filter keys (deriveKeys): the distinct folded
	// words of what search finds (SearchDoc), which q matches, so that
	// "creme" finds "Crème" in a draft's body; and the slug of the
	// author's name, which author= may name.
	SearchWords []string `json:"-" bson:"searchWords,omitempty"`
	AuthorSlug  string   `json:"-" bson:"authorSlug,omitempty"`

	Status         Status      `json:"status" bson:"status"`
	Version        int64       `json:"version" bson:"version"`
	Author         Person      `json:"author" bson:"author"`
	CreatedAt      time.Time   `json:"createdAt" bson:"createdAt"`
	UpdatedAt      time.Time   `json:"updatedAt" bson:"updatedAt"`
	UpdatedBy      Person      `json:"updatedBy" bson:"updatedBy"`
	ChangedFields  []string    `json:"changedFields" bson:"changedFields"`
	PublishAt      *time.Time  `json:"publishAt" bson:"publishAt"`
	PublishedAt    *time.Time  `json:"publishedAt" bson:"publishedAt"`
	LastTransition *Transition `json:"lastTransition" bson:"lastTransition,omitempty"`

	// Staged changes of a published article (staged.go). Live is the
	// version readers get while the fields above hold a draft of changes
	// not yet published; nil while the fields above are what readers get.
	// The flags are derived by settle on every write.
	Live                  *Published `json:"-" bson:"live,omitempty"`
	HasUnpublishedChanges bool       `json:"hasUnpublishedChanges" bson:"hasUnpublishedChanges,omitempty"`
	PublishedVersion      *int64     `json:"publishedVersion" bson:"publishedVersion,omitempty"`
	ChangesInReview       bool       `json:"changesInReview" bson:"changesInReview,omitempty"`
}

// ETag is the strong entity tag of this version.
func (a *Article) ETag() string { return fmt.Sprintf(`"%d"`, a.Version) }

// Clone returns a deep copy, so a change can be prepared without touching
// the version it started from (which becomes the revision).
func (a *Article) Clone() *Article {
	b := *a
	b.Content = a.Content.clone()
	b.ChangedFields = slices.Clone(a.ChangedFields)
	b.SearchWords = slices.Clone(a.SearchWords)
	b.BodyLinks = slices.Clone(a.BodyLinks)
	if a.PublishAt != nil {
		t := *a.PublishAt
		b.PublishAt = &t
	}
	if a.PublishedAt != nil {
		t := *a.PublishedAt
		b.PublishedAt = &t
	}
	if a.LastTransition != nil {
		t := *a.LastTransition
		b.LastTransition = &t
	}
	if a.PublishedVersion != nil {
		v := *a.PublishedVersion
		b.PublishedVersion = &v
	}
	if a.Live != nil {
		l := *a.Live
		l.Content = a.Live.Content.clone()
		l.BodyLinks = slices.Clone(a.Live.BodyLinks)
		b.Live = &l
	}
	return &b
}

func (c Content) clone() Content {
	c.Tags = slices.Clone(c.Tags)
	c.Sources = slices.Clone(c.Sources)
	c.Products = slices.Clone(c.Products)
	if c.CoverImage != nil {
		v := *c.CoverImage
		c.CoverImage = &v
	}
	if c.SEO != nil {
		v := *c.SEO
		c.SEO = &v
	}
	if c.MedicalReview != nil {
		v := *c.MedicalReview
		c.MedicalReview = &v
	}
	if c.CTA != nil {
		v := *c.CTA
		c.CTA = &v
	}
	return c
}

// Normalize puts content into its stored form: trimmed text, lower-case
// unique tags, URLs percent-encoded where they must be, the default body
// format, and empty objects and lists as nil or empty. It never rejects
// anything; Validate does. A list longer than its limit is left as it is:
// the work would be wasted on content Validate refuses by its length, and
// removing duplicates must not make an over-long list acceptable.
func (c *Content) Normalize() {
	c.Title = strings.TrimSpace(c.Title)
	c.Slug = strings.TrimSpace(c.Slug)
	c.Summary = strings.TrimSpace(c.Summary)
	c.Category = strings.TrimSpace(c.Category)
	if c.BodyFormat == "" {
		c.BodyFormat = FormatHTML
	}
	if len(c.Tags) <= MaxTags {
		tags := make([]string, 0, len(c.Tags))
		seen := make(map[string]bool, len(c.Tags))
		for _, t := range c.Tags {
			t = strings.ToLower(strings.TrimSpace(t))
			if !seen[t] {
				seen[t] = true
				tags = append(tags, t)
			}
		}
		c.Tags = tags
	}
	if c.CoverImage != nil {
		c.CoverImage.MediaID = strings.TrimSpace(c.CoverImage.MediaID)
		c.CoverImage.URL = normalizeURL(c.CoverImage.URL)
		c.CoverImage.Alt = strings.TrimSpace(c.CoverImage.Alt)
		if *c.CoverImage == (CoverImage{}) {
			c.CoverImage = nil
		}
	}
	if c.SEO != nil {
		c.SEO.Title = strings.TrimSpace(c.SEO.Title)
		c.SEO.Description = strings.TrimSpace(c.SEO.Description)
		c.SEO.CanonicalURL = normalizeURL(c.SEO.CanonicalURL)
		if *c.SEO == (SEO{}) {
			c.SEO = nil
		}
	}
	if m := c.MedicalReview; m != nil {
		m.ReviewerName = strings.TrimSpace(m.ReviewerName)
		m.ReviewerCredentials = strings.TrimSpace(m.ReviewerCredentials)
		m.ReviewedAt = strings.TrimSpace(m.ReviewedAt)
		if t, err := ParseReviewedAt(m.ReviewedAt); err == nil {
			m.ReviewedAt = t.Format(time.RFC3339)
		}
		if *m == (MedicalReview{}) {
			c.MedicalReview = nil
		}
	}
	if c.CTA != nil {
		c.CTA.Label = strings.TrimSpace(c.CTA.Label)
		c.CTA.URL = normalizeURL(c.CTA.URL)
		c.CTA.Phone = strings.TrimSpace(c.CTA.Phone)
		if *c.CTA == (CTA{}) {
			c.CTA = nil
		}
	}
	if c.Sources == nil {
		c.Sources = []Source{}
	}
	for i := range c.Sources {
		if len(c.Sources) > MaxSources {
			break
		}
		c.Sources[i].Title = strings.TrimSpace(c.Sources[i].Title)
		c.Sources[i].URL = normalizeURL(c.Sources[i].URL)
	}
	if c.Products == nil {
		c.Products = []ProductRef{}
	}
	for i := range c.Products {
		if len(c.Products) > MaxProducts {
			break
		}
		c.Products[i].Code = strings.TrimSpace(c.Products[i].Code)
		c.Products[i].Note = strings.TrimSpace(c.Products[i].Note)
	}
}

var (
	productCodePattern = regexp.MustCompile(`^[a-z0-9-]{2,64}$`)
	phonePattern       = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{2,28}[0-9]$`)
)

// Validate checks normalized content against the limits, naming every bad
// field (with its path, like "sources[2].url") in one Invalid error. now
// is the clock's time, for the rule that a medical review cannot lie in
// the future. The slug may be empty: the service derives one.
func (c *Content) Validate(now time.Time) error {
	var f problem.Fields
	switch {
	case c.Title == "":
		f.Add("title", "required")
	case utf8.RuneCountInString(c.Title) > MaxTitle:
		f.Add("title", "at most %d characters", MaxTitle)
	case hasControl(c.Title, false):
		f.Add("title", "must not contain control characters")
	}
	if c.Slug != "" {
		if err := CheckSlug(c.Slug); err != "" {
			f.Add("slug", "%s", err)
		}
	}
	if utf8.RuneCountInString(c.Summary) > MaxSummary {
		f.Add("summary", "at most %d characters", MaxSummary)
	} else if hasControl(c.Summary, true) {
		f.Add("summary", "must not contain control characters")
	}
	if len(c.Body) > MaxBody {
		f.Add("body", "at most %d bytes", MaxBody)
	}
	if c.BodyFormat != FormatHTML && c.BodyFormat != FormatMarkdown {
		f.Add("bodyFormat", "must be html or markdown")
	}
	if len(c.Tags) > MaxTags {
		f.Add("tags", "at most %d tags", MaxTags)
	}
	for i, t := range c.Tags {
		if len(c.Tags) > MaxTags {
			break // one error for the list, not one per item
		}
		if !ValidTag(t) {
			f.Add(fmt.Sprintf("tags[%d]", i), "must be 1 to %d characters of a-z, 0-9 and single hyphens", MaxTag)
		}
	}
	if utf8.RuneCountInString(c.Category) > MaxCategory {
		f.Add("category", "at most %d characters", MaxCategory)
	} else if hasControl(c.Category, false) {
		f.Add("category", "must not contain control characters")
	}
	if img := c.CoverImage; img != nil {
		switch {
		case img.MediaID != "" && img.URL != "":
			f.Add("coverImage", "give either mediaId (an item of the media library) or url, not both")
		case img.MediaID != "":
			if !ValidID(img.MediaID) {
				f.Add("coverImage.mediaId", "must be the ID of a media item")
			}
		default:
			checkURL(&f, "coverImage.url", img.URL, true)
		}
		checkText(&f, "coverImage.alt", img.Alt, MaxShortText)
	}
	if s := c.SEO; s != nil {
		checkText(&f, "seo.title", s.Title, MaxTitle)
		checkText(&f, "seo.description", s.Description, MaxDescription)
		checkURL(&f, "seo.canonicalUrl", s.CanonicalURL, false)
	}
	if m := c.MedicalReview; m != nil {
		if m.ReviewerName == "" {
			f.Add("medicalReview.reviewerName", "required")
		}
		checkText(&f, "medicalReview.reviewerName", m.ReviewerName, MaxShortText)
		checkText(&f, "medicalReview.reviewerCredentials", m.ReviewerCredentials, MaxShortText)
		if m.ReviewedAt == "" {
			f.Add("medicalReview.reviewedAt", "required")
		} else if t, err := ParseReviewedAt(m.ReviewedAt); err != nil {
			f.Add("medicalReview.reviewedAt", "must be an RFC 3339 timestamp or a YYYY-MM-DD date")
		} else if t.After(now) {
			f.Add("medicalReview.reviewedAt", "cannot be in the future")
		}
	}
	if len(c.Sources) > MaxSources {
		f.Add("sources", "at most %d sources", MaxSources)
	}
	for i, s := range c.Sources {
		if len(c.Sources) > MaxSources {
			break
		}
		name := fmt.Sprintf("sources[%d]", i)
		if s.Title == "" {
			f.Add(name+".title", "required")
		}
		checkText(&f, name+".title", s.Title, MaxShortText)
		checkURL(&f, name+".url", s.URL, true)
	}
	if cta := c.CTA; cta != nil {
		if cta.Label == "" {
			f.Add("cta.label", "required")
		}
		checkText(&f, "cta.label", cta.Label, 100)
		checkURL(&f, "cta.url", cta.URL, false)
		if cta.Phone != "" && !phonePattern.MatchString(cta.Phone) {
			f.Add("cta.phone", "must be a phone number of digits, spaces and + ( ) . -")
		}
		if cta.URL == "" && cta.Phone == "" {
			f.Add("cta", "needs a url, a phone number, or both")
		}
	}
	if len(c.Products) > MaxProducts {
		f.Add("products", "at most %d products", MaxProducts)
	}
	seen := map[string]bool{}
	for i, p := range c.Products {
		if len(c.Products) > MaxProducts {
			break
		}
		name := fmt.Sprintf("products[%d]", i)
		switch {
		case !productCodePattern.MatchString(p.Code):
			f.Add(name+".code", "must be 2 to 64 characters of a-z, 0-9 and -")
		case seen[p.Code]:
			f.Add(name+".code", "is listed twice")
		}
		seen[p.Code] = true
		checkText(&f, name+".note", p.Note, MaxNote)
	}
	return f.Err()
}

// ParseReviewedAt accepts an RFC 3339 timestamp or a calendar date.
func ParseReviewedAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	return t.UTC(), err
}

func checkText(f *problem.Fields, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		f.Add(field, "at most %d characters", max)
	} else if hasControl(s, false) {
		f.Add(field, "must not contain control characters")
	}
}

// normalizeURL trims raw and, when it is a URL checkURL accepts, puts it
// in its stored, percent-encoded form (see affiliate.CheckLinkURL).
func normalizeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if u, err := affiliate.CheckLinkURL(raw); err == nil {
		return u
	}
	return raw
}

// checkURL accepts what product URLs accept, http besides https: anything
// else in a link a front end renders (javascript:, data:, a quote that
// ends the attribute) would be an injection.
func checkURL(f *problem.Fields, field, raw string, required bool) {
	if raw == "" {
		if required {
			f.Add(field, "required")
		}
		return
	}
	if _, err := affiliate.CheckLinkURL(raw); err != nil {
		f.Add(field, "%s", err)
	}
}

// hasControl reports control characters; multiline text may keep newlines
// and tabs.
func hasControl(s string, multiline bool) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return unicode.IsControl(r)
	})
}

// contentFields maps each Content field to its JSON name, for reporting
// which fields a change touched.
var contentFields = func() []struct {
	index int
	name  string
} {
	t := reflect.TypeFor[Content]()
	out := make([]struct {
		index int
		name  string
	}, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[i].index, out[i].name = i, name
	}
	return out
}()

// Changed lists the JSON names of the fields that differ between c and
// old, in declaration order. Both must be normalized, so that an empty
// list and a missing one compare equal.
func (c *Content) Changed(old *Content) []string {
	var out []string
	a, b := reflect.ValueOf(c).Elem(), reflect.ValueOf(old).Elem()
	for _, fld := range contentFields {
		if !reflect.DeepEqual(a.Field(fld.index).Interface(), b.Field(fld.index).Interface()) {
			out = append(out, fld.name)
		}
	}
	return out
}

// MaxListLimit is the largest page a list returns.
const MaxListLimit = 100
