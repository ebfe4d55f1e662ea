package webhook

import (
	"context"
	"errors"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Register mounts the admin routes for webhooks on the /api/v1 router.
func (s *Service) Register(r *auth.Router) {
	admin := auth.AtLeast(auth.Admin)
	r.GET("/webhooks", admin, web.Handle(s.handleList))
	r.POST("/webhooks", admin, web.Handle(s.handleCreate))
	r.GET("/webhooks/:id", admin, web.Handle(s.handleGet))
	r.PATCH("/webhooks/:id", admin, web.Handle(s.handleUpdate))
	r.DELETE("/webhooks/:id", admin, web.Handle(s.handleDelete))
	r.GET("/webhooks/:id/deliveries", admin, web.Handle(s.handleDeliveries))
}

var idPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// hookParam reads the hook named by the path. These routes take no query
// parameters, so any query string is refused first.
func (s *Service) hookParam(c *gin.Context) (*Hook, error) {
	if err := noQuery(c); err != nil {
		return nil, err
	}
	return s.pathHook(c)
}

func (s *Service) pathHook(c *gin.Context) (*Hook, error) {
	id := c.Param("id")
	if !idPattern.MatchString(id) {
		return nil, problem.New(problem.NotFound, "no such webhook")
	}
	return s.FindHookByID(c.Request.Context(), id)
}

// pageQuery reads a list route's query string: limit (1..100, default 20)
// and an opaque cursor of the list scope, nothing else (web.ParseQuery
// refuses unknown, repeated, empty and malformed parameters).
func pageQuery(c *gin.Context, scope string) (limit int, after *cursor, err error) {
	q, err := web.ParseQuery(c, "limit", "cursor")
	if err != nil {
		return 0, nil, err
	}
	var f problem.Fields
	limit = q.Limit(&f, 20, 100)
	after = queryCursor(q, &f, scope)
	return limit, after, f.Err()
}

// noQuery refuses any query string on a route that takes no parameters.
func noQuery(c *gin.Context) error {
	_, err := web.ParseQuery(c)
	return err
}

func (s *Service) handleList(c *gin.Context) error {
	limit, after, err := pageQuery(c, hooksScope)
	if err != nil {
		return err
	}
	hooks, err := s.findHooks(c.Request.Context(), after, limit+1)
	if err != nil {
		return err
	}
	out := web.NewPage(hooks, limit, func(h Hook) string { return cursorAfter(hooksScope, h.CreatedAt, h.ID) })
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
	return nil
}

func (s *Service) handleCreate(c *gin.Context) error {
	if err := noQuery(c); err != nil {
		return err
	}
	var in HookInput
	if err := web.Decode(c, &in); err != nil {
		return err
	}
	h, err := s.CreateHook(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/webhooks/"+h.ID)
	c.Header("ETag", h.ETag())
	c.Header("Cache-Control", "no-store")
	// The secret is shown this once; receivers verify signatures with it.
	c.JSON(http.StatusCreated, struct {
		Hook
		Secret string `json:"secret"`
	}{*h, h.Secret})
	return nil
}

// CreateHook validates in and stores a new hook with a fresh secret.
func (s *Service) CreateHook(ctx context.Context, in HookInput) (*Hook, error) {
	if err := in.Validate(s.cfg.AllowPrivate, s.cfg.Events); err != nil {
		return nil, err
	}
	now := s.now()
	h := &Hook{ID: newID(), URL: in.URL, Events: in.Events, Secret: newID() + newID(),
		Active: in.Active == nil || *in.Active, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := mongodb.Insert(ctx, s.hooks, "insert webhook", h); err != nil {
		return nil, err
	}
	return h, nil
}

func (s *Service) handleGet(c *gin.Context) error {
	h, err := s.hookParam(c)
	if err != nil {
		return err
	}
	if web.NotModified(c, h.ETag()) {
		return nil
	}
	writeHook(c, h)
	return nil
}

// writeHook answers with the hook and its version as ETag.
func writeHook(c *gin.Context, h *Hook) {
	c.Header("ETag", h.ETag())
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h)
}

// hookAt reads the hook named by the path and checks If-Match against
// it, when sent.
func (s *Service) hookAt(c *gin.Context) (*Hook, error) {
	h, err := s.hookParam(c)
	if err != nil {
		return nil, err
	}
	at, err := web.IfMatch(c, false, "webhook")
	if err != nil {
		return nil, err
	}
	if err := at.Check("webhook", h.Version); err != nil {
		return nil, err
	}
	return h, nil
}

func (s *Service) handleUpdate(c *gin.Context) error {
	h, err := s.hookAt(c)
	if err != nil {
		return err
	}
	// A merge patch like every PATCH; no member of a hook can be cleared.
	var in struct {
		URL    web.Optional[string]   `json:"url"`
		Events web.Optional[[]string] `json:"events"`
		Active web.Optional[bool]     `json:"active"`
	}
	current := func() (any, error) { return h, nil }
	if err := web.DecodeUpdate(c, &in, hookReadOnly, current); err != nil {
		return err
	}
	var f problem.Fields
	web.RefuseNull(&f, "url", in.URL)
	web.RefuseNull(&f, "events", in.Events)
	web.RefuseNull(&f, "active", in.Active)
	if err := f.Err(); err != nil {
		return err
	}
	next := HookInput{URL: h.URL, Events: h.Events, Active: &h.Active}
	in.URL.Merge(&next.URL)
	in.Events.Merge(&next.Events)
	in.Active.Merge(next.Active)
	if err := next.Validate(s.cfg.AllowPrivate, s.cfg.Events); err != nil {
		return err
	}
	prev := h.Version
	h.URL, h.Events, h.Active, h.UpdatedAt, h.Version = next.URL, next.Events, *next.Active, s.now(), prev+1
	// $set of the configuration only, so that a delivery's status
	// written meanwhile stays.
	set := bson.D{{Key: "$set", Value: bson.D{
		{Key: "url", Value: h.URL}, {Key: "events", Value: h.Events}, {Key: "active", Value: h.Active},
		{Key: "updatedAt", Value: h.UpdatedAt}, {Key: "version", Value: h.Version},
	}}}
	err = s.versions.Write(c.Request.Context(), s.hooks, h.ID, prev, func(ctx context.Context) error {
		_, err := mongodb.UpdateByID(ctx, s.hooks, "update webhook", h.ID, set)
		return err
	})
	if err != nil {
		return hookErr(err)
	}
	writeHook(c, h)
	return nil
}

// hookErr says which resource a write did not find.
func hookErr(err error) error {
	if errors.Is(err, problem.NotFound) {
		return problem.Wrap(problem.NotFound, err, "no such webhook")
	}
	return err
}

func (s *Service) handleDelete(c *gin.Context) error {
	h, err := s.hookParam(c)
	if err != nil {
		return err
	}
	at, err := web.IfMatch(c, false, "webhook")
	if err != nil {
		return err
	}
	if err := s.DeleteHook(c.Request.Context(), h.ID, at); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// handleDeliveries lists the hook's deliveries, newest first, a page at a
// time.
func (s *Service) handleDeliveries(c *gin.Context) error {
	limit, before, err := pageQuery(c, deliveriesScope(c.Param("id")))
	if err != nil {
		return err
	}
	h, err := s.pathHook(c)
	if err != nil {
		return err
	}
	ds, err := s.findDeliveries(c.Request.Context(), h.ID, before, limit+1)
	if err != nil {
		return err
	}
	out := web.NewPage(ds, limit, func(d Delivery) string { return cursorAfter(deliveriesScope(h.ID), d.CreatedAt, d.ID) })
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
	return nil
}
