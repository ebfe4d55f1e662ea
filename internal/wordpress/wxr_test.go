package wordpress

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// readAll reads every item of a fixture.
func readAll(tb testing.TB, name string) (*Site, []*Item) {
	tb.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	items, site, err := readItems(f)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return site, items
}

func readItems(r io.Reader) ([]*Item, *Site, error) {
	wr := NewReader(r)
	var items []*Item
	for {
		it, err := wr.Next()
		if err == io.EOF {
			return items, wr.Site(), nil
		}
		if err != nil {
			return items, wr.Site(), err
		}
		items = append(items, it)
	}
}

func byID(items []*Item) map[int64]*Item {
	m := make(map[int64]*Item)
	for _, it := range items {
		m[it.PostID] = it
	}
	return m
}

func TestClinicSite(t *testing.T) {
	site, items := readAll(t, "clinic-1.2.xml")
	want := Site{
		Title: "Harbor Massage Clinic", Link: "https://harbor-massage.example",
		Description: "Therapeutic massage & bodywork by the harbor", Language: "en-US",
		BaseSiteURL: "https://harbor-massage.example", BaseBlogURL: "https://harbor-massage.example",
		WXRVersion: "1.2",
		Authors: []Author{
			{ID: 1, Login: "anna", Email: "anna@harbor-massage.example", DisplayName: "Anna Lindqvist", FirstName: "Anna", LastName: "Lindqvist"},
			{ID: 2, Login: "ben", Email: "ben@harbor-massage.example", DisplayName: "Ben Okafor", FirstName: "Ben", LastName: "Okafor"},
		},
		Categories: []Term{{"pain-relief", "Pain relief", ""}, {"wellness", "Wellness", ""}, {"back-pain", "Back pain", "pain-relief"}},
		Tags:       []Term{{"chronic-pain", "chronic pain", ""}, {"self-care", "self-care", ""}},
	}
	if !reflect.DeepEqual(*site, want) {
		t.Errorf("site\n got %+v\nwant %+v", *site, want)
	}
	var got []string
	for _, it := range items {
		got = append(got, fmt.Sprintf("%d %s %s %s", it.PostID, it.PostType, it.Status, it.PostName))
	}
	wantItems := []string{
		"101 post publish massage-for-chronic-pain-relief",
		"102 post publish five-stretches-for-desk-workers",
		"103 post future spring-opening-hours",
		"104 post draft ",
		"105 post pending pregnancy-massage-faq",
		"106 post private staff-notes-linen-supplier",
		"107 post trash old-promo__trashed",
		"110 page publish about",
		"201 attachment inherit back",
		"301 thirstylink publish foam-roller",
		"302 thirstylink publish massage-gun",
		"120 nav_menu_item publish book-now",
	}
	if !reflect.DeepEqual(got, wantItems) {
		t.Errorf("items\n got %q\nwant %q", got, wantItems)
	}
}

func TestClinicItems(t *testing.T) {
	_, items := readAll(t, "clinic-1.2.xml")
	m := byID(items)

	p := m[101]
	if p.Title != "Massage for chronic pain relief" || p.Creator != "anna" || p.GUID != "https://harbor-massage.example/?p=101" ||
		p.Link != "https://harbor-massage.example/massage-for-chronic-pain-relief/" || !p.Sticky || p.Line != 60 {
		t.Errorf("post 101: %+v", p)
	}
	for _, s := range []string{"<h2>How massage helps</h2>", "[caption id=\"attachment_201\"", "(555) 010-2030",
		"https://amzn.to/3xYzAbC", "https://www.amazon.com/dp/B00XYZ1234", "https://harbor-massage.example/recommends/foam-roller/",
		"[contact-form-7 id=\"12\" title=\"Booking\"]", "<h3>Pain relief products</h3>", "<ol>"} {
		if !strings.Contains(p.Content, s) {
			t.Errorf("post 101 content lacks %q", s)
		}
	}
	if strings.Contains(p.Content, "maria") || strings.Contains(p.Content, "helped my back") {
		t.Error("the comment leaked into the content")
	}
	if p.Excerpt != "How regular massage eases chronic pain, and what to expect at your first visit." {
		t.Errorf("excerpt %q", p.Excerpt)
	}
	wantTerms := []ItemTerm{{"category", "pain-relief", "Pain relief"}, {"category", "back-pain", "Back pain"}, {"post_tag", "chronic-pain", "chronic pain"}}
	if !reflect.DeepEqual(p.Terms, wantTerms) {
		t.Errorf("terms %+v", p.Terms)
	}
	if v, ok := p.MetaValue("_thumbnail_id"); !ok || v != "201" {
		t.Errorf("_thumbnail_id %q %v", v, ok)
	}
	if v, _ := p.MetaValue("_yoast_wpseo_title"); v != "%%title%% %%sep%% %%sitename%%" {
		t.Errorf("yoast title %q", v)
	}
	if v := p.MetaValues("_wp_old_slug"); !reflect.DeepEqual(v, []string{"massage-chronic-pain", "chronic-pain-massage-2023"}) {
		t.Errorf("old slugs %q", v)
	}
	if _, ok := p.MetaValue("akismet_result"); ok {
		t.Error("comment meta read as post meta")
	}
	if len(p.Meta) != 7 {
		t.Errorf("%d meta, want 7", len(p.Meta))
	}
	if at, ok := p.PublishedAt(); !ok || !at.Equal(time.Date(2024, 3, 5, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("PublishedAt %v %v", at, ok)
	}
	if at, ok := p.PostModifiedGMTTime(); !ok || !at.Equal(time.Date(2024, 3, 20, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("modified %v %v", at, ok)
	}

	g := m[102]
	if !strings.Contains(g.Content, "// ]]> is how CDATA ends") {
		t.Errorf("the CDATA split was not restored: %q", g.Content)
	}
	if v, _ := g.MetaValue("rank_math_title"); v != "%title% %sep% %sitename%" {
		t.Errorf("rank math title %q", v)
	}
	if v, _ := g.MetaValue("rank_math_canonical_url"); v != "https://harbor-massage.example/stretches/" {
		t.Errorf("rank math canonical %q", v)
	}

	if at, ok := m[103].PublishedAt(); !ok || at.Year() != 2030 {
		t.Errorf("future post %v %v", at, ok)
	}
	d := m[104]
	if d.PostDateGMT != Unset {
		t.Errorf("draft gmt %q", d.PostDateGMT)
	}
	if _, ok := d.PostDateGMTTime(); ok {
		t.Error("an unset date parsed")
	}
	if at, ok := d.PublishedAt(); !ok || !at.Equal(time.Date(2024, 3, 12, 16, 45, 0, 0, time.UTC)) {
		t.Errorf("draft PublishedAt falls back to post_date: %v %v", at, ok)
	}

	a := m[201]
	if a.AttachmentURL != "https://harbor-massage.example/wp-content/uploads/2024/03/back.jpg" || a.PostParent != 101 {
		t.Errorf("attachment %+v", a)
	}
	if v, _ := a.MetaValue("_wp_attachment_image_alt"); v != "Therapist working on a lower back" {
		t.Errorf("alt %q", v)
	}
	raw, _ := a.MetaValue("_wp_attachment_metadata")
	md, err := Unserialize(raw)
	if err != nil {
		t.Fatalf("attachment metadata: %v", err)
	}
	arr := md.(*PHPArray)
	if w, _ := arr.Get("width"); w != int64(1200) {
		t.Errorf("width %v", w)
	}
	if h, _ := arr.Get("height"); h != int64(800) {
		t.Errorf("height %v", h)
	}

	if v, _ := m[301].MetaValue("_ta_destination_url"); v != "https://www.amazon.com/dp/B000FOAM12?tag=oldtag-20" {
		t.Errorf("foam roller %q", v)
	}
	if m[301].GUID != "https://harbor-massage.example/?post_type=thirstylink&p=301" {
		t.Errorf("guid entity: %q", m[301].GUID)
	}
	raw, _ = m[302].MetaValue("_ta_link_meta")
	lm, err := Unserialize(raw)
	if err != nil {
		t.Fatalf("_ta_link_meta: %v", err)
	}
	if u, _ := lm.(*PHPArray).Get("linkurl"); u != "https://www.amazon.co.uk/gp/product/B0MASSAGE1" {
		t.Errorf("linkurl %v", u)
	}
	if m[120].MenuOrder != 1 {
		t.Errorf("menu order %d", m[120].MenuOrder)
	}
}

// TestNamespaces: WordPress.com's https namespaces read like self-hosted
// ones.
func TestNamespaces(t *testing.T) {
	site, items := readAll(t, "wpcom-1.2.xml")
	if site.Title != "Calm Yoga Notes" || site.BaseBlogURL != "https://calmyoganotes.wordpress.com" || len(site.Authors) != 1 ||
		site.Authors[0].Login != "calmyogi" || site.Authors[0].ID != 90210 || len(site.Categories) != 1 || len(site.Tags) != 1 {
		t.Errorf("site %+v", site)
	}
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	p := items[0]
	if p.PostID != 11 || p.PostName != "box-breathing-before-bed" || p.Status != "publish" || p.PostType != "post" ||
		p.Excerpt != "A four-count breath that helps you fall asleep." || !strings.Contains(p.Content, "<!-- wp:quote -->") ||
		len(p.Terms) != 2 || p.Creator != "calmyogi" {
		t.Errorf("item %+v", p)
	}
	if items[1].PostID != 9 || !strings.Contains(items[1].Content, "&amp; take") {
		t.Errorf("item %+v", items[1])
	}

	// The same document under each namespace spelling reads the same.
	const doc = `<?xml version="1.0"?><rss xmlns:wp="%[1]s" xmlns:excerpt="%[1]sexcerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<wp:base_site_url>https://a.example</wp:base_site_url>
<item><title>T</title><dc:creator>anna</dc:creator><content:encoded>C</content:encoded><excerpt:encoded>E</excerpt:encoded><wp:post_id>7</wp:post_id><wp:status>publish</wp:status><wp:postmeta><wp:meta_key>k</wp:meta_key><wp:meta_value>v</wp:meta_value></wp:postmeta></item>
</channel></rss>`
	var first *Item
	for _, ns := range []string{"http://wordpress.org/export/1.2/", "https://wordpress.org/export/1.2/", "http://wordpress.org/export/1.1/", "https://wordpress.org/export/1.0/"} {
		items, site, err := readItems(strings.NewReader(fmt.Sprintf(doc, ns)))
		if err != nil || len(items) != 1 || site.BaseSiteURL != "https://a.example" {
			t.Fatalf("%s: %v %v", ns, err, items)
		}
		it := items[0]
		if it.Title != "T" || it.Content != "C" || it.Excerpt != "E" || it.PostID != 7 || it.Creator != "anna" || it.Status != "publish" || len(it.Meta) != 1 {
			t.Errorf("%s: %+v", ns, it)
		}
		if first == nil {
			first = it
		} else if !reflect.DeepEqual(first, it) {
			t.Errorf("%s reads differently:\n%+v\n%+v", ns, first, it)
		}
	}
}

func TestLatin1(t *testing.T) {
	site, items := readAll(t, "latin1-1.1.xml")
	if site.Title != "Massagepraxis Müller" || site.WXRVersion != "1.1" || site.Authors[0].DisplayName != "Jürgen Müller" ||
		site.Categories[0].Name != "Massagegeräte" {
		t.Errorf("site %+v", site)
	}
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	p := items[0]
	if p.Title != "Crème oder Öl? Massagegeräte im Test" {
		t.Errorf("title %q", p.Title)
	}
	if p.Content != "Welche Crème passt zu welchem Massagegerät? Ein Überblick für 20 &#8364;&nbsp;pro Monat." {
		t.Errorf("content %q", p.Content)
	}
	if p.Excerpt != "Crème, Öl und Massagegeräte." || p.PostID != 5 || p.Status != "publish" {
		t.Errorf("item %+v", p)
	}
	if v, _ := p.MetaValue("_wp_old_slug"); v != "crème-oder-öl" {
		t.Errorf("old slug %q", v)
	}
}

func TestTruncated(t *testing.T) {
	_, _, err := readItems(mustOpen(t, "testdata/truncated.xml"))
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
	if !strings.Contains(err.Error(), "item that starts on line 60") {
		t.Errorf("err = %v, want the item's line", err)
	}

	// Cut after an item, before </channel>, and after </channel>.
	full, err := os.ReadFile("testdata/clinic-1.2.xml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(full)
	for _, cut := range []string{s[:strings.Index(s, "</item>")+len("</item>")], s[:strings.Index(s, "</channel>")+len("</channel>")], s[:strings.Index(s, "<wp:category>")+5]} {
		items, _, err := readItems(strings.NewReader(cut))
		if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "line ") {
			t.Errorf("cut at %q (%d items): err = %v", cut[len(cut)-20:], len(items), err)
		}
	}
	// Every prefix fails cleanly, never as success.
	for n := 0; n < len(s)-len("</rss>\n"); n += 97 {
		if _, _, err := readItems(strings.NewReader(s[:n])); err == nil {
			t.Fatalf("prefix of %d bytes read without error", n)
		}
	}
}

func mustOpen(tb testing.TB, name string) *os.File {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

func TestErrors(t *testing.T) {
	const ns = `xmlns:wp="http://wordpress.org/export/1.2/"`
	tests := []struct {
		name, in string
		want     error
		text     string
	}{
		{"html", `<html><body>hi</body></html>`, ErrNotWXR, "root element is <html>"},
		{"empty", ``, ErrNotWXR, "no <rss>"},
		{"json", `{"posts": []}`, ErrNotWXR, "no <rss>"},
		{"not xml", `<<>>`, ErrNotWXR, "not XML"},
		{"no channel", `<rss ` + ns + `></rss>`, ErrNotWXR, "no <channel>"},
		{"plain rss", `<rss><channel><title>x</title><item><title>a</title></item></channel></rss>`, ErrNotWXR, "wp: namespace"},
		{"plain rss, no items", `<rss><channel><title>x</title></channel></rss>`, ErrNotWXR, "wp: namespace"},
		{"syntax", `<rss ` + ns + `><channel>` + "\n\n" + `<item><title>a</titel></item></channel></rss>`, nil, "line 3"},
		{"bad number", `<rss ` + ns + `><channel><item><wp:post_id>x1</wp:post_id></item></channel></rss>`, nil, `wp:post_id "x1" is not a number`},
		{"deep", `<rss ` + ns + `><channel><item>` + strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</item></channel></rss>`, ErrTooLarge, "nested"},
		{"unknown entity", `<rss ` + ns + `><channel><item><title>a &bogus; b</title></item></channel></rss>`, nil, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readItems(strings.NewReader(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %v, want it to say %q", err, tt.text)
			}
		})
	}
}

// TestTolerated: what real exports contain that strict XML would refuse.
func TestTolerated(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<rss xmlns:wp=\"http://wordpress.org/export/1.2/\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel>" +
		"<item><title>Caf\xe9&nbsp;&mdash; \x93quoted\x94\x0b</title><content:encoded>a]]></content:encoded>" +
		"<wp:comment><wp:comment_content><![CDATA[<b>]]></wp:comment_content><x><y/></x></wp:comment>" +
		"<unknown:thing xmlns:unknown=\"urn:x\"><deep><deeper>text</deeper></deep></unknown:thing></item></channel></rss>"
	items, _, err := readItems(strings.NewReader(in))
	if err == nil {
		// "a]]>" outside CDATA is an XML error; the body with it is not.
		t.Fatalf("a bare ]]> in text was accepted: %+v", items[0])
	}
	in = strings.Replace(in, "a]]>", "a&amp;b", 1)
	items, _, err = readItems(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := items[0].Title, "Café\u00a0— “quoted”"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	if items[0].Content != "a&b" {
		t.Errorf("content %q", items[0].Content)
	}
}

func TestMeta(t *testing.T) {
	it := &Item{Meta: []Meta{{"a", "1"}, {"b", "2"}, {"a", "3"}}}
	if v, ok := it.MetaValue("a"); !ok || v != "3" {
		t.Errorf("MetaValue a = %q %v", v, ok)
	}
	if _, ok := it.MetaValue("c"); ok {
		t.Error("MetaValue c found")
	}
	if v := it.MetaValues("a"); !reflect.DeepEqual(v, []string{"1", "3"}) {
		t.Errorf("MetaValues a = %q", v)
	}
	if v := it.MetaValues("c"); v != nil {
		t.Errorf("MetaValues c = %q", v)
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item>`)
	for range 20 {
		b.WriteString(`<wp:postmeta><wp:meta_key>k</wp:meta_key><wp:meta_value>v</wp:meta_value></wp:postmeta>`)
	}
	b.WriteString(`<wp:post_id>1</wp:post_id></item><item><title>` + strings.Repeat("x", 5000) + `</title></item></channel></rss>`)
	wr := NewReader(strings.NewReader(b.String()))
	wr.maxMeta = 10
	if _, err := wr.Next(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("meta limit: %v", err)
	}
	wr = NewReader(strings.NewReader(b.String()))
	wr.maxItemBytes = 1000
	if _, err := wr.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := wr.Next(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("text limit: %v", err)
	}
	if _, err := wr.Next(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Next after an error: %v", err)
	}
	// A single huge token is cut off by the source limit.
	wr = NewReader(strings.NewReader(b.String()))
	wr.src.limit = 3000
	wr.Next()
	if _, err := wr.Next(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("token limit: %v", err)
	}
}

// generator writes a WXR export of n items without holding it.
type generator struct {
	n, i int
	buf  []byte
	done bool
}

const genItem = `<item><title><![CDATA[Massage item %d]]></title><dc:creator>anna</dc:creator><content:encoded><![CDATA[%s]]></content:encoded><wp:post_id>%d</wp:post_id><wp:post_name>item-%d</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>5</wp:meta_value></wp:postmeta><wp:comment><wp:comment_content>nice</wp:comment_content></wp:comment></item>
`

var genBody = strings.Repeat("<p>Regular massage eases chronic pain and helps you sleep.</p>\n", 80)

func (g *generator) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case g.done:
			return 0, io.EOF
		case g.i == 0 && g.n > 0 && g.buf == nil:
			g.buf = []byte(`<?xml version="1.0" encoding="UTF-8"?><rss xmlns:wp="http://wordpress.org/export/1.2/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Gen</title>` + "\n")
			g.i = 1
		case g.i <= g.n:
			g.buf = fmt.Appendf(g.buf[:0], genItem, g.i, genBody, g.i, g.i)
			g.i++
		default:
			g.buf = []byte("</channel></rss>\n")
			g.done = true
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// TestStreaming reads a generated 50 MB export and checks the heap stays
// small: the reader holds one item at a time.
func TestStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("24 MB")
	}
	// 24 MB through a reader whose heap stays under a third of that.
	n := 24 << 20 / (len(genItem) + len(genBody))
	wr := NewReader(&generator{n: n})
	var ms runtime.MemStats
	var peak uint64
	count := 0
	for {
		it, err := wr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if it.PostID != int64(count) || len(it.Content) != len(genBody) {
			t.Fatalf("item %d: %d, %d bytes", count, it.PostID, len(it.Content))
		}
		if count%2000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if count != n {
		t.Fatalf("%d items, want %d", count, n)
	}
	if peak > 8<<20 {
		t.Errorf("heap in use reached %d MB while streaming", peak>>20)
	}
	t.Logf("%d items, heap in use at most %d MB", n, peak>>20)
}

func BenchmarkReader(b *testing.B) {
	const n = 2000
	size := int64(0)
	g := &generator{n: n}
	for {
		var buf [32 << 10]byte
		k, err := g.Read(buf[:])
		size += int64(k)
		if err != nil {
			break
		}
	}
	b.SetBytes(size)
	for b.Loop() {
		wr := NewReader(&generator{n: n})
		for {
			if _, err := wr.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// FuzzReader: any input ends in items then io.EOF or an error, never a
// panic or a loop.
func FuzzReader(f *testing.F) {
	// Small seeds: the fixtures themselves make the fuzzer crawl.
	f.Add(`<?xml version="1.0" encoding="ISO-8859-1"?><rss xmlns:wp="https://wordpress.org/export/1.2/" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><wp:author><wp:author_id>1</wp:author_id></wp:author><item><content:encoded><![CDATA[a]]]]><![CDATA[>b]]></content:encoded><wp:postmeta><wp:meta_key>k</wp:meta_key></wp:postmeta><wp:comment><x/></wp:comment></item></channel></rss>`)
	f.Add(`<rss xmlns:wp="http://wordpress.org/export/1.1/"><channel><wp:category><wp:cat_name>&amp;&nbsp;</wp:cat_name></wp:category><item><title>t`)
	f.Add(`<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><wp:post_id>1</wp:post_id></item></channel></rss>`)
	f.Fuzz(func(t *testing.T, s string) {
		wr := NewReader(strings.NewReader(s))
		for n := 0; ; n++ {
			_, err := wr.Next()
			if err != nil {
				if _, again := wr.Next(); again != err {
					t.Fatalf("Next after %v returned %v", err, again)
				}
				return
			}
			if n > len(s) {
				t.Fatal("more items than bytes")
			}
		}
	})
}
