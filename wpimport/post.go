package wpimport

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/wordpress"
)

// source is what an article is made from: the content and what the
// workflow does with it. Its hash decides whether a rerun changes the
// article.
type source struct {
	Content cms.Content
	Status  cms.Status
	Date    time.Time
	Former  []string
	Author  string
}

// post imports one post or page.
func (im *importer) post(it *wordpress.Item) error {
	rep := Item{WordPressID: it.PostID, Type: it.PostType, Status: it.Status, Title: it.Title}
	status, reason := statusOf(it.Status)
	if status == "" {
		rep.Outcome, rep.Reason = Skipped, reason
		im.rep.add(rep)
		return nil
	}
	src, notes := im.convert(it, status)
	rep.Slug = src.Content.Slug
	rep.Reason = strings.Join(notes, "; ")
	hash := hashOf(src)
	key := im.key("post", strconv.FormatInt(it.PostID, 10))
	rec, err := im.s.records.find(im.ctx, key)
	if err != nil {
		return err
	}
	var a *cms.Article
	switch {
	case rec != nil && rec.Hash == hash:
		rep.Outcome, rep.ArticleID = Unchanged, rec.Target
		im.rep.add(rep)
		return nil
	case im.run.DryRun:
		rep.Outcome = Created
		if rec != nil {
			rep.Outcome, rep.ArticleID = Updated, rec.Target
		}
		im.rep.add(rep)
		return nil
	case rec != nil:
		rep.Outcome = Updated
		a, err = im.retry(&src, &rep, func() (*cms.Article, error) { return im.update(rec.Target, src) })
	default:
		rep.Outcome = Created
		a, err = im.retry(&src, &rep, func() (*cms.Article, error) {
			return im.s.opts.Articles.CreateImported(im.ctx, im.run.By, src.Content, im.author(src.Author))
		})
		if err == nil {
			// The record first: a run cut short from here on is
			// finished by the next, which finds the article.
			err = im.s.records.put(im.ctx, &record{ID: key, Target: a.ID, At: im.s.opts.Now()})
		}
	}
	if err != nil {
		return im.failed(rep, err)
	}
	rep.ArticleID, rep.Slug = a.ID, a.Slug
	if len(src.Former) > 0 {
		taken, err := im.s.opts.Articles.AddFormerSlugs(im.ctx, im.run.By, a.ID, src.Former)
		if err != nil {
			return im.failed(rep, err)
		}
		if len(taken) > 0 {
			rep.Reason = join(rep.Reason, "old slugs used by another article: "+strings.Join(taken, ", "))
		}
	}
	if settled, err := im.settle(a, src); err == nil {
		a = settled
	} else if problem.KindOf(err) == problem.Internal {
		return im.failed(rep, err)
	} else {
		// A compliance error, say: the article is here, as a draft, and
		// the next run publishes it once the cause is fixed.
		rep.Reason = join(rep.Reason, "not published: "+describe(err))
		hash = ""
	}
	if err := im.s.records.put(im.ctx, &record{ID: key, Target: a.ID, Hash: hash, At: im.s.opts.Now()}); err != nil {
		return err
	}
	im.rep.add(rep)
	return nil
}

// retry runs write, and once more without the optional fields the
// service refused (an SEO canonical URL with a port, a cover URL that is
// not http), noting each: a post is better imported without them than
// not at all.
func (im *importer) retry(src *source, rep *Item, write func() (*cms.Article, error)) (*cms.Article, error) {
	a, err := write()
	var pe *problem.Error
	if err == nil || !errors.As(err, &pe) || len(pe.Fields) == 0 {
		return a, err
	}
	if pe.Kind == problem.Conflict && pe.Fields[0].Field == "slug" && src.Content.Slug != "" {
		// Another article has the post's slug: this one gets one made
		// from its title (with -2, -3, ...), and the report says so.
		rep.Reason = join(rep.Reason, fmt.Sprintf("slug %q is another article's; this one gets its own", src.Content.Slug))
		src.Content.Slug = ""
		return write()
	}
	if pe.Kind != problem.Invalid {
		return a, err
	}
	for _, f := range pe.Fields {
		if !dropField(&src.Content, f.Field) {
			return a, err
		}
	}
	for _, f := range pe.Fields {
		rep.Reason = join(rep.Reason, fmt.Sprintf("%s left out: %s", f.Field, f.Message))
	}
	return write()
}

// dropField clears an optional field of c that the service refused;
// false for a field the article cannot do without.
func dropField(c *cms.Content, field string) bool {
	switch {
	case field == "seo.canonicalUrl" && c.SEO != nil:
		c.SEO.CanonicalURL = ""
	case strings.HasPrefix(field, "seo.") && c.SEO != nil:
		c.SEO = nil
	case strings.HasPrefix(field, "coverImage"):
		c.CoverImage = nil
	case field == "category":
		c.Category = ""
	case strings.HasPrefix(field, "tags"):
		c.Tags = []string{}
	case field == "summary":
		c.Summary = ""
	default:
		return false
	}
	return true
}

// failed reports an item that could not be imported, unless the error
// is the database's, which ends the import.
func (im *importer) failed(rep Item, err error) error {
	switch problem.KindOf(err) {
	case problem.Invalid, problem.Conflict, problem.Forbidden, problem.NotFound, problem.PreconditionFailed:
		rep.Outcome, rep.Reason = Failed, join(rep.Reason, describe(err))
		im.rep.add(rep)
		return nil
	}
	return fmt.Errorf("import WordPress post %d: %w", rep.WordPressID, err)
}

// describe is err for a report: the problem's detail and field messages.
func describe(err error) string {
	var pe *problem.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	out := pe.Detail
	for _, f := range pe.Fields {
		out = join(out, f.Field+": "+f.Message)
	}
	return out
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// statusOf maps a WordPress status to the article's, or says why the post
// is skipped.
func statusOf(wp string) (cms.Status, string) {
	switch wp {
	case "publish":
		return cms.StatusPublished, ""
	case "future":
		return cms.StatusScheduled, ""
	case "draft", "pending":
		return cms.StatusDraft, ""
	case "private":
		return "", "private posts are not imported: readers of WordPress could not see them either"
	case "trash":
		return "", "in the trash"
	}
	return "", fmt.Sprintf("status %q is not imported", wp)
}

// update makes the article id hold src's content, for a rerun after the
// post changed in WordPress. A published article gets the changes staged
// and then published by settle, like an editor's.
func (im *importer) update(id string, src source) (*cms.Article, error) {
	cur, err := im.s.opts.Articles.Get(im.ctx, im.run.By, id)
	if err != nil {
		return nil, err
	}
	c := src.Content
	patch := map[string]any{
		"title": c.Title, "summary": c.Summary, "body": c.Body, "bodyFormat": c.BodyFormat,
		"tags": c.Tags, "category": c.Category, "coverImage": c.CoverImage, "seo": c.SEO,
	}
	if c.Slug != "" {
		patch["slug"] = c.Slug
	}
	b, err := json.Marshal(patch)
	if err != nil {
		return nil, err
	}
	var u cms.ArticleUpdate
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, fmt.Errorf("patch of an imported article: %w", err)
	}
	return im.s.opts.Articles.Update(im.ctx, im.run.By, id, cur.Version, &u)
}

// settle moves the article to the status the post has: published with
// the post's date, scheduled for it, or left a draft. A scheduled date
// that has passed publishes it with that date.
func (im *importer) settle(a *cms.Article, src source) (*cms.Article, error) {
	now := im.s.opts.Now()
	var d cms.PublishDates
	switch {
	case src.Status == cms.StatusDraft:
		return a, nil
	case src.Status == cms.StatusScheduled && src.Date.After(now):
		if a.Status == cms.StatusScheduled && a.PublishAt != nil && a.PublishAt.Equal(src.Date) {
			return a, nil
		}
		t := src.Date
		d.PublishAt = &t
	default:
		if a.Status == cms.StatusPublished && !a.HasUnpublishedChanges {
			return a, nil
		}
		if a.Status != cms.StatusPublished && !src.Date.IsZero() && src.Date.Before(now) {
			t := src.Date
			d.PublishedAt = &t
		}
	}
	return im.s.opts.Articles.Transition(im.ctx, im.run.By, a.ID, cms.ActionPublish, a.Version, d)
}

// convert maps a post to an article's content, with notes for the report.
func (im *importer) convert(it *wordpress.Item, status cms.Status) (source, []string) {
	var notes []string
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	body, bodyNotes := im.body(it)
	notes = append(notes, bodyNotes...)
	c := cms.Content{
		Title:      clip(strings.TrimSpace(it.Title), cms.MaxTitle, "title", note),
		Slug:       slugOf(it.PostName),
		Summary:    clip(plain(it.Excerpt), cms.MaxSummary, "excerpt", note),
		Body:       body,
		BodyFormat: cms.FormatHTML,
		Tags:       []string{},
	}
	if c.Title == "" {
		c.Title = "(untitled)"
		note("the post has no title")
	}
	if it.PostName != "" && c.Slug == "" {
		note("slug %q is not a valid slug; one is derived from the title", it.PostName)
	}
	for _, t := range it.Terms {
		switch t.Domain {
		case "category":
			if c.Category == "" && t.Slug != "uncategorized" {
				c.Category = clip(t.Name, cms.MaxCategory, "category", note)
			} else if tag := slugOf(t.Slug); tag != "" && t.Slug != "uncategorized" {
				c.Tags = appendTag(c.Tags, tag)
			}
		case "post_tag":
			tag := slugOf(t.Slug)
			if tag == "" {
				tag = cms.Slugify(t.Name)
			}
			if tag != "" {
				c.Tags = appendTag(c.Tags, tag)
			}
		}
	}
	if it.PostType == "page" {
		c.Tags = appendTag(c.Tags, "page")
	}
	if len(c.Tags) > cms.MaxTags {
		note("%d tags: the first %d kept", len(c.Tags), cms.MaxTags)
		c.Tags = c.Tags[:cms.MaxTags]
	}
	c.CoverImage = im.cover(it, note)
	c.SEO = im.seo(it, c.Title, c.Summary, c.Category)
	src := source{Content: c, Status: status, Author: it.Creator}
	if t, ok := it.PublishedAt(); ok {
		src.Date = t.UTC().Truncate(time.Millisecond)
	}
	src.Former = im.former(it, c.Slug)
	return src, notes
}

func appendTag(tags []string, tag string) []string {
	for _, t := range tags {
		if t == tag {
			return tags
		}
	}
	return append(tags, tag)
}

// slugOf is a WordPress post name as a slug: WordPress percent-encodes
// non-ASCII names, which are slugified from their text.
func slugOf(name string) string {
	if dec, err := url.PathUnescape(name); err == nil {
		name = dec
	}
	if cms.CheckSlug(name) == "" {
		return name
	}
	return cms.Slugify(name)
}

// clip shortens s to max runes, noting it.
func clip(s string, max int, what string, note func(string, ...any)) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	note("%s cut to %d characters", what, max)
	r := []rune(s)
	return strings.TrimSpace(string(r[:max]))
}

// former are the post's old slugs: every _wp_old_slug, and the last
// segment of its permalink when it differs from the slug (a permalink
// structure or a slug changed after publication).
func (im *importer) former(it *wordpress.Item, slug string) []string {
	var out []string
	add := func(s string) {
		s = slugOf(s)
		if s == "" || s == slug {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, old := range it.MetaValues("_wp_old_slug") {
		add(old)
	}
	if u, err := url.Parse(it.Link); err == nil && u.RawQuery == "" {
		if last := path.Base(strings.TrimRight(u.Path, "/")); last != "." && last != "/" {
			add(last)
		}
	}
	return out
}

// cover is the post's featured image: the attachment _thumbnail_id names.
func (im *importer) cover(it *wordpress.Item, note func(string, ...any)) *cms.CoverImage {
	v, ok := it.MetaValue("_thumbnail_id")
	if !ok {
		return nil
	}
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return nil
	}
	att, ok := im.attachments[id]
	if !ok || att.URL == "" {
		note("the featured image (attachment %d) is not in the export", id)
		return nil
	}
	alt := clip(strings.TrimSpace(att.Alt), cms.MaxShortText, "cover alt text", note)
	if mediaID, ok := im.image(att.URL, alt, note); ok {
		return &cms.CoverImage{MediaID: mediaID, Alt: alt}
	}
	return &cms.CoverImage{URL: att.URL, Alt: alt}
}

// seo is the post's Yoast or Rank Math title, description and canonical
// URL, with their variables expanded.
func (im *importer) seo(it *wordpress.Item, title, excerpt, category string) *cms.SEO {
	vars := wordpress.Vars{Title: title, SiteName: im.site.Title, SiteDescription: im.site.Description,
		Excerpt: excerpt, Category: category}
	first := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := it.MetaValue(k); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	seo := cms.SEO{
		Title:        wordpress.Expand(first("_yoast_wpseo_title", "rank_math_title"), vars),
		Description:  wordpress.Expand(first("_yoast_wpseo_metadesc", "rank_math_description"), vars),
		CanonicalURL: first("_yoast_wpseo_canonical", "rank_math_canonical_url"),
	}
	seo.Title = clipQuiet(seo.Title, cms.MaxTitle)
	seo.Description = clipQuiet(seo.Description, cms.MaxDescription)
	if seo == (cms.SEO{}) {
		return nil
	}
	return &seo
}

func clipQuiet(s string, max int) string { return clip(s, max, "", func(string, ...any) {}) }

// plain is an excerpt without markup, as a summary is plain text.
func plain(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}
