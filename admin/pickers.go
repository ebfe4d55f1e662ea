package admin

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/media"
)

// The editor's pickers ask for JSON: the library's images and the
// catalogue's products, both from memory.

type mediaChoice struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Alt    string `json:"alt"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Thumb  string `json:"thumb"`
}

// choiceOf is what the editor's image picker and its upload get of an
// item.
func choiceOf(v media.View) mediaChoice {
	return mediaChoice{ID: v.ID, URL: v.URL, Alt: v.Alt, Width: v.Width, Height: v.Height, Thumb: thumbOf(v)}
}

// mediaImages is a page of the caller's view of the library.
func (ui *UI) mediaImages(c *gin.Context, q string, limit int) []media.View {
	items, err := ui.svc.Media.List(auth.Caller(c), media.Filter{Q: q, Limit: limit})
	if err != nil {
		return nil
	}
	out := make([]media.View, 0, len(items))
	for _, it := range items {
		out = append(out, ui.svc.Media.View(it))
	}
	return out
}

func (ui *UI) mediaChoices(c *gin.Context) {
	q := c.Query("q")
	if len(q) > cms.MaxQuery {
		q = q[:cms.MaxQuery]
	}
	out := []mediaChoice{}
	for _, v := range ui.mediaImages(c, q, 60) {
		out = append(out, choiceOf(v))
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

func (ui *UI) productChoices(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	if len(q) > cms.MaxQuery {
		q = q[:cms.MaxQuery]
	}
	c.JSON(http.StatusOK, gin.H{"items": ui.svc.Affiliate.Choices(q, 50)})
}

// canEdit reports whether p may change a's content.
func canEdit(p *auth.Principal, a *cms.Article) bool { return cms.Can(p, cms.ActionEdit, a) }
