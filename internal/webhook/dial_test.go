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

func TestForbiddenAddresses(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"fe80::1", true},
		{"fc00::1", true},
		{"0.0.0.0", true},
		{"::", true},
		{"100.64.0.1", true},
		{"224.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"93.184.216.34", false},
		{"2606:2800:220:1:248:1893:25c8:1946", false},
	}
	for _, tt := range tests {
		if got := forbidden(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("forbidden(%s) = %v, want %v", tt.addr, got, tt.want)
		}
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
		if err := in.Validate(tt.allowPrivate); (err == nil) != tt.ok {
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
