package content

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/site"
)

// siteView is the public form of the site settings, built field by field
// so that a field added to site.Settings never reaches readers by
// accident. Today every field is public.
type siteView struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	URL         string        `json:"url"`
	Locale      string        `json:"locale"`
	LogoURL     string        `json:"logoUrl"`
	Publisher   publisherView `json:"publisher"`
	UpdatedAt   *time.Time    `json:"updatedAt"`
}

type publisherView struct {
	Name    string `json:"name"`
	LogoURL string `json:"logoUrl"`
}

// renderedSite is /content/site rendered for one version of the settings.
type renderedSite struct {
	version int64
	r       *rendered
}

// siteDoc is /content/site, rendered once per version of the settings (a
// write here or on another instance renders it again).
func (api *API) siteDoc() *rendered {
	st := api.siteSettings()
	if cur := api.siteRendered.Load(); cur != nil && cur.version == st.Version {
		return cur.r
	}
	r := newRendered(jsonType, marshalPlain(newSiteView(st)))
	api.siteRendered.Store(&renderedSite{version: st.Version, r: r})
	return r
}

func newSiteView(st site.Settings) siteView {
	return siteView{Name: st.Name, Description: st.Description, URL: st.URL, Locale: st.Locale,
		LogoURL: st.LogoURL, Publisher: publisherView{Name: st.Publisher.Name, LogoURL: st.Publisher.LogoURL},
		UpdatedAt: st.UpdatedAt}
}

// handleSite serves GET /content/site from memory, cacheable like the
// rest of the content API.
func (api *API) handleSite(c *gin.Context) error {
	send(c, api.siteDoc(), api.cacheControl)
	return nil
}
