package cms_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// validContent is a complete, valid article; cases below break one thing.
func validContent() cms.Content {
	return cms.Content{
		Title:         "Massage for chronic pain relief",
		Summary:       "Five strategies that work.",
		Body:          "<p>Intro</p>",
		Tags:          []string{"massage", "chronic-pain"},
		Category:      "Pain relief",
		CoverImage:    &cms.CoverImage{URL: "https://img.test/a.jpg", Alt: "Hands"},
		SEO:           &cms.SEO{Title: "Massage", Description: "How", CanonicalURL: "https://site.test/massage"},
		MedicalReview: &cms.MedicalReview{ReviewerName: "Dr. A", ReviewerCredentials: "MD", ReviewedAt: "2026-03-01"},
		Sources:       []cms.Source{{Title: "Review", URL: "https://pubmed.ncbi.nlm.nih.gov/1/"}},
		CTA:           &cms.CTA{Label: "Schedule an Appointment", URL: "https://site.test/book", Phone: "+1 (555) 123-4567"},
		Products:      []cms.ProductRef{{Code: "foam-roller", Note: "Our pick"}},
	}
}

func fieldsOf(err error) []string {
	var pe *problem.Error
	if !errors.As(err, &pe) {
		return nil
	}
	var out []string
	for _, f := range pe.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestContentValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *cms.Content)
		want   []string // fields named in errors[]; nil means valid
	}{
		{"valid", func(c *cms.Content) {}, nil},
		{"minimal", func(c *cms.Content) { *c = cms.Content{Title: "T"} }, nil},
		{"title missing", func(c *cms.Content) { c.Title = "  " }, []string{"title"}},
		{"title too long", func(c *cms.Content) { c.Title = strings.Repeat("é", 201) }, []string{"title"}},
		{"title at limit", func(c *cms.Content) { c.Title = strings.Repeat("é", 200) }, nil},
		{"title control char", func(c *cms.Content) { c.Title = "a\x07b" }, []string{"title"}},
		{"slug bad", func(c *cms.Content) { c.Slug = "Not A Slug" }, []string{"slug"}},
		{"slug double hyphen", func(c *cms.Content) { c.Slug = "a--b" }, []string{"slug"}},
		{"slug too long", func(c *cms.Content) { c.Slug = strings.Repeat("a", 81) }, []string{"slug"}},
		{"summary too long", func(c *cms.Content) { c.Summary = strings.Repeat("a", 501) }, []string{"summary"}},
		{"summary multiline ok", func(c *cms.Content) { c.Summary = "a\nb" }, nil},
		{"body too large", func(c *cms.Content) { c.Body = strings.Repeat("a", cms.MaxBody+1) }, []string{"body"}},
		{"body format", func(c *cms.Content) { c.BodyFormat = "rtf" }, []string{"bodyFormat"}},
		{"too many tags", func(c *cms.Content) {
			c.Tags = nil
			for i := range 21 {
				c.Tags = append(c.Tags, strings.Repeat("t", i+1))
			}
		}, []string{"tags"}},
		{"bad tag", func(c *cms.Content) { c.Tags = []string{"ok", "not ok", "ünï"} }, []string{"tags[1]", "tags[2]"}},
		{"tags normalized", func(c *cms.Content) { c.Tags = []string{" Massage ", "massage"} }, nil},
		{"cover without url", func(c *cms.Content) { c.CoverImage = &cms.CoverImage{Alt: "x"} }, []string{"coverImage.url"}},
		{"cover javascript url", func(c *cms.Content) { c.CoverImage.URL = "javascript:alert(1)" }, []string{"coverImage.url"}},
		{"cover data url", func(c *cms.Content) { c.CoverImage.URL = "data:image/png;base64,AA" }, []string{"coverImage.url"}},
		{"cover relative url", func(c *cms.Content) { c.CoverImage.URL = "/a.jpg" }, []string{"coverImage.url"}},
		{"cover media and url", func(c *cms.Content) { c.CoverImage.MediaID = "0123456789abcdef01234567" }, []string{"coverImage"}},
		{"cover bad media id", func(c *cms.Content) { c.CoverImage = &cms.CoverImage{MediaID: "../x"} }, []string{"coverImage.mediaId"}},
		{"cover media ok", func(c *cms.Content) { c.CoverImage = &cms.CoverImage{MediaID: "0123456789abcdef01234567", Alt: "x"} }, nil},
		{"canonical ftp", func(c *cms.Content) { c.SEO.CanonicalURL = "ftp://x.test/a" }, []string{"seo.canonicalUrl"}},
		{"canonical http ok", func(c *cms.Content) { c.SEO.CanonicalURL = "HTTP://Site.test/a" }, nil},
		{"url quotes encoded", func(c *cms.Content) { c.CTA.URL = `https://site.test/"><script>'` + "`" }, nil},
		{"url quote in host", func(c *cms.Content) { c.CTA.URL = `https://site.test"/a` }, []string{"cta.url"}},
		{"url user info", func(c *cms.Content) { c.Sources[0].URL = "https://nih.gov@evil.test/" }, []string{"sources[0].url"}},
		{"url port", func(c *cms.Content) { c.SEO.CanonicalURL = "https://site.test:8443/a" }, []string{"seo.canonicalUrl"}},
		{"url backslash", func(c *cms.Content) { c.CoverImage.URL = `https://img.test\@evil.test/a.jpg` }, []string{"coverImage.url"}},
		{"url space", func(c *cms.Content) { c.CoverImage.URL = "https://img.test/a b.jpg" }, []string{"coverImage.url"}},
		{"url non-ascii", func(c *cms.Content) { c.CoverImage.URL = "https://img.test/müde.jpg" }, []string{"coverImage.url"}},
		{"url bad escape", func(c *cms.Content) { c.CoverImage.URL = "https://img.test/a%zz.jpg" }, []string{"coverImage.url"}},
		{"url too long", func(c *cms.Content) { c.CoverImage.URL = "https://img.test/" + strings.Repeat("a", 2048) }, []string{"coverImage.url"}},
		{"url too long encoded", func(c *cms.Content) { c.CoverImage.URL = "https://img.test/" + strings.Repeat("'", 1000) }, []string{"coverImage.url"}},
		{"seo description long", func(c *cms.Content) { c.SEO.Description = strings.Repeat("a", 501) }, []string{"seo.description"}},
		{"review in future", func(c *cms.Content) { c.MedicalReview.ReviewedAt = "2026-03-11" }, []string{"medicalReview.reviewedAt"}},
		{"review timestamp future", func(c *cms.Content) { c.MedicalReview.ReviewedAt = "2026-03-10T12:00:01Z" }, []string{"medicalReview.reviewedAt"}},
		{"review timestamp now", func(c *cms.Content) { c.MedicalReview.ReviewedAt = "2026-03-10T12:00:00Z" }, nil},
		{"review bad date", func(c *cms.Content) { c.MedicalReview.ReviewedAt = "last week" }, []string{"medicalReview.reviewedAt"}},
		{"review missing parts", func(c *cms.Content) { c.MedicalReview = &cms.MedicalReview{ReviewerCredentials: "MD"} },
			[]string{"medicalReview.reviewerName", "medicalReview.reviewedAt"}},
		{"too many sources", func(c *cms.Content) { c.Sources = make([]cms.Source, 51) }, nil /* checked below */},
		{"source bad", func(c *cms.Content) { c.Sources = []cms.Source{{URL: "vbscript:x"}} }, []string{"sources[0].title", "sources[0].url"}},
		{"cta without target", func(c *cms.Content) { c.CTA = &cms.CTA{Label: "Book"} }, []string{"cta"}},
		{"cta bad phone", func(c *cms.Content) { c.CTA.Phone = "call me" }, []string{"cta.phone"}},
		{"cta phone only", func(c *cms.Content) { c.CTA = &cms.CTA{Label: "Call", Phone: "555-1234"} }, nil},
		{"cta no label", func(c *cms.Content) { c.CTA.Label = "" }, []string{"cta.label"}},
		{"product code", func(c *cms.Content) { c.Products = []cms.ProductRef{{Code: "A"}, {Code: "ok-1"}, {Code: "ok-1"}} },
			[]string{"products[0].code", "products[2].code"}},
		{"many errors at once", func(c *cms.Content) { c.Title, c.Slug, c.CTA.URL = "", "-", "javascript:x" },
			[]string{"title", "slug", "cta.url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validContent()
			tt.change(&c)
			c.Normalize()
			err := c.Validate(testNow)
			if tt.name == "too many sources" {
				if !contains(fieldsOf(err), "sources") {
					t.Fatalf("fields = %v, want sources", fieldsOf(err))
				}
				return
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error %v (fields %v)", err, fieldsOf(err))
				}
				return
			}
			if problem.KindOf(err) != problem.Invalid {
				t.Fatalf("error %v is not Invalid", err)
			}
			if got := fieldsOf(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields = %v, want %v", got, tt.want)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestContentNormalize(t *testing.T) {
	c := cms.Content{
		Title: "  T  ", Tags: []string{"B", " b", "a"}, CoverImage: &cms.CoverImage{},
		MedicalReview: &cms.MedicalReview{ReviewerName: "X", ReviewedAt: "2026-01-02"},
	}
	c.Normalize()
	if c.Title != "T" || !reflect.DeepEqual(c.Tags, []string{"b", "a"}) || c.CoverImage != nil ||
		c.BodyFormat != cms.FormatHTML || c.Sources == nil || c.Products == nil {
		t.Errorf("normalized = %+v", c)
	}
	if c.MedicalReview.ReviewedAt != "2026-01-02T00:00:00Z" {
		t.Errorf("reviewedAt = %q, want RFC 3339", c.MedicalReview.ReviewedAt)
	}
}

// TestContentNormalizeURLs: every URL field is stored with " ' < > ` and
// the other characters RFC 3986 does not allow percent-encoded, once:
// normalizing again changes nothing.
func TestContentNormalizeURLs(t *testing.T) {
	raw := " https://site.test/a\"b'c<d>e`f{g}h|i^j?q='x'#\"y\" "
	want := "https://site.test/a%22b%27c%3Cd%3Ee%60f%7Bg%7Dh%7Ci%5Ej?q=%27x%27#%22y%22"
	c := cms.Content{Title: "T", CoverImage: &cms.CoverImage{URL: raw}, SEO: &cms.SEO{CanonicalURL: raw},
		Sources: []cms.Source{{Title: "S", URL: raw}}, CTA: &cms.CTA{Label: "Go", URL: raw}}
	for range 2 {
		c.Normalize()
		for _, got := range []string{c.CoverImage.URL, c.SEO.CanonicalURL, c.Sources[0].URL, c.CTA.URL} {
			if got != want {
				t.Errorf("normalized %q, want %q", got, want)
			}
		}
	}
	if err := c.Validate(testNow); err != nil {
		t.Errorf("normalized URLs are invalid: %v", err)
	}
	// Lists over their limit are left for Validate to refuse whole.
	c = cms.Content{Title: "T", Tags: []string{}}
	for range cms.MaxTags + 1 {
		c.Tags = append(c.Tags, " Same ")
	}
	c.Normalize()
	if len(c.Tags) != cms.MaxTags+1 || !reflect.DeepEqual(fieldsOf(c.Validate(testNow)), []string{"tags"}) {
		t.Errorf("over-long tag list: %d tags, errors %v", len(c.Tags), fieldsOf(c.Validate(testNow)))
	}
}

func TestArticleUpdateMergePatch(t *testing.T) {
	decode := func(t *testing.T, body string) *cms.ArticleUpdate {
		t.Helper()
		var u cms.ArticleUpdate
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&u); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		return &u
	}
	tests := []struct {
		name    string
		patch   string
		check   func(c cms.Content) bool
		changed []string
	}{
		{"absent leaves all", `{}`, func(c cms.Content) bool { return c.Summary != "" }, nil},
		{"value replaces", `{"title":"New"}`, func(c cms.Content) bool { return c.Title == "New" }, []string{"title"}},
		{"null clears summary", `{"summary":null}`, func(c cms.Content) bool { return c.Summary == "" }, []string{"summary"}},
		{"null clears object", `{"cta":null}`, func(c cms.Content) bool { return c.CTA == nil }, []string{"cta"}},
		{"object merges", `{"seo":{"title":"Only this"}}`, func(c cms.Content) bool {
			return c.SEO.Title == "Only this" && c.SEO.Description == "How"
		}, []string{"seo"}},
		{"nested null clears member", `{"seo":{"description":null}}`, func(c cms.Content) bool {
			return c.SEO.Description == "" && c.SEO.Title == "Massage"
		}, []string{"seo"}},
		{"emptied object removed", `{"coverImage":{"url":null,"alt":null}}`, func(c cms.Content) bool { return c.CoverImage == nil }, []string{"coverImage"}},
		{"array replaced whole", `{"tags":["one"]}`, func(c cms.Content) bool { return reflect.DeepEqual(c.Tags, []string{"one"}) }, []string{"tags"}},
		{"null array empties", `{"sources":null}`, func(c cms.Content) bool { return len(c.Sources) == 0 }, []string{"sources"}},
		{"bodyFormat null resets", `{"bodyFormat":null}`, func(c cms.Content) bool { return c.BodyFormat == cms.FormatHTML }, nil},
		{"same value no change", `{"title":"Massage for chronic pain relief"}`, func(c cms.Content) bool { return true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := decode(t, tt.patch)
			if err := u.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
			old := validContent()
			old.Normalize()
			c := validContent()
			c.Normalize()
			u.Apply(&c)
			c.Normalize()
			if !tt.check(c) {
				t.Errorf("after %s: %+v", tt.patch, c)
			}
			if got := c.Changed(&old); !reflect.DeepEqual(got, tt.changed) {
				t.Errorf("changed = %v, want %v", got, tt.changed)
			}
		})
	}
	for _, tt := range []struct {
		patch string
		field string
	}{
		{`{"title":null}`, "title"},
		{`{"slug":null}`, "slug"},
		{`{"title":5}`, "title"},
		{`{"tags":"massage"}`, "tags"},
		{`{"seo":{"title":1}}`, "seo.title"},
		{`{"seo":{"keywords":"x"}}`, "seo.keywords"},
		{`{"coverImage":"x"}`, "coverImage"},
		{`{"sources":[{"title":"a","url":"https://a.test","extra":1}]}`, "sources.extra"},
		{`{"products":[{"code":{"$gt":""}}]}`, "products.code"},
	} {
		// Members that fail to decode are named by web.DecodeBytes, nulls
		// the content cannot take by Check.
		var u cms.ArticleUpdate
		err := web.DecodeBytes([]byte(tt.patch), &u)
		if err == nil {
			err = u.Check()
		}
		if got := fieldsOf(err); !contains(got, tt.field) {
			t.Errorf("Check(%s) fields = %v (%v), want %s", tt.patch, got, err, tt.field)
		}
	}
	var u cms.ArticleUpdate
	dec := json.NewDecoder(strings.NewReader(`{"status":"published"}`))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err == nil {
		t.Error("a patch must not accept status")
	}
}
