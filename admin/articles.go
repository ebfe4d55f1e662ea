package admin

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// pageSize is how many articles a list page shows.
const pageSize = 50

func (ui *UI) registerArticles(g *auth.Router) {
	g.GET("/articles", auth.SignedIn, ui.articlesPage)
	g.GET("/articles/new", auth.SignedIn, ui.newArticlePage)
	g.POST("/articles", auth.SignedIn, web.BodyLimit(maxForm), ui.createArticle)
	g.GET("/articles/:id", auth.SignedIn, ui.editorPage)
	g.POST("/articles/:id", auth.SignedIn, web.BodyLimit(maxForm), ui.saveArticle)
	g.POST("/articles/:id/autosave", auth.SignedIn, web.BodyLimit(maxForm), ui.autosaveArticle)
	g.GET("/articles/:id/compliance", auth.SignedIn, ui.compliancePart)
	g.POST("/articles/:id/preview", auth.SignedIn, ui.previewArticle)
	g.GET("/media.json", auth.SignedIn, ui.mediaChoices)
	g.GET("/products.json", auth.SignedIn, ui.productChoices)
}

// maxForm caps an editor form: the article body may be 2 MiB, and form
// encoding grows it by up to three times.
const maxForm = 8 << 20

type articlesData struct {
	Items  []*cms.Article
	Status string
	Author string
	Tag    string
	Q      string
	Next   string
	Errors map[string]string
}

var statuses = []string{"draft", "in_review", "scheduled", "published", "archived"}

// articlesPage is the list: filtered by status, author, tag and words,
// newest first, a page at a time.
func (ui *UI) articlesPage(c *gin.Context) {
	d := articlesData{Status: c.Query("status"), Author: c.Query("author"), Tag: c.Query("tag"), Q: c.Query("q")}
	q := cms.ListQuery{Limit: pageSize, Status: cms.Status(d.Status)}
	var f problem.Fields
	if d.Status != "" && !q.Status.Valid() {
		f.Add("status", "is not a status")
	}
	if d.Author != "" {
		q.Author = cms.ParseAuthor(&f, d.Author)
	}
	if d.Tag != "" {
		if !cms.ValidTag(d.Tag) {
			f.Add("tag", "is not a tag")
		}
		q.Tag = d.Tag
	}
	if d.Q != "" {
		q.Words = cms.ParseQuery(&f, d.Q)
	}
	if after := c.Query("after"); after != "" {
		if !cms.ValidID(after) {
			f.Add("after", "is not an article ID")
		}
		q.Before = after
	}
	if err := f.Err(); err != nil {
		_, text, fields := message(c, err)
		d.Errors = fields
		ui.render(c, http.StatusBadRequest, "articles.html", &page{Title: "Articles", Nav: "articles", Error: text, Data: d})
		return
	}
	items, next, err := ui.svc.Articles.List(c.Request.Context(), auth.Caller(c), q)
	if err != nil {
		ui.fail(c, err)
		return
	}
	d.Items = items
	if next != "" {
		v := url.Values{"after": {next}}
		for k, s := range map[string]string{"status": d.Status, "author": d.Author, "tag": d.Tag, "q": d.Q} {
			if s != "" {
				v.Set(k, s)
			}
		}
		d.Next = Path + "/articles?" + v.Encode()
	}
	ui.render(c, http.StatusOK, "articles.html", &page{Title: "Articles", Nav: "articles", Data: d})
}

// editorData is what the editor page shows.
type editorData struct {
	Article  *cms.Article // nil for a new article
	Form     articleForm
	Errors   map[string]string
	Findings []cms.Finding
	Buttons  buttons
	Covers   []coverChoice
	Products []productOption
	Preview  string
	SiteURL  string
	Conflict *conflict
	Autosave *autosaved
}

type coverChoice struct {
	ID, Label string
}

type productOption struct {
	Code, Title string
}

// buttons are the actions the caller may take on the article in its
// state, from the permission table the service enforces (cms.Can).
type buttons struct {
	Save, Submit, Publish, Schedule, Unpublish, PublishChanges, Discard, Preview, History bool
}

func buttonsFor(p *auth.Principal, a *cms.Article) buttons {
	if a == nil {
		return buttons{Save: cms.Can(p, cms.ActionCreate, nil)}
	}
	b := buttons{
		Save:    cms.Can(p, cms.ActionEdit, a),
		Preview: cms.Can(p, cms.ActionPreview, a),
		History: true,
	}
	mayPublish := cms.Can(p, cms.ActionPublish, a)
	switch a.Status {
	case cms.StatusDraft:
		b.Submit = cms.Can(p, cms.ActionSubmit, a)
		b.Publish, b.Schedule = mayPublish, mayPublish
	case cms.StatusInReview:
		b.Publish, b.Schedule = mayPublish, mayPublish
		b.Unpublish = cms.Can(p, cms.ActionUnpublish, a)
	case cms.StatusScheduled:
		b.Publish, b.Schedule = mayPublish, mayPublish
		b.Unpublish = cms.Can(p, cms.ActionUnpublish, a)
	case cms.StatusPublished:
		b.Unpublish = cms.Can(p, cms.ActionUnpublish, a)
		if a.HasUnpublishedChanges {
			b.PublishChanges, b.Schedule = mayPublish, mayPublish
			b.Submit = !a.ChangesInReview && cms.Can(p, cms.ActionSubmit, a)
			b.Discard = cms.Can(p, cms.ActionStage, a)
		}
	case cms.StatusArchived:
		b.Unpublish = cms.Can(p, cms.ActionUnpublish, a)
	}
	return b
}

func (ui *UI) newArticlePage(c *gin.Context) {
	p := auth.Caller(c)
	if !cms.Can(p, cms.ActionCreate, nil) {
		ui.fail(c, problem.New(problem.Forbidden, "you may not create articles"))
		return
	}
	d := &editorData{Form: articleForm{BodyFormat: string(cms.FormatHTML)}}
	ui.renderEditor(c, http.StatusOK, d)
}

func (ui *UI) createArticle(c *gin.Context) {
	form := readArticleForm(c)
	content, err := form.content()
	if err == nil {
		var a *cms.Article
		if a, err = ui.svc.Articles.Create(c.Request.Context(), auth.Caller(c), content); err == nil {
			seeOther(c, Path+"/articles/"+a.ID, "created")
			return
		}
	}
	status, text, fields := message(c, err)
	d := &editorData{Form: form, Errors: fields}
	ui.renderEditor(c, status, d, text)
}

func (ui *UI) editorPage(c *gin.Context) {
	a, err := ui.svc.Articles.Get(c.Request.Context(), auth.Caller(c), c.Param("id"))
	if err != nil {
		ui.fail(c, err)
		return
	}
	d := &editorData{Article: a, Form: formOf(a)}
	if saved, err := ui.autosaves.find(c.Request.Context(), a.ID, auth.Caller(c).UserID); err != nil {
		web.Logger(c).Warn("admin: read autosave", "err", err)
	} else if saved != nil && saved.SavedAt.After(a.UpdatedAt) {
		d.Autosave = saved
		if c.Query("autosave") == "restore" {
			d.Form = saved.Form
			d.Autosave = nil
		}
	}
	ui.renderEditor(c, http.StatusOK, d)
}

// renderEditor fills in what every rendering of the editor shows and
// renders it; errText is the message of a failed save.
func (ui *UI) renderEditor(c *gin.Context, status int, d *editorData, errText ...string) {
	p := auth.Caller(c)
	ctx := c.Request.Context()
	d.Buttons = buttonsFor(p, d.Article)
	d.SiteURL = strings.TrimSuffix(ui.svc.Site.Current().URL, "/") + "/"
	if d.Article != nil {
		if rep, err := ui.svc.Articles.Compliance(ctx, p, d.Article.ID); err == nil {
			d.Findings = rep.Findings
		}
	}
	for _, it := range ui.mediaImages(c, "", 100) {
		label := it.Alt
		if label == "" {
			label = it.FileName
		}
		d.Covers = append(d.Covers, coverChoice{ID: it.ID, Label: label})
	}
	for _, pc := range ui.svc.Affiliate.Choices("", 1000) {
		d.Products = append(d.Products, productOption{Code: pc.Code, Title: pc.Title})
	}
	title := "New article"
	if d.Article != nil {
		title = d.Article.Title
	}
	pg := &page{Title: title, Nav: "articles", Scripts: []string{"editor.js"}, Data: d}
	if len(errText) > 0 {
		pg.Error = errText[0]
	}
	ui.render(c, status, "editor.html", pg)
}

// saveArticle saves the form and then takes the action of the button
// pressed. A save that finds the article changed since the form was
// loaded (412) shows the editor again with the author's text kept and
// what the other change did, never losing either.
func (ui *UI) saveArticle(c *gin.Context) {
	ctx := c.Request.Context()
	p := auth.Caller(c)
	id := c.Param("id")
	form := readArticleForm(c)
	action := c.PostForm("action")
	cur, err := ui.svc.Articles.Get(ctx, p, id)
	if err != nil {
		ui.fail(c, err)
		return
	}
	// A schedule without a usable date is refused before anything is
	// saved, so the author fixes the date and sends the same form again.
	var at *time.Time
	if action == "schedule" {
		if at, err = parseDateInput("publishAt", form.PublishAt); err == nil && at == nil {
			var f problem.Fields
			f.Add("publishAt", "is needed to schedule: the date and time (UTC) to publish at")
			err = f.Err()
		}
		if err != nil {
			status, text, fields := message(c, err)
			ui.renderEditor(c, status, &editorData{Article: cur, Form: form, Errors: fields}, text)
			return
		}
	}
	a := cur
	if action != "discard" && action != "unpublish" {
		a, err = ui.saveForm(c, cur, form)
		if err != nil {
			ui.saveFailed(c, cur, form, err)
			return
		}
	} else if form.Version != cur.Version {
		ui.saveFailed(c, cur, form, problem.New(problem.PreconditionFailed, "the article changed since you loaded it"))
		return
	}
	done := "saved"
	switch action {
	case "", "save":
	case "submit":
		a, err = ui.svc.Articles.Transition(ctx, p, id, cms.ActionSubmit, a.Version, cms.PublishDates{})
		done = "submitted"
	case "publish", "publish_changes":
		a, err = ui.svc.Articles.Transition(ctx, p, id, cms.ActionPublish, a.Version, cms.PublishDates{})
		done = "published"
	case "schedule":
		a, err = ui.svc.Articles.Transition(ctx, p, id, cms.ActionPublish, a.Version, cms.PublishDates{PublishAt: at})
		done = "scheduled"
	case "unpublish":
		a, err = ui.svc.Articles.Transition(ctx, p, id, cms.ActionUnpublish, a.Version, cms.PublishDates{})
		done = "unpublished"
	case "discard":
		a, err = ui.svc.Articles.DiscardChanges(ctx, p, id, a.Version)
		done = "discarded"
	default:
		err = problem.New(problem.BadRequest, "unknown action %q", action)
	}
	if err != nil {
		// The content was saved; only the step failed. Show the saved
		// article with the reason.
		now, gerr := ui.svc.Articles.Get(ctx, p, id)
		if gerr != nil {
			ui.fail(c, gerr)
			return
		}
		status, text, fields := message(c, err)
		ui.renderEditor(c, status, &editorData{Article: now, Form: formOf(now), Errors: fields}, text)
		return
	}
	if err := ui.autosaves.drop(ctx, id, p.UserID); err != nil {
		web.Logger(c).Warn("admin: drop autosave", "err", err)
	}
	seeOther(c, Path+"/articles/"+a.ID, done)
}

// saveForm writes the form's content over cur at the version the form
// was loaded at.
func (ui *UI) saveForm(c *gin.Context, cur *cms.Article, form articleForm) (*cms.Article, error) {
	u, err := form.update()
	if err != nil {
		return nil, err
	}
	return ui.svc.Articles.Update(c.Request.Context(), auth.Caller(c), cur.ID, form.Version, u)
}

// saveFailed shows the editor again after a refused save, with what was
// typed. On a 412 the form moves to the current version, so saving again
// keeps the author's text, and the page shows what the other change was.
func (ui *UI) saveFailed(c *gin.Context, cur *cms.Article, form articleForm, err error) {
	status, text, fields := message(c, err)
	d := &editorData{Article: cur, Form: form, Errors: fields}
	if problem.KindOf(err) == problem.PreconditionFailed {
		d.Conflict = conflictOf(cur, form)
		d.Form.Version = cur.Version
		text = "Someone else saved this article while you were editing. Your text is still here; compare below, then save to keep yours or reload to take theirs."
	}
	ui.renderEditor(c, status, d, text)
}

// compliancePart is the findings panel, for htmx to refresh after a save.
func (ui *UI) compliancePart(c *gin.Context) {
	rep, err := ui.svc.Articles.Compliance(c.Request.Context(), auth.Caller(c), c.Param("id"))
	if err != nil {
		ui.fail(c, err)
		return
	}
	ui.render(c, http.StatusOK, "compliance.html", &page{Data: rep.Findings})
}

// previewArticle makes a preview token and shows the link to the front
// end's preview page (CMS_PREVIEW_URL), or the content API's preview. It
// is shown, not redirected to: the page's CSP sends forms only here.
func (ui *UI) previewArticle(c *gin.Context) {
	p := auth.Caller(c)
	a, err := ui.svc.Articles.Get(c.Request.Context(), p, c.Param("id"))
	if err != nil {
		ui.fail(c, err)
		return
	}
	token, expires, err := ui.svc.Articles.CreatePreviewToken(c.Request.Context(), p, a.ID)
	if err != nil {
		ui.fail(c, err)
		return
	}
	ui.render(c, http.StatusOK, "preview.html", &page{Title: "Preview of " + a.Title, Nav: "articles",
		Data: previewData{URL: ui.previewURL(a.Slug, token), Expires: expires}})
}

type previewData struct {
	URL     string
	Expires time.Time
}

// previewURL fills the preview pattern. The slug and token are escaped:
// the target is the configured front end, never a value of the request.
func (ui *UI) previewURL(slug, token string) string {
	pattern := ui.opt.PreviewURL
	if pattern == "" {
		pattern = strings.TrimSuffix(ui.opt.PublicURL, "/") + "/api/v1/content/articles/{slug}?preview={token}"
	}
	r := strings.NewReplacer("{slug}", url.PathEscape(slug), "{token}", url.QueryEscape(token))
	return r.Replace(pattern)
}
