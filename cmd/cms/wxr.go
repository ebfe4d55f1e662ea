package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/wpimport"
)

const wxrUsage = `usage: cms import wxr [flags] FILE

Imports a WordPress export (Tools > Export in WordPress, "All content"):
posts and pages become articles with their status, dates, authors,
categories, tags, excerpt, featured image, Yoast or Rank Math SEO fields and
old URLs; ThirstyAffiliates links become products. Rerunning it updates what
changed and never duplicates. It is safe while the server runs.

flags:
  --dry-run             report what would be imported; write nothing
  --author-map L=EMAIL  put WordPress login L's posts under the existing user
                        EMAIL (repeat, or separate with commas); other authors
                        become new disabled users
  --media keep|import   keep images at their URLs (default), or fetch them
                        into the media library
  --media-dir DIR       take images from DIR, a copy of wp-content/uploads
  --pretty-links FILE   a Pretty Links CSV export: its links become products
  --link-prefix P       the path of the site's affiliate links (recommends)
  --as EMAIL            the admin the import is recorded as (default: the
                        first active admin)
  --data-dir DIR        data directory (CMS_DATA_DIR)
`

// authorMap is the repeatable --author-map flag.
type authorMap map[string]string

func (m authorMap) String() string { return "" }

func (m authorMap) Set(v string) error {
	pairs, err := wpimport.ParseAuthorMap(v)
	if err != nil {
		return err
	}
	if len(pairs) == 0 {
		return fmt.Errorf("%q is not LOGIN=EMAIL", v)
	}
	maps.Copy(m, pairs)
	return nil
}

// importWXRCmd imports a WordPress export over the services the server
// builds, as the API's POST /import/wxr does.
func importWXRCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import wxr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, wxrUsage) }
	dryRun := fs.Bool("dry-run", false, "")
	authors := authorMap{}
	fs.Var(authors, "author-map", "")
	mediaMode := fs.String("media", wpimport.MediaKeep, "")
	mediaDir := fs.String("media-dir", "", "")
	pretty := fs.String("pretty-links", "", "")
	prefix := fs.String("link-prefix", "", "")
	as := fs.String("as", "", "")
	dataDir := fs.String("data-dir", "", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import wxr: name one export file")
	}
	run := wpimport.Run{DryRun: *dryRun, AuthorMap: authors, Media: *mediaMode, LinkPrefix: *prefix}
	switch {
	case *mediaDir != "":
		run.Media, run.MediaDir = wpimport.MediaDir, *mediaDir
	case run.Media != wpimport.MediaKeep && run.Media != wpimport.MediaImport:
		return fmt.Errorf("import wxr: --media must be keep or import, not %q", run.Media)
	}
	file, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("import wxr: %w", err)
	}
	defer file.Close()
	if *pretty != "" {
		pf, err := os.Open(*pretty)
		if err != nil {
			return fmt.Errorf("import wxr: --pretty-links: %w", err)
		}
		defer pf.Close()
		run.PrettyLinks = pf
	}

	tl, err := openTool(ctx, getenv, *dataDir, existingData, stderr)
	if err != nil {
		return fmt.Errorf("import wxr: %w", err)
	}
	defer tl.db.Close(context.Background())
	svc, err := server.Build(ctx, tl.db, tl.cfg.serverOptions(tl.logger))
	if err == nil {
		err = svc.Load(ctx)
	}
	if err == nil {
		run.By, err = importer(ctx, svc.Auth, *as)
	}
	if err != nil {
		return fmt.Errorf("import wxr: %w", err)
	}
	pr := newProgressLine(stderr)
	run.Progress = func(done, total int) { pr.show("posts", int64(done), int64(total)) }
	rep, err := svc.Import.Import(ctx, file, run)
	pr.done()
	if err != nil {
		return fmt.Errorf("import wxr: %w", err)
	}
	rep.WriteText(stdout)
	if n := rep.Failures(); n > 0 {
		return fmt.Errorf("import wxr: %d items failed (listed above); fix them in WordPress or here and run it again", n)
	}
	return nil
}

// importer is the admin an import from the command line is recorded as:
// the user of email, or the first active admin.
func importer(ctx context.Context, a *auth.Service, email string) (*auth.Principal, error) {
	of := func(u *auth.User) *auth.Principal {
		return &auth.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role}
	}
	if email != "" {
		u, err := a.Store().FindUserByEmail(ctx, email)
		if err != nil {
			return nil, fmt.Errorf("--as %s: %w", email, err)
		}
		if u.Role != auth.Admin || u.Disabled {
			return nil, fmt.Errorf("--as %s: not an active admin", email)
		}
		return of(u), nil
	}
	after := ""
	for {
		users, err := a.Store().FindUsers(ctx, after, 100)
		if err != nil {
			return nil, err
		}
		for i := range users {
			if users[i].Role == auth.Admin && !users[i].Disabled {
				return of(&users[i]), nil
			}
		}
		if len(users) < 100 {
			return nil, errors.New("there is no active admin to record the import as: create one with cms user add")
		}
		after = users[len(users)-1].ID
	}
}
