package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/testenv"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestServeStartsAndStops runs the real serve command on the embedded
// default: ready within 10 s, and a clean return (exit 0) when the signal
// context ends.
func TestServeStartsAndStops(t *testing.T) {
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	const token = "0123456789abcdef0123456789abcdef-metrics"
	env := envFrom(map[string]string{"CMS_ADDR": addr, "CMS_DATA_DIR": t.TempDir(),
		"CMS_METRICS_ADDR": metricsAddr, "CMS_METRICS_TOKEN": token})
	logs, stop := startServe(t, addr, env, "serve")
	// /metrics: on its own listener, and on the main one only with the token.
	for _, tt := range []struct {
		url, auth string
		want      int
	}{
		{"http://" + metricsAddr + "/metrics", "", 200},
		{"http://" + metricsAddr + "/readyz", "", 404},
		{"http://" + addr + "/metrics", "", 401},
		{"http://" + addr + "/metrics", "Bearer " + token, 200},
	} {
		req, _ := http.NewRequest("GET", tt.url, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s (auth %v): %d, want %d", tt.url, tt.auth != "", resp.StatusCode, tt.want)
		}
	}
	stop()
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("log lacks the stop line:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the metrics token reached the log")
	}
	if conn, err := net.DialTimeout("tcp", metricsAddr, time.Second); err == nil {
		conn.Close()
		t.Error("the metrics listener is still open after serve returned")
	}
}

func TestServeMetricsPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := envFrom(map[string]string{"CMS_ADDR": freeAddr(t), "CMS_METRICS_ADDR": ln.Addr().String(), "CMS_DATA_DIR": t.TempDir()})
	var logs testenv.LogBuffer
	err = run(context.Background(), nil, env, nil, &logs, &logs)
	if err == nil || !strings.HasPrefix(err.Error(), "CMS_METRICS_ADDR:") || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("err = %v, want CMS_METRICS_ADDR ... in use", err)
	}
}

// startServe runs the serve command (args: nil or "serve") with env in
// the background and returns once addr answers /readyz. stop ends it and
// fails the test unless it returns cleanly (exit 0) within 15 s; a test
// that does not call it has it called at cleanup.
func startServe(t *testing.T, addr string, env func(string) string, args ...string) (logs *testenv.LogBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = new(testenv.LogBuffer)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, env, nil, logs, logs) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve returned %v, want nil (exit 0)", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("serve did not stop within 15 s")
			}
		})
	}
	t.Cleanup(stop)
	waitReady(t, addr, logs)
	return logs, stop
}

// seedArticle writes one draft article into the embedded engine in dir,
// with no server running, for the commands that work on a data directory.
func seedArticle(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	db, err := mongodb.Open(ctx, mongodb.Options{DataDir: dir, Database: "cms"})
	if err != nil {
		t.Fatal(err)
	}
	svc := cms.New(db.Database, cms.Options{})
	if _, err := svc.Create(ctx, &auth.Principal{UserID: "u1", Name: "U", Role: auth.Author}, cms.Content{Title: "Hello", Body: "<p>hi</p>"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// waitReady polls /readyz until it answers 200, for at most 10 s.
func waitReady(t *testing.T, addr string, logs *testenv.LogBuffer) {
	t.Helper()
	ready := false
	defer func() {
		if !ready {
			t.Logf("log:\n%s", logs.String())
		}
	}()
	testenv.Eventually(t, addr+" to be ready", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		ready = resp.StatusCode == 200
		return ready
	})
}

func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := envFrom(map[string]string{"CMS_ADDR": ln.Addr().String(), "CMS_DATA_DIR": t.TempDir(), "CMS_METRICS_ADDR": "off"})
	var logs testenv.LogBuffer
	err = run(context.Background(), nil, env, nil, &logs, &logs)
	if err == nil || !strings.HasPrefix(err.Error(), "CMS_ADDR:") || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("err = %v, want CMS_ADDR ... in use", err)
	}
}

func TestServeUnreachableMongoDB(t *testing.T) {
	env := envFrom(map[string]string{
		"CMS_ADDR":         freeAddr(t),
		"CMS_DATA_DIR":     t.TempDir(),
		"CMS_METRICS_ADDR": "off",
		// A closed loopback port: the driver gives up after its 5 s timeout.
		"MONGODB_URI": "mongodb://" + freeAddr(t) + "/?serverSelectionTimeoutMS=300",
	})
	var logs testenv.LogBuffer
	err := run(context.Background(), nil, env, nil, &logs, &logs)
	if err == nil || !strings.HasPrefix(err.Error(), "MONGODB_URI:") {
		t.Fatalf("err = %v, want one naming MONGODB_URI", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, envFrom(nil), nil, &out, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}
