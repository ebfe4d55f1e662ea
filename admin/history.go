package admin

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
)

// historyPageSize is how many revisions a page of the history lists; an
// article keeps cms.MaxRevisions of them.
const historyPageSize = 25

// The service checks the right to read (and to restore) the article, so
// the routes only need a signed-in user.
func (ui *UI) registerHistory(g *auth.Router) {
	g.GET("/articles/:id/history", auth.SignedIn, ui.historyPage)
	g.GET("/articles/:id/history/:n", auth.SignedIn, ui.revisionPage)
	g.POST("/articles/:id/history/:n/restore", auth.SignedIn, ui.restoreRevision)
}

type historyData struct {
	Article   *cms.Article
	Revisions []*cms.Revision
	// Older is the link to the next page of older revisions, if any.
	Older string
}

// historyPage lists the article's previous versions, newest first; ?below=
// pages back from a version.
func (ui *UI) historyPage(c *gin.Context) {
	ctx := c.Request.Context()
	p := auth.Caller(c)
	var below int64
	if s := c.Query("below"); s != "" {
		var err error
		if below, err = strconv.ParseInt(s, 10, 64); err != nil || below < 2 {
			ui.fail(c, problem.New(problem.BadRequest, "below must be a version number above 1"))
			return
		}
	}
	a, revs, err := ui.svc.Articles.Revisions(ctx, p, c.Param("id"), below, historyPageSize+1)
	if err != nil {
		ui.fail(c, err)
		return
	}
	d := historyData{Article: a, Revisions: revs}
	if len(revs) > historyPageSize {
		d.Revisions = revs[:historyPageSize]
		last := d.Revisions[len(d.Revisions)-1].Version
		d.Older = Path + "/articles/" + a.ID + "/history?below=" + strconv.FormatInt(last, 10)
	}
	ui.render(c, http.StatusOK, "history.html", &page{Title: "History of " + a.Title, Nav: "articles", Data: d})
}

type revisionData struct {
	Article  *cms.Article
	Revision *cms.Revision
	Fields   []historyField
	// SlugDiffers warns that restoring keeps the current slug.
	SlugDiffers bool
	CanRestore  bool
}

// historyField is one field where a revision and the current article
// differ. FormatOnly means the texts are the same and only the body's
// markup (emphasis, links' layout, ...) changed.
type historyField struct {
	Label      string
	Diff       template.HTML
	FormatOnly bool
}

func (ui *UI) revisionPage(c *gin.Context) {
	ui.renderRevision(c, http.StatusOK, "")
}

// renderRevision shows revision :n against the current article, with
// errText when a restore was refused. It reads both again, so after a
// refused restore the page and its form are at the current version.
func (ui *UI) renderRevision(c *gin.Context, status int, errText string) {
	ctx := c.Request.Context()
	p := auth.Caller(c)
	n, err := strconv.ParseInt(c.Param("n"), 10, 64)
	if err != nil || n < 1 {
		ui.fail(c, problem.New(problem.NotFound, "no such revision"))
		return
	}
	a, err := ui.svc.Articles.Get(ctx, p, c.Param("id"))
	if err != nil {
		ui.fail(c, err)
		return
	}
	r, err := ui.svc.Articles.Revision(ctx, p, a.ID, n)
	if err != nil {
		ui.fail(c, err)
		return
	}
	d := revisionData{Article: a, Revision: r, Fields: compareArticles(r.Article, a),
		SlugDiffers: r.Article.Slug != a.Slug, CanRestore: cms.Can(p, cms.ActionRestore, a)}
	title := "Version " + strconv.FormatInt(n, 10) + " of " + a.Title
	ui.render(c, status, "history_compare.html", &page{Title: title, Nav: "articles", Error: errText, Data: d})
}

// restoreRevision makes revision :n the article's next version, if the
// article is still at the version the page showed.
func (ui *UI) restoreRevision(c *gin.Context) {
	id := c.Param("id")
	n, err := strconv.ParseInt(c.Param("n"), 10, 64)
	if err != nil || n < 1 {
		ui.fail(c, problem.New(problem.NotFound, "no such revision"))
		return
	}
	// The service skips the version check for 0, so a form without a
	// version is treated as stale rather than restoring blindly.
	version, _ := strconv.ParseInt(c.PostForm("version"), 10, 64)
	if version < 1 {
		err = problem.New(problem.PreconditionFailed, "the form names no version")
	} else {
		_, err = ui.svc.Articles.Restore(c.Request.Context(), auth.Caller(c), id, n, version)
	}
	if err == nil {
		seeOther(c, Path+"/articles/"+id, "restored")
		return
	}
	switch problem.KindOf(err) {
	case problem.NotFound:
		ui.fail(c, err)
	case problem.PreconditionFailed:
		ui.renderRevision(c, http.StatusPreconditionFailed,
			"The article changed since you opened this page, so nothing was restored and nothing was lost. "+
				"The comparison below is with the article as it is now; restore again if you still want this version.")
	default:
		status, text, _ := message(c, err)
		ui.renderRevision(c, status, text)
	}
}

// compareArticles lists the fields where article b differs from a, each
// as a word diff from a to b (words only in a struck out, words only in b
// inserted). Bodies are compared as readable text, so markup alone does
// not show as changed words. It goes through the editor's table of fields
// (formFields), so the history and the edit conflict compare the same.
func compareArticles(a, b *cms.Article) []historyField {
	fa, fb := formOf(a), formOf(b)
	var out []historyField
	for _, f := range formFields {
		x, y := f.get(fa), f.get(fb)
		if x == y {
			continue
		}
		if f.html {
			x, y = readable(x), readable(y)
		}
		out = append(out, historyField{Label: f.label, Diff: lineBreaks(wordDiff(x, y)), FormatOnly: x == y})
	}
	return out
}

// lineBreaks shows the diff's line ends (one per paragraph of a body, per
// source or product) as <br>, since no inline style may say pre-wrap. The
// diff is escaped text in <ins> and <del>, so a newline is never inside a
// tag.
func lineBreaks(h template.HTML) template.HTML {
	return template.HTML(strings.ReplaceAll(string(h), "\n", "<br>\n"))
}
