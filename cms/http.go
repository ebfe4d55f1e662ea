package cms

import (
	"errors"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// maxArticleRequest caps article bodies on the wire: a 2 MiB body can
// grow by a half when JSON escapes its quotes and angle brackets.
const maxArticleRequest = 3 << 20

// Register mounts the authoring routes on r, the /api/v1 group. Each
// route's access rule is the first gate of its action, derived from the
// permission table (gate); the service then decides per article.
func (s *Service) Register(r *auth.Router) {
	big := web.BodyLimit(maxArticleRequest)
	// Routes without parameters refuse any query (web.NoQuery); the lists
	// name theirs in their parsers.
	none := web.NoQuery
	r.POST("/articles", gate(ActionCreate), none, big, web.Handle(s.handleCreate))
	r.GET("/articles", gate(ActionRead), web.Handle(s.handleList))
	r.GET("/articles/:id", gate(ActionRead), none, web.Handle(s.handleGet))
	r.PATCH("/articles/:id", gate(ActionEdit), none, big, web.Handle(s.handleUpdate))
	r.DELETE("/articles/:id", gate(ActionArchive), none, web.Handle(s.handleDelete))
	r.POST("/articles/:id/submit", gate(ActionSubmit), none, web.Handle(s.handleTransition(ActionSubmit)))
	r.POST("/articles/:id/publish", gate(ActionPublish), none, web.Handle(s.handleTransition(ActionPublish)))
	r.POST("/articles/:id/unpublish", gate(ActionUnpublish), none, web.Handle(s.handleTransition(ActionUnpublish)))
	r.POST("/articles/:id/discard-changes", gate(ActionStage), none, web.Handle(s.handleDiscard))
	r.GET("/articles/:id/revisions", gate(ActionRead), web.Handle(s.handleRevisions))
	r.GET("/articles/:id/revisions/:n", gate(ActionRead), none, web.Handle(s.handleRevision))
	r.POST("/articles/:id/revisions/:n/restore", gate(ActionRestore), none, web.Handle(s.handleRestore))
	r.POST("/articles/:id/preview-token", gate(ActionPreview), none, web.Handle(s.handlePreviewToken))
	r.GET("/articles/:id/compliance", gate(ActionRead), none, web.Handle(s.handleCompliance))
}

// writeArticle answers with the article and its version as ETag. The
// authoring API is private and changes often: caches must revalidate.
func writeArticle(c *gin.Context, status int, a *Article) {
	c.Header("ETag", a.ETag())
	c.Header("Cache-Control", "private, no-cache")
	// PureJSON: bodyHtml reads as HTML instead of \u003c escapes.
	c.PureJSON(status, a)
}

// savedArticle is the answer of a write: the article and, when there are
// any, its warnings, what was saved but earns nothing (writeWarnings). A
// client sending the answer back may leave them in: articleReadOnly
// ignores them.
type savedArticle struct {
	*Article
	Warnings []problem.FieldError `json:"warnings,omitempty"`
}

// writeSaved is writeArticle for the answer of a write.
func (s *Service) writeSaved(c *gin.Context, status int, a *Article) {
	c.Header("ETag", a.ETag())
	c.Header("Cache-Control", "private, no-cache")
	c.PureJSON(status, savedArticle{Article: a, Warnings: s.writeWarnings(a)})
}

func (s *Service) handleCompliance(c *gin.Context) error {
	r, err := s.Compliance(c.Request.Context(), auth.Caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	// It follows the settings and the catalogue as well as the article,
	// so no ETag could tell a client it is stale.
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, r)
	return nil
}

// createRequest is the body of POST /articles: the content, and the
// author when it is not the caller.
type createRequest struct {
	Content
	AuthorID *string `json:"authorId"`
}

func (s *Service) handleCreate(c *gin.Context) error {
	var in createRequest
	if err := web.Decode(c, &in); err != nil {
		return err
	}
	a, err := s.CreateFor(c.Request.Context(), auth.Caller(c), in.Content, in.AuthorID)
	if err != nil {
		return err
	}
	c.Header("Location", path.Join(c.Request.URL.Path, a.ID))
	s.writeSaved(c, http.StatusCreated, a)
	return nil
}

func (s *Service) handleGet(c *gin.Context) error {
	a, err := s.Get(c.Request.Context(), auth.Caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	if web.NotModified(c, a.ETag()) {
		return nil
	}
	writeArticle(c, http.StatusOK, a)
	return nil
}

func (s *Service) handleUpdate(c *gin.Context) error {
	v, err := ifMatch(c, true)
	if errors.Is(err, problem.PreconditionRequired) {
		return s.ifMatchMissing(c)
	}
	if err != nil {
		return err
	}
	var u ArticleUpdate
	current := func() (any, error) {
		a, err := s.Get(c.Request.Context(), auth.Caller(c), c.Param("id"))
		if err != nil {
			return nil, err
		}
		return a, web.Precondition{Version: v, Sent: true}.Check("article", a.Version)
	}
	if err := web.DecodeUpdate(c, &u, articleReadOnly, current); err != nil {
		return err
	}
	a, err := s.Update(c.Request.Context(), auth.Caller(c), c.Param("id"), v, &u)
	if err != nil {
		return err
	}
	s.writeSaved(c, http.StatusOK, a)
	return nil
}

// handleDiscard needs If-Match, as PATCH does: it throws work away, so
// the client must have seen the draft it discards.
func (s *Service) handleDiscard(c *gin.Context) error {
	v, err := ifMatch(c, true)
	if errors.Is(err, problem.PreconditionRequired) {
		return s.ifMatchMissing(c)
	}
	if err != nil {
		return err
	}
	a, err := s.DiscardChanges(c.Request.Context(), auth.Caller(c), c.Param("id"), v)
	if err != nil {
		return err
	}
	s.writeSaved(c, http.StatusOK, a)
	return nil
}

func (s *Service) handleDelete(c *gin.Context) error {
	v, err := ifMatch(c, false)
	if err != nil {
		return err
	}
	if _, err := s.Transition(c.Request.Context(), auth.Caller(c), c.Param("id"), ActionArchive, v, PublishDates{}); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// publishRequest is the optional body of POST .../publish (see
// PublishDates). The times are strings so that a malformed one is reported
// against its field.
type publishRequest struct {
	PublishAt   *string `json:"publishAt"`
	PublishedAt *string `json:"publishedAt"`
}

// dates parses the request's times, naming every malformed one.
func (in publishRequest) dates() (PublishDates, error) {
	var d PublishDates
	var f problem.Fields
	parse := func(field string, s *string) *time.Time {
		if s == nil {
			return nil
		}
		t, err := time.Parse(time.RFC3339, *s)
		if err != nil {
			f.Add(field, "must be an RFC 3339 timestamp such as 2030-01-02T09:00:00Z")
			return nil
		}
		return &t
	}
	d.PublishAt = parse("publishAt", in.PublishAt)
	d.PublishedAt = parse("publishedAt", in.PublishedAt)
	return d, f.Err()
}

func (s *Service) handleTransition(act Action) web.HandlerFunc {
	return func(c *gin.Context) error {
		v, err := ifMatch(c, false)
		if err != nil {
			return err
		}
		var d PublishDates
		if act == ActionPublish && c.Request.ContentLength != 0 {
			var in publishRequest
			if err := web.Decode(c, &in); err != nil {
				return err
			}
			if d, err = in.dates(); err != nil {
				return err
			}
		}
		a, err := s.Transition(c.Request.Context(), auth.Caller(c), c.Param("id"), act, v, d)
		if err != nil {
			return err
		}
		s.writeSaved(c, http.StatusOK, a)
		return nil
	}
}

// listItem is an article in a list: everything but the bodies, which
// would make a page of fifty articles weigh megabytes.
type listItem struct {
	*Article
	Body     *struct{} `json:"body,omitempty"`
	BodyHTML *struct{} `json:"bodyHtml,omitempty"`
}

type listResponse struct {
	Items      []listItem `json:"items"`
	NextCursor *string    `json:"nextCursor"`
}

// parseListQuery validates the query string: unknown parameters, repeated
// ones and out-of-range values are errors, never silently defaulted.
func parseListQuery(c *gin.Context) (ListQuery, error) {
	q := ListQuery{Limit: 20}
	values, err := web.ParseQuery(c, "status", "author", "tag", "q", "limit", "cursor")
	if err != nil {
		return q, err
	}
	var f problem.Fields
	if v, ok := values["status"]; ok {
		q.Status = Status(v)
		if !q.Status.Valid() {
			f.Add("status", "must be one of draft, in_review, scheduled, published, archived")
		}
	}
	if v, ok := values["author"]; ok {
		q.Author = ParseAuthor(&f, v)
	}
	if v, ok := values["tag"]; ok {
		q.Tag = strings.ToLower(v)
		if !ValidTag(q.Tag) {
			f.Add("tag", "must be a tag of a-z, 0-9 and hyphens")
		}
	}
	if v, ok := values["q"]; ok {
		q.Words = ParseQuery(&f, v)
	}
	q.Limit = values.Limit(&f, 20, MaxListLimit)
	var before string
	if values.Cursor(&f, q.scope(), func() bool { return idPattern.MatchString(before) }, &before) {
		q.Before = before
	}
	return q, f.Err()
}

// scope names the authoring list with q's filters, so a cursor pages
// only the list it came from.
func (q ListQuery) scope() string {
	return "cms.articles\x00s=" + string(q.Status) + "\x00a=" + q.Author.key() + "\x00t=" + q.Tag + "\x00q=" + strings.Join(q.Words, " ")
}

func (s *Service) handleList(c *gin.Context) error {
	q, err := parseListQuery(c)
	if err != nil {
		return err
	}
	items, next, err := s.List(c.Request.Context(), auth.Caller(c), q)
	if err != nil {
		return err
	}
	resp := listResponse{Items: make([]listItem, len(items))}
	for i, a := range items {
		resp.Items[i] = listItem{Article: a}
	}
	if next != "" {
		cur := web.EncodeCursor(q.scope(), next)
		resp.NextCursor = &cur
	}
	c.Header("Cache-Control", "private, no-cache")
	c.PureJSON(http.StatusOK, resp)
	return nil
}

// handleRevisions lists revisions newest first, limit at a time; the
// cursor carries the version of the last one shown, bound to the article.
func (s *Service) handleRevisions(c *gin.Context) error {
	values, err := web.ParseQuery(c, "limit", "cursor")
	if err != nil {
		return err
	}
	var f problem.Fields
	limit := values.Limit(&f, 20, MaxListLimit)
	scope := revisionsScope(c.Param("id"))
	var below int64
	if !values.Cursor(&f, scope, func() bool { return below >= 2 }, &below) {
		below = 0
	}
	if err := f.Err(); err != nil {
		return err
	}
	_, revs, err := s.Revisions(c.Request.Context(), auth.Caller(c), c.Param("id"), below, limit+1)
	if err != nil {
		return err
	}
	page := web.NewPage(revs, limit, func(r *Revision) string { return web.EncodeCursor(scope, r.Version) })
	c.Header("Cache-Control", "private, no-cache")
	c.PureJSON(http.StatusOK, page)
	return nil
}

// revisionsScope names an article's revision list, so a cursor pages only
// the revisions of the article it came from.
func revisionsScope(articleID string) string { return "cms.revisions\x00" + articleID }

// revisionNumber parses :n; anything but a positive integer names no
// revision.
func revisionNumber(c *gin.Context) (int64, error) {
	n, err := strconv.ParseInt(c.Param("n"), 10, 64)
	if err != nil || n < 1 {
		return 0, problem.New(problem.NotFound, "no such revision")
	}
	return n, nil
}

func (s *Service) handleRevision(c *gin.Context) error {
	n, err := revisionNumber(c)
	if err != nil {
		return err
	}
	r, err := s.Revision(c.Request.Context(), auth.Caller(c), c.Param("id"), n)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "private, no-cache")
	c.PureJSON(http.StatusOK, r)
	return nil
}

func (s *Service) handleRestore(c *gin.Context) error {
	n, err := revisionNumber(c)
	if err != nil {
		return err
	}
	v, err := ifMatch(c, false)
	if err != nil {
		return err
	}
	a, err := s.Restore(c.Request.Context(), auth.Caller(c), c.Param("id"), n, v)
	if err != nil {
		return err
	}
	s.writeSaved(c, http.StatusOK, a)
	return nil
}

func (s *Service) handlePreviewToken(c *gin.Context) error {
	token, exp, err := s.CreatePreviewToken(c.Request.Context(), auth.Caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"token": token, "expiresAt": exp})
	return nil
}

// ifMatchMissing answers an update sent without If-Match: 428 showing the
// header to send for the version the caller can see now (404 as usual for
// an article the caller may not see).
func (s *Service) ifMatchMissing(c *gin.Context) error {
	a, err := s.Get(c.Request.Context(), auth.Caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return problem.New(problem.PreconditionRequired,
		"send If-Match with the ETag of the version you edited; the current one is If-Match: %s", a.ETag())
}

// ifMatch reads the version from If-Match (web.IfMatch). An update
// without it is 428, so no client can overwrite a version it has not seen
// by leaving it out. Articles start at version 1, so "0" names none.
func ifMatch(c *gin.Context, required bool) (int64, error) {
	p, err := web.IfMatch(c, required, "article")
	if err != nil || !p.Sent {
		return 0, err
	}
	if p.Version < 1 {
		return 0, web.NoSuchVersion("article")
	}
	return p.Version, nil
}
