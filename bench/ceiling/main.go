// Command ceiling is the yardstick for the load benchmark: the least work a
// Go HTTP server can do for a response of a given size. It answers
// GET /body/{n} with n constant bytes from memory and GET /redirect with a
// constant 302, so bench/run.sh can report each endpoint of the service as
// a fraction of what this machine can do at all.
//
// It can also answer with a copy of a response of the service, the same
// bytes on the wire: PUT /copy/{name}?n=<body bytes> with the response's
// status line and headers as the body (what curl -D writes) stores it, and
// GET /copy/{name} answers with that status, those headers (less Date,
// which net/http writes, and Content-Length, which it sets from n) and n
// constant bytes. Headers the service must send (security headers, ETag,
// Vary, the request ID) then cost the yardstick what they cost the service.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// copied is a stored response: status, headers and body.
type copied struct {
	status int
	header http.Header
	body   []byte
}

// parseHead reads "HTTP/1.1 200 OK\r\nName: value\r\n..." as curl -D
// writes it.
func parseHead(head string) (int, http.Header, error) {
	line, rest, _ := strings.Cut(head, "\n")
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, nil, fmt.Errorf("no status line in %q", line)
	}
	status, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, nil, fmt.Errorf("status line %q: %w", line, err)
	}
	h := http.Header{}
	for l := range strings.Lines(rest) {
		name, value, ok := strings.Cut(strings.TrimRight(l, "\r\n"), ":")
		if !ok {
			continue
		}
		name = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
		if name == "Date" || name == "Content-Length" {
			continue
		}
		h[name] = append(h[name], strings.TrimSpace(value))
	}
	return status, h, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address (loopback only)")
	flag.Parse()
	var bodies sync.Map // size -> []byte
	mux := http.NewServeMux()
	mux.HandleFunc("GET /body/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n > 16<<20 {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		b, ok := bodies.Load(n)
		if !ok {
			b, _ = bodies.LoadOrStore(n, bytes.Repeat([]byte("x"), n))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = w.Write(b.([]byte))
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Location", "https://www.amazon.com/dp/B000000000?tag=bench-20")
		w.WriteHeader(http.StatusFound)
	})
	var copies sync.Map // name -> *copied
	mux.HandleFunc("PUT /copy/{name}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		head, rerr := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil || n < 0 || n > 16<<20 || rerr != nil {
			http.Error(w, "bad size or head", http.StatusBadRequest)
			return
		}
		status, h, err := parseHead(string(head))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if n > 0 {
			h["Content-Length"] = []string{strconv.Itoa(n)}
		}
		copies.Store(r.PathValue("name"), &copied{status: status, header: h, body: bytes.Repeat([]byte("x"), n)})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /copy/{name}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := copies.Load(r.PathValue("name"))
		if !ok {
			http.Error(w, "no such copy", http.StatusNotFound)
			return
		}
		c := v.(*copied)
		h := w.Header()
		for k, vs := range c.header {
			h[k] = vs
		}
		w.WriteHeader(c.status)
		_, _ = w.Write(c.body)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintln(os.Stderr, "ceiling listening on", *addr)
	log.Fatal(srv.ListenAndServe())
}
