// Command ceiling is the yardstick for the load benchmark: the least work a
// Go HTTP server can do for a response of a given size. It answers
// GET /body/{n} with n constant bytes from memory and GET /redirect with a
// constant 302, so bench/run.sh can report each endpoint of the service as
// a fraction of what this machine can do at all.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

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
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintln(os.Stderr, "ceiling listening on", *addr)
	log.Fatal(srv.ListenAndServe())
}
