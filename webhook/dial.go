package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// errForbiddenAddress is returned when a hook's host resolves to an address
// inside the service's own network or to any other special-purpose address.
var errForbiddenAddress = errors.New("destination address is private, loopback, link-local or otherwise special-purpose")

// guard is the one rule for which addresses webhooks may reach: the
// maintained IANA IPv4 and IPv6 special-purpose registries (private,
// loopback, link-local, CGNAT, benchmarking, reserved, documentation,
// NAT64, 6to4, Teredo, ...) plus multicast, and for IPv6 anything outside
// global unicast, which also covers IPv4-mapped forms such as
// ::ffff:127.0.0.1. A hand-written list missed ranges; this one is kept up
// to date upstream. Any port is allowed: receivers often listen on 8443 or
// similar, and the address check is what keeps deliveries out of the
// internal network.
var guard = ssrf.New(ssrf.WithAnyPort())

// forbidden reports whether a is an address webhooks must not reach.
func forbidden(a netip.Addr) bool {
	return !a.IsValid() || guard.SafeAddr(a) != nil
}

// literalPrivateHost reports whether host is an IP literal webhooks may not
// reach, or localhost; other names are judged after resolution.
func literalPrivateHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && forbidden(a)
}

// newClient returns the HTTP client for deliveries. Unless allowPrivate, the
// dialer checks the address actually being connected to, after DNS
// resolution, so neither a DNS answer nor a redirect can steer a delivery
// into the internal network.
func newClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, c syscall.RawConn) error {
			if err := guard.Safe(network, address, c); err != nil {
				return fmt.Errorf("%w: %s: %w", errForbiddenAddress, address, err)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would be dialed instead of the target and defeat the check
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   15 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errors.New("redirect to a non-http scheme")
			}
			return nil
		},
	}
}

// SafeClient is newClient for other fetches of addresses users name (an
// import's images), so that one rule decides what the service may reach.
func SafeClient(allowPrivate bool) *http.Client { return newClient(allowPrivate) }
