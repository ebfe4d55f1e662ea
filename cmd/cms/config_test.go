package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigValidation(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "jwt")
	if err := os.WriteFile(secretFile, []byte(strings.Repeat("s", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantVar string // "" means valid
	}{
		{"defaults", nil, nil, ""},
		{"addr with host", map[string]string{"CMS_ADDR": "127.0.0.1:9000"}, nil, ""},
		{"addr without port", map[string]string{"CMS_ADDR": "localhost"}, nil, "CMS_ADDR"},
		{"addr port not a number", map[string]string{"CMS_ADDR": ":http-ish"}, nil, "CMS_ADDR"},
		{"addr port too big", map[string]string{"CMS_ADDR": ":70000"}, nil, "CMS_ADDR"},
		{"flag overrides env", map[string]string{"CMS_ADDR": "bad"}, []string{"-addr", ":9001"}, ""},
		{"mongodb uri ok", map[string]string{"MONGODB_URI": "mongodb://db1,db2/?replicaSet=rs0"}, nil, ""},
		{"mongodb srv uri ok", map[string]string{"MONGODB_URI": "mongodb+srv://u:p@cluster0.example.net/"}, nil, ""},
		{"mongodb uri wrong scheme", map[string]string{"MONGODB_URI": "postgres://localhost"}, nil, "MONGODB_URI"},
		{"mongodb uri garbage", map[string]string{"MONGODB_URI": "mongodb://a:b@c:d:e"}, nil, "MONGODB_URI"},
		{"database name bad", map[string]string{"MONGODB_DATABASE": "my.db"}, nil, "MONGODB_DATABASE"},
		{"public url relative", map[string]string{"CMS_PUBLIC_URL": "/site"}, nil, "CMS_PUBLIC_URL"},
		{"public url ftp", map[string]string{"CMS_PUBLIC_URL": "ftp://example.com"}, nil, "CMS_PUBLIC_URL"},
		{"public url with query", map[string]string{"CMS_PUBLIC_URL": "https://example.com/?a=1"}, nil, "CMS_PUBLIC_URL"},
		{"admin email without password", map[string]string{"CMS_ADMIN_EMAIL": "a@example.com"}, nil, "CMS_ADMIN_EMAIL"},
		{"admin both", map[string]string{"CMS_ADMIN_EMAIL": "a@example.com", "CMS_ADMIN_PASSWORD": "correct horse battery"}, nil, ""},
		{"admin password short", map[string]string{"CMS_ADMIN_EMAIL": "a@example.com", "CMS_ADMIN_PASSWORD": "short"}, nil, "CMS_ADMIN_PASSWORD"},
		{"admin password common", map[string]string{"CMS_ADMIN_EMAIL": "a@example.com", "CMS_ADMIN_PASSWORD": "Password1234"}, nil, "CMS_ADMIN_PASSWORD"},
		{"previous keys without current", map[string]string{"CMS_JWT_PREVIOUS_SECRETS": strings.Repeat("p", 40)}, nil, "CMS_JWT_PREVIOUS_SECRETS"},
		{"jwt secret short", map[string]string{"CMS_JWT_SECRET": "short"}, nil, "CMS_JWT_SECRET"},
		{"jwt secret from file", map[string]string{"CMS_JWT_SECRET_FILE": secretFile}, nil, ""},
		{"jwt secret file missing", map[string]string{"CMS_JWT_SECRET_FILE": filepath.Join(dir, "none")}, nil, "CMS_JWT_SECRET_FILE"},
		{"jwt secret twice", map[string]string{"CMS_JWT_SECRET_FILE": secretFile, "CMS_JWT_SECRET": strings.Repeat("x", 40)}, nil, "CMS_JWT_SECRET"},
		{"cors ok", map[string]string{"CMS_CORS_ORIGINS": "https://www.example.com, http://localhost:3000"}, nil, ""},
		{"cors with path", map[string]string{"CMS_CORS_ORIGINS": "https://example.com/app"}, nil, "CMS_CORS_ORIGINS"},
		{"cors wildcard", map[string]string{"CMS_CORS_ORIGINS": "*"}, nil, "CMS_CORS_ORIGINS"},
		{"amazon tags ok", map[string]string{"CMS_AMAZON_TAGS": "amazon.com=site-20,amazon.co.uk=site-21"}, nil, ""},
		{"amazon tags malformed", map[string]string{"CMS_AMAZON_TAGS": "amazon.com:site-20"}, nil, "CMS_AMAZON_TAGS"},
		{"amazon tags foreign host", map[string]string{"CMS_AMAZON_TAGS": "evil.example=x"}, nil, "CMS_AMAZON_TAGS"},
		{"trusted proxies ok", map[string]string{"CMS_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, nil, ""},
		{"trusted proxies bad", map[string]string{"CMS_TRUSTED_PROXIES": "10.0.0.0/33"}, nil, "CMS_TRUSTED_PROXIES"},
		{"log level bad", map[string]string{"CMS_LOG_LEVEL": "loud"}, nil, "CMS_LOG_LEVEL"},
		{"crawler list missing", map[string]string{"CMS_CRAWLER_LIST": filepath.Join(dir, "none.json")}, nil, "CMS_CRAWLER_LIST"},
		{"drain delay bad", map[string]string{"CMS_SHUTDOWN_DRAIN": "forever"}, nil, "CMS_SHUTDOWN_DRAIN"},
		{"content cache control ok", map[string]string{"CMS_CONTENT_CACHE_CONTROL": "public, max-age=300, stale-while-revalidate=86400"}, nil, ""},
		{"content cache control no-cache", map[string]string{"CMS_CONTENT_CACHE_CONTROL": `no-cache="Set-Cookie"`}, nil, ""},
		{"content cache control header split", map[string]string{"CMS_CONTENT_CACHE_CONTROL": "public\r\nX-Evil: 1"}, nil, "CMS_CONTENT_CACHE_CONTROL"},
		{"media store disk", map[string]string{"CMS_MEDIA_STORE": "disk"}, nil, ""},
		{"media store database", map[string]string{"CMS_MEDIA_STORE": "Database"}, nil, ""},
		{"media store unknown", map[string]string{"CMS_MEDIA_STORE": "s3"}, nil, "CMS_MEDIA_STORE"},
		{"content cache control junk", map[string]string{"CMS_CONTENT_CACHE_CONTROL": "max-age=60;"}, nil, "CMS_CONTENT_CACHE_CONTROL"},
		{"metrics addr off", map[string]string{"CMS_METRICS_ADDR": "off"}, nil, ""},
		{"metrics addr all interfaces", map[string]string{"CMS_METRICS_ADDR": ":9464"}, nil, ""},
		{"metrics addr without port", map[string]string{"CMS_METRICS_ADDR": "127.0.0.1"}, nil, "CMS_METRICS_ADDR"},
		{"metrics addr port too big", map[string]string{"CMS_METRICS_ADDR": "127.0.0.1:99999"}, nil, "CMS_METRICS_ADDR"},
		{"metrics token ok", map[string]string{"CMS_METRICS_TOKEN": strings.Repeat("t", 32)}, nil, ""},
		{"metrics token from file", map[string]string{"CMS_METRICS_TOKEN_FILE": secretFile}, nil, ""},
		{"metrics token short", map[string]string{"CMS_METRICS_TOKEN": "short"}, nil, "CMS_METRICS_TOKEN"},
		{"metrics token with a space", map[string]string{"CMS_METRICS_TOKEN": strings.Repeat("t", 20) + " " + strings.Repeat("t", 20)}, nil, "CMS_METRICS_TOKEN"},
		{"metrics token with a newline", map[string]string{"CMS_METRICS_TOKEN": strings.Repeat("t", 40) + "\r\nX: y"}, nil, "CMS_METRICS_TOKEN"},
	}
	if os.Geteuid() != 0 { // root can write anywhere, so the check cannot fail
		tests = append(tests, struct {
			name    string
			env     map[string]string
			args    []string
			wantVar string
		}{"data dir not writable", map[string]string{"CMS_DATA_DIR": readOnly}, nil, "CMS_DATA_DIR"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"CMS_DATA_DIR": filepath.Join(dir, "data")}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := loadConfig(tt.args, envFrom(env), io.Discard)
			if tt.wantVar == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantVar+":") {
				t.Fatalf("error = %v, want one starting %q", err, tt.wantVar+":")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestConfigDataDirIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig(nil, envFrom(map[string]string{"CMS_DATA_DIR": file}), io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "CMS_DATA_DIR:") {
		t.Fatalf("error = %v, want CMS_DATA_DIR", err)
	}
}

func TestConfigMongoURIPasswordNotEchoed(t *testing.T) {
	_, err := loadConfig(nil, envFrom(map[string]string{
		"CMS_DATA_DIR": t.TempDir(),
		"MONGODB_URI":  "mongodb://user:hunter2@host:notaport/",
	}), io.Discard)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error = %v: want an error that does not repeat the password", err)
	}
}

func TestConfigMetricsDefaults(t *testing.T) {
	c, err := loadConfig(nil, envFrom(map[string]string{"CMS_DATA_DIR": t.TempDir()}), io.Discard)
	if err != nil || c.MetricsAddr != "127.0.0.1:9464" || c.MetricsToken != "" {
		t.Fatalf("defaults: addr %q, token set %v, err %v; want loopback and no token", c.MetricsAddr, c.MetricsToken != "", err)
	}
	c, err = loadConfig(nil, envFrom(map[string]string{"CMS_DATA_DIR": t.TempDir(), "CMS_METRICS_ADDR": "OFF"}), io.Discard)
	if err != nil || c.MetricsAddr != "" {
		t.Fatalf("off: addr %q, err %v", c.MetricsAddr, err)
	}
	_, err = loadConfig(nil, envFrom(map[string]string{"CMS_DATA_DIR": t.TempDir(), "CMS_METRICS_TOKEN": "hunter2 secret"}), io.Discard)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error = %v: want one that does not repeat the token", err)
	}
}
