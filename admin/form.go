package admin

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// articleForm is the editor's form: every field an author writes, as
// typed. It turns into a create (content) or a full update of every field
// (update); the service validates both.
type articleForm struct {
	Version     int64
	Title       string
	Slug        string
	Summary     string
	Body        string
	BodyFormat  string
	Tags        string // comma-separated
	Category    string
	CoverID     string
	CoverURL    string
	CoverAlt    string
	SEOTitle    string
	SEODesc     string
	Canonical   string
	Reviewer    string
	Credentials string
	ReviewedAt  string // YYYY-MM-DD
	Sources     []cms.Source
	CTALabel    string
	CTAURL      string
	CTAPhone    string
	Products    []cms.ProductRef
	PublishAt   string // datetime-local, UTC
}

// Blank rows the form offers for adding sources and products.
const extraRows = 2

// SourceRows and ProductRows are the rows the form shows: the article's
// and empty ones to add to.
func (f articleForm) SourceRows() []cms.Source {
	return append(append([]cms.Source{}, f.Sources...), make([]cms.Source, extraRows)...)
}

func (f articleForm) ProductRows() []cms.ProductRef {
	return append(append([]cms.ProductRef{}, f.Products...), make([]cms.ProductRef, extraRows)...)
}

func readArticleForm(c *gin.Context) articleForm {
	f := articleForm{
		Title: c.PostForm("title"), Slug: c.PostForm("slug"), Summary: c.PostForm("summary"),
		Body: c.PostForm("body"), BodyFormat: c.DefaultPostForm("bodyFormat", string(cms.FormatHTML)),
		Tags: c.PostForm("tags"), Category: c.PostForm("category"),
		CoverID: c.PostForm("coverMediaId"), CoverURL: c.PostForm("coverUrl"), CoverAlt: c.PostForm("coverAlt"),
		SEOTitle: c.PostForm("seoTitle"), SEODesc: c.PostForm("seoDescription"), Canonical: c.PostForm("canonicalUrl"),
		Reviewer: c.PostForm("reviewerName"), Credentials: c.PostForm("reviewerCredentials"),
		ReviewedAt: c.PostForm("reviewedAt"),
		CTALabel:   c.PostForm("ctaLabel"), CTAURL: c.PostForm("ctaUrl"), CTAPhone: c.PostForm("ctaPhone"),
		PublishAt: c.PostForm("publishAt"),
	}
	f.Version, _ = strconv.ParseInt(c.PostForm("version"), 10, 64)
	titles, urls := c.PostFormArray("sourceTitle"), c.PostFormArray("sourceUrl")
	for i := range min(len(titles), len(urls)) {
		if s := (cms.Source{Title: strings.TrimSpace(titles[i]), URL: strings.TrimSpace(urls[i])}); s != (cms.Source{}) {
			f.Sources = append(f.Sources, s)
		}
	}
	codes, notes := c.PostFormArray("productCode"), c.PostFormArray("productNote")
	for i := range min(len(codes), len(notes)) {
		if code := strings.TrimSpace(codes[i]); code != "" {
			f.Products = append(f.Products, cms.ProductRef{Code: code, Note: strings.TrimSpace(notes[i])})
		}
	}
	return f
}

// formOf is the form of a stored article.
func formOf(a *cms.Article) articleForm {
	f := articleForm{
		Version: a.Version, Title: a.Title, Slug: a.Slug, Summary: a.Summary, Body: a.Body,
		BodyFormat: string(a.BodyFormat), Tags: strings.Join(a.Tags, ", "), Category: a.Category,
		Sources: a.Sources, Products: a.Products,
	}
	if ci := a.CoverImage; ci != nil {
		f.CoverID, f.CoverURL, f.CoverAlt = ci.MediaID, ci.URL, ci.Alt
	}
	if s := a.SEO; s != nil {
		f.SEOTitle, f.SEODesc, f.Canonical = s.Title, s.Description, s.CanonicalURL
	}
	if m := a.MedicalReview; m != nil {
		f.Reviewer, f.Credentials = m.ReviewerName, m.ReviewerCredentials
		if t, err := cms.ParseReviewedAt(m.ReviewedAt); err == nil {
			f.ReviewedAt = t.UTC().Format(time.DateOnly)
		}
	}
	if cta := a.CTA; cta != nil {
		f.CTALabel, f.CTAURL, f.CTAPhone = cta.Label, cta.URL, cta.Phone
	}
	if t := a.ChangesPublishAt(); t != nil {
		f.PublishAt = t.UTC().Format("2006-01-02T15:04")
	}
	return f
}

// tags are the comma-separated tags as the API takes them: "Back pain"
// becomes back-pain, as a writer means it.
func (f articleForm) tags() []string {
	var out []string
	for _, t := range strings.Split(f.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			if s := cms.Slugify(t); s != "" {
				t = s
			}
			out = append(out, t)
		}
	}
	return out
}

// content is the form as a new article's content.
func (f articleForm) content() (cms.Content, error) {
	c := cms.Content{
		Title: f.Title, Slug: f.Slug, Summary: f.Summary, Body: f.Body, BodyFormat: cms.BodyFormat(f.BodyFormat),
		Tags: f.tags(), Category: f.Category, Sources: f.Sources, Products: f.Products,
	}
	if f.CoverID != "" || f.CoverURL != "" || f.CoverAlt != "" {
		c.CoverImage = &cms.CoverImage{MediaID: f.CoverID, URL: f.coverURL(), Alt: f.CoverAlt}
	}
	if f.SEOTitle != "" || f.SEODesc != "" || f.Canonical != "" {
		c.SEO = &cms.SEO{Title: f.SEOTitle, Description: f.SEODesc, CanonicalURL: f.Canonical}
	}
	if f.Reviewer != "" || f.Credentials != "" || f.ReviewedAt != "" {
		c.MedicalReview = &cms.MedicalReview{ReviewerName: f.Reviewer, ReviewerCredentials: f.Credentials, ReviewedAt: f.ReviewedAt}
	}
	if f.CTALabel != "" || f.CTAURL != "" || f.CTAPhone != "" {
		c.CTA = &cms.CTA{Label: f.CTALabel, URL: f.CTAURL, Phone: f.CTAPhone}
	}
	return c, nil
}

// coverURL is the cover's URL unless a library item is chosen, which wins.
func (f articleForm) coverURL() string {
	if f.CoverID != "" {
		return ""
	}
	return f.CoverURL
}

// update is the form as a patch that sets every field: what the form
// shows is what the article becomes.
func (f articleForm) update() (*cms.ArticleUpdate, error) {
	c, err := f.content()
	if err != nil {
		return nil, err
	}
	u := &cms.ArticleUpdate{
		Title: web.Some(c.Title), Slug: web.Some(c.Slug), Summary: web.Some(c.Summary),
		Body: web.Some(c.Body), BodyFormat: web.Some(c.BodyFormat), Tags: web.Some(c.Tags),
		Category: web.Some(c.Category), Sources: web.Some(c.Sources), Products: web.Some(c.Products),
		CoverImage:    web.Optional[cms.CoverImageUpdate]{Set: true, Null: true},
		SEO:           web.Optional[cms.SEOUpdate]{Set: true, Null: true},
		MedicalReview: web.Optional[cms.MedicalReviewUpdate]{Set: true, Null: true},
		CTA:           web.Optional[cms.CTAUpdate]{Set: true, Null: true},
	}
	if ci := c.CoverImage; ci != nil {
		u.CoverImage = web.Some(cms.CoverImageUpdate{MediaID: some(ci.MediaID), URL: some(ci.URL), Alt: web.Some(ci.Alt)})
	}
	if s := c.SEO; s != nil {
		u.SEO = web.Some(cms.SEOUpdate{Title: web.Some(s.Title), Description: web.Some(s.Description), CanonicalURL: web.Some(s.CanonicalURL)})
	}
	if m := c.MedicalReview; m != nil {
		u.MedicalReview = web.Some(cms.MedicalReviewUpdate{ReviewerName: web.Some(m.ReviewerName),
			ReviewerCredentials: web.Some(m.ReviewerCredentials), ReviewedAt: web.Some(m.ReviewedAt)})
	}
	if cta := c.CTA; cta != nil {
		u.CTA = web.Some(cms.CTAUpdate{Label: web.Some(cta.Label), URL: web.Some(cta.URL), Phone: web.Some(cta.Phone)})
	}
	return u, nil
}

// some is an optional member that clears when empty, since the cover has
// either a media ID or a URL, never both.
func some(s string) web.Optional[string] {
	if s == "" {
		return web.Optional[string]{Set: true, Null: true}
	}
	return web.Some(s)
}

// parseDateInput reads a datetime-local value, which the form labels as
// UTC; "" is no date.
func parseDateInput(field, v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return &t, nil
		}
	}
	var f problem.Fields
	f.Add(field, "is not a date and time like 2026-12-24T09:30")
	return nil, f.Err()
}
