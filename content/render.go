package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wellness/cms/cms"
)

// ProductView is a product placed in an article as readers see it. URL is
// the tracked link through the /go/ redirect, never the shop's own URL, so
// every click is counted and carries the associate tag.
type ProductView struct {
	Code     string `json:"code"`
	Title    string `json:"title"`
	ImageURL string `json:"imageUrl"`
	// Merchant names the shop ("Amazon") so front ends can label the link.
	Merchant string `json:"merchant"`
	URL      string `json:"url"`
	Note     string `json:"note"`
}

// Disclosure is the affiliate disclosure a front end must show with an
// article that earns commissions, and where.
type Disclosure struct {
	Text      string `json:"text"`
	Placement string `json:"placement"`
}

// authorView names an author to readers: the name only, never the user ID
// or email.
type authorView struct {
	Name string `json:"name"`
}

// seoView is what a front end puts in the page head: the author's
// overrides, or the defaults derived from the article.
type seoView struct {
	Title        string `json:"title"`
	Description  string `json:"description"`
	CanonicalURL string `json:"canonicalUrl"`
}

// articleView is the public form of one article. It is built field by
// field from the article, so a field added to Article never reaches
// readers by accident.
type articleView struct {
	cardView
	HTML          string             `json:"html"`
	SEO           seoView            `json:"seo"`
	MedicalReview *cms.MedicalReview `json:"medicalReview"`
	Sources       []cms.Source       `json:"sources"`
	CTA           *cms.CTA           `json:"cta"`
	Products      []ProductView      `json:"products"`
	Disclosure    *Disclosure        `json:"disclosure"`
	JSONLD        json.RawMessage    `json:"jsonLd"`
	JSONLDScript  string             `json:"jsonLdScript"`
}

// cardView is what an article and its list item both show: everything a
// card of the article needs, no body.
type cardView struct {
	Slug               string     `json:"slug"`
	Title              string     `json:"title"`
	Summary            string     `json:"summary"`
	CoverImage         *coverView `json:"coverImage"`
	Tags               []string   `json:"tags"`
	Category           string     `json:"category"`
	Author             authorView `json:"author"`
	PublishedAt        *time.Time `json:"publishedAt"`
	UpdatedAt          time.Time  `json:"updatedAt"`
	ReadingTimeMinutes int        `json:"readingTimeMinutes"`
}

func (api *API) newCardView(a *cms.Article, publishedAt *time.Time) cardView {
	return cardView{
		Slug: a.Slug, Title: a.Title, Summary: a.Excerpt, CoverImage: api.cover(a),
		Tags: nonNil(a.Tags), Category: a.Category, Author: authorView{Name: a.Author.Name},
		PublishedAt: publishedAt, UpdatedAt: a.UpdatedAt, ReadingTimeMinutes: a.ReadingTimeMinutes,
	}
}

// listItemView is an article in a list: no body, nothing a list page does
// not show.
type listItemView struct {
	cardView
	HasAffiliateLinks bool `json:"hasAffiliateLinks"`
}

// Schema.org vocabulary for jsonLd.
type (
	ldPerson struct {
		Type            string `json:"@type"`
		Name            string `json:"name"`
		HonorificSuffix string `json:"honorificSuffix,omitempty"`
	}
	ldWork struct {
		Type string `json:"@type"`
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	// ldOrganization is the publisher, from the site settings.
	ldOrganization struct {
		Type string   `json:"@type"`
		Name string   `json:"name"`
		Logo *ldImage `json:"logo,omitempty"`
	}
	ldImage struct {
		Type string `json:"@type"`
		URL  string `json:"url"`
	}
	ldPage struct {
		Type string `json:"@type"`
		ID   string `json:"@id"`
	}
	ldArticle struct {
		Context          string          `json:"@context"`
		Type             string          `json:"@type"`
		Headline         string          `json:"headline"`
		Description      string          `json:"description,omitempty"`
		Image            string          `json:"image,omitempty"`
		Keywords         string          `json:"keywords,omitempty"`
		DatePublished    *time.Time      `json:"datePublished,omitempty"`
		DateModified     time.Time       `json:"dateModified"`
		Author           ldPerson        `json:"author"`
		Publisher        *ldOrganization `json:"publisher,omitempty"`
		ReviewedBy       *ldPerson       `json:"reviewedBy,omitempty"`
		LastReviewed     string          `json:"lastReviewed,omitempty"`
		Citation         []ldWork        `json:"citation,omitempty"`
		MainEntityOfPage ldPage          `json:"mainEntityOfPage"`
	}
)

// pageURL is the canonical address of an article's page: the author's
// seo.canonicalUrl, else <site url>/articles/<slug>, the path front ends
// are expected to serve articles at.
func (api *API) pageURL(a *cms.Article) string {
	if a.SEO != nil && a.SEO.CanonicalURL != "" {
		return a.SEO.CanonicalURL
	}
	return api.articleLink(a)
}

// trackingURL is <public URL>/go/{code}?a={slug}&p={position}.
func (api *API) trackingURL(code, slug string, position int) string {
	return api.publicURL + "/go/" + url.PathEscape(code) + "?a=" + url.QueryEscape(slug) + "&p=" + strconv.Itoa(position)
}

// jsonLD builds the schema.org object of an article: a MedicalWebPage when
// a medical reviewer checked it, an Article otherwise, with the site's
// publisher when the site settings name one. It is marshalled
// with HTML escaping (<, >, &, U+2028 and U+2029 as \u escapes), so the
// JSON text can go inside <script type="application/ld+json"> as it is;
// it is served both as the object (jsonLd, which a client re-serializing
// it would unescape) and as that text (jsonLdScript).
func (api *API) jsonLD(a *cms.Article, publishedAt *time.Time) json.RawMessage {
	ld := ldArticle{
		Context: "https://schema.org", Type: "Article",
		Headline: a.Title, Description: a.Excerpt,
		Keywords:      strings.Join(a.Tags, ", "),
		DatePublished: publishedAt, DateModified: a.UpdatedAt,
		Author:           ldPerson{Type: "Person", Name: a.Author.Name},
		MainEntityOfPage: ldPage{Type: "WebPage", ID: api.pageURL(a)},
	}
	if c := api.cover(a); c != nil {
		ld.Image = c.URL
	}
	// The publisher is declared only when the site settings name one.
	if p := api.siteSettings().Publisher; p.Name != "" {
		ld.Publisher = &ldOrganization{Type: "Organization", Name: p.Name}
		if p.LogoURL != "" {
			ld.Publisher.Logo = &ldImage{Type: "ImageObject", URL: p.LogoURL}
		}
	}
	if m := a.MedicalReview; m != nil {
		ld.Type = "MedicalWebPage"
		ld.ReviewedBy = &ldPerson{Type: "Person", Name: m.ReviewerName, HonorificSuffix: m.ReviewerCredentials}
		if t, err := cms.ParseReviewedAt(m.ReviewedAt); err == nil {
			ld.LastReviewed = t.Format(time.DateOnly)
		}
	}
	for _, s := range a.Sources {
		ld.Citation = append(ld.Citation, ldWork{Type: "CreativeWork", Name: s.Title, URL: s.URL})
	}
	b, err := json.Marshal(ld)
	if err != nil {
		// Only strings, times and structs: marshalling cannot fail.
		panic(fmt.Sprintf("marshal jsonLd: %v", err))
	}
	return b
}

// renderArticle is the JSON body of an article, with the body links its
// html carries. publishedAt is the publication time readers see (a
// scheduled article that has come due shows its publishAt); nil for a
// draft seen through a preview.
func (api *API) renderArticle(a *cms.Article, publishedAt *time.Time) ([]byte, []servedLink) {
	body, links := api.servedBody(a)
	body = api.bodyImages(body)
	products := api.products(a)
	disclosure := api.disclosure(a, products)
	ld := api.jsonLD(a, publishedAt)
	v := articleView{
		cardView:      api.newCardView(a, publishedAt),
		HTML:          body,
		SEO:           api.seo(a),
		MedicalReview: a.MedicalReview,
		Sources:       nonNil(a.Sources),
		CTA:           a.CTA,
		Products:      nonNil(products),
		Disclosure:    disclosure,
		JSONLD:        ld,
		JSONLDScript:  string(ld),
	}
	return marshalPlain(v), links
}

func (api *API) seo(a *cms.Article) seoView {
	v := seoView{Title: a.Title, Description: a.Excerpt, CanonicalURL: api.pageURL(a)}
	if a.SEO != nil {
		if a.SEO.Title != "" {
			v.Title = a.SEO.Title
		}
		if a.SEO.Description != "" {
			v.Description = a.SEO.Description
		}
	}
	return v
}

// renderListItem is the JSON of an article in a list.
func (api *API) renderListItem(a *cms.Article, publishedAt *time.Time) []byte {
	return marshalPlain(listItemView{
		cardView: api.newCardView(a, publishedAt),
		// A front end shows a disclosure badge for either kind of
		// affiliate content.
		HasAffiliateLinks: a.HasAffiliateLinks || len(a.Products) > 0,
	})
}

// marshalPlain encodes v without escaping <, > and &: html reads as HTML,
// not \u003c, and the body is a third smaller. Served as
// application/json with nosniff, it cannot be taken for markup.
func marshalPlain(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("marshal content view: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
