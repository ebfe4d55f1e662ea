package affiliate

import (
	"net/url"
	"strings"
	"testing"
)

// fuzzSettings are the settings the link fuzzers run under: tags for some
// marketplaces only, every store allowed, plus one host that is not
// Amazon's.
func fuzzSettings() Settings {
	st := DefaultSettings(map[string]string{"amazon.com": "mysite-20", "amazon.co.uk": "mysite-21"})
	st.AllowedHosts = append(st.AllowedHosts, "shop.example")
	return st
}

// checkTagged fails unless s, a URL the service emits, passes the target
// rules again (the redirect re-checks it), stays on an allowed host, and
// carries exactly the marketplace's configured tag and no other.
func checkTagged(t *testing.T, raw, s string, st *Settings, allowed map[string]bool) *url.URL {
	t.Helper()
	u, err := CheckTarget(s, allowed)
	if err != nil {
		t.Fatalf("%q became %q, which the rules refuse: %v", raw, s, err)
	}
	if !allowed[u.Host] {
		t.Fatalf("%q became %q, off the allowed hosts", raw, s)
	}
	mp, isStore := marketplaceOf(u.Host)
	if !isStore {
		return u
	}
	var tags []string
	for k, vs := range u.Query() {
		if strings.EqualFold(k, "tag") {
			tags = append(tags, vs...)
		}
	}
	want := st.Tags[mp]
	switch {
	case want == "" && len(tags) != 0:
		t.Fatalf("%q became %q, with tags %q where none is configured", raw, s, tags)
	case want != "" && (len(tags) != 1 || tags[0] != want):
		t.Fatalf("%q became %q, with tags %q, want exactly %q", raw, s, tags, want)
	}
	return u
}

// FuzzProductTarget: a product's URL check never panics; a URL it accepts,
// stored as the check normalizes it and tagged as /go/ sends it, still
// passes the check, stays on an allowed host, carries exactly the
// configured tag, and tagging it again changes nothing.
func FuzzProductTarget(f *testing.F) {
	for _, s := range []string{
		"https://www.amazon.com/dp/B000123456", "https://amazon.co.uk/dp/B000123456?tag=thief-21&th=1",
		"HTTPS://WWW.AMAZON.COM/dp/B000123456?TAG=x&tag=y", "https://www.amazon.de/dp/B000123456?tag=thief",
		"https://www.amazon.com/dp/B000123456#reviews", "https://www.amazon.com?ta%67=x",
		"https://www.amazon.com/dp/X?a=%zz&tag=thief", "https://www.amazon.com/dp/X?a=1;tag=thief",
		"https://www.amazon.com/a%2Fb?x=%22", "https://www.amazon.com/#a#b", "https://shop.example/p?tag=keep",
		"https://www.amazon.com@evil.example/", "https://www.amazon.com:443/", "https://amzn.to/x",
		`https://evil.example\www.amazon.com/`, "https://www.amazon.com/\r\n", "http://www.amazon.com/",
		"https://www.amazon.com/dp/X?tag=a+b&tag%20=c", "https://www.amazon.com/%", "https://www.amazon.com/?%",
	} {
		f.Add(s)
	}
	st := fuzzSettings()
	if err := st.Validate(); err != nil {
		f.Fatal(err)
	}
	allowed := st.allowSet()
	f.Fuzz(func(t *testing.T, raw string) {
		p := Product{Code: "fuzz", Title: "Fuzz", URL: raw}
		if err := p.Validate(allowed); err != nil {
			return
		}
		// What Validate stores, and what target() reads back later.
		stored := p.URL
		su, err := CheckTarget(stored, allowed)
		if err != nil {
			t.Fatalf("%q is stored as %q, which the rules refuse: %v", raw, stored, err)
		}
		if again := attributeSafe(su.String()); again != stored {
			t.Fatalf("%q is stored as %q, which normalizes again to %q", raw, stored, again)
		}
		tagged, err := p.target(&st, allowed)
		if err != nil {
			t.Fatalf("%q is stored as %q, which /go/ cannot send: %v", raw, stored, err)
		}
		tu := checkTagged(t, raw, tagged, &st, allowed)
		if again, err := tagTarget(tu, st.Tags); err != nil || again != tagged {
			t.Fatalf("%q: tagging is not idempotent: %q then %q (%v)", raw, tagged, again, err)
		}
	})
}

// FuzzTagLink: the article pipeline's link step never panics; a link it
// tags is an allowed https target with exactly the configured tag, and
// tagging its output again changes nothing. Links it leaves alone are
// returned unchanged.
func FuzzTagLink(f *testing.F) {
	for _, s := range []string{
		"https://www.amazon.com/dp/B000123456", "http://amazon.co.uk/dp/B000123456?tag=thief-21",
		"HTTP://www.amazon.com/x", " https://www.amazon.com/x", "https://example.org/", "mailto:a@b.example",
		"/relative", "https://amzn.to/x", "https://www.amazon.com.evil.example/", "https://WWW.AMAZON.COM./",
		"https://www.amazon.com:8443/", "//www.amazon.com/x", "https://www.amazon.com/x?TAG=a&Tag=b#f",
	} {
		f.Add(s)
	}
	st := fuzzSettings()
	if err := st.Validate(); err != nil {
		f.Fatal(err)
	}
	c := buildCatalogue(nil, st)
	f.Fuzz(func(t *testing.T, href string) {
		out, ok := c.tagLink(href)
		if !ok {
			if out != href {
				t.Fatalf("%q left alone but changed to %q", href, out)
			}
			return
		}
		if !strings.HasPrefix(out, "https://") {
			t.Fatalf("%q tagged as %q, not https", href, out)
		}
		checkTagged(t, href, out, &c.settings, c.allowed)
		again, ok := c.tagLink(out)
		if !ok || again != out {
			t.Fatalf("%q: tagging is not idempotent: %q then %q (%v)", href, out, again, ok)
		}
	})
}
