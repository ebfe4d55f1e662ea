// Package wpimport brings a WordPress site in: the posts and pages of a
// WXR export become articles with their dates, authors, terms, cover,
// SEO fields and old URLs; ThirstyAffiliates links become products and
// the body links to them product links; bodies become clean HTML.
//
// It reads the export twice: the first pass gathers what posts refer to
// (attachments for covers, affiliate links, the authors) and finds a
// truncated file before anything is written; the second imports the posts
// one at a time, so memory does not grow with the export. Every item is
// keyed on the source site and its WordPress ID (records.go): a rerun
// updates what changed and never duplicates.
package wpimport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/wordpress"
	"github.com/wellness/cms/media"
	"github.com/wellness/cms/site"
)

// Options are the services an import writes through, so that every rule
// of a write (sanitizing, slugs, products, compliance) applies to it.
type Options struct {
	Articles  *cms.Service
	Affiliate *affiliate.Service
	Auth      *auth.Service
	Media     *media.Service
	Site      *site.Service
	// Fetch fetches images for Run.Media "import": server.Build passes
	// webhook.SafeClient's, which reaches no private address. With none,
	// images stay at their URLs.
	Fetch  *http.Client
	Logger *slog.Logger
	Now    func() time.Time
}

// Service imports WordPress exports.
type Service struct {
	opts    Options
	records records
}

// New returns the importer over db, where it keeps its records.
func New(db *mongo.Database, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{opts: o, records: records{db.Collection("wp_imports")}}
}

// The ways of treating images: left at their URLs, fetched into the
// media library, or taken from a copy of wp-content/uploads.
const (
	MediaKeep   = "keep"
	MediaImport = "import"
	MediaDir    = "dir"
)

// Run says how to import one export.
type Run struct {
	By     *auth.Principal
	DryRun bool
	// AuthorMap maps WordPress logins to the email of an existing user.
	AuthorMap map[string]string
	// Media is MediaKeep (the default), MediaImport or MediaDir.
	Media    string
	MediaDir string
	// LinkPrefix is the path the site's affiliate links live under:
	// "recommends" (ThirstyAffiliates' default) when empty.
	LinkPrefix string
	// PrettyLinks, when set, is a Pretty Links CSV export: its slugs
	// become products too, and body links to them product links.
	PrettyLinks io.Reader
	// Progress, when set, is told of every post handled.
	Progress func(done, total int)
}

// maxExport bounds what an import reads, against a file that never ends.
const maxExport = 2 << 30

// Import imports the export read from src (read twice: it must seek).
// The error is for the export as a whole (not WXR, truncated, the
// database failing); an item that cannot be imported is reported and the
// rest go on.
func (s *Service) Import(ctx context.Context, src io.ReadSeeker, run Run) (*Report, error) {
	start := s.opts.Now()
	if !run.By.AtLeast(auth.Admin) {
		return nil, problem.New(problem.Forbidden, "importing a WordPress site needs the admin role")
	}
	if run.Media == "" {
		run.Media = MediaKeep
	}
	if run.LinkPrefix == "" {
		run.LinkPrefix = "recommends"
	}
	run.LinkPrefix = strings.Trim(run.LinkPrefix, "/")
	rep := newReport(run.DryRun)
	im := &importer{s: s, run: run, rep: rep, ctx: ctx,
		attachments: map[int64]attachment{}, links: map[string]string{}, users: map[string]cms.Person{}}
	if err := im.gather(src); err != nil {
		return nil, err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read the export again: %w", err)
	}
	if err := im.products(); err != nil {
		return nil, err
	}
	if err := im.prettyLinks(); err != nil {
		return nil, err
	}
	if err := im.authors(); err != nil {
		return nil, err
	}
	if err := im.posts(src); err != nil {
		return nil, err
	}
	rep.Seconds = s.opts.Now().Sub(start).Seconds()
	return rep, nil
}

// attachment is what a post needs of a WordPress attachment.
type attachment struct{ URL, Alt string }

// importer is one run of Import.
type importer struct {
	s   *Service
	run Run
	rep *Report
	ctx context.Context

	site        *wordpress.Site
	siteKey     string
	siteURL     *url.URL
	attachments map[int64]attachment
	thirsty     []*wordpress.Item
	// links maps an affiliate link's path ("recommends/foam-roller") to
	// the product code it became.
	links map[string]string
	// users maps a WordPress login to the author of its articles.
	users map[string]cms.Person
	// logins are the authors whose posts the export holds.
	logins []string
	total  int
}

// imported are the post types that become articles.
var imported = map[string]bool{"post": true, "page": true}

// gather is the first pass.
func (im *importer) gather(src io.Reader) error {
	r := wordpress.NewReader(io.LimitReader(src, maxExport))
	seen := map[string]bool{}
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return problem.New(problem.Invalid, "the file is not a complete WordPress export: %v", err)
		}
		switch {
		case it.PostType == "attachment":
			alt, _ := it.MetaValue("_wp_attachment_image_alt")
			im.attachments[it.PostID] = attachment{URL: it.AttachmentURL, Alt: alt}
		case it.PostType == "thirstylink":
			im.thirsty = append(im.thirsty, it)
		case imported[it.PostType]:
			im.total++
			if it.Creator != "" && !seen[it.Creator] {
				seen[it.Creator] = true
				im.logins = append(im.logins, it.Creator)
			}
		}
	}
	im.site = r.Site()
	base := im.site.BaseBlogURL
	if base == "" {
		base = im.site.Link
	}
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || u.Host == "" {
		return problem.New(problem.Invalid, "the export names no site (wp:base_blog_url or the channel's link)")
	}
	im.siteURL = u
	im.siteKey = strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/")
	im.rep.Site = im.siteKey
	return nil
}

// hashOf is the fingerprint of what an item was imported as.
func hashOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func (im *importer) key(kind, id string) string { return im.siteKey + "/" + kind + "/" + id }

// authors resolves every login whose posts the export holds: mapped onto
// an existing user, an existing user of the same email, a user an earlier
// run created, or a new disabled user.
func (im *importer) authors() error {
	byLogin := map[string]wordpress.Author{}
	for _, a := range im.site.Authors {
		byLogin[a.Login] = a
	}
	store := im.s.opts.Auth.Store()
	for _, login := range im.logins {
		a := byLogin[login]
		if email, ok := im.run.AuthorMap[login]; ok {
			u, err := store.FindUserByEmail(im.ctx, email)
			if err != nil {
				return problem.Wrap(problem.Invalid, err, "--author-map %s=%s: no such user", login, email)
			}
			im.users[login] = cms.Person{ID: u.ID, Name: u.Name}
			im.rep.Users = append(im.rep.Users, User{Login: login, Email: u.Email, UserID: u.ID, Outcome: "mapped"})
			continue
		}
		key := im.key("user", login)
		rec, err := im.s.records.find(im.ctx, key)
		if err != nil {
			return err
		}
		if rec != nil {
			if u, err := store.FindUserByID(im.ctx, rec.Target); err == nil {
				im.users[login] = cms.Person{ID: u.ID, Name: u.Name}
				im.rep.Users = append(im.rep.Users, User{Login: login, Email: u.Email, UserID: u.ID, Outcome: "existing"})
				continue
			}
		}
		email := strings.TrimSpace(a.Email)
		if email == "" {
			email = login + "@wordpress.invalid"
		}
		if u, err := store.FindUserByEmail(im.ctx, email); err == nil {
			im.users[login] = cms.Person{ID: u.ID, Name: u.Name}
			im.rep.Users = append(im.rep.Users, User{Login: login, Email: u.Email, UserID: u.ID, Outcome: "existing"})
			continue
		} else if !errors.Is(err, problem.NotFound) {
			return err
		}
		name := strings.TrimSpace(a.DisplayName)
		if name == "" {
			name = login
		}
		if im.run.DryRun {
			im.users[login] = cms.Person{Name: name}
			im.rep.Users = append(im.rep.Users, User{Login: login, Email: email, Outcome: "created (disabled)"})
			continue
		}
		u, err := im.s.opts.Auth.CreateDisabled(im.ctx, auth.NewUser{Email: email, Name: name, Role: auth.Author})
		if err != nil {
			return fmt.Errorf("create the user of WordPress author %s: %w", login, err)
		}
		if err := im.s.records.put(im.ctx, &record{ID: key, Target: u.ID, At: im.s.opts.Now()}); err != nil {
			return err
		}
		im.users[login] = cms.Person{ID: u.ID, Name: u.Name}
		im.rep.Users = append(im.rep.Users, User{Login: login, Email: u.Email, UserID: u.ID, Outcome: "created (disabled)"})
	}
	return nil
}

// author is the author of a post by login: the importing admin when the
// export names none.
func (im *importer) author(login string) cms.Person {
	if p, ok := im.users[login]; ok {
		return p
	}
	return cms.Person{ID: im.run.By.UserID, Name: im.run.By.Name}
}

// posts is the second pass.
func (im *importer) posts(src io.Reader) error {
	r := wordpress.NewReader(io.LimitReader(src, maxExport))
	done := 0
	for {
		if err := im.ctx.Err(); err != nil {
			return err
		}
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return problem.New(problem.Invalid, "the export changed while it was read: %v", err)
		}
		if !imported[it.PostType] {
			if it.PostType != "attachment" && it.PostType != "thirstylink" {
				im.rep.add(Item{WordPressID: it.PostID, Type: it.PostType, Status: it.Status, Title: it.Title,
					Outcome: Skipped, Reason: "only posts and pages are imported"})
			}
			continue
		}
		if err := im.post(it); err != nil {
			return err
		}
		done++
		if im.run.Progress != nil {
			im.run.Progress(done, im.total)
		}
	}
}
