package mongodb

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// The embedded engine keeps each collection in a SQLite table of one JSON
// column and answers a filter of exactly {_id: X} with
//
//	WHERE _ferretdb_sjson->'$._id' = ?
//
// (FerretDB v1.24, internal/backends/sqlite: reads, and the UPDATE and
// DELETE every write ends in). Its own unique _id index is on a different
// expression, _ferretdb_sjson->"_id", which SQLite's planner does not
// match to that WHERE, so every lookup by _id parsed the JSON of every row:
// 57 ms at 5,000 articles of 8 KB, growing with the collection. An index on
// the very expression of the WHERE makes it a B-tree search.
//
// FerretDB neither knows of nor minds the extra index: its metadata lists
// only the indexes it created, and dropping a collection drops the table
// with all its indexes.

// idLookupSuffix names the index on a table: <table>_cms_id_lookup. A
// FerretDB index is named <table>_<index name>, and this service names
// none of its indexes cms_id_lookup.
const idLookupSuffix = "_cms_id_lookup"

// idLookupExpr is FerretDB's metadata.IDColumn, verbatim: the planner
// matches the index to the query only if the expressions are the same.
const idLookupExpr = `_ferretdb_sjson->'$._id'`

// idIndexEvery is how often a running engine looks for tables created
// since its last pass (a collection's first write creates its table).
// Until then the new table is small, so a scan of it is cheap.
const idIndexEvery = 10 * time.Second

// indexIDLookups gives every collection table of every database in dir
// its _id lookup index, and returns how many it created.
func indexIDLookups(ctx context.Context, dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return 0, fmt.Errorf("list database files: %w", err)
	}
	created := 0
	for _, f := range files {
		n, err := indexFile(ctx, f)
		created += n
		if err != nil {
			return created, fmt.Errorf("index _id lookups in %s: %w", filepath.Base(f), err)
		}
	}
	return created, nil
}

// indexFile creates the missing _id lookup indexes of one database file.
// It waits for FerretDB's writers as FerretDB waits for its own (busy
// timeout), and does not change the file's journal mode, which FerretDB
// set to WAL when it created the file.
func indexFile(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	tables, err := unindexedTables(ctx, db)
	if err != nil {
		return 0, err
	}
	for i, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, t+idLookupSuffix, t, idLookupExpr)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return i, fmt.Errorf("table %s: %w", t, err)
		}
	}
	return len(tables), nil
}

// unindexedTables lists the collection tables (every table but FerretDB's
// metadata and SQLite's own) that have no _id lookup index yet.
func unindexedTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_ferretdb\_%' ESCAPE '\'
		AND name || ? NOT IN (SELECT name FROM sqlite_master WHERE type = 'index')`, idLookupSuffix)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// keepIndexing indexes new tables every idIndexEvery until ctx ends. A
// failed pass is logged once until one succeeds: lookups in the new
// tables stay correct, only slower.
func keepIndexing(ctx context.Context, dir string, logger *slog.Logger) {
	t := time.NewTicker(idIndexEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := indexIDLookups(ctx, dir)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			logger.Warn("cannot index new tables for lookups by _id", "err", err)
			failing = true
		case err == nil:
			failing = false
		}
	}
}
