package content

// ArticlePage returns the page address and title of the article that slug
// names, its current or a former slug, while readers can read it; for the
// page a browser gets from a dead /go/ link (affiliate
// Options.ArticlePage). It reads the snapshot, never the database.
func (api *API) ArticlePage(slug string) (pageURL, title string, ok bool) {
	s := api.current()
	id, ok := s.slugs[slug]
	if !ok {
		return "", "", false
	}
	e := s.visibleEntry(id)
	if e == nil {
		return "", "", false
	}
	return api.pageURL(e.a), e.a.Title, true
}

// SiteURL is where readers read the site (the site settings' url, by
// default the public URL).
func (api *API) SiteURL() string { return api.siteURL() }
