package site

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/web"
)

// Register mounts GET and PATCH /settings/site on r, the /api/v1 group,
// for admins. The public form is the content API's (/content/site).
func (s *Service) Register(r *auth.Router) {
	admin := auth.AtLeast(auth.Admin)
	r.GET("/settings/site", admin, web.Handle(s.handleGet))
	r.PATCH("/settings/site", admin, web.Handle(s.handlePatch))
}

func (s *Service) handleGet(c *gin.Context) error {
	if _, err := web.ParseQuery(c); err != nil {
		return err
	}
	st, err := s.Get(c.Request.Context(), auth.Caller(c))
	if err != nil {
		return err
	}
	respond(c, st)
	return nil
}

func (s *Service) handlePatch(c *gin.Context) error {
	var p Patch
	at, err := web.ReadUpdate(c, "site settings", &p, readOnly, func() (any, int64, error) {
		st, err := s.Get(c.Request.Context(), auth.Caller(c))
		return st, st.Version, err
	})
	if err != nil {
		return err
	}
	st, err := s.Update(c.Request.Context(), auth.Caller(c), &p, at)
	if err != nil {
		return err
	}
	respond(c, st)
	return nil
}

// respond writes the admin form: never cached, with the ETag a later
// PATCH may send in If-Match.
func respond(c *gin.Context, st Settings) {
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", st.ETag())
	c.JSON(http.StatusOK, st)
}
