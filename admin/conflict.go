package admin

import (
	"html/template"
	"strings"

	"github.com/wellness/cms/cms"
)

// conflict is what the editor shows after a stale save: who saved the
// article meanwhile, and each field where the author's form and the saved
// article differ, as a diff from theirs to the author's.
type conflict struct {
	Version int64
	By      string
	At      string
	Fields  []fieldDiff
}

type fieldDiff struct {
	Label string
	Diff  template.HTML
}

func conflictOf(cur *cms.Article, mine articleForm) *conflict {
	theirs := formOf(cur)
	k := &conflict{Version: cur.Version, By: cur.UpdatedBy.Name, At: when(cur.UpdatedAt)}
	for _, f := range formFields {
		a, b := f.get(theirs), f.get(mine)
		if a == b {
			continue
		}
		if f.html {
			a, b = readable(a), readable(b)
		}
		k.Fields = append(k.Fields, fieldDiff{Label: f.label, Diff: wordDiff(a, b)})
	}
	return k
}

// formFields are the form's fields as text, for comparing two forms.
var formFields = []struct {
	label string
	html  bool
	get   func(f articleForm) string
}{
	{"Title", false, func(f articleForm) string { return f.Title }},
	{"Slug", false, func(f articleForm) string { return f.Slug }},
	{"Summary", false, func(f articleForm) string { return f.Summary }},
	{"Body", true, func(f articleForm) string { return f.Body }},
	{"Tags", false, func(f articleForm) string { return strings.Join(f.tags(), ", ") }},
	{"Category", false, func(f articleForm) string { return f.Category }},
	{"Cover image", false, func(f articleForm) string { return f.CoverID + " " + f.coverURL() + " " + f.CoverAlt }},
	{"SEO title", false, func(f articleForm) string { return f.SEOTitle }},
	{"SEO description", false, func(f articleForm) string { return f.SEODesc }},
	{"Canonical URL", false, func(f articleForm) string { return f.Canonical }},
	{"Medical review", false, func(f articleForm) string { return f.Reviewer + ", " + f.Credentials + ", " + f.ReviewedAt }},
	{"Sources", false, func(f articleForm) string {
		var b strings.Builder
		for _, s := range f.Sources {
			b.WriteString(s.Title + " " + s.URL + "\n")
		}
		return b.String()
	}},
	{"Call to action", false, func(f articleForm) string { return f.CTALabel + " " + f.CTAURL + " " + f.CTAPhone }},
	{"Products", false, func(f articleForm) string {
		var b strings.Builder
		for _, p := range f.Products {
			b.WriteString(p.Code + ": " + p.Note + "\n")
		}
		return b.String()
	}},
}
