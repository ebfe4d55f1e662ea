package admin

import (
	"fmt"
	"html/template"
	"io/fs"
	"strings"
	"time"
)

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	"when": when,
	// dateInput is the value of a datetime-local input, in UTC.
	"dateInput": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04")
	},
	"join": strings.Join,
	// statusLabel is how a workflow status reads on a badge.
	"statusLabel": func(s any) string { return statusLabels[fmt.Sprint(s)] },
	"add":         func(a, b int) int { return a + b },
	"statuses":    func() []string { return statuses },
	// percent is a share of max, 0-100, for the bars of the tables.
	"percent": func(n, max int64) int64 {
		if max <= 0 {
			return 0
		}
		return n * 100 / max
	},
}

// when shows a moment in UTC, which is what every date input means.
func when(t any) string {
	switch v := t.(type) {
	case time.Time:
		if !v.IsZero() {
			return v.UTC().Format("2 Jan 2006 15:04 UTC")
		}
	case *time.Time:
		if v != nil && !v.IsZero() {
			return v.UTC().Format("2 Jan 2006 15:04 UTC")
		}
	}
	return ""
}

var statusLabels = map[string]string{
	"draft": "Draft", "in_review": "In review", "scheduled": "Scheduled",
	"published": "Published", "archived": "Archived",
}

// parsePages parses every page with the layout and the shared parts
// (layout.html and files starting with _), one template set per page.
func (ui *UI) parsePages() (map[string]*template.Template, error) {
	base := template.New("").Funcs(funcs)
	shared, err := fs.Glob(templateFS, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	shared = append([]string{"templates/layout.html"}, shared...)
	if base, err = base.ParseFS(templateFS, shared...); err != nil {
		return nil, fmt.Errorf("admin: templates: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimPrefix(f, "templates/")
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(templateFS, f); err != nil {
			return nil, fmt.Errorf("admin: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
