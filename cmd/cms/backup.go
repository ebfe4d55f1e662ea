package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wellness/cms/backup"
	"github.com/wellness/cms/internal/server"
)

const exportUsage = `usage: cms export [--with-clicks] [--with-secrets] [--data-dir DIR] FILE

Writes the whole site to one archive FILE ("-" for standard output): every
article with its revisions, slugs and their history, products, settings,
media items and their files, webhooks, users, click statistics. Users come
without their password hashes and webhooks without their secrets unless
--with-secrets; raw clicks only with --with-clicks. It is safe while the
server runs (with the embedded engine it attaches to the running one).
Restore the archive with cms import archive.

flags:
`

const importArchiveUsage = `usage: cms import archive [--data-dir DIR] FILE

Restores an archive written by cms export into an empty database: a new
CMS_DATA_DIR with the embedded engine, or an empty MONGODB_DATABASE. A
database that holds data is refused. A restore cut short may be run again
with the same archive; it completes. Servers running on the database
reload what they serve.

flags:
`

// exportCmd writes a backup archive (package backup).
func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage); fs.PrintDefaults() }
	withClicks := fs.Bool("with-clicks", false, "also write the raw clicks (the statistics are always in)")
	withSecrets := fs.Bool("with-secrets", false, "keep password hashes, webhook secrets, preview links and visitor salts")
	dataDir := fs.String("data-dir", "", "data directory (CMS_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("export: name one archive file (- for standard output)")
	}
	file := fs.Arg(0)
	tl, err := openTool(ctx, getenv, *dataDir, existingData, stderr)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer tl.db.Close(context.Background())
	svc, err := server.Build(ctx, tl.db, tl.cfg.serverOptions(tl.logger))
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}

	var out io.Writer = stdout
	var tmp *os.File
	if file != "-" {
		// A failed export never leaves a half archive under the name.
		if tmp, err = os.OpenFile(file+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer os.Remove(tmp.Name()) // after the rename, a no-op
		defer tmp.Close()
		out = tmp
	}
	pr := newProgressLine(stderr)
	sum, err := backup.Export(ctx, tl.db.Database, svc.Media, out, backup.ExportOptions{
		WithClicks: *withClicks, WithSecrets: *withSecrets, Source: tl.where, Progress: pr.show})
	pr.done()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := os.Rename(tmp.Name(), file); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	for _, name := range sum.Manifest.Unknown {
		fmt.Fprintf(stderr, "cms: warning: collection %q is not in the archive: this version of cms does not know it\n", name)
	}
	fmt.Fprintf(stderr, "exported %s; %d media files (%s); %s in %.1f s to %s\n",
		counts(sum.Manifest), sum.Manifest.Media.Files, size(sum.Manifest.Media.Bytes), size(sum.Bytes), sum.Duration.Seconds(), file)
	return nil
}

// importArchiveCmd restores a backup archive (package backup).
func importArchiveCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import archive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importArchiveUsage); fs.PrintDefaults() }
	dataDir := fs.String("data-dir", "", "data directory (CMS_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import archive: name one archive file")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("import archive: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import archive: %w", err)
	}
	tl, err := openTool(ctx, getenv, *dataDir, createData, stderr)
	if err != nil {
		return fmt.Errorf("import archive: %w", err)
	}
	defer tl.db.Close(context.Background())
	// The services as the server builds them: the media files are
	// stored as the target keeps them, and every collection exists with
	// its indexes before the documents arrive.
	svc, err := server.Build(ctx, tl.db, tl.cfg.serverOptions(tl.logger))
	if err != nil {
		return fmt.Errorf("import archive: %w", err)
	}
	pr := newProgressLine(stderr)
	sum, err := backup.Restore(ctx, tl.db.Database, svc.Media, f, st.Size(), backup.RestoreOptions{
		Progress: pr.show, NewCollections: tl.db.IndexNewTables})
	pr.done()
	if err != nil {
		return fmt.Errorf("import archive: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s; %d media files (%s); from %s made %s, in %.1f s\n",
		counts(sum.Manifest), sum.Manifest.Media.Files, size(sum.Manifest.Media.Bytes), fs.Arg(0),
		sum.Manifest.CreatedAt.Format(time.RFC3339), sum.Duration.Seconds())
	return nil
}

// counts lists the documents per collection of an archive.
func counts(m backup.Manifest) string {
	parts := make([]string, 0, len(m.Collections))
	for _, c := range m.Collections {
		parts = append(parts, fmt.Sprintf("%s %d", c.Name, c.Documents))
	}
	return fmt.Sprintf("%d collections (%s)", len(m.Collections), strings.Join(parts, ", "))
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
