package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
)

// specialPurpose lists every entry of the IANA IPv4 and IPv6
// Special-Purpose Address Registries (as of 2025), plus multicast; a
// webhook must reach none of them.
var specialPurpose = []struct{ prefix, name string }{
	// IPv4 (iana-ipv4-special-registry)
	{"0.0.0.0/8", "this network"},
	{"0.0.0.0/32", "this host"},
	{"10.0.0.0/8", "private"},
	{"100.64.0.0/10", "shared address space (CGNAT)"},
	{"127.0.0.0/8", "loopback"},
	{"169.254.0.0/16", "link-local (cloud metadata)"},
	{"172.16.0.0/12", "private"},
	{"192.0.0.0/24", "IETF protocol assignments"},
	{"192.0.0.0/29", "IPv4 service continuity (DS-Lite)"},
	{"192.0.0.8/32", "IPv4 dummy address"},
	{"192.0.0.9/32", "port control protocol anycast"},
	{"192.0.0.10/32", "traversal using relays around NAT anycast"},
	{"192.0.0.170/32", "NAT64/DNS64 discovery"},
	{"192.0.0.171/32", "NAT64/DNS64 discovery"},
	{"192.0.2.0/24", "documentation (TEST-NET-1)"},
	{"192.31.196.0/24", "AS112-v4"},
	{"192.52.193.0/24", "AMT"},
	{"192.88.99.0/24", "deprecated 6to4 relay anycast"},
	{"192.168.0.0/16", "private"},
	{"192.175.48.0/24", "direct delegation AS112 service"},
	{"198.18.0.0/15", "benchmarking"},
	{"198.51.100.0/24", "documentation (TEST-NET-2)"},
	{"203.0.113.0/24", "documentation (TEST-NET-3)"},
	{"224.0.0.0/4", "multicast"},
	{"240.0.0.0/4", "reserved"},
	{"255.255.255.255/32", "limited broadcast"},
	// IPv6 (iana-ipv6-special-registry)
	{"::1/128", "loopback"},
	{"::/128", "unspecified"},
	{"::ffff:0:0/96", "IPv4-mapped"},
	{"64:ff9b::/96", "IPv4-IPv6 translation (NAT64)"},
	{"64:ff9b:1::/48", "local-use IPv4/IPv6 translation"},
	{"100::/64", "discard-only"},
	{"100:0:0:1::/64", "dummy IPv6 prefix"},
	{"2001::/23", "IETF protocol assignments"},
	{"2001::/32", "Teredo"},
	{"2001:1::1/128", "port control protocol anycast"},
	{"2001:1::2/128", "traversal using relays around NAT anycast"},
	{"2001:1::3/128", "DNS-SD service registration protocol anycast"},
	{"2001:2::/48", "benchmarking"},
	{"2001:3::/32", "AMT"},
	{"2001:4:112::/48", "AS112-v6"},
	{"2001:10::/28", "deprecated ORCHID"},
	{"2001:20::/28", "ORCHIDv2"},
	{"2001:30::/28", "drone remote ID protocol entity tags"},
	{"2001:db8::/32", "documentation"},
	{"2002::/16", "6to4"},
	{"2620:4f:8000::/48", "direct delegation AS112 service"},
	{"3fff::/20", "documentation"},
	{"5f00::/16", "segment routing SIDs"},
	{"fc00::/7", "unique local"},
	{"fe80::/10", "link-local unicast"},
	{"ff00::/8", "multicast"},
}

// lastAddr is the highest address of p.

// Event names for the tests; the service takes them from its callers.
const (
	ArticlePublished = "article.published"
	ArticleDeleted   = "article.deleted"
)

var Events = []string{ArticlePublished, "article.updated", ArticleDeleted}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestForbiddenAddresses checks the first and last address of every
// special-purpose range, the spellings that smuggle an internal IPv4
// address inside IPv6, and that ordinary public addresses pass. The
// addresses are only inputs to the guard; nothing is dialed.
func TestForbiddenAddresses(t *testing.T) {
	for _, sp := range specialPurpose {
		p := netip.MustParsePrefix(sp.prefix)
		for _, a := range []netip.Addr{p.Addr(), lastAddr(p)} {
			if !forbidden(a) {
				t.Errorf("%s (%s, %s) is allowed, want refused", a, sp.prefix, sp.name)
			}
		}
	}
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"169.254.169.254", true}, // cloud metadata
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:8.8.8.8", true},      // mapped forms are never dialed as such
		{"::127.0.0.1", true},         // deprecated IPv4-compatible
		{"64:ff9b::7f00:1", true},     // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", true},  // NAT64 of 169.254.169.254
		{"2002:7f00:1::1", true},      // 6to4 of 127.0.0.1
		{"2002:a00:1::1", true},       // 6to4 of 10.0.0.1
		{"2001:0:4136:e378::1", true}, // Teredo
		{"fd12:3456:789a::1", true},
		{"fe80::1%eth0", true},
		{"ff02::1", true},
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"93.184.215.14", false},
		{"100.128.0.1", false}, // just past CGNAT
		{"198.20.0.1", false},  // just past benchmarking
		{"2606:4700:4700::1111", false},
		{"2a00:1450:4001:80b::200e", false},
	} {
		if got := forbidden(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("forbidden(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if !forbidden(netip.Addr{}) {
		t.Error("the zero address is allowed")
	}
}

// TestDialerChecksResolvedAddress: a name that passes the registration
// check but resolves to loopback is refused when dialing.
func TestDialerChecksResolvedAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	byName := "http://localhost:" + u.Port() + "/hook" // resolved by the dialer, not a literal IP
	for _, target := range []string{srv.URL, byName} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, target, nil)
		_, err := newClient(false).Do(req)
		if !errors.Is(err, errForbiddenAddress) {
			t.Errorf("%s: err = %v, want a refusal", target, err)
		}
		resp, err := newClient(true).Do(req)
		if err != nil {
			t.Errorf("%s with private addresses allowed: %v", target, err)
		} else {
			resp.Body.Close()
		}
	}
}

func TestValidateHookInput(t *testing.T) {
	tests := []struct {
		url          string
		events       []string
		allowPrivate bool
		ok           bool
	}{
		{"https://hooks.example.com/rebuild", []string{ArticlePublished}, false, true},
		{"http://hooks.example.com/rebuild", Events, false, true},
		{"ftp://hooks.example.com/", []string{ArticlePublished}, false, false},
		{"/relative", []string{ArticlePublished}, false, false},
		{"https://user:pw@hooks.example.com/", []string{ArticlePublished}, false, false},
		{"http://127.0.0.1:9000/", []string{ArticlePublished}, false, false},
		{"http://127.0.0.1:9000/", []string{ArticlePublished}, true, true},
		{"http://localhost/", []string{ArticlePublished}, false, false},
		{"http://[::1]/", []string{ArticlePublished}, false, false},
		{"http://169.254.169.254/latest/meta-data", []string{ArticlePublished}, false, false},
		{"http://10.0.0.5/", []string{ArticlePublished}, false, false},
		{"https://hooks.example.com/", nil, false, false},
		{"https://hooks.example.com/", []string{"article.exploded"}, false, false},
		{"https://hooks.example.com/", []string{ArticleDeleted, ArticleDeleted}, false, false},
	}
	for _, tt := range tests {
		in := HookInput{URL: tt.url, Events: tt.events}
		if err := in.Validate(tt.allowPrivate, Events); (err == nil) != tt.ok {
			t.Errorf("%s %v private=%v: err = %v, want ok=%v", tt.url, tt.events, tt.allowPrivate, err, tt.ok)
		}
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	prev := backoff(1)
	if prev != firstRetry {
		t.Fatalf("first retry after %v", prev)
	}
	total := prev
	for n := 2; n < 40; n++ {
		b := backoff(n)
		if b < prev || b > maxBackoff {
			t.Fatalf("backoff(%d) = %v after %v", n, b, prev)
		}
		prev, total = b, total+b
	}
	if total < 24*60*60*1e9 {
		t.Fatalf("retries span only %v, want at least 24 h", total)
	}
}
