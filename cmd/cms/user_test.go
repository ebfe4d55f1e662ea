package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestUserCommands(t *testing.T) {
	env := envFrom(map[string]string{"CMS_DATA_DIR": t.TempDir(), "CMS_LOG_LEVEL": "error"})
	user := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"user"}, args...), env, strings.NewReader(stdin), &out, &out)
		return out.String(), err
	}
	if out, err := user("clinic owner password\n", "add", "--email", "Owner@Clinic.example", "--role", "admin", "--password-stdin"); err != nil ||
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	go func() { done <- run(ctx, nil, serveEnv, nil, &logs, &logs) }()
	defer func() {
		cancel()
		<-done
	}()
	waitReady(t, addr, &logs)
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
