// Command seed fills a running service with published articles for the
// load benchmark (bench/run.sh), through the public HTTP API as an editor
// would: sign in, create a product, then create and publish each article.
// Articles are deterministic: the same -n gives the same slugs, tags and
// words. At the end it prints SLUG=, TAG=, QUERY= and PRODUCT= lines for
// the script to aim its load at.
//
// With -probe it also measures how the cost of a write grows with the
// collection: when the number of articles seeded reaches each mark, the
// workers pause and -probe-n extra articles are created and published one
// at a time; it prints the median and p99 of their create+publish time as
// a PROBE= line (mark, median ms, p99 ms). With -slugs it only prints the
// slugs -n articles get.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	topics = []string{"massage", "physiotherapy", "stretching", "posture", "sleep", "breathing",
		"knee", "shoulder", "neck", "back", "hip", "running", "recovery", "yoga", "nutrition", "stress"}
	words = strings.Fields(`pain relief muscle tissue gentle pressure heat ice rest movement joint
		mobility strength balance tension release circulation inflammation healing therapist session
		exercise routine morning evening daily weekly posture spine shoulder blade hamstring calf
		foam roller band mat pillow mattress breathing relaxation mindfulness hydration protein
		vitamin magnesium evidence study review trial patient clinic appointment assessment`)
	tags = []string{"massage", "pain", "stretching", "sleep", "posture", "recovery", "running", "self-care", "physio", "yoga"}
)

// client talks to the service with an editor's token.
type client struct {
	base, email, password string
	mu                    sync.Mutex
	token                 string
	http                  *http.Client
	loginMu               sync.Mutex // one sign-in at a time: parallel ones count as throttled attempts
}

// relogin signs in again unless another worker already replaced the token
// that was refused.
func (c *client) relogin(refused string) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.Lock()
	current := c.token
	c.mu.Unlock()
	if current != refused {
		return nil
	}
	return c.login()
}

func (c *client) login() error {
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if err := c.call("POST", "/api/v1/auth/login", map[string]string{"email": c.email, "password": c.password}, &out, false); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	c.mu.Lock()
	c.token = out.AccessToken
	c.mu.Unlock()
	return nil
}

// call sends a JSON request; with auth it signs in again once when the
// access token has expired.
func (c *client) call(method, path string, in, out any, auth bool) error {
	for attempt := 0; ; attempt++ {
		var body io.Reader
		if in != nil {
			data, _ := json.Marshal(in)
			body = bytes.NewReader(data)
		}
		req, err := http.NewRequest(method, c.base+path, body)
		if err != nil {
			return err
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		var sent string
		if auth {
			c.mu.Lock()
			sent = c.token
			c.mu.Unlock()
			req.Header.Set("Authorization", "Bearer "+sent)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return err
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && auth && attempt == 0 {
			if err := c.relogin(sent); err != nil {
				return err
			}
			continue
		}
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		if out != nil {
			return json.Unmarshal(data, out)
		}
		return nil
	}
}

// body writes about size bytes of article HTML: headings, paragraphs, a
// list and a few links, like a long wellness article.
func body(r *rand.Rand, topic string, size int) string {
	var b strings.Builder
	sentence := func() {
		n := 8 + r.IntN(10)
		for i := range n {
			w := words[r.IntN(len(words))]
			if i == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			if i == n/2 {
				w = topic
			}
			b.WriteString(w)
			if i < n-1 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(". ")
	}
	for section := 1; b.Len() < size-600; section++ {
		fmt.Fprintf(&b, "<h2>%d. %s and %s</h2>\n", section, strings.ToUpper(topic[:1])+topic[1:], words[r.IntN(len(words))])
		for p := 0; p < 3 && b.Len() < size-400; p++ {
			b.WriteString("<p>")
			for range 4 {
				sentence()
			}
			if r.IntN(3) == 0 {
				fmt.Fprintf(&b, `See <a href="https://pubmed.ncbi.nlm.nih.gov/%d/">this study</a>. `, 1000000+r.IntN(9000000))
			}
			b.WriteString("</p>\n")
		}
		b.WriteString("<ul>")
		for range 3 {
			fmt.Fprintf(&b, "<li><strong>%s</strong>: %s %s</li>", words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))])
		}
		b.WriteString("</ul>\n")
	}
	return b.String()
}

func main() {
	base := flag.String("url", "http://127.0.0.1:18080", "service base URL")
	email := flag.String("email", os.Getenv("CMS_ADMIN_EMAIL"), "editor or admin email")
	password := flag.String("password", os.Getenv("CMS_ADMIN_PASSWORD"), "password")
	n := flag.Int("n", 1000, "articles to publish")
	size := flag.Int("size", 8192, "approximate HTML bytes per article body")
	workers := flag.Int("workers", 4, "concurrent writers")
	probe := flag.String("probe", "", "comma-separated article counts at which to measure create+publish time (e.g. 500,2000)")
	probeN := flag.Int("probe-n", 40, "articles created and published one at a time at each probe mark")
	photo := flag.Bool("photo", false, "also upload a 12-megapixel JPEG to the media library and print PHOTO= (its 640-pixel size) and PHOTO_SECONDS=")
	slugs := flag.Bool("slugs", false, "print the slugs of the -n articles, one a line, and exit (for bench/startup.sh's load)")
	flag.Parse()
	log.SetFlags(0)
	if *slugs {
		for i := range *n {
			fmt.Println(slug(i))
		}
		return
	}
	marks, err := parseMarks(*probe, *n)
	if err != nil {
		log.Fatal(err)
	}
	if len(marks) > 0 && *probeN < 1 {
		log.Fatal("-probe-n must be at least 1")
	}

	c := &client{base: strings.TrimRight(*base, "/"), email: *email, password: *password, http: &http.Client{Timeout: time.Minute}}
	if err := c.login(); err != nil {
		log.Fatal(err)
	}
	const product = "bench-roller"
	err = c.call("POST", "/api/v1/products", map[string]string{
		"code": product, "title": "Bench foam roller", "asin": "B00BENCH01", "marketplace": "amazon.com",
		"imageUrl": "https://img.example/roller.jpg"}, nil, true)
	if err != nil && !strings.Contains(err.Error(), ": 409 ") {
		log.Fatalf("create product: %v", err)
	}

	if *photo {
		path, took, n, err := uploadPhoto(c)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("uploaded a 4000x3000 JPEG of %.1f MB in %v", float64(n)/1e6, took.Round(time.Millisecond))
		fmt.Printf("PHOTO=%s\nPHOTO_SECONDS=%.2f\n", path, took.Seconds())
	}

	start := time.Now()
	var done atomic.Int64
	var failed atomic.Value
	// The workers start on the articles below the first mark; at each mark
	// they finish what they hold, then the probe runs alone.
	var probes []string
	var probeTime time.Duration
	next := 0
	for m, mark := range append(marks, *n) {
		batch := make(chan int)
		var wg sync.WaitGroup
		for range *workers {
			wg.Go(func() {
				// After a failure a worker keeps taking (and skipping)
				// work, so the sender below never waits on nobody.
				for i := range batch {
					if failed.Load() != nil {
						continue
					}
					if err := publishOne(c, i, *size, product); err != nil {
						failed.Store(err)
						continue
					}
					if d := done.Add(1); d%500 == 0 {
						log.Printf("seeded %d/%d (%.0f/s)", d, *n, float64(d)/(time.Since(start)-probeTime).Seconds())
					}
				}
			})
		}
		for ; next < mark && failed.Load() == nil; next++ {
			batch <- next
		}
		close(batch)
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			log.Fatal(err)
		}
		if m == len(marks) {
			break
		}
		t0 := time.Now()
		line, err := probeAt(c, mark, m, *probeN, *size, product)
		if err != nil {
			log.Fatal(err)
		}
		probeTime += time.Since(t0)
		log.Print(line)
		probes = append(probes, line)
	}
	seeding := time.Since(start) - probeTime
	log.Printf("seeded %d published articles in %v (%.0f/s; probes not counted)", *n, seeding.Round(time.Millisecond), float64(*n)/seeding.Seconds())
	fmt.Printf("SEEDED_SECONDS=%.1f\n", seeding.Seconds())
	for _, p := range probes {
		fmt.Println(p)
	}
	fmt.Printf("SLUG=%s\nTAG=%s\nQUERY=%s\nPRODUCT=%s\n", slug(*n/2), tags[0], topics[3]+"+"+words[0], product)
}

// parseMarks reads the -probe list: increasing counts, none above n.
func parseMarks(list string, n int) ([]int, error) {
	var marks []int
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		m, err := strconv.Atoi(f)
		if err != nil || m <= 0 || m > n || (len(marks) > 0 && m <= marks[len(marks)-1]) {
			return nil, fmt.Errorf("-probe: %q is not an increasing count of at most -n (%d)", f, n)
		}
		marks = append(marks, m)
	}
	return marks, nil
}

// probeAt creates and publishes k articles one after another and reports
// the median and p99 of their create+publish time. Their indexes lie far
// above the seeded ones, so their slugs never collide.
func probeAt(c *client, mark, m, k, size int, product string) (string, error) {
	times := make([]float64, 0, k)
	for j := range k {
		t0 := time.Now()
		if err := publishOne(c, probeBase+m*k+j, size, product); err != nil {
			return "", fmt.Errorf("probe at %d: %w", mark, err)
		}
		times = append(times, float64(time.Since(t0).Microseconds())/1000)
	}
	slices.Sort(times)
	p99 := times[min(len(times)-1, len(times)*99/100)]
	return fmt.Sprintf("PROBE=%d %.1f %.1f", mark, times[len(times)/2], p99), nil
}

// probeBase is the first index of a probe article.
const probeBase = 1_000_000

func title(i int) string {
	return fmt.Sprintf("Article %04d: %s for everyday %s", i, strings.ToUpper(topics[i%len(topics)][:1])+topics[i%len(topics)][1:], words[i%len(words)])
}

// slug is what the service derives from title(i).
func slug(i int) string {
	return fmt.Sprintf("article-%04d-%s-for-everyday-%s", i, topics[i%len(topics)], words[i%len(words)])
}

func publishOne(c *client, i, size int, product string) error {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	topic := topics[i%len(topics)]
	in := map[string]any{
		"title":    title(i),
		"summary":  fmt.Sprintf("A practical guide to %s: what helps, what the evidence says, and when to see a therapist.", topic),
		"body":     body(r, topic, size),
		"tags":     []string{tags[i%len(tags)], tags[(i/3)%len(tags)]},
		"category": []string{"Pain Relief", "Self Care", "Sports"}[i%3],
		"sources":  []map[string]string{{"title": "Systematic review", "url": fmt.Sprintf("https://pubmed.ncbi.nlm.nih.gov/%d/", 2000000+i)}},
		"cta":      map[string]string{"label": "Schedule an Appointment", "url": "https://clinic.example/book"},
	}
	if i%2 == 0 {
		in["medicalReview"] = map[string]string{"reviewerName": "Dr. Bench Reviewer", "reviewerCredentials": "PT, DPT", "reviewedAt": "2025-01-15"}
	}
	if i%4 == 0 {
		in["products"] = []map[string]string{{"code": product, "note": "What we use in the clinic"}}
	}
	var a struct {
		ID   string `json:"id"`
		Slug string `json:"slug"`
	}
	if err := c.call("POST", "/api/v1/articles", in, &a, true); err != nil {
		return fmt.Errorf("create article %d: %w", i, err)
	}
	if a.Slug != slug(i) {
		return fmt.Errorf("article %d got slug %q, expected %q", i, a.Slug, slug(i))
	}
	if err := c.call("POST", "/api/v1/articles/"+a.ID+"/publish", nil, nil, true); err != nil {
		return fmt.Errorf("publish article %d: %w", i, err)
	}
	return nil
}
