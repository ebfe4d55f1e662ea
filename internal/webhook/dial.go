package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errForbiddenAddress is returned when a hook's host resolves to an address
// inside the service's own network.
var errForbiddenAddress = errors.New("destination address is private, loopback or link-local")

// forbidden reports whether a is an address webhooks must not reach:
// loopback, private, link-local, unspecified, multicast, CGNAT and the
// IPv4-mapped forms of those.
func forbidden(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() ||
		cgnat.Contains(a) || !a.IsValid()
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// literalPrivateHost reports whether host is an IP literal webhooks may not
// reach, or localhost; other names are judged after resolution.
func literalPrivateHost(host string) bool {
	if host == "localhost" || len(host) > 10 && host[len(host)-10:] == ".localhost" {
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
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || forbidden(ap.Addr()) {
				return fmt.Errorf("%w: %s", errForbiddenAddress, address)
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
