package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// CORS lets browsers on the listed origins read the routes it guards. It
// matches origins exactly, never sends credentials, and answers preflight
// requests itself (register an OPTIONS route beside each guarded one).
// Vary: Origin is set on every response, so a shared cache never serves
// one origin's answer to another.
func CORS(origins []string, methods ...string) gin.HandlerFunc {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[strings.ToLower(o)] = true
	}
	allowMethods := strings.Join(append(methods, http.MethodOptions), ", ")
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Add("Vary", "Origin")
		origin := c.GetHeader("Origin")
		ok := origin != "" && allowed[strings.ToLower(origin)]
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "ETag, Location, Retry-After, X-Request-ID")
		}
		if c.Request.Method == http.MethodOptions {
			if ok && c.GetHeader("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", allowMethods)
				h.Set("Access-Control-Allow-Headers", "If-None-Match, If-Modified-Since, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
			}
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}
