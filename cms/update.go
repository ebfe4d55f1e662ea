package cms

// ArticleUpdate is a JSON merge patch (RFC 7396) of an article's content:
// absent members stay, null clears, objects merge member by member, and
// arrays are replaced whole. Workflow fields are not here, so a patch can
// never change an article's status.
type ArticleUpdate struct {
	Title         Optional[string]              `json:"title"`
	Slug          Optional[string]              `json:"slug"`
	Summary       Optional[string]              `json:"summary"`
	Body          Optional[string]              `json:"body"`
	BodyFormat    Optional[BodyFormat]          `json:"bodyFormat"`
	Tags          Optional[[]string]            `json:"tags"`
	Category      Optional[string]              `json:"category"`
	CoverImage    Optional[CoverImageUpdate]    `json:"coverImage"`
	SEO           Optional[SEOUpdate]           `json:"seo"`
	MedicalReview Optional[MedicalReviewUpdate] `json:"medicalReview"`
	Sources       Optional[[]Source]            `json:"sources"`
	CTA           Optional[CTAUpdate]           `json:"cta"`
	Products      Optional[[]ProductRef]        `json:"products"`
}

// CoverImageUpdate merges into CoverImage.
type CoverImageUpdate struct {
	URL Optional[string] `json:"url"`
	Alt Optional[string] `json:"alt"`
}

// SEOUpdate merges into SEO.
type SEOUpdate struct {
	Title        Optional[string] `json:"title"`
	Description  Optional[string] `json:"description"`
	CanonicalURL Optional[string] `json:"canonicalUrl"`
}

// MedicalReviewUpdate merges into MedicalReview.
type MedicalReviewUpdate struct {
	ReviewerName        Optional[string] `json:"reviewerName"`
	ReviewerCredentials Optional[string] `json:"reviewerCredentials"`
	ReviewedAt          Optional[string] `json:"reviewedAt"`
}

// CTAUpdate merges into CTA.
type CTAUpdate struct {
	Label Optional[string] `json:"label"`
	URL   Optional[string] `json:"url"`
	Phone Optional[string] `json:"phone"`
}

// Check reports members that failed to decode (wrong type, unknown nested
// field) and nulls that the content cannot take: title and slug can be
// changed but not removed.
func (u *ArticleUpdate) Check() error {
	f := decodeErrors(u)
	if u.Title.Null {
		f.Add("title", "cannot be removed")
	}
	if u.Slug.Null {
		f.Add("slug", "cannot be removed")
	}
	return f.Err()
}

// Apply merges the update into c. The result still needs Normalize and
// Validate: Apply only moves values.
func (u *ArticleUpdate) Apply(c *Content) {
	mergeValue(&c.Title, u.Title)
	mergeValue(&c.Slug, u.Slug)
	mergeValue(&c.Summary, u.Summary)
	mergeValue(&c.Body, u.Body)
	mergeValue(&c.BodyFormat, u.BodyFormat)
	mergeValue(&c.Tags, u.Tags)
	mergeValue(&c.Category, u.Category)
	mergeValue(&c.Sources, u.Sources)
	mergeValue(&c.Products, u.Products)
	mergeObject(&c.CoverImage, u.CoverImage, func(dst *CoverImage, p CoverImageUpdate) {
		mergeValue(&dst.URL, p.URL)
		mergeValue(&dst.Alt, p.Alt)
	})
	mergeObject(&c.SEO, u.SEO, func(dst *SEO, p SEOUpdate) {
		mergeValue(&dst.Title, p.Title)
		mergeValue(&dst.Description, p.Description)
		mergeValue(&dst.CanonicalURL, p.CanonicalURL)
	})
	mergeObject(&c.MedicalReview, u.MedicalReview, func(dst *MedicalReview, p MedicalReviewUpdate) {
		mergeValue(&dst.ReviewerName, p.ReviewerName)
		mergeValue(&dst.ReviewerCredentials, p.ReviewerCredentials)
		mergeValue(&dst.ReviewedAt, p.ReviewedAt)
	})
	mergeObject(&c.CTA, u.CTA, func(dst *CTA, p CTAUpdate) {
		mergeValue(&dst.Label, p.Label)
		mergeValue(&dst.URL, p.URL)
		mergeValue(&dst.Phone, p.Phone)
	})
}

// mergeValue replaces *dst with the member's value, or its zero value for
// null; Normalize then turns empty into "absent".
func mergeValue[T any](dst *T, o Optional[T]) {
	if o.Set {
		*dst = o.Value
	}
}

// mergeObject applies a nested merge patch: null removes the object, an
// object merges member by member into the existing one (or a new one).
func mergeObject[T, U any](dst **T, o Optional[U], merge func(*T, U)) {
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
