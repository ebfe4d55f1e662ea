// Package wordpress reads what a WordPress site exports, so the importer
// (wpimport) can turn it into articles without knowing WordPress's quirks:
// the WXR file itself (a streaming reader, one <item> in memory at a time,
// so a 200 MB export needs a few MB), PHP-serialized postmeta values, post
// bodies (Gutenberg block comments, shortcodes, [caption] and the
// blank-line paragraphs that wpautop turns into <p> on display) and the
// Yoast and Rank Math title templates.
//
// Elements are matched by local name, with a namespace check loose enough
// for every exporter seen in the wild: WXR 1.1 and 1.2, http and https
// (WordPress.com writes https://wordpress.org/export/1.2/), so any
// namespace containing "wordpress.org/export/" counts as wp:. The package
// is a leaf: it imports nothing from this module.
package wordpress

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html/charset"
)

// Errors the Reader returns, wrapped with the line they concern; test them
// with errors.Is.
var (
	// ErrTruncated: the file ends inside an item or before </channel> or
	// </rss>, usually an interrupted download or a PHP time-out.
	ErrTruncated = errors.New("the file was cut off")
	// ErrNotWXR: the file is XML but not a WordPress export (no <rss>, no
	// <channel>, or no wp: namespace before the first item).
	ErrNotWXR = errors.New("not a WordPress export (WXR) file")
	// ErrTooLarge: an item, or the channel's term lists, exceed a limit
	// that keeps memory bounded.
	ErrTooLarge = errors.New("over a size limit")
)

// Limits that keep a hostile or broken file from using unbounded memory.
const (
	// MaxItemBytes is the most text one item may hold (content, excerpt,
	// meta values together), and the most bytes of input a single XML
	// token may span.
	MaxItemBytes = 32 << 20
	// MaxDepth is the deepest nesting of elements the reader follows.
	MaxDepth = 64
	// MaxMeta is the most wp:postmeta entries one item may have.
	MaxMeta = 10000
	// MaxTerms is the most authors, categories or tags the channel may
	// declare (each list separately).
	MaxTerms = 1000000
)

// Unset is how WordPress writes a date it has not set (drafts have no
// post_date_gmt).
const Unset = "0000-00-00 00:00:00"

// dateLayout is the layout of every wp: date.
const dateLayout = "2006-01-02 15:04:05"

// Site is what the channel says before its first item.
type Site struct {
	Title, Link, Description, Language string
	BaseSiteURL, BaseBlogURL           string // wp:base_site_url, wp:base_blog_url
	WXRVersion                         string // wp:wxr_version
	Authors                            []Author
	Categories                         []Term // wp:category (Slug from wp:category_nicename, Name from wp:cat_name, Parent from wp:category_parent)
	Tags                               []Term // wp:tag (wp:tag_slug, wp:tag_name)
}

// Author is one wp:author of the channel.
type Author struct {
	ID                                             int64
	Login, Email, DisplayName, FirstName, LastName string
}

// Term is a category or tag the channel declares. Parent is the parent's
// slug, empty at the top.
type Term struct{ Slug, Name, Parent string }

// Item is one <item>: a post, page, attachment, nav_menu_item, thirstylink...
type Item struct {
	Title, Link, GUID, Creator string // Creator: dc:creator (the author's login)
	Content                    string // content:encoded
	Excerpt                    string // excerpt:encoded
	PostID                     int64
	// Raw "2006-01-02 15:04:05"; Unset ("0000-00-00 00:00:00") when unset.
	PostDate, PostDateGMT, PostModifiedGMT   string
	PostName, Status, PostType, PostPassword string
	PostParent                               int64
	AttachmentURL                            string
	Terms                                    []ItemTerm // <category domain="category" nicename="pain">Pain</category>
	Meta                                     []Meta     // wp:postmeta, in order
	Line                                     int        // the line the <item> starts on, for reports

	// PostModified is wp:post_modified (local time), MenuOrder
	// wp:menu_order, Sticky wp:is_sticky == 1.
	PostModified string
	MenuOrder    int64
	Sticky       bool
}

// ItemTerm is one <category> of an item: Domain "category" for
// categories, "post_tag" for tags, others for custom taxonomies.
type ItemTerm struct{ Domain, Slug, Name string }

// Meta is one wp:postmeta.
type Meta struct{ Key, Value string }

// MetaValue returns the last value stored under key.
func (it *Item) MetaValue(key string) (string, bool) {
	for i := len(it.Meta) - 1; i >= 0; i-- {
		if it.Meta[i].Key == key {
			return it.Meta[i].Value, true
		}
	}
	return "", false
}

// MetaValues returns every value under key, in order (_wp_old_slug
// repeats).
func (it *Item) MetaValues(key string) []string {
	var vs []string
	for _, m := range it.Meta {
		if m.Key == key {
			vs = append(vs, m.Value)
		}
	}
	return vs
}

// parseDate parses a wp: date as UTC; ok is false for Unset, empty or
// invalid text.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == Unset || strings.HasPrefix(s, "0000-") {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(dateLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// PostDateGMTTime parses PostDateGMT (UTC); ok is false when it is unset
// or invalid.
func (it *Item) PostDateGMTTime() (time.Time, bool) { return parseDate(it.PostDateGMT) }

// PostDateTime parses PostDate, the site's local time, as a naive time in
// UTC (the export does not say the site's zone); ok is false when unset
// or invalid.
func (it *Item) PostDateTime() (time.Time, bool) { return parseDate(it.PostDate) }

// PostModifiedGMTTime parses PostModifiedGMT (UTC).
func (it *Item) PostModifiedGMTTime() (time.Time, bool) { return parseDate(it.PostModifiedGMT) }

// PublishedAt is post_date_gmt, falling back to post_date when the GMT
// date is unset (drafts export 0000-00-00 00:00:00).
func (it *Item) PublishedAt() (t time.Time, ok bool) {
	if t, ok := it.PostDateGMTTime(); ok {
		return t, true
	}
	return it.PostDateTime()
}

// Reader reads a WXR file item by item. It is not safe for concurrent use.
type Reader struct {
	src  *source
	d    *xml.Decoder
	site Site

	state   int // stateStart, stateChannel, stateDone
	err     error
	wpSeen  bool // a wp namespace was declared or used
	depth   int  // open elements, as the decoder counts them
	itemTxt int  // bytes of text stored in the current item

	maxItemBytes int
	maxMeta      int
}

const (
	stateStart        = iota // before <rss>
	stateRSS                 // in <rss>, before <channel>
	stateChannel             // in <channel>
	stateAfterChannel        // after </channel>, before </rss>
	stateDone                // after </rss>
)

// NewReader returns a Reader of r, which it buffers itself. Exports that
// declare another encoding than UTF-8 (ISO-8859-1, windows-1252) are
// decoded to UTF-8; C0 control characters that XML forbids (WordPress
// writes them through from pasted text) are dropped.
func NewReader(r io.Reader) *Reader {
	src := &source{r: bufio.NewReaderSize(r, 64<<10), limit: MaxItemBytes + 1<<20}
	d := xml.NewDecoder(src)
	d.Strict = true
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charset.NewReaderLabel
	return &Reader{src: src, d: d, maxItemBytes: MaxItemBytes, maxMeta: MaxMeta}
}

// Site returns what the channel declared. It is complete once Next has
// returned the first item or io.EOF.
func (r *Reader) Site() *Site { return &r.site }

// Next returns the next item, or io.EOF after the last one. Errors wrap
// ErrTruncated, ErrNotWXR, ErrTooLarge or an *xml.SyntaxError, and name a
// line; after an error Next returns the same error again.
func (r *Reader) Next() (*Item, error) {
	if r.err != nil {
		return nil, r.err
	}
	it, err := r.next()
	if err != nil {
		r.err = err
		return nil, err
	}
	return it, nil
}

func (r *Reader) next() (*Item, error) {
	for {
		r.src.mark()
		tok, err := r.token()
		if err != nil {
			if err == io.EOF {
				switch r.state {
				case stateStart:
					return nil, fmt.Errorf("the file has no <rss> element: %w", ErrNotWXR)
				case stateDone:
					return nil, io.EOF
				}
			}
			return nil, r.truncated(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			r.noteNS(t)
			switch r.state {
			case stateStart:
				if t.Name.Local != "rss" || r.depth != 1 {
					return nil, fmt.Errorf("line %d: the root element is <%s>, not <rss>: %w", r.line(), t.Name.Local, ErrNotWXR)
				}
				r.state = stateRSS
			case stateRSS:
				if t.Name.Local == "channel" {
					r.state = stateChannel
					continue
				}
				if err := r.skip(); err != nil {
					return nil, r.truncated(err)
				}
			case stateChannel:
				if err := r.channelChild(t); err != nil {
					if err == errItem {
						if !r.wpSeen {
							return nil, fmt.Errorf("line %d: the items have no wp: namespace (an RSS feed?): %w", r.line(), ErrNotWXR)
						}
						return r.item()
					}
					return nil, r.truncated(err)
				}
			default:
				if err := r.skip(); err != nil {
					return nil, r.truncated(err)
				}
			}
		case xml.EndElement:
			switch {
			case r.state == stateRSS && t.Name.Local == "rss":
				return nil, fmt.Errorf("line %d: <rss> has no <channel>: %w", r.line(), ErrNotWXR)
			case r.state == stateChannel && t.Name.Local == "channel":
				if !r.wpSeen {
					return nil, fmt.Errorf("line %d: no wp: namespace (an RSS feed?): %w", r.line(), ErrNotWXR)
				}
				r.state = stateAfterChannel
			case r.state == stateAfterChannel && t.Name.Local == "rss":
				r.state = stateDone
				return nil, io.EOF
			}
		}
	}
}

// errItem tells next that channelChild met an <item>.
var errItem = errors.New("item")

// channelChild reads one child of <channel> other than <item>.
func (r *Reader) channelChild(t xml.StartElement) error {
	s := &r.site
	name := t.Name
	if name.Local == "item" && name.Space == "" {
		return errItem
	}
	if name.Space == "" {
		var dst *string
		switch name.Local {
		case "title":
			dst = &s.Title
		case "link":
			dst = &s.Link
		case "description":
			dst = &s.Description
		case "language":
			dst = &s.Language
		}
		if dst == nil {
			return r.skip()
		}
		v, err := r.text()
		*dst = v
		return err
	}
	if !isWP(name.Space) {
		return r.skip()
	}
	switch name.Local {
	case "base_site_url", "base_blog_url", "wxr_version":
		v, err := r.text()
		switch name.Local {
		case "base_site_url":
			s.BaseSiteURL = strings.TrimSpace(v)
		case "base_blog_url":
			s.BaseBlogURL = strings.TrimSpace(v)
		default:
			s.WXRVersion = strings.TrimSpace(v)
		}
		return err
	case "author":
		if len(s.Authors) >= MaxTerms {
			return fmt.Errorf("line %d: more than %d authors: %w", r.line(), MaxTerms, ErrTooLarge)
		}
		var a Author
		var id string
		err := r.fields(func(local string) *string {
			switch local {
			case "author_id":
				return &id
			case "author_login":
				return &a.Login
			case "author_email":
				return &a.Email
			case "author_display_name":
				return &a.DisplayName
			case "author_first_name":
				return &a.FirstName
			case "author_last_name":
				return &a.LastName
			}
			return nil
		})
		if err != nil {
			return err
		}
		if a.ID, err = r.number("wp:author_id", id); err != nil {
			return err
		}
		s.Authors = append(s.Authors, a)
		return nil
	case "category", "tag":
		list := &s.Categories
		if name.Local == "tag" {
			list = &s.Tags
		}
		if len(*list) >= MaxTerms {
			return fmt.Errorf("line %d: more than %d %ss: %w", r.line(), MaxTerms, name.Local, ErrTooLarge)
		}
		var term Term
		err := r.fields(func(local string) *string {
			switch local {
			case "category_nicename", "tag_slug":
				return &term.Slug
			case "cat_name", "tag_name":
				return &term.Name
			case "category_parent":
				return &term.Parent
			}
			return nil
		})
		if err != nil {
			return err
		}
		*list = append(*list, term)
		return nil
	}
	return r.skip()
}

// item reads one <item> whose start tag was just read.
func (r *Reader) item() (*Item, error) {
	it := &Item{Line: r.line()}
	r.itemTxt = 0
	var postID, parent, menuOrder, sticky string
	err := r.children(func(t xml.StartElement) error {
		name := t.Name
		var dst *string
		switch {
		case name.Space == "":
			switch name.Local {
			case "title":
				dst = &it.Title
			case "link":
				dst = &it.Link
			case "guid":
				dst = &it.GUID
			case "category":
				var term ItemTerm
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "domain":
						term.Domain = a.Value
					case "nicename":
						term.Slug = a.Value
					}
				}
				v, err := r.text()
				if err != nil {
					return err
				}
				term.Name = v
				if err := r.charge(len(term.Domain) + len(term.Slug) + len(v)); err != nil {
					return err
				}
				it.Terms = append(it.Terms, term)
				return nil
			}
		case name.Local == "creator" && !isWP(name.Space):
			dst = &it.Creator
		case name.Local == "encoded" && strings.Contains(name.Space, "excerpt"):
			dst = &it.Excerpt
		case name.Local == "encoded" && (strings.Contains(name.Space, "content") || name.Space == "content"):
			dst = &it.Content
		case isWP(name.Space):
			switch name.Local {
			case "post_id":
				dst = &postID
			case "post_date":
				dst = &it.PostDate
			case "post_date_gmt":
				dst = &it.PostDateGMT
			case "post_modified":
				dst = &it.PostModified
			case "post_modified_gmt":
				dst = &it.PostModifiedGMT
			case "post_name":
				dst = &it.PostName
			case "status":
				dst = &it.Status
			case "post_type":
				dst = &it.PostType
			case "post_password":
				dst = &it.PostPassword
			case "post_parent":
				dst = &parent
			case "menu_order":
				dst = &menuOrder
			case "is_sticky":
				dst = &sticky
			case "attachment_url":
				dst = &it.AttachmentURL
			case "postmeta":
				if len(it.Meta) >= r.maxMeta {
					return fmt.Errorf("line %d: the item that starts on line %d has more than %d postmeta: %w", r.line(), it.Line, r.maxMeta, ErrTooLarge)
				}
				var m Meta
				err := r.fields(func(local string) *string {
					switch local {
					case "meta_key":
						return &m.Key
					case "meta_value":
						return &m.Value
					}
					return nil
				})
				if err != nil {
					return err
				}
				it.Meta = append(it.Meta, m)
				return nil
			}
		}
		if dst == nil {
			return r.skip() // wp:comment and everything unknown
		}
		v, err := r.text()
		*dst = v
		return err
	})
	if err != nil {
		return nil, r.inItem(err, it.Line)
	}
	for _, f := range []struct {
		name, v string
		dst     *int64
	}{{"wp:post_id", postID, &it.PostID}, {"wp:post_parent", parent, &it.PostParent}, {"wp:menu_order", menuOrder, &it.MenuOrder}} {
		if *f.dst, err = r.number(f.name, f.v); err != nil {
			return nil, fmt.Errorf("in the item that starts on line %d: %w", it.Line, err)
		}
	}
	it.Sticky = strings.TrimSpace(sticky) == "1"
	for _, p := range []*string{&it.PostName, &it.Status, &it.PostType, &it.PostDate, &it.PostDateGMT, &it.PostModified, &it.PostModifiedGMT, &it.AttachmentURL, &it.GUID, &it.Link, &it.Creator} {
		*p = strings.TrimSpace(*p)
	}
	return it, nil
}

// inItem rewords an end of file inside an item.
func (r *Reader) inItem(err error, line int) error {
	if errors.Is(err, errEOF) {
		return fmt.Errorf("the file ends inside the item that starts on line %d: it was cut off; export it again: %w", line, ErrTruncated)
	}
	return err
}

// errEOF marks an end of input inside an element, before wrap names it.
var errEOF = errors.New("unexpected end of file")

// number parses a decimal wp: number; empty is 0.
func (r *Reader) number(name, v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("line %d: %s %q is not a number", r.line(), name, v)
	}
	return n, nil
}

// children calls f for each child element of the element just opened and
// returns after its end tag; f must consume the child (text or skip).
func (r *Reader) children(f func(xml.StartElement) error) error {
	for {
		tok, err := r.token()
		if err != nil {
			return r.wrap(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			r.noteNS(t)
			if err := f(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// fields reads an element whose children are text fields: dst names where
// each child's text goes, nil to skip it.
func (r *Reader) fields(dst func(local string) *string) error {
	return r.children(func(t xml.StartElement) error {
		var p *string
		if isWP(t.Name.Space) {
			p = dst(t.Name.Local)
		}
		if p == nil {
			return r.skip()
		}
		v, err := r.text()
		*p = v
		return err
	})
}

// text returns the character data of the element just opened, CDATA
// sections concatenated (so "]]]]><![CDATA[>" comes out as "]]>"), and
// skips any child elements.
func (r *Reader) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := r.token()
		if err != nil {
			return "", r.wrap(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if err := r.charge(len(t)); err != nil {
				return "", err
			}
			b.Write(t)
		case xml.StartElement:
			if err := r.skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			return b.String(), nil
		}
	}
}

// charge counts n bytes of text against the item's budget.
func (r *Reader) charge(n int) error {
	r.itemTxt += n
	if r.state == stateChannel && r.itemTxt > r.maxItemBytes {
		return fmt.Errorf("line %d: more than %d MiB of text in one element or item: %w", r.line(), r.maxItemBytes>>20, ErrTooLarge)
	}
	return nil
}

// skip consumes the element just opened without storing it.
func (r *Reader) skip() error {
	start := r.depth
	for r.depth >= start {
		if _, err := r.token(); err != nil {
			return r.wrap(err)
		}
	}
	return nil
}

// token reads the next token, keeping depth and enforcing MaxDepth.
func (r *Reader) token() (xml.Token, error) {
	tok, err := r.d.Token()
	if err != nil {
		if r.src.err != nil && r.src.err != io.EOF {
			return nil, r.src.err // the limit, or the caller's read error
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) && strings.HasPrefix(se.Msg, "unexpected EOF") {
			return nil, errEOF
		}
		if (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) && r.depth > 0 {
			return nil, errEOF
		}
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		r.depth++
		if r.depth > MaxDepth {
			return nil, fmt.Errorf("line %d: elements nested more than %d deep: %w", r.line(), MaxDepth, ErrTooLarge)
		}
	case xml.EndElement:
		r.depth--
	}
	return tok, nil
}

// truncated words an end of file outside an item.
func (r *Reader) truncated(err error) error {
	if !errors.Is(err, errEOF) && err != io.EOF {
		var se *xml.SyntaxError
		if r.state == stateStart && errors.As(err, &se) {
			return fmt.Errorf("the file is not XML: %w: %w", ErrNotWXR, err)
		}
		return r.wrap(err)
	}
	where := "</rss>"
	if r.state == stateChannel {
		where = "</channel>"
	}
	return fmt.Errorf("line %d: the file ends before %s: it was cut off; export it again: %w", r.line(), where, ErrTruncated)
}

// wrap names a syntax error as such; the error's text has the line.
func (r *Reader) wrap(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) && !strings.HasPrefix(err.Error(), "the XML is broken") {
		return fmt.Errorf("the XML is broken: %w", err) // its text names the line
	}
	return err
}

// line is the current line of the input.
func (r *Reader) line() int {
	l, _ := r.d.InputPos()
	return l
}

// noteNS records whether an element uses or declares a wp namespace.
func (r *Reader) noteNS(t xml.StartElement) {
	if r.wpSeen {
		return
	}
	if isWP(t.Name.Space) {
		r.wpSeen = true
		return
	}
	for _, a := range t.Attr {
		if (a.Name.Space == "xmlns" || a.Name.Local == "xmlns") && isWP(a.Value) {
			r.wpSeen = true
			return
		}
	}
}

// isWP reports whether a namespace is WordPress's export namespace (any
// version, http or https), or the bare prefix "wp" of a file that forgot
// to declare it. The excerpt namespace, which lives under it, is not.
func isWP(space string) bool {
	if space == "wp" {
		return true
	}
	return strings.Contains(space, "wordpress.org/export/") && !strings.Contains(space, "/excerpt")
}

// source feeds the decoder: it drops the C0 controls XML forbids, and
// fails once more than limit bytes pass without a mark, so a single
// enormous token cannot exhaust memory.
type source struct {
	r     io.Reader
	n     int64 // bytes handed out
	at    int64 // n at the last mark
	limit int64
	err   error
}

func (s *source) mark() { s.at = s.n }

func (s *source) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	// Drop bytes XML 1.0 forbids. Every encoding WordPress writes is
	// ASCII-compatible, so these bytes are these characters.
	j := 0
	for _, c := range p[:n] {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			continue
		}
		p[j] = c
		j++
	}
	s.n += int64(j)
	if s.n-s.at > s.limit {
		s.err = fmt.Errorf("more than %d MiB in one item or element: %w", s.limit>>20, ErrTooLarge)
		return j, nil
	}
	if err != nil {
		s.err = err
	}
	return j, err
}
