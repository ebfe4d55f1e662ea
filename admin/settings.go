package admin

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
	"github.com/wellness/cms/site"
	"github.com/wellness/cms/webhook"
)

// The settings page has three sections, each its own form at its own
// version: the site settings, the affiliate settings and the webhooks.
// All of them are the admins', as in the API.
func (ui *UI) registerSettings(g *auth.Router) {
	admin := auth.AtLeast(auth.Admin)
	g.GET("/settings", admin, ui.settingsPage)
	g.POST("/settings/site", admin, ui.saveSiteSettings)
	g.POST("/settings/affiliate", admin, ui.saveAffiliateSettings)
	g.POST("/settings/webhooks", admin, ui.createWebhook)
	g.POST("/settings/webhooks/:id/delete", admin, ui.deleteWebhook)
}

// hookDeliveries is how many recent deliveries each hook shows.
const hookDeliveries = 5

type settingsData struct {
	Site       siteForm
	SiteErrors map[string]string

	Affiliate affiliateForm
	AffErrors map[string]string

	Hooks      []hookRow
	Events     []string
	HookForm   hookForm
	HookErrors map[string]string
	// NewSecret is the secret of the hook just created, shown this once.
	NewSecret  string
	NewHookURL string
}

type siteForm struct {
	Version                int64
	Name, Description, URL string
	Locale, LogoURL        string
	PublisherName, PubLogo string
}

type affiliateForm struct {
	Version      int64
	Tags         []tagRow
	Disclosure   string
	LinkMode     string
	AllowedHosts string // one per line
}

type tagRow struct {
	Marketplace, Tag string
}

type hookForm struct {
	URL    string
	Events []string
}

// Has reports whether the form subscribes to event, for its checkboxes.
func (f hookForm) Has(event string) bool { return slices.Contains(f.Events, event) }

type hookRow struct {
	webhook.Hook
	Deliveries []webhook.Delivery
}

// loadSettings reads every section as stored; a handler then puts the
// form it was sent back over its own section.
func (ui *UI) loadSettings(c *gin.Context) (*settingsData, error) {
	ctx := c.Request.Context()
	by := auth.Caller(c)
	st, err := ui.svc.Site.Get(ctx, by)
	if err != nil {
		return nil, err
	}
	aff, err := ui.svc.Affiliate.Settings(ctx, by)
	if err != nil {
		return nil, err
	}
	hooks, err := ui.svc.Webhooks.Hooks(ctx, 100)
	if err != nil {
		return nil, err
	}
	d := &settingsData{Site: siteFormOf(st), Affiliate: affiliateFormOf(aff), Events: ui.svc.Webhooks.Events()}
	for _, h := range hooks {
		ds, err := ui.svc.Webhooks.Deliveries(ctx, h.ID, hookDeliveries)
		if err != nil {
			return nil, err
		}
		d.Hooks = append(d.Hooks, hookRow{Hook: h, Deliveries: ds})
	}
	return d, nil
}

func (ui *UI) renderSettings(c *gin.Context, status int, d *settingsData, errText string) {
	ui.render(c, status, "settings.html", &page{Title: "Settings", Nav: "settings", Error: errText, Data: d})
}

func (ui *UI) settingsPage(c *gin.Context) {
	d, err := ui.loadSettings(c)
	if err != nil {
		ui.fail(c, err)
		return
	}
	ui.renderSettings(c, http.StatusOK, d, "")
}

// settingsFailed shows the page with a section's refusal; on a 412 the
// section's form moves to the current version, so sending it again
// overwrites on purpose.
func (ui *UI) settingsFailed(c *gin.Context, err error, keep func(d *settingsData, fields map[string]string, stale bool)) {
	d, lerr := ui.loadSettings(c)
	if lerr != nil {
		ui.fail(c, lerr)
		return
	}
	status, text, fields := message(c, err)
	stale := problem.KindOf(err) == problem.PreconditionFailed
	if stale {
		text = "Someone else saved these settings while you were editing. Your values are still in the form: save again to keep them."
	}
	keep(d, fields, stale)
	ui.renderSettings(c, status, d, text)
}

func formVersion(c *gin.Context) web.Precondition {
	v, _ := strconv.ParseInt(c.PostForm("version"), 10, 64)
	return web.Precondition{Version: v, Sent: true}
}

func siteFormOf(st site.Settings) siteForm {
	return siteForm{Version: st.Version, Name: st.Name, Description: st.Description, URL: st.URL, Locale: st.Locale,
		LogoURL: st.LogoURL, PublisherName: st.Publisher.Name, PubLogo: st.Publisher.LogoURL}
}

func readSiteForm(c *gin.Context) siteForm {
	return siteForm{Version: formVersion(c).Version, Name: c.PostForm("name"), Description: c.PostForm("description"),
		URL: strings.TrimSpace(c.PostForm("url")), Locale: strings.TrimSpace(c.PostForm("locale")),
		LogoURL: strings.TrimSpace(c.PostForm("logoUrl")), PublisherName: c.PostForm("publisher.name"),
		PubLogo: strings.TrimSpace(c.PostForm("publisher.logoUrl"))}
}

// orDefault is a member that an empty field returns to its default (the
// site's name, address and locale have one).
func orDefault(s string) web.Optional[string] {
	if strings.TrimSpace(s) == "" {
		return web.Optional[string]{Set: true, Null: true}
	}
	return web.Some(s)
}

func (f siteForm) patch() *site.Patch {
	return &site.Patch{
		Name: orDefault(f.Name), Description: web.Some(f.Description), URL: orDefault(f.URL),
		Locale: orDefault(f.Locale), LogoURL: web.Some(f.LogoURL),
		Publisher: web.Some(site.PublisherPatch{Name: web.Some(f.PublisherName), LogoURL: web.Some(f.PubLogo)}),
	}
}

func (ui *UI) saveSiteSettings(c *gin.Context) {
	form := readSiteForm(c)
	_, err := ui.svc.Site.Update(c.Request.Context(), auth.Caller(c), form.patch(), formVersion(c))
	if err == nil {
		seeOther(c, Path+"/settings", "saved")
		return
	}
	ui.settingsFailed(c, err, func(d *settingsData, fields map[string]string, stale bool) {
		if stale {
			form.Version = d.Site.Version
		}
		d.Site, d.SiteErrors = form, fields
	})
}

func affiliateFormOf(st *affiliate.Settings) affiliateForm {
	f := affiliateForm{Version: st.Version, Disclosure: st.DisclosureText, LinkMode: st.LinkMode,
		AllowedHosts: strings.Join(st.AllowedHosts, "\n")}
	for _, mp := range affiliate.Marketplaces() {
		f.Tags = append(f.Tags, tagRow{Marketplace: mp, Tag: st.Tags[mp]})
	}
	return f
}

func readAffiliateForm(c *gin.Context) affiliateForm {
	f := affiliateForm{Version: formVersion(c).Version, Disclosure: c.PostForm("disclosureText"),
		LinkMode: c.PostForm("linkMode"), AllowedHosts: c.PostForm("allowedHosts")}
	for _, mp := range affiliate.Marketplaces() {
		f.Tags = append(f.Tags, tagRow{Marketplace: mp, Tag: strings.TrimSpace(c.PostForm("tags." + mp))})
	}
	return f
}

// patch sets every member the form shows: an empty tag removes the
// marketplace's tag.
func (f affiliateForm) patch() *affiliate.SettingsUpdate {
	tags := make(map[string]*string, len(f.Tags))
	for _, t := range f.Tags {
		if t.Tag == "" {
			tags[t.Marketplace] = nil
		} else {
			tags[t.Marketplace] = &t.Tag
		}
	}
	hosts := strings.FieldsFunc(f.AllowedHosts, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' })
	return &affiliate.SettingsUpdate{Tags: web.Some(tags), DisclosureText: web.Some(f.Disclosure),
		AllowedHosts: web.Some(hosts), LinkMode: web.Some(f.LinkMode)}
}

func (ui *UI) saveAffiliateSettings(c *gin.Context) {
	form := readAffiliateForm(c)
	_, err := ui.svc.Affiliate.PatchSettings(c.Request.Context(), auth.Caller(c), formVersion(c), form.patch())
	if err == nil {
		seeOther(c, Path+"/settings", "saved")
		return
	}
	ui.settingsFailed(c, err, func(d *settingsData, fields map[string]string, stale bool) {
		if stale {
			form.Version = d.Affiliate.Version
		}
		d.Affiliate, d.AffErrors = form, fields
	})
}

// createWebhook registers a hook and shows its secret on the page that
// answers, the only time it is shown: it is not put in a redirect's URL.
func (ui *UI) createWebhook(c *gin.Context) {
	form := hookForm{URL: strings.TrimSpace(c.PostForm("url")), Events: c.PostFormArray("events")}
	h, err := ui.svc.Webhooks.CreateHook(c.Request.Context(), webhook.HookInput{URL: form.URL, Events: form.Events})
	if err != nil {
		ui.settingsFailed(c, err, func(d *settingsData, fields map[string]string, _ bool) {
			d.HookForm, d.HookErrors = form, eventErrors(fields)
		})
		return
	}
	d, err := ui.loadSettings(c)
	if err != nil {
		ui.fail(c, err)
		return
	}
	d.NewSecret, d.NewHookURL = h.Secret, h.URL
	p := &page{Title: "Settings", Nav: "settings", Flash: flashes["created"], Data: d}
	ui.render(c, http.StatusCreated, "settings.html", p)
}

// eventErrors folds the errors of single events (events[2]) into the
// events field, the one the checkboxes show.
func eventErrors(fields map[string]string) map[string]string {
	for k, v := range fields {
		if strings.HasPrefix(k, "events[") && fields["events"] == "" {
			fields["events"] = v
		}
	}
	return fields
}

func (ui *UI) deleteWebhook(c *gin.Context) {
	err := ui.svc.Webhooks.DeleteHook(c.Request.Context(), c.Param("id"), formVersion(c))
	if err == nil {
		seeOther(c, Path+"/settings", "deleted")
		return
	}
	ui.settingsFailed(c, err, func(*settingsData, map[string]string, bool) {})
}
