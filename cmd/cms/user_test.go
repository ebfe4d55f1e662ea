package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wellness/cms/internal/mongodb"
)

func TestUserCommands(t *testing.T) {
	env := envFrom(map[string]string{"CMS_DATA_DIR": t.TempDir(), "CMS_LOG_LEVEL": "error"})
	user := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"user"}, args...), env, strings.NewReader(stdin), &out, &out)
		return out.String(), err
	}
	if out, err := user("clinic owner password\n", "add", "--create", "--email", "Owner@Clinic.example", "--role", "admin", "--password-stdin"); err != nil ||
		!strings.Contains(out, "created admin owner@clinic.example") {
		t.Fatalf("add: %v %s", err, out)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"clinic owner password\n", []string{"add", "--email", "owner@clinic.example", "--role", "admin", "--password-stdin"}, "already exists"},
		{"short\n", []string{"add", "--email", "w@clinic.example", "--role", "author", "--password-stdin"}, "password must be at least 12"},
		{"long enough password\n", []string{"add", "--email", "w@clinic.example", "--role", "boss", "--password-stdin"}, "role"},
		{"", []string{"add", "--email", "w@clinic.example", "--role", "author"}, "--password-stdin"},
		{"x\n", []string{"passwd", "--email", "nobody@clinic.example", "--password-stdin"}, "no such user"},
	} {
		if _, err := user(tc.stdin, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
	if out, err := user("", "list"); err != nil || !strings.Contains(out, "owner@clinic.example") || strings.Contains(out, "argon2") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := user("a new clinic password\n", "passwd", "--email", "owner@clinic.example", "--password-stdin"); err != nil {
		t.Fatalf("passwd: %v %s", err, out)
	}

	// The server sees the user, and the CLI still works while it runs (it
	// attaches to the running embedded engine).
	addr := freeAddr(t)
	serveEnv := func(k string) string {
		switch k {
		case "CMS_ADDR":
			return addr
		case "CMS_METRICS_ADDR":
			return "off"
		}
		return env(k)
	}
	startServe(t, addr, serveEnv)
	if _, err := user("an author's password\n", "add", "--email", "writer@clinic.example", "--role", "author", "--password-stdin"); err != nil {
		t.Fatalf("add while serving: %v", err)
	}
	for _, c := range []struct{ email, pw string }{
		{"owner@clinic.example", "a new clinic password"},
		{"writer@clinic.example", "an author's password"},
	} {
		body := `{"email":"` + c.email + `","password":"` + c.pw + `"}`
		resp, err := http.Post("http://"+addr+"/api/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("login %s: %d", c.email, resp.StatusCode)
		}
	}
}

// TestUserCommandsRefuseMissingDatabase: a data directory without the
// server's database is refused, creating nothing, unless user add is told
// --create; every command names the database it used.
func TestUserCommandsRefuseMissingDatabase(t *testing.T) {
	root := t.TempDir()
	missing := filepath.Join(root, "typo")
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	user := func(env map[string]string, stdin string, args ...string) (string, error) {
		env["CMS_LOG_LEVEL"] = "error"
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"user"}, args...), envFrom(env), strings.NewReader(stdin), &out, &out)
		return out.String(), err
	}
	add := []string{"add", "--email", "owner@clinic.example", "--role", "admin", "--password-stdin"}
	const pw = "clinic owner password\n"
	for _, tt := range []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
	}{
		{"list, no such directory", map[string]string{"CMS_DATA_DIR": missing}, "", []string{"list"}},
		{"list, empty directory", map[string]string{"CMS_DATA_DIR": empty}, "", []string{"list"}},
		{"add, no such directory", map[string]string{"CMS_DATA_DIR": missing}, pw, add},
		{"add, empty directory", map[string]string{"CMS_DATA_DIR": empty}, pw, add},
		{"passwd, empty directory", map[string]string{"CMS_DATA_DIR": empty}, pw, []string{"passwd", "--email", "owner@clinic.example", "--password-stdin"}},
		{"--data-dir overrides a good CMS_DATA_DIR", map[string]string{"CMS_DATA_DIR": root}, "", []string{"list", "--data-dir", missing}},
		{"resanitize, empty directory", map[string]string{"CMS_DATA_DIR": empty}, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out string
			var err error
			if tt.args == nil {
				var buf bytes.Buffer
				err = run(context.Background(), []string{"resanitize"}, envFrom(tt.env), nil, &buf, &buf)
				out = buf.String()
			} else {
				out, err = user(tt.env, tt.stdin, tt.args...)
			}
			if err == nil || !strings.Contains(err.Error(), "CMS_DATA_DIR:") || !strings.Contains(err.Error(), "--create") {
				t.Fatalf("err = %v, want a refusal naming CMS_DATA_DIR and --create; output %s", err, out)
			}
			if strings.Contains(out, "created") {
				t.Fatalf("reported success: %s", out)
			}
		})
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the mistyped directory was created (%v)", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("the empty directory gained %d entries", len(entries))
	}
	if _, err := user(map[string]string{"CMS_DATA_DIR": empty}, "", "list", "--create"); err == nil || !strings.Contains(err.Error(), "only for user add") {
		t.Errorf("list --create: %v", err)
	}

	// --create starts the database on purpose; then the plain commands
	// work and say where.
	out, err := user(map[string]string{"CMS_DATA_DIR": missing}, pw, append(add, "--create")...)
	abs, _ := filepath.Abs(missing)
	where := `database "cms" in ` + abs
	if err != nil || !strings.Contains(out, "created admin owner@clinic.example") || !strings.Contains(out, where) {
		t.Fatalf("add --create: %v\n%s", err, out)
	}
	out, err = user(map[string]string{"CMS_DATA_DIR": missing}, "", "list")
	if err != nil || !strings.Contains(out, "cms: using "+where) || !strings.Contains(out, "owner@clinic.example") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = user(map[string]string{"CMS_DATA_DIR": missing}, "another clinic password\n", "passwd", "--email", "owner@clinic.example", "--password-stdin")
	if err != nil || !strings.Contains(out, "password changed for owner@clinic.example in "+where) {
		t.Fatalf("passwd: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(missing, "jwt-keys")); !os.IsNotExist(err) {
		t.Errorf("the CLI wrote a signing key into the data directory (%v)", err)
	}
	// The same directory with another database name holds no such database.
	_, err = user(map[string]string{"CMS_DATA_DIR": missing, "MONGODB_DATABASE": "clinic"}, "", "list")
	if err == nil || !strings.Contains(err.Error(), `no database "clinic"`) {
		t.Fatalf("list with MONGODB_DATABASE=clinic: %v", err)
	}
}

// TestUserCommandsOnMongoDB: with MONGODB_URI a database without users is
// refused the same way, and the commands name it without the password.
func TestUserCommandsOnMongoDB(t *testing.T) {
	engine, err := mongodb.StartEngine(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	dataDir := filepath.Join(t.TempDir(), "unused")
	env := map[string]string{"MONGODB_URI": engine.URI(), "MONGODB_DATABASE": "fresh", "CMS_DATA_DIR": dataDir, "CMS_LOG_LEVEL": "error"}
	user := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"user"}, args...), envFrom(env), strings.NewReader(stdin), &out, &out)
		return out.String(), err
	}
	where := `database "fresh" at ` + redactURI(engine.URI())
	for _, args := range [][]string{{"list"}, {"passwd", "--email", "a@clinic.example", "--password-stdin"},
		{"add", "--email", "a@clinic.example", "--role", "admin", "--password-stdin"}} {
		out, err := user("clinic owner password\n", args...)
		if err == nil || !strings.Contains(err.Error(), where+" holds no users") || !strings.Contains(out, "cms: using "+where) {
			t.Fatalf("%v on a database without users: %v\n%s", args, err, out)
		}
	}
	if out, err := user("clinic owner password\n", "add", "--create", "--email", "a@clinic.example", "--role", "admin", "--password-stdin"); err != nil ||
		!strings.Contains(out, "created admin a@clinic.example") || !strings.Contains(out, where) {
		t.Fatalf("add --create: %v\n%s", err, out)
	}
	if out, err := user("", "list"); err != nil || !strings.Contains(out, "a@clinic.example") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("a tool on MongoDB created the data directory (%v)", err)
	}
}

func TestRedactURI(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"mongodb://db1.internal:27017,db2.internal:27017/?replicaSet=rs0", "mongodb://db1.internal:27017,db2.internal:27017/"},
		{"mongodb+srv://cms:hunter2@cluster0.abcde.mongodb.net/?retryWrites=true", "mongodb+srv://cms:xxxxx@cluster0.abcde.mongodb.net/"},
		{"mongodb://cms@db.internal/cms?authMechanismProperties=AWS_SESSION_TOKEN:secret", "mongodb://cms@db.internal/"},
		{"mongodb://cms:p%40ss@db.internal/", "mongodb://cms:xxxxx@db.internal/"},
		{"mongodb://%2Ftmp%2Fferretdb.sock/", "mongodb://%2Ftmp%2Fferretdb.sock/"},
		{"mongodb://u:p/w@d@host/db", "mongodb://u:xxxxx@host/"},
		{"mongodb://u:pw@host\n/", "MONGODB_URI (not shown: it does not look like a connection string)"},
		{"db.internal:27017", "MONGODB_URI (not shown: it does not look like a connection string)"},
	} {
		if got := redactURI(tt.in); got != tt.want {
			t.Errorf("redactURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzRedactURI: whatever surrounds it, the password never survives.
func FuzzRedactURI(f *testing.F) {
	f.Add("mongodb", "cms", "db1:27017,db2:27017", "replicaSet=rs0")
	f.Add("mongodb+srv", "a@b", "cluster0.example.net", "")
	f.Add("mongodb", "u/x", "%2Ftmp%2Fs.sock", "a=@")
	f.Add("mongodb", "u?x", "h@h", "")
	f.Fuzz(func(t *testing.T, scheme, user, hosts, opts string) {
		const pw = "S3cr3tPw"
		if strings.Contains(scheme+user+hosts+opts, "S3cr3t") {
			t.Skip()
		}
		for _, uri := range []string{
			scheme + "://" + user + ":" + pw + "@" + hosts + "/?" + opts,
			scheme + "://" + user + ":" + pw + "@" + hosts + "/db?" + opts,
			scheme + "://" + user + ":p/" + pw + "@" + hosts,
		} {
			if got := redactURI(uri); strings.Contains(got, "S3cr3t") {
				t.Fatalf("redactURI(%q) = %q keeps the password", uri, got)
			}
		}
	})
}
