package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/web"
	"github.com/wellness/cms/wpimport"
)

// The WordPress import, for admins as the API's POST /import/wxr is: the
// same form fields (wpimport.ReadForm) and the same report, shown as a
// page.
func (ui *UI) registerImport(g *auth.Router) {
	admin := auth.AtLeast(auth.Admin)
	g.GET("/import", admin, ui.importPage)
	g.POST("/import", admin, web.BodyLimit(wpimport.Limit), ui.runImport)
}

type importData struct {
	Report *wpimport.Report
}

func (ui *UI) importPage(c *gin.Context) {
	ui.render(c, http.StatusOK, "import.html", &page{Title: "Import from WordPress", Nav: "settings", Data: &importData{}})
}

func (ui *UI) runImport(c *gin.Context) {
	wpimport.AllowTime(c.Writer)
	form, err := wpimport.ReadForm(c.Request)
	if err != nil {
		status, text, _ := message(c, err)
		ui.render(c, status, "import.html", &page{Title: "Import from WordPress", Nav: "settings", Error: text, Data: &importData{}})
		return
	}
	defer form.Close()
	form.Run.By = auth.Caller(c)
	rep, err := ui.svc.Import.Import(c.Request.Context(), form.File, form.Run)
	if err != nil {
		status, text, _ := message(c, err)
		ui.render(c, status, "import.html", &page{Title: "Import from WordPress", Nav: "settings", Error: text, Data: &importData{}})
		return
	}
	flash := "Imported."
	if rep.DryRun {
		flash = "Dry run: nothing was written. This is what an import would do."
	}
	ui.render(c, http.StatusOK, "import.html", &page{Title: "Import from WordPress", Nav: "settings", Flash: flash,
		Data: &importData{Report: rep}})
}
