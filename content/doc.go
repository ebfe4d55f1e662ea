// Package content is the public read model of articles: what every front
// end fetches, and so most of the requests the service answers.
//
// It keeps every readable article (published, or scheduled to appear by
// itself) in an immutable in-memory snapshot, renders each response once
// (JSON with its gzip form and a strong ETag; list pages, tags, the RSS
// feed and the sitemap once per snapshot), and never asks the database per
// request. It learns of changes two ways: this instance's writes through
// cms.Service.OnChange, before the write returns, and other instances'
// writes by polling the shared change log (RunSync). It reports what
// readers can see change as webhook events (events.go).
//
// Files: api.go holds the snapshot and its upkeep, render.go the JSON
// views, http.go the routes and list cursors, feed.go the RSS feed,
// sitemap and robots.txt, affiliate.go products and the disclosure.
package content
