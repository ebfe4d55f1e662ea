package admin

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
	"github.com/wellness/cms/media"
)

// The library: every signed-in user may look (contributors pick images
// from it); who may upload, edit and delete is media's rule, which the
// service applies to each call.
func (ui *UI) registerMedia(g *auth.Router) {
	read := auth.AtLeast(auth.Contributor)
	g.GET("/media", read, ui.mediaPage)
	// The same body limit as the API's upload; the deadline too (below).
	g.POST("/media", read, web.BodyLimit(media.UploadLimit), ui.uploadMedia)
	g.GET("/media/:id", read, ui.mediaItemPage)
	g.POST("/media/:id", read, ui.saveMediaItem)
	g.POST("/media/:id/delete", read, ui.deleteMediaItem)
}

// mediaPageSize is how many images a library page shows.
const mediaPageSize = 48

type mediaData struct {
	Items  []mediaCard
	Q      string
	Next   string
	Alt    string
	Errors map[string]string
}

type mediaCard struct {
	media.View
	Thumb string
}

func cardOf(v media.View) mediaCard { return mediaCard{View: v, Thumb: thumbOf(v)} }

// thumbOf is the URL of the item's narrowest rendition, the original when
// it has none.
func thumbOf(v media.View) string {
	thumb, w := v.URL, v.Width
	for _, s := range v.Sizes {
		if s.Width < w {
			thumb, w = s.URL, s.Width
		}
	}
	return thumb
}

func (ui *UI) mediaPage(c *gin.Context) {
	d := &mediaData{Q: strings.TrimSpace(c.Query("q"))}
	if len(d.Q) > media.MaxText {
		d.Q = d.Q[:media.MaxText]
	}
	ui.renderMedia(c, http.StatusOK, d, c.Query("after"), "")
}

// renderMedia shows a page of the library, newest first, after the item
// after (an ID; "" for the first page).
func (ui *UI) renderMedia(c *gin.Context, status int, d *mediaData, after, errText string) {
	f := media.Filter{Q: d.Q, Limit: mediaPageSize + 1}
	if after != "" {
		// A cursor that names no item any more starts from the top.
		if it, ok := ui.svc.Media.Find(after); ok {
			f.After = &media.Position{CreatedAt: it.CreatedAt, ID: it.ID}
		}
	}
	items, err := ui.svc.Media.List(auth.Caller(c), f)
	if err != nil {
		ui.fail(c, err)
		return
	}
	if len(items) > mediaPageSize {
		items = items[:mediaPageSize]
		v := url.Values{"after": {items[len(items)-1].ID}}
		if d.Q != "" {
			v.Set("q", d.Q)
		}
		d.Next = Path + "/media?" + v.Encode()
	}
	for _, it := range items {
		d.Items = append(d.Items, cardOf(ui.svc.Media.View(it)))
	}
	ui.render(c, status, "media.html", &page{Title: "Media", Nav: "media", Error: errText, Data: d})
}

// wantsJSON reports whether the request asks for JSON: the drop zone and
// the editor's image dialog do, a plain form does not.
func wantsJSON(c *gin.Context) bool {
	for _, part := range strings.Split(c.GetHeader("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// uploadMedia adds images to the library, read as the API reads them. A
// script (Accept: application/json) sends one file and gets the item as
// the editor's picker shows it, or problem+json; a plain form may send
// several, and comes back to the library.
func (ui *UI) uploadMedia(c *gin.Context) {
	media.AllowUploadTime(c.Writer)
	ctx := c.Request.Context()
	by := auth.Caller(c)
	if wantsJSON(c) {
		up, err := media.ReadUpload(c.Request)
		var it *media.Item
		if err == nil {
			it, err = ui.svc.Media.Create(ctx, by, up)
		}
		if err != nil {
			web.Fail(c, err)
			return
		}
		v := ui.svc.Media.View(it)
		c.Header("Location", Path+"/media/"+it.ID)
		c.JSON(http.StatusCreated, choiceOf(v))
		return
	}
	ups, err := media.ReadUploads(c.Request)
	alt := ""
	if len(ups) > 0 {
		alt = ups[0].Alt
	}
	done := 0
	for _, up := range ups {
		if _, err = ui.svc.Media.Create(ctx, by, up); err != nil {
			break
		}
		done++
	}
	if err != nil {
		status, text, fields := message(c, err)
		if done > 0 {
			text = fmt.Sprintf("%d of %d images were uploaded; the next one failed: %s", done, len(ups), text)
		}
		ui.renderMedia(c, status, &mediaData{Alt: alt, Errors: fields}, "", text)
		return
	}
	seeOther(c, Path+"/media", "uploaded")
}

type mediaItemData struct {
	Item      mediaCard
	Version   int64
	Alt       string
	Caption   string
	Errors    map[string]string
	UsedBy    []string
	CanChange bool
	// InUse is set when a delete was refused because published articles
	// show the image: the page then offers to delete anyway.
	InUse bool
}

func (ui *UI) mediaItemPage(c *gin.Context) {
	it, err := ui.svc.Media.Get(c.Request.Context(), auth.Caller(c), c.Param("id"))
	if err != nil {
		ui.fail(c, err)
		return
	}
	ui.renderMediaItem(c, http.StatusOK, it, &mediaItemData{Version: it.Version, Alt: it.Alt, Caption: it.Caption}, "")
}

func (ui *UI) renderMediaItem(c *gin.Context, status int, it *media.Item, d *mediaItemData, errText string) {
	p := auth.Caller(c)
	d.Item = cardOf(ui.svc.Media.View(it))
	// Which buttons to show; the service decides what is done.
	d.CanChange = p.AtLeast(auth.Editor) || p.AtLeast(auth.Author) && p.Owns(it.UploadedBy)
	if d.UsedBy == nil {
		slugs, err := ui.svc.Media.UsedBy(c.Request.Context(), p, it.ID)
		if err != nil {
			web.Logger(c).Warn("admin: articles using media item", "id", it.ID, "err", err)
		}
		d.UsedBy = slugs
	}
	title := it.FileName
	if title == "" {
		title = "Image"
	}
	ui.render(c, status, "media_item.html", &page{Title: title, Nav: "media", Error: errText, Data: d})
}

func mediaVersion(c *gin.Context) web.Precondition {
	v, _ := strconv.ParseInt(c.PostForm("version"), 10, 64)
	return web.Precondition{Version: v, Sent: true}
}

// saveMediaItem saves the alt text and caption at the version the page
// showed; a refusal shows the page again with what was typed.
func (ui *UI) saveMediaItem(c *gin.Context) {
	ctx := c.Request.Context()
	by := auth.Caller(c)
	id := c.Param("id")
	at := mediaVersion(c)
	d := &mediaItemData{Version: at.Version, Alt: c.PostForm("alt"), Caption: c.PostForm("caption")}
	_, err := ui.svc.Media.Update(ctx, by, id, at, &media.Patch{Alt: web.Some(d.Alt), Caption: web.Some(d.Caption)})
	if err == nil {
		seeOther(c, Path+"/media/"+id, "saved")
		return
	}
	cur, gerr := ui.svc.Media.Get(ctx, by, id)
	if gerr != nil {
		ui.fail(c, gerr)
		return
	}
	status, text, fields := message(c, err)
	d.Errors = fields
	if problem.KindOf(err) == problem.PreconditionFailed {
		d.Version = cur.Version
		text = "Someone else changed this image while you were editing. Your text is still in the form: save again to keep it."
	}
	ui.renderMediaItem(c, status, cur, d, text)
}

// deleteMediaItem deletes the image. While published articles show it
// the service refuses (409) naming them; the page then lists them and
// offers "Delete anyway", which sends force=true.
func (ui *UI) deleteMediaItem(c *gin.Context) {
	ctx := c.Request.Context()
	by := auth.Caller(c)
	id := c.Param("id")
	at := mediaVersion(c)
	force := c.PostForm("force") == "true"
	err := ui.svc.Media.Delete(ctx, by, id, at, force)
	if err == nil {
		seeOther(c, Path+"/media", "deleted")
		return
	}
	cur, gerr := ui.svc.Media.Get(ctx, by, id)
	if gerr != nil {
		ui.fail(c, gerr)
		return
	}
	status, text, _ := message(c, err)
	d := &mediaItemData{Version: cur.Version, Alt: cur.Alt, Caption: cur.Caption}
	switch problem.KindOf(err) {
	case problem.Conflict:
		d.InUse = true
	case problem.PreconditionFailed:
		text = "Someone else changed this image since you loaded the page. Check it below, then delete again."
	}
	ui.renderMediaItem(c, status, cur, d, text)
}
