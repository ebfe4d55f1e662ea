package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/server"
)

const resanitizeUsage = `usage: cms resanitize [--all] [--dry-run] [--data-dir DIR]

Runs the article HTML pipeline (Markdown, link rewriting, sanitizer) again
over stored articles whose HTML was cleaned with an older sanitizer policy,
or over every article with --all, and saves each article whose HTML changes
as a new version (its previous version stays in the revisions). Run it after
an upgrade that changes the sanitizer policy. It is safe while the server
runs and safe to repeat.
`

// resanitizeCmd re-renders stored articles, over the services the server
// builds (server.Build).
func resanitizeCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("resanitize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, resanitizeUsage) }
	all := fs.Bool("all", false, "re-render every article, not only those sanitized with an older policy")
	dryRun := fs.Bool("dry-run", false, "report what would change without saving")
	dataDir := fs.String("data-dir", "", "data directory (CMS_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("resanitize: unexpected argument %q", fs.Arg(0))
	}
	tl, err := openTool(ctx, getenv, *dataDir, existingData, stderr)
	if err != nil {
		return fmt.Errorf("resanitize: %w", err)
	}
	defer tl.db.Close(context.Background())
	cfg, db, logger := tl.cfg, tl.db, tl.logger

	// The services exactly as the server builds them: the same link
	// rewriting, and the same change announcements to readers and webhooks.
	svc, err := server.Build(ctx, db, cfg.serverOptions(logger))
	if err == nil {
		err = svc.Load(ctx)
	}
	if err != nil {
		return fmt.Errorf("resanitize: %w", err)
	}
	rep, err := svc.Articles.Resanitize(ctx, cms.ResanitizeOptions{All: *all, DryRun: *dryRun})
	verb := "re-rendered"
	if *dryRun {
		verb = "would re-render"
	}
	fmt.Fprintf(stdout, "checked %d articles in %s (sanitizer policy version %d); %s %d; %d failed\n",
		rep.Checked, tl.where, cms.SanitizerVersion, verb, rep.Changed, rep.Failed)
	if err != nil {
		return fmt.Errorf("resanitize: %w", err)
	}
	if rep.Failed > 0 {
		return fmt.Errorf("resanitize: %d articles failed; see the log", rep.Failed)
	}
	return nil
}
