package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
)

// config is every setting of the process, read once at start: defaults,
// then the environment (secrets may come from a *_FILE variable), then
// flags, then one validation pass that names the bad variable.
type config struct {
	Addr           string
	DataDir        string
	MongoURI       string
	MongoDatabase  string
	PublicURL      string
	PreviewURL     string
	AdminEmail     string
	AdminPassword  string
	JWTSecret      []byte // nil: generated once and kept in DataDir
	JWTPrevious    [][]byte
	CORSOrigins    []string
	AmazonTags     map[string]string
	TrustedProxies []string
	LogLevel       slog.Level
	DrainDelay     time.Duration
	// WebhookAllowPrivate lets webhooks reach private addresses.
	WebhookAllowPrivate bool
	// Pprof serves net/http/pprof on the metrics listener (CMS_PPROF).
	Pprof bool
	// Crawlers is the maintained crawler list, from CMS_CRAWLER_LIST.
	Crawlers *affiliate.CrawlerList
	// ContentCacheControl is the Cache-Control of published content;
	// "" means the content API's default.
	ContentCacheControl string
	// MetricsAddr is the listener of its own that serves /metrics
	// (CMS_METRICS_ADDR); "" (set as "off") serves none.
	MetricsAddr string
	// MetricsToken, when set, also serves /metrics on CMS_ADDR to requests
	// bearing it (CMS_METRICS_TOKEN).
	MetricsToken string
	// MediaInDatabase keeps the media library's files in the database
	// too (CMS_MEDIA_STORE=database; the default with MONGODB_URI).
	MediaInDatabase bool
}

// defaultMetricsAddr keeps the metrics on loopback: readable by an agent on
// the same host, not by the public. Not 9090, Prometheus's own port.
const defaultMetricsAddr = "127.0.0.1:9464"

// configError names the variable at fault so the one line printed at exit
// tells the operator what to fix.
type configError struct {
	Var string
	Err error
}

func (e *configError) Error() string { return e.Var + ": " + e.Err.Error() }
func (e *configError) Unwrap() error { return e.Err }

func bad(name, format string, args ...any) error {
	return &configError{Var: name, Err: fmt.Errorf(format, args...)}
}

// dataUse says what a command needs of CMS_DATA_DIR, which decides how the
// directory is checked.
type dataUse int

const (
	// serveData: the server creates the directory when missing, and the
	// embedded engine starts a new database in it.
	serveData dataUse = iota
	// existingData: a tool (cms user, cms resanitize) works on the
	// server's data, so with the embedded engine the database must already
	// be there. A mistyped CMS_DATA_DIR must not become a new, empty
	// database that the tool reports success on.
	existingData
	// createData: a tool told --create may start a new database.
	createData
)

// loadConfig reads the environment through getenv and the flags in args,
// for the server.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	return load(args, getenv, stderr, serveData)
}

// loadToolConfig reads the configuration for a tool; dataDir, when set (the
// tool's --data-dir), overrides CMS_DATA_DIR before validation.
func loadToolConfig(getenv func(string) string, dataDir string, use dataUse, stderr io.Writer) (config, error) {
	var args []string
	if dataDir != "" {
		args = []string{"-data-dir", dataDir}
	}
	return load(args, getenv, stderr, use)
}

func load(args []string, getenv func(string) string, stderr io.Writer, use dataUse) (config, error) {
	c := config{
		Addr:          ":8080",
		DataDir:       "./data",
		MongoDatabase: "cms",
		PublicURL:     "http://localhost:8080",
		LogLevel:      slog.LevelInfo,
		MetricsAddr:   defaultMetricsAddr,
	}
	env := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	env("CMS_ADDR", &c.Addr)
	env("CMS_DATA_DIR", &c.DataDir)
	env("MONGODB_DATABASE", &c.MongoDatabase)
	env("CMS_PUBLIC_URL", &c.PublicURL)
	env("CMS_PREVIEW_URL", &c.PreviewURL)
	env("CMS_ADMIN_EMAIL", &c.AdminEmail)
	env("CMS_METRICS_ADDR", &c.MetricsAddr)
	if strings.EqualFold(c.MetricsAddr, "off") {
		c.MetricsAddr = ""
	}

	var err error
	if c.MongoURI, err = secret("MONGODB_URI", getenv); err != nil {
		return c, err
	}
	if c.AdminPassword, err = secret("CMS_ADMIN_PASSWORD", getenv); err != nil {
		return c, err
	}
	jwtSecret, err := secret("CMS_JWT_SECRET", getenv)
	if err != nil {
		return c, err
	}
	if jwtSecret != "" {
		c.JWTSecret = []byte(jwtSecret)
	}
	if c.MetricsToken, err = secret("CMS_METRICS_TOKEN", getenv); err != nil {
		return c, err
	}
	previous, err := secret("CMS_JWT_PREVIOUS_SECRETS", getenv)
	if err != nil {
		return c, err
	}
	for _, p := range strings.Fields(previous) {
		c.JWTPrevious = append(c.JWTPrevious, []byte(p))
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (CMS_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (CMS_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	if err := c.parseLists(getenv); err != nil {
		return c, err
	}
	return c, c.validate(use)
}

// secret reads NAME, or the file named by NAME_FILE (Docker and Kubernetes
// secrets), but not both.
func secret(name string, getenv func(string) string) (string, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", bad(name, "set either %s or %s_FILE, not both", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", bad(name+"_FILE", "cannot read the file: %v", errors.Unwrap(err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return v, nil
}

func (c *config) parseLists(getenv func(string) string) error {
	for _, o := range splitList(getenv("CMS_CORS_ORIGINS")) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return bad("CMS_CORS_ORIGINS", "%q is not an origin like https://www.example.com", o)
		}
		c.CORSOrigins = append(c.CORSOrigins, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	for _, p := range splitList(getenv("CMS_TRUSTED_PROXIES")) {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return bad("CMS_TRUSTED_PROXIES", "%q is neither a CIDR nor an IP address", p)
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if raw := getenv("CMS_AMAZON_TAGS"); strings.TrimSpace(raw) != "" {
		c.AmazonTags = map[string]string{}
		for _, pair := range splitList(raw) {
			market, tag, ok := strings.Cut(pair, "=")
			market, tag = strings.ToLower(strings.TrimSpace(market)), strings.TrimSpace(tag)
			if !ok {
				return bad("CMS_AMAZON_TAGS", "%q is not marketplace=tag like amazon.com=mysite-20", pair)
			}
			if msg := affiliate.TagProblem(market, tag); msg != "" {
				return bad("CMS_AMAZON_TAGS", "%q: %s %s", pair, market, msg)
			}
			c.AmazonTags[market] = tag
		}
	}
	if v := strings.TrimSpace(getenv("CMS_LOG_LEVEL")); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return bad("CMS_LOG_LEVEL", "%q is not one of debug, info, warn, error", v)
		}
	}
	if v := strings.TrimSpace(getenv("CMS_WEBHOOK_ALLOW_PRIVATE")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return bad("CMS_WEBHOOK_ALLOW_PRIVATE", "%q is not true or false", v)
		}
		c.WebhookAllowPrivate = b
	}
	if v := strings.TrimSpace(getenv("CMS_PPROF")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return bad("CMS_PPROF", "%q is not true or false", v)
		}
		c.Pprof = b
	}
	if v := strings.TrimSpace(getenv("CMS_CRAWLER_LIST")); v != "" {
		l, err := affiliate.LoadCrawlerList(v)
		if err != nil {
			return bad("CMS_CRAWLER_LIST", "%v", err)
		}
		c.Crawlers = l
	}
	c.MediaInDatabase = c.MongoURI != ""
	switch v := strings.ToLower(strings.TrimSpace(getenv("CMS_MEDIA_STORE"))); v {
	case "":
	case "disk":
		c.MediaInDatabase = false
	case "database":
		c.MediaInDatabase = true
	default:
		return bad("CMS_MEDIA_STORE", "%q is not disk or database", v)
	}
	if v := strings.TrimSpace(getenv("CMS_CONTENT_CACHE_CONTROL")); v != "" {
		if len(v) > 200 || !cacheControlPattern.MatchString(v) {
			return bad("CMS_CONTENT_CACHE_CONTROL", "%q is not a Cache-Control value like %q", v, "public, max-age=60")
		}
		c.ContentCacheControl = v
	}
	if v := strings.TrimSpace(getenv("CMS_SHUTDOWN_DRAIN")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Minute {
			return bad("CMS_SHUTDOWN_DRAIN", "%q is not a duration between 0s and 1m", v)
		}
		c.DrainDelay = d
	}
	return nil
}

var (
	// cacheControlPattern is a list of directives, each a token with an
	// optional token or quoted value: nothing that could split the header.
	cacheControlPattern = regexp.MustCompile(`^[A-Za-z-]+(?:=(?:[A-Za-z0-9-]+|"[A-Za-z0-9 ,-]*"))?(?:\s*,\s*[A-Za-z-]+(?:=(?:[A-Za-z0-9-]+|"[A-Za-z0-9 ,-]*"))?)*$`)
	// MongoDB forbids these in database names; FerretDB stores each
	// database as a file, so keep to a portable subset.
	databaseNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}$`)
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkAddr checks a listen address of the variable name without binding.
func checkAddr(name, addr, example string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return bad(name, "%q is not host:port (for example %s)", addr, example)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return bad(name, "port %q is not a number from 0 to 65535", port)
	}
	if strings.ContainsAny(host, " /") {
		return bad(name, "host %q is not valid", host)
	}
	return nil
}

// metricsTokenPattern keeps the token to characters that travel unchanged
// in an Authorization header.
var metricsTokenPattern = regexp.MustCompile(`^[\x21-\x7e]{32,256}$`)

func (c *config) validate(use dataUse) error {
	if err := checkAddr("CMS_ADDR", c.Addr, ":8080 or 127.0.0.1:8080"); err != nil {
		return err
	}
	if c.MetricsAddr != "" {
		if err := checkAddr("CMS_METRICS_ADDR", c.MetricsAddr, defaultMetricsAddr+", or off"); err != nil {
			return err
		}
	}
	if c.MetricsToken != "" && !metricsTokenPattern.MatchString(c.MetricsToken) {
		// Never quote the token itself.
		return bad("CMS_METRICS_TOKEN", "must be 32 to 256 visible ASCII characters, no spaces (try: openssl rand -hex 32)")
	}

	if c.MongoURI != "" && !validMongoURI(c.MongoURI) {
		// The driver's message may quote the URI, password included.
		return bad("MONGODB_URI", "not a valid MongoDB connection string (expected mongodb:// or mongodb+srv://)")
	}
	if !databaseNamePattern.MatchString(c.MongoDatabase) {
		return bad("MONGODB_DATABASE", "%q must be 1 to 63 letters, digits, '_' or '-'", c.MongoDatabase)
	}

	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return bad("CMS_PUBLIC_URL", "%q must be an absolute http(s) URL without query or fragment", c.PublicURL)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.PreviewURL != "" {
		pu, err := url.Parse(c.PreviewURL)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || !strings.Contains(c.PreviewURL, "{token}") {
			return bad("CMS_PREVIEW_URL", "%q must be an absolute http(s) URL with {token} (and usually {slug}), like https://clinic.example/preview/{slug}?token={token}", c.PreviewURL)
		}
	}

	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return bad("CMS_ADMIN_EMAIL", "set CMS_ADMIN_EMAIL and CMS_ADMIN_PASSWORD together")
	}
	if c.AdminEmail != "" && !strings.Contains(c.AdminEmail, "@") {
		return bad("CMS_ADMIN_EMAIL", "%q is not an email address", c.AdminEmail)
	}
	if c.AdminPassword != "" {
		if msg := auth.CheckPassword(c.AdminPassword); msg != "" {
			return bad("CMS_ADMIN_PASSWORD", "%s", msg)
		}
	}
	if c.JWTSecret != nil && len(c.JWTSecret) < 32 {
		return bad("CMS_JWT_SECRET", "must be at least 32 bytes, got %d (try: openssl rand -base64 48)", len(c.JWTSecret))
	}
	if len(c.JWTPrevious) > 0 && c.JWTSecret == nil {
		return bad("CMS_JWT_PREVIOUS_SECRETS", "needs CMS_JWT_SECRET (the current key) as well")
	}
	for _, p := range c.JWTPrevious {
		if len(p) < 32 {
			return bad("CMS_JWT_PREVIOUS_SECRETS", "every key must be at least 32 bytes")
		}
	}
	switch {
	case use != serveData && c.MongoURI != "":
		// A tool on MongoDB keeps nothing in the data directory.
		return nil
	case use == existingData:
		return checkExistingDatabase(c.DataDir, c.MongoDatabase)
	}
	return checkDataDir(c.DataDir)
}

// embeddedDatabaseFile is where the embedded engine keeps database name
// under dataDir: FerretDB's SQLite handler stores each database as one
// file.
func embeddedDatabaseFile(dataDir, name string) string {
	return filepath.Join(dataDir, "db", name+".sqlite")
}

// checkExistingDatabase refuses a data directory that holds no embedded
// database of that name, without creating anything in it.
func checkExistingDatabase(dir, name string) error {
	if dir == "" {
		return bad("CMS_DATA_DIR", "must not be empty")
	}
	const fix = "point CMS_DATA_DIR (or --data-dir) at the server's data directory, or run cms user add --create to start a new database there"
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad("CMS_DATA_DIR", "%q does not exist; %s", dir, fix)
	case err != nil:
		return bad("CMS_DATA_DIR", "cannot read %q: %v", dir, errors.Unwrap(err))
	case !info.IsDir():
		return bad("CMS_DATA_DIR", "%q is not a directory", dir)
	}
	if _, err := os.Stat(embeddedDatabaseFile(dir, name)); err != nil {
		return bad("CMS_DATA_DIR", "%q holds no database %q (no %s); %s, and check MONGODB_DATABASE",
			dir, name, filepath.Join("db", name+".sqlite"), fix)
	}
	return nil
}

// validMongoURI checks the connection string without touching the network.
// The driver resolves mongodb+srv:// names while parsing, so such a URI is
// checked as the equivalent mongodb:// one with the SRV-only options removed.
func validMongoURI(uri string) bool {
	const srv = "mongodb+srv://"
	if strings.HasPrefix(uri, srv) {
		u, err := url.Parse(uri)
		if err != nil || u.Host == "" || u.Port() != "" || strings.Contains(u.Host, ",") {
			return false
		}
		q := u.Query()
		q.Del("srvServiceName")
		q.Del("srvMaxHosts")
		u.Scheme, u.RawQuery = "mongodb", q.Encode()
		uri = u.String()
	}
	return options.Client().ApplyURI(uri).Validate() == nil
}

// checkDataDir creates the data directory if needed and proves it writable.
func checkDataDir(dir string) error {
	if dir == "" {
		return bad("CMS_DATA_DIR", "must not be empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return bad("CMS_DATA_DIR", "cannot create %q: %v", dir, errors.Unwrap(err))
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return bad("CMS_DATA_DIR", "%q is not writable: %v", dir, errors.Unwrap(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
