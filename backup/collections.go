// Package backup writes the whole of a site into one archive and restores
// it into an empty database, byte-identical where readers can tell: a
// restored instance serves the same content API answers, with the same
// ETags, as the one that was exported.
//
// The archive is a zip file:
//
//	collections/<name>.jsonl   one document a line, in MongoDB canonical
//	                           Extended JSON, so that every BSON type (dates,
//	                           int32 and int64, doubles, binary) comes back
//	                           as it was
//	media/<key><ext>           the bytes of every file a media item names
//	manifest.json              written last: the format version, when, the
//	                           options, and the count of every collection
//
// What goes in is decided by one table, collections, which names every
// collection the services create; a test fails when a service creates one
// the table does not name. Neither engine offers a snapshot across
// collections without transactions, so an export of a running site reads
// the collections one after another, in an order chosen so that a write
// landing during the export leaves the restored data usable (see order).
package backup

import "strings"

// policy is what a backup does with a collection.
type policy int

const (
	// always: the site's data; exported and restored.
	always policy = iota
	// withClicks: raw clicks and what goes with them; only with
	// ExportOptions.WithClicks.
	withClicks
	// withSecrets: credentials; only with ExportOptions.WithSecrets.
	withSecrets
	// withClicksAndSecrets: only with both.
	withClicksAndSecrets
	// stripped: exported always, with the fields in strip emptied
	// unless WithSecrets.
	stripped
	// never: state of one process or of work in flight, which a
	// restored instance must not inherit, or bytes kept elsewhere in
	// the archive.
	never
)

// collection is one row of the table.
type collection struct {
	name string
	// prefix: name starts the names of a family of collections
	// (click_rollups_YYYY_MM); suffix: name ends them (<feed>_changes).
	prefix, suffix bool
	policy         policy
	// strip are the fields emptied in stripped collections, and set
	// the values they get (a hook without its secret is inactive).
	strip map[string]any
	// seeded: a server writes a default document here at start, so the
	// collection does not count when a restore checks that the target
	// is empty; the restore replaces the default.
	seeded bool
	why    string
}

// collections is every collection the services create, in export order:
// a document another one depends on comes after it when a write during
// the export could otherwise leave a reference to something missing.
//
//   - article_revisions before articles: a change inserts its revision
//     (claiming the version) before it replaces the article. In this order
//     an article caught mid-change is restored with one revision fewer,
//     which only shortens its history; in the other it would be restored
//     with a revision of the next version, which blocks its next edit.
//   - slugs after articles: a slug is reserved before the article takes
//     it, so every slug an exported article has is exported.
//   - media items before their files, which are written before an item
//     records them.
//   - clicks, then their rolled marks, then the ledgers and rollups.
var collections = []collection{
	{name: "users", policy: stripped, strip: map[string]any{"passwordHash": ""},
		why: "the accounts and their roles; without their password hashes unless WithSecrets, so such users set a new password (cms user) before they sign in"},
	{name: "article_revisions", why: "every version of every article, which history and restore show"},
	{name: "articles", why: "the articles, with their live and staged versions"},
	{name: "slugs", why: "live and former slugs: former ones keep redirecting"},
	{name: "slug_takeovers", why: "who may take a slug over from an article whose creation crashed; small, and part of the slugs' consistency"},
	{name: "admin_autosaves", why: "authors' unsaved work in the editor"},
	{name: "products", why: "the affiliate catalogue"},
	{name: "affiliate_settings", seeded: true, why: "tags, disclosure and link settings; a fresh server seeds a default, which the restore replaces"},
	{name: "site_settings", why: "name, URL, locale, logo, publisher"},
	{name: "media", why: "the media library's items; their files' bytes are in media/"},
	{name: "webhooks", policy: stripped, strip: map[string]any{"secret": "", "active": false},
		why: "registered hooks; without their signing secrets unless WithSecrets, and then inactive: re-create them to get a new secret"},
	{name: "wp_imports", why: "the WordPress import's records, by source site and post ID: with them a WordPress import run again on the restored site updates what it made rather than duplicating it"},
	{name: "clicks", policy: withClicks, why: "raw clicks (one document each), which can be large; the statistics come from the rollups"},
	{name: "click_visitors", policy: withClicks, why: "the unique-visitor claims of recent days, by salted visitor hash: with the raw clicks"},
	{name: "click_rolled", policy: withClicks, why: "which raw clicks the rollups count: with the raw clicks, so that a click replayed into the restored instance is not counted twice"},
	{name: "click_ledgers", why: "each click writer's last batch and its sequence, which the rollups' applied.<writer> fields refer to: without it a writer resuming a batch could skip or repeat increments"},
	{name: "click_rollups_", prefix: true, why: "the daily click counts per product, article and position: the statistics"},
	{name: "click_salts", policy: withClicksAndSecrets, seeded: true, why: "the daily salts of visitor hashes: secrets that link a hash to an address, only with raw clicks and WithSecrets; without them a restored instance counts today's visitors as new once. A server makes today's salt at start"},
	{name: "preview_tokens", policy: withSecrets, why: "hashes of preview links shared with reviewers: credentials, kept only WithSecrets (links then keep working)"},

	{name: "_changes", suffix: true, policy: never, why: "change feeds (<name>_changes): one process's announcements; the restore announces a full reload instead"},
	{name: "change_writers", policy: never, why: "the change feeds' writer heads, of the exporting processes"},
	{name: "version_claims", policy: never, why: "claims of writes in progress"},
	{name: "webhook_leases", policy: never, why: "the delivery loop's lease, of a running process"},
	{name: "webhook_deliveries", policy: never, why: "the outbox: restoring it would send its events again"},
	{name: "login_attempts", policy: never, why: "sign-in throttling of the last minutes"},
	{name: "refresh_tokens", policy: never, why: "sessions: a restored instance signs everyone out"},
	{name: "refresh_families", policy: never, why: "sessions, as refresh_tokens"},
	{name: "media_files", policy: never, why: "media files stored in the database: their bytes are in media/, and the restore stores them as the target keeps files"},
	{name: "media_chunks", policy: never, why: "as media_files"},
	{name: restoresCollection, policy: never, why: "the restore's own record of this database's restores"},
}

// restoresCollection records the restores into a database: the archive
// restored, whether it finished. A restore cut short finds its record and
// may run again.
const restoresCollection = "backup_restores"

// classify returns the row of the collection name, nil when the table does
// not know it.
func classify(name string) *collection {
	for i := range collections {
		c := &collections[i]
		if c.name == name || (c.prefix && strings.HasPrefix(name, c.name)) || (c.suffix && strings.HasSuffix(name, c.name)) {
			return c
		}
	}
	return nil
}

// exported reports whether the row's documents go into an archive made
// with o.
func (c *collection) exported(o ExportOptions) bool {
	switch c.policy {
	case always, stripped:
		return true
	case withClicks:
		return o.WithClicks
	case withSecrets:
		return o.WithSecrets
	case withClicksAndSecrets:
		return o.WithClicks && o.WithSecrets
	}
	return false
}
