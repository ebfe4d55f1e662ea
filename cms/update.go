package cms

import (
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// ArticleUpdate is a JSON merge patch (RFC 7396) of an article's content:
// absent members stay, null clears, objects merge member by member, and
// arrays are replaced whole. Workflow fields are not here, so a patch can
// never change an article's status.
type ArticleUpdate struct {
	Title         web.Optional[string]              `json:"title"`
	Slug          web.Optional[string]              `json:"slug"`
	Summary       web.Optional[string]              `json:"summary"`
	Body          web.Optional[string]              `json:"body"`
	BodyFormat    web.Optional[BodyFormat]          `json:"bodyFormat"`
	Tags          web.Optional[[]string]            `json:"tags"`
	Category      web.Optional[string]              `json:"category"`
	CoverImage    web.Optional[CoverImageUpdate]    `json:"coverImage"`
	SEO           web.Optional[SEOUpdate]           `json:"seo"`
	MedicalReview web.Optional[MedicalReviewUpdate] `json:"medicalReview"`
	Sources       web.Optional[[]Source]            `json:"sources"`
	CTA           web.Optional[CTAUpdate]           `json:"cta"`
	Products      web.Optional[[]ProductRef]        `json:"products"`
	// AuthorID is not content: Service.Update applies it (assignAuthor).
	AuthorID web.Optional[string] `json:"authorId"`
}

// articleReadOnly are the members of an article's authoring JSON that a
// patch does not take: the server's and the workflow's. A fetched article
// sent back carries them; they must be unchanged. hasUnpublishedChanges
// and publishedVersion are listed before they are served, so that the
// round trip keeps working when they are.
var articleReadOnly = web.ReadOnlyMembers(
	"id", "version", "updatedBy", "createdAt", "updatedAt",
	"changedFields", "lastTransition", "publishedAt",
	"bodyHtml", "sanitizerVersion", "excerpt", "wordCount", "readingTimeMinutes", "hasAffiliateLinks",
	"hasUnpublishedChanges", "publishedVersion", "changesInReview",
).With("status", "read-only; use POST .../submit, .../publish or .../unpublish").
	With("publishAt", "read-only; use POST .../publish with publishAt").
	With("author", "read-only; send authorId to give the article another author").
	With("warnings", web.Volatile) // of a write answer; they follow the settings

// CoverImageUpdate merges into CoverImage.
type CoverImageUpdate struct {
	MediaID web.Optional[string] `json:"mediaId"`
	URL     web.Optional[string] `json:"url"`
	Alt     web.Optional[string] `json:"alt"`
}

// SEOUpdate merges into SEO.
type SEOUpdate struct {
	Title        web.Optional[string] `json:"title"`
	Description  web.Optional[string] `json:"description"`
	CanonicalURL web.Optional[string] `json:"canonicalUrl"`
}

// MedicalReviewUpdate merges into MedicalReview.
type MedicalReviewUpdate struct {
	ReviewerName        web.Optional[string] `json:"reviewerName"`
	ReviewerCredentials web.Optional[string] `json:"reviewerCredentials"`
	ReviewedAt          web.Optional[string] `json:"reviewedAt"`
}

// CTAUpdate merges into CTA.
type CTAUpdate struct {
	Label web.Optional[string] `json:"label"`
	URL   web.Optional[string] `json:"url"`
	Phone web.Optional[string] `json:"phone"`
}

// Check reports nulls that the content cannot take: title and slug can be
// changed but not cleared. (Members that failed to decode are reported by
// web.Decode.)
func (u *ArticleUpdate) Check() error {
	var f problem.Fields
	web.RefuseNull(&f, "title", u.Title)
	web.RefuseNull(&f, "slug", u.Slug)
	web.RefuseNull(&f, "authorId", u.AuthorID)
	return f.Err()
}

// Apply merges the update into c: a null member becomes its zero value,
// which Normalize turns into "absent". The result still needs Normalize
// and Validate: Apply only moves values.
func (u *ArticleUpdate) Apply(c *Content) {
	u.Title.Merge(&c.Title)
	u.Slug.Merge(&c.Slug)
	u.Summary.Merge(&c.Summary)
	u.Body.Merge(&c.Body)
	u.BodyFormat.Merge(&c.BodyFormat)
	u.Tags.Merge(&c.Tags)
	u.Category.Merge(&c.Category)
	u.Sources.Merge(&c.Sources)
	u.Products.Merge(&c.Products)
	mergeObject(&c.CoverImage, u.CoverImage, func(dst *CoverImage, p CoverImageUpdate) {
		p.MediaID.Merge(&dst.MediaID)
		p.URL.Merge(&dst.URL)
		p.Alt.Merge(&dst.Alt)
	})
	mergeObject(&c.SEO, u.SEO, func(dst *SEO, p SEOUpdate) {
		p.Title.Merge(&dst.Title)
		p.Description.Merge(&dst.Description)
		p.CanonicalURL.Merge(&dst.CanonicalURL)
	})
	mergeObject(&c.MedicalReview, u.MedicalReview, func(dst *MedicalReview, p MedicalReviewUpdate) {
		p.ReviewerName.Merge(&dst.ReviewerName)
		p.ReviewerCredentials.Merge(&dst.ReviewerCredentials)
		p.ReviewedAt.Merge(&dst.ReviewedAt)
	})
	mergeObject(&c.CTA, u.CTA, func(dst *CTA, p CTAUpdate) {
		p.Label.Merge(&dst.Label)
		p.URL.Merge(&dst.URL)
		p.Phone.Merge(&dst.Phone)
	})
}

// mergeObject applies a nested merge patch: null removes the object, an
// object merges member by member into the existing one (or a new one).
func mergeObject[T, U any](dst **T, o web.Optional[U], merge func(*T, U)) {
	switch {
	case !o.Set:
	case o.Null:
		*dst = nil
	default:
		var v T
		if *dst != nil {
			v = **dst
		}
		merge(&v, o.Value)
		*dst = &v
	}
}
