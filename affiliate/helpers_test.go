package affiliate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testTags are the associate tags every test server starts with.
var testTags = map[string]string{"amazon.com": "mysite-20", "amazon.co.uk": "mysite-21", "amazon.co.jp": "mysite-22"}

// newServer is the full service with the test tags; opts adjust more.
func newServer(t testing.TB, opts ...func(*server.Options)) *testenv.Server {
	t.Helper()
	return testenv.NewServer(t, append([]func(*server.Options){func(c *server.Options) {
		c.AmazonTags = testTags
	}}, opts...)...)
}

// createProduct posts a product as an editor and fails the test unless
// it is created.
func createProduct(t testing.TB, s *testenv.Server, token string, body map[string]any) map[string]any {
	t.Helper()
	r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/products", Token: token, Body: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("create product: %d %s", r.Status, r.Body)
	}
	var p map[string]any
	r.JSON(t, &p)
	return p
}

// instance is a second affiliate service on a test server's database,
// as another process sharing the same MongoDB would run it, mounted on
// its own router (with the server's authentication) and served over
// loopback HTTP.
type instance struct {
	*affiliate.Service
	URL      string
	Registry *prometheus.Registry
}

func newInstance(t testing.TB, srv *testenv.Server, o affiliate.Options) *instance {
	t.Helper()
	reg := prometheus.NewRegistry()
	o.Registerer = reg
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.Logger == nil {
		o.Logger = testenv.Quiet()
	}
	if o.AmazonTags == nil {
		o.AmazonTags = testTags
	}
	svc, err := affiliate.New(srv.DB.Database, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e := gin.New()
	root := auth.NewRouter(&e.RouterGroup, auth.NewRules(), srv.Services().Auth.Authenticate)
	svc.RegisterRedirect(root)
	svc.Register(root.Group("/api/v1"))
	hs := httptest.NewServer(e)
	syncCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.RunSync(syncCtx) }()
	t.Cleanup(func() {
		hs.Close()
		stop()
		<-done
		_ = svc.Close(context.Background())
	})
	return &instance{Service: svc, URL: hs.URL, Registry: reg}
}

// do sends a request to base without following redirects.
func do(t testing.TB, method, url string, header map[string]string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

var noFollow = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
}

// countDocs counts documents of a collection.
func countDocs(t testing.TB, db *mongo.Database, coll string, filter any) int64 {
	t.Helper()
	if filter == nil {
		filter = bson.D{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := db.Collection(coll).CountDocuments(ctx, filter)
	if err != nil {
		t.Fatalf("count %s: %v", coll, err)
	}
	return n
}

// metric reads a counter or gauge from a registry.
func metric(t testing.TB, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// scrape reads one sample of the server's /metrics.
func scrape(t testing.TB, s *testenv.Server, name string) string {
	t.Helper()
	for _, line := range strings.Split(s.Metrics(t), "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimPrefix(line, name+" ")
		}
	}
	return ""
}

// ownEngine starts an embedded engine of the test's own, which the test
// may stop and start again on the same files. The directory is short (not
// t.TempDir) so the engine listens on a Unix socket at a fixed path, which
// a driver finds again after a restart.
func ownEngine(t *testing.T, prefix string) (dir string, engine *mongodb.Engine) {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	engine, err = mongodb.StartEngine(dir, testenv.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close) // Close is idempotent: a test may stop it early
	return dir, engine
}

// connectClicks connects to the engine at uri and returns its clicks
// database, disconnecting at the end of the test.
func connectClicks(t *testing.T, uri string) *mongo.Database {
	t.Helper()
	client, err := mongodb.Connect(context.Background(), uri, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database("clicks")
}
