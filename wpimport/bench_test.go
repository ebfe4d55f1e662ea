package wpimport_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/wpimport"
)

// siteExport writes a WXR export of posts posts of about 5 KB each, in the
// shape of a clinic's: paragraphs without <p>, headings, a numbered list,
// a ThirstyAffiliates link, an old slug, categories and tags, and Yoast
// meta; every tenth a draft.
func siteExport(posts int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Bench Clinic</title><link>https://bench-clinic.example</link><description>Massage</description>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>https://bench-clinic.example</wp:base_site_url><wp:base_blog_url>https://bench-clinic.example</wp:base_blog_url>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[writer]]></wp:author_login><wp:author_email><![CDATA[writer@bench-clinic.example]]></wp:author_email><wp:author_display_name><![CDATA[Writer]]></wp:author_display_name></wp:author>
<item><title>Foam roller</title><wp:post_id>9000000</wp:post_id><wp:post_name>foam-roller</wp:post_name><wp:status>publish</wp:status><wp:post_type>thirstylink</wp:post_type>
<wp:postmeta><wp:meta_key>_ta_destination_url</wp:meta_key><wp:meta_value><![CDATA[https://www.amazon.com/dp/B000FOAM12]]></wp:meta_value></wp:postmeta></item>
`)
	para := "Massage eases sore muscles and calms the mind. Regular sessions help people with chronic pain sleep better and move more freely during the day.\n\n"
	for i := 1; i <= posts; i++ {
		status := "publish"
		if i%10 == 0 {
			status = "draft"
		}
		fmt.Fprintf(&b, `<item><title><![CDATA[Massage guide %d]]></title><link>https://bench-clinic.example/massage-guide-%d/</link>
<dc:creator><![CDATA[writer]]></dc:creator><content:encoded><![CDATA[`, i, i)
		for s := 0; s < 4; s++ {
			fmt.Fprintf(&b, "<h2>Part %d</h2>\n", s+1)
			for p := 0; p < 6; p++ {
				b.WriteString(para)
			}
			b.WriteString("<ol>\n<li>Warm up</li>\n<li>Work the area</li>\n<li>Rest</li>\n</ol>\n\n")
		}
		b.WriteString(`A <a href="https://bench-clinic.example/recommends/foam-roller/">foam roller</a> helps between visits.`)
		fmt.Fprintf(&b, `]]></content:encoded><excerpt:encoded><![CDATA[Guide %d.]]></excerpt:encoded>
<wp:post_id>%d</wp:post_id><wp:post_date_gmt>2024-01-02 03:04:05</wp:post_date_gmt><wp:post_name>massage-guide-%d</wp:post_name>
<wp:status>%s</wp:status><wp:post_type>post</wp:post_type>
<category domain="category" nicename="pain"><![CDATA[Pain]]></category><category domain="post_tag" nicename="massage"><![CDATA[massage]]></category>
<wp:postmeta><wp:meta_key>_wp_old_slug</wp:meta_key><wp:meta_value>old-guide-%d</wp:meta_value></wp:postmeta>
<wp:postmeta><wp:meta_key>_yoast_wpseo_title</wp:meta_key><wp:meta_value><![CDATA[%%%%title%%%% %%%%sep%%%% %%%%sitename%%%%]]></wp:meta_value></wp:postmeta>
</item>
`, i, i, i, status, i)
	}
	b.WriteString("</channel>\n</rss>\n")
	return b.Bytes()
}

// BenchmarkImport imports a 1,000-post export into an empty server, then
// again (the rerun: nothing changed). Run it with -benchtime 1x: each
// iteration is a whole import.
func BenchmarkImport(b *testing.B) {
	export := siteExport(1000)
	b.SetBytes(int64(len(export)))
	for b.Loop() {
		b.StopTimer()
		s := clinic(b)
		_, userID := s.User(b, auth.Admin)
		by := &auth.Principal{UserID: userID, Name: "Admin", Role: auth.Admin}
		b.StartTimer()
		start := time.Now()
		rep, err := s.Services().Import.Import(b.Context(), bytes.NewReader(export), wpimport.Run{By: by})
		if err != nil || rep.Failures() > 0 {
			b.Fatalf("%v %+v", err, rep.Items[:min(3, len(rep.Items))])
		}
		first := time.Since(start)
		start = time.Now()
		if _, err := s.Services().Import.Import(b.Context(), bytes.NewReader(export), wpimport.Run{By: by}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(first.Seconds(), "s/import")
		b.ReportMetric(time.Since(start).Seconds(), "s/rerun")
		b.ReportMetric(float64(len(export))/1e6, "MB")
	}
}

// TestSiteExport checks the benchmark's export imports as meant.
func TestSiteExport(t *testing.T) {
	s := clinic(t)
	admin, _ := s.User(t, auth.Admin)
	rep := report(t, importWXR(t, s, admin, siteExport(12), nil))
	if rep.Counts["post"]["publish created"] != 11 || rep.Counts["post"]["draft created"] != 1 || rep.Failures() > 0 {
		t.Errorf("%+v %+v", rep.Counts, rep.Items)
	}
}
