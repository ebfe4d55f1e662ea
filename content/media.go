package content

import (
	"context"
	"html"
	"slices"
	"strconv"
	"strings"

	xhtml "golang.org/x/net/html"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/imagefile"
	"github.com/wellness/cms/media"
)

// coverView is an article's cover as readers get it. For an item of the
// media library it carries the item's dimensions and sizes; url is the
// full-size image (the JSON-LD image too), srcset the sizes in the
// upload's format, webpSrcset the same widths as WebP.
type coverView struct {
	URL        string `json:"url"`
	Alt        string `json:"alt"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	Srcset     string `json:"srcset,omitempty"`
	WebPSrcset string `json:"webpSrcset,omitempty"`
}

// cover is a's cover as served: nil when it has none, or when it names a
// media item that is gone (deleted with force).
func (api *API) cover(a *cms.Article) *coverView {
	c := a.CoverImage
	if c == nil {
		return nil
	}
	if c.MediaID == "" {
		return &coverView{URL: c.URL, Alt: c.Alt}
	}
	if api.media == nil {
		return nil
	}
	it, ok := api.media.Find(c.MediaID)
	if !ok {
		return nil
	}
	v := &coverView{URL: api.media.URL(it.Original), Alt: c.Alt, Width: it.Width, Height: it.Height,
		Srcset: api.srcset(it, it.Format)}
	if v.Alt == "" {
		v.Alt = it.Alt
	}
	if it.Format != imagefile.WebP {
		v.WebPSrcset = api.srcset(it, imagefile.WebP)
	}
	return v
}

// srcset lists it's renditions in format f as a srcset value.
func (api *API) srcset(it *media.Item, f imagefile.Format) string {
	var b strings.Builder
	for i, r := range it.In(f) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(api.media.URL(r))
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(r.Width))
		b.WriteByte('w')
	}
	return b.String()
}

// mayRewriteImages reports whether bodyImages could change body.
func (api *API) mayRewriteImages(body string) bool {
	return api.media != nil && strings.Contains(body, "<img")
}

// bodyImages gives every <img> of body that shows a media item its sizes
// (srcset and sizes, in a <picture> with the WebP sizes first), width,
// height and lazy loading, and removes those whose item is gone. The
// stored body, which authors edit, keeps the plain <img>. Linear in the
// body: each tag is read once.
func (api *API) bodyImages(body string) string {
	if !api.mayRewriteImages(body) {
		return body
	}
	var b strings.Builder
	last := 0
	for i := 0; ; {
		j := strings.Index(body[i:], "<img")
		if j < 0 {
			break
		}
		start := i + j
		i = start + len("<img")
		if i >= len(body) || !strings.ContainsRune(" \t\n\r\f/>", rune(body[i])) {
			continue
		}
		// Sanitized HTML quotes every attribute and escapes > in values.
		k := strings.IndexByte(body[i:], '>')
		if k < 0 {
			break
		}
		end := i + k + 1
		i = end
		repl, ok := api.mediaImage(body[start:end])
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(body) + 1024)
		}
		b.WriteString(body[last:start])
		b.WriteString(repl)
		last = end
	}
	if last == 0 {
		return body
	}
	b.WriteString(body[last:])
	return b.String()
}

// replaced are the attributes mediaImage writes itself.
var replaced = []string{"src", "srcset", "sizes", "width", "height", "loading", "decoding", "alt"}

// mediaImage is the served form of one <img> tag, and whether it differs:
// "" for an image of a deleted item.
func (api *API) mediaImage(tag string) (string, bool) {
	z := xhtml.NewTokenizer(strings.NewReader(tag))
	if tt := z.Next(); tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
		return "", false
	}
	t := z.Token()
	var src, alt string
	hasAlt := false
	for _, a := range t.Attr {
		switch a.Key {
		case "src":
			src = a.Val
		case "alt":
			alt, hasAlt = a.Val, true
		}
	}
	it, _, ok := api.media.FindURL(src)
	if !ok {
		if api.isMediaURL(src) {
			return "", true // its item was deleted: the image is gone
		}
		return "", false
	}
	if !hasAlt {
		alt = it.Alt
	}
	sizes := "(max-width: " + strconv.Itoa(it.Width) + "px) 100vw, " + strconv.Itoa(it.Width) + "px"
	var b strings.Builder
	webp := ""
	if it.Format != imagefile.WebP {
		webp = api.srcset(it, imagefile.WebP)
	}
	if webp != "" {
		b.WriteString(`<picture><source type="image/webp" srcset="`)
		b.WriteString(html.EscapeString(webp))
		b.WriteString(`" sizes="`)
		b.WriteString(sizes)
		b.WriteString(`">`)
	}
	b.WriteString(`<img src="`)
	b.WriteString(html.EscapeString(src))
	b.WriteString(`" srcset="`)
	b.WriteString(html.EscapeString(api.srcset(it, it.Format)))
	b.WriteString(`" sizes="`)
	b.WriteString(sizes)
	b.WriteString(`" width="`)
	b.WriteString(strconv.Itoa(it.Width))
	b.WriteString(`" height="`)
	b.WriteString(strconv.Itoa(it.Height))
	b.WriteString(`" alt="`)
	b.WriteString(html.EscapeString(alt))
	b.WriteString(`" loading="lazy" decoding="async"`)
	for _, a := range t.Attr {
		if slices.Contains(replaced, a.Key) || a.Namespace != "" {
			continue
		}
		b.WriteString(" " + a.Key + `="` + html.EscapeString(a.Val) + `"`)
	}
	b.WriteString(">")
	if webp != "" {
		b.WriteString("</picture>")
	}
	return b.String(), true
}

// isMediaURL reports whether u names a file of this instance's media
// library, recorded or not.
func (api *API) isMediaURL(u string) bool {
	p, ok := strings.CutPrefix(u, api.publicURL)
	if !ok {
		p = u
	}
	return strings.HasPrefix(p, media.Path)
}

// MediaChanged is the media.Service.OnChange listener: articles whose
// cover is one of the items, or whose body names one of their files, are
// rendered again.
func (api *API) MediaChanged(_ context.Context, ch media.Change) {
	changed := make(map[string]bool, len(ch.IDs)+len(ch.Keys))
	for _, id := range ch.IDs {
		changed[id] = true
	}
	for _, k := range ch.Keys {
		changed[k] = true
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	cur := api.snap.Load()
	var entries map[string]*entry
	for id, e := range cur.entries {
		c := e.a.CoverImage
		if !(c != nil && c.MediaID != "" && changed[c.MediaID]) &&
			!slices.ContainsFunc(e.mediaKeys, func(k string) bool { return changed[k] }) {
			continue
		}
		if entries == nil {
			entries = cloneMap(cur.entries)
		}
		entries[id] = e.renewed()
	}
	if entries != nil {
		api.install(buildSnapshot(entries, cur.slugs, cur.versions, api.now()))
	}
}

// MediaUsers lists the slugs of the published (and scheduled) articles that show the
// media item id, as cover or in the body, from the snapshot. It is the
// media library's media.Options.UsedBy.
func (api *API) MediaUsers(_ context.Context, id string) ([]string, error) {
	var keys []string
	if it, ok := api.media.Find(id); ok {
		for _, f := range it.Files() {
			keys = append(keys, f.Key)
		}
	}
	var slugs []string
	for _, e := range api.snap.Load().entries {
		if e.a.Status != cms.StatusPublished && e.a.Status != cms.StatusScheduled {
			continue
		}
		if c := e.a.CoverImage; c != nil && c.MediaID == id {
			slugs = append(slugs, e.a.Slug)
			continue
		}
		if slices.ContainsFunc(e.mediaKeys, func(k string) bool { return slices.Contains(keys, k) }) {
			slugs = append(slugs, e.a.Slug)
		}
	}
	slices.Sort(slugs)
	return slugs, nil
}
