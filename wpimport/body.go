package wpimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"

	"golang.org/x/net/html"

	"github.com/wellness/cms/internal/wordpress"
	"github.com/wellness/cms/media"
)

// body turns a post's content into the HTML the pipeline takes: cleaned
// of WordPress's markup (wordpress.Clean), with affiliate links pointed
// at their products and, with Run.Media, images in the media library.
func (im *importer) body(it *wordpress.Item) (string, []string) {
	out, rep := wordpress.Clean(it.Content)
	for _, name := range rep.Shortcodes {
		im.rep.shortcode(name, it.PostID)
	}
	var notes []string
	if len(rep.Shortcodes) > 0 {
		notes = append(notes, "shortcodes removed: ["+strings.Join(rep.Shortcodes, "], [")+"]")
	}
	rewritten, more := im.rewrite(it.PostID, out)
	return rewritten, append(notes, more...)
}

// shortened are hosts of Amazon's short links: they redirect to a product
// page, but the link itself cannot carry an associate tag.
var shortened = map[string]bool{"amzn.to": true, "amzn.eu": true, "amzn.asia": true, "a.co": true}

// rewrite goes over the tags of body once: <a href> to the site's
// affiliate links become product links, and <img src> of the site's
// uploads are taken into the library when the run says so. Everything
// else is copied byte for byte.
func (im *importer) rewrite(post int64, body string) (string, []string) {
	var notes []string
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	z := html.NewTokenizer(strings.NewReader(body))
	var b bytes.Buffer
	b.Grow(len(body))
	dropEnd := false // the </a> of a link whose start tag was dropped
	pos := 0         // how much of body the tokens so far covered
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() == io.EOF {
				// A tag cut off at the end is no token: keep its bytes.
				b.WriteString(body[min(pos, len(body)):])
				return b.String(), notes
			}
			return body, notes
		}
		raw := z.Raw()
		pos += len(raw)
		if tt == html.EndTagToken && dropEnd {
			if name, _ := z.TagName(); string(name) == "a" {
				dropEnd = false
				continue
			}
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			b.Write(raw)
			continue
		}
		t := z.Token()
		changed, drop := false, false
		switch t.Data {
		case "a":
			for i, a := range t.Attr {
				if a.Key != "href" {
					continue
				}
				switch to, keep := im.link(post, a.Val); {
				case !keep:
					drop, dropEnd = true, tt == html.StartTagToken
				case to != "":
					t.Attr[i].Val, changed = to, true
				}
			}
			if drop {
				continue
			}
		case "img":
			for i, a := range t.Attr {
				if a.Key == "src" && im.run.Media != MediaKeep && im.upload(a.Val) {
					if id, ok := im.image(a.Val, attr(t, "alt"), note); ok {
						if it, found := im.s.opts.Media.Find(id); found {
							t.Attr[i].Val, changed = im.s.opts.Media.View(it).URL, true
							t.Attr = dropAttr(t.Attr, "srcset")
						}
					}
				}
			}
		}
		if changed {
			b.WriteString(t.String())
		} else {
			b.Write(raw)
		}
	}
}

func attr(t html.Token, key string) string {
	for _, a := range t.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func dropAttr(attrs []html.Attribute, key string) []html.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		if a.Key != key {
			out = append(out, a)
		}
	}
	return out
}

// link is where a body link goes now: to (empty: unchanged) is the
// product page a ThirstyAffiliates or Pretty Links slug became; keep is
// false for a shortened Amazon link, which the pipeline refuses because
// it cannot carry the associate tag, so the link goes and its text stays.
// Both that and a link to an affiliate slug the export lacks are
// reported.
func (im *importer) link(post int64, href string) (to string, keep bool) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return "", true
	}
	host := strings.ToLower(strings.TrimPrefix(u.Hostname(), "www."))
	if shortened[host] {
		im.rep.Links = append(im.rep.Links, Link{WordPressID: post, Href: href,
			Reason: "a shortened Amazon link cannot carry the associate tag: its text is kept without the link; link the product page instead"})
		return "", false
	}
	if !im.sameSite(u) {
		return "", true
	}
	p := strings.Trim(u.Path, "/")
	code, ok := im.links[p]
	if !ok {
		if strings.HasPrefix(p, im.run.LinkPrefix+"/") {
			im.rep.Links = append(im.rep.Links, Link{WordPressID: post, Href: href,
				Reason: "an affiliate link the export does not hold (it stays as it is and leads to the old site)"})
		}
		return "", true
	}
	to, _ = im.s.opts.Affiliate.ProductLink(code) // none in a dry run, which created no product
	return to, true
}

// sameSite reports whether u is on the exported site (or relative).
func (im *importer) sameSite(u *url.URL) bool {
	if u.Host == "" {
		return u.Scheme == "" && strings.HasPrefix(u.Path, "/")
	}
	strip := func(h string) string { return strings.TrimPrefix(strings.ToLower(h), "www.") }
	return strip(u.Hostname()) == strip(im.siteURL.Hostname())
}

// uploadsPath is where WordPress keeps uploads on its site.
const uploadsPath = "/wp-content/uploads/"

// upload reports whether src is a WordPress upload: of the site, or of
// the CDN host it serves uploads from.
func (im *importer) upload(src string) bool {
	u, err := url.Parse(src)
	return err == nil && strings.Contains(u.Path, uploadsPath)
}

// image takes the image at src into the media library, once per URL and
// site (a rerun finds it in the records): fetched with MediaImport, read
// from the copy of wp-content/uploads with MediaDir. ok is false with
// MediaKeep, in a dry run, and when it cannot be had, which is noted.
func (im *importer) image(src, alt string, note func(string, ...any)) (string, bool) {
	if im.run.Media == MediaKeep {
		return "", false
	}
	key := im.key("media", src)
	rec, err := im.s.records.find(im.ctx, key)
	if err == nil && rec != nil {
		if _, ok := im.s.opts.Media.Find(rec.Target); ok {
			return rec.Target, true
		}
	}
	if im.run.DryRun {
		return "", false
	}
	data, err := im.imageBytes(src)
	if err != nil {
		note("image %s kept at its URL: %v", src, err)
		return "", false
	}
	u, _ := url.Parse(src)
	item, err := im.s.opts.Media.Create(im.ctx, im.run.By, media.Upload{FileName: path.Base(u.Path), Alt: alt, Data: data})
	if err != nil {
		note("image %s kept at its URL: %s", src, describe(err))
		return "", false
	}
	if err := im.s.records.put(im.ctx, &record{ID: key, Target: item.ID, At: im.s.opts.Now()}); err != nil {
		note("image %s: %v", src, err)
	}
	return item.ID, true
}

// imageBytes reads an upload, at most the library's upload limit.
func (im *importer) imageBytes(src string) ([]byte, error) {
	if im.run.Media == MediaDir {
		u, err := url.Parse(src)
		if err != nil {
			return nil, err
		}
		_, rel, ok := strings.Cut(u.Path, uploadsPath)
		if !ok {
			return nil, fmt.Errorf("not under %s", uploadsPath)
		}
		if dec, err := url.PathUnescape(rel); err == nil {
			rel = dec
		}
		// os.OpenInRoot refuses paths that leave the directory.
		f, err := os.OpenInRoot(im.run.MediaDir, rel)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	}
	u, err := url.Parse(src)
	if err != nil {
		return nil, err
	}
	if im.s.opts.Fetch == nil {
		return nil, errors.New("this process fetches nothing")
	}
	if u.Host == "" {
		u = im.siteURL.ResolveReference(u)
	}
	req, err := http.NewRequestWithContext(im.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := im.s.opts.Fetch.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the site answered %s", resp.Status)
	}
	return readLimited(resp.Body)
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, media.UploadLimit+1))
	if err != nil {
		return nil, err
	}
	if len(data) > media.UploadLimit {
		return nil, fmt.Errorf("larger than the library's %d MB", media.UploadLimit>>20)
	}
	return data, nil
}
