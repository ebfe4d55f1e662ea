package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestCORS(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	cors := CORS([]string{"https://www.clinic.example", "http://localhost:3000"}, http.MethodGet, http.MethodHead)
	e.GET("/content", cors, func(c *gin.Context) { c.String(200, "ok") })
	e.OPTIONS("/content", cors)

	tests := []struct {
		name, method, origin, reqMethod string
		wantStatus                      int
		wantAllow                       string
		wantMethods                     bool
	}{
		{"allowed origin", "GET", "https://www.clinic.example", "", 200, "https://www.clinic.example", false},
		{"other origin", "GET", "https://evil.example", "", 200, "", false},
		{"suffix trick", "GET", "https://www.clinic.example.evil.example", "", 200, "", false},
		{"no origin", "GET", "", "", 200, "", false},
		{"preflight allowed", "OPTIONS", "http://localhost:3000", "GET", 204, "http://localhost:3000", true},
		{"preflight refused", "OPTIONS", "https://evil.example", "GET", 204, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/content", nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.reqMethod != "" {
				req.Header.Set("Access-Control-Request-Method", tt.reqMethod)
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, req)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("Allow-Origin = %q, want %q", got, tt.wantAllow)
			}
			if got := w.Header().Get("Access-Control-Allow-Methods") != ""; got != tt.wantMethods {
				t.Errorf("Allow-Methods present = %v", got)
			}
			if w.Header().Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials must never be allowed")
			}
			if w.Header().Get("Vary") != "Origin" {
				t.Errorf("Vary = %q", w.Header().Get("Vary"))
			}
		})
	}
}
