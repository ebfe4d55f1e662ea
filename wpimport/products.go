package wpimport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
	"github.com/wellness/cms/internal/wordpress"
)

// products turns the ThirstyAffiliates links into products: the code
// from the link's slug, the target from its destination (an Amazon
// product page becomes ASIN and marketplace, so the associate tag is
// ours and not the one the old URL carried).
func (im *importer) products() error {
	for _, it := range im.thirsty {
		slug := slugOf(it.PostName)
		rep := Item{WordPressID: it.PostID, Type: it.PostType, Status: it.Status, Title: it.Title}
		dest := destination(it)
		if dest == "" || slug == "" {
			rep.Outcome, rep.Reason = Skipped, "the link has no destination URL or slug"
			im.rep.add(rep)
			continue
		}
		if err := im.product(rep, strconv.FormatInt(it.PostID, 10), slug, it.Title, dest, im.run.LinkPrefix+"/"+slug); err != nil {
			return err
		}
	}
	return nil
}

// destination is a ThirstyAffiliates link's target: _ta_destination_url
// (version 3), or linkurl in the PHP-serialized _ta_link_meta (version 2).
func destination(it *wordpress.Item) string {
	if v, ok := it.MetaValue("_ta_destination_url"); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	v, ok := it.MetaValue("_ta_link_meta")
	if !ok || !wordpress.IsSerialized(v) {
		return ""
	}
	meta, err := wordpress.Unserialize(v)
	if err != nil {
		return ""
	}
	arr, ok := meta.(*wordpress.PHPArray)
	if !ok {
		return ""
	}
	u, _ := arr.Get("linkurl")
	s, _ := u.(string)
	return strings.TrimSpace(s)
}

// maxCode is the longest product code.
const maxCode = 64

// product creates or updates the product of one affiliate link, keyed on
// source (the WordPress ID, or the Pretty Links slug), and maps the
// link's path to it.
func (im *importer) product(rep Item, source, slug, title, dest, linkPath string) error {
	code := strings.Trim(slug[:min(len(slug), maxCode)], "-")
	if len(code) < 2 {
		code = "wp-" + code
	}
	in := affiliate.ProductInput{Code: code, Title: strings.TrimSpace(title)}
	if in.Title == "" {
		in.Title = code
	}
	if mp, asin, ok := affiliate.AmazonProductOf(dest); ok {
		in.ASIN, in.Marketplace = asin, mp
	} else {
		in.URL = dest
	}
	rep.ProductCode = code
	hash := hashOf(in)
	key := im.key("product", source)
	rec, err := im.s.records.find(im.ctx, key)
	if err != nil {
		return err
	}
	switch {
	case rec != nil && rec.Hash == hash:
		rep.Outcome, code = Unchanged, rec.Target
	case im.run.DryRun:
		rep.Outcome = Created
		if rec != nil {
			rep.Outcome = Updated
		}
	case rec != nil:
		rep.Outcome, code = Updated, rec.Target
		u := &affiliate.ProductUpdate{Title: web.Some(in.Title), ASIN: web.Some(in.ASIN),
			Marketplace: web.Some(in.Marketplace), URL: web.Some(in.URL)}
		if _, err := im.s.opts.Affiliate.UpdateProduct(im.ctx, im.run.By, rec.Target, web.Precondition{}, u); err != nil {
			return im.productFailed(rep, err)
		}
	default:
		rep.Outcome = Created
		_, err := im.s.opts.Affiliate.CreateProduct(im.ctx, im.run.By, in)
		if errors.Is(err, problem.Conflict) {
			// A product of this code exists: the links go to it.
			rep.Outcome, rep.Reason = Unchanged, "a product with this code exists; the links point to it"
			im.rep.Items = append(im.rep.Items, rep)
			err = nil
		}
		if err != nil {
			return im.productFailed(rep, err)
		}
	}
	im.links[strings.Trim(linkPath, "/")] = code
	if !im.run.DryRun && rep.Outcome != Unchanged {
		if err := im.s.records.put(im.ctx, &record{ID: key, Target: code, Hash: hash, At: im.s.opts.Now()}); err != nil {
			return err
		}
	}
	im.rep.add(rep)
	return nil
}

func (im *importer) productFailed(rep Item, err error) error {
	if problem.KindOf(err) == problem.Invalid || problem.KindOf(err) == problem.Forbidden {
		rep.Outcome, rep.Reason = Failed, describe(err)
		im.rep.add(rep)
		return nil
	}
	return fmt.Errorf("import affiliate link %s: %w", rep.ProductCode, err)
}

// prettyLinks reads a Pretty Links CSV export: a header naming at least
// "slug" and "url" columns ("name" is the title when present).
func (im *importer) prettyLinks() error {
	if im.run.PrettyLinks == nil {
		return nil
	}
	r := csv.NewReader(io.LimitReader(im.run.PrettyLinks, 64<<20))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return problem.Wrap(problem.Invalid, err, "the Pretty Links file is not CSV")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	si, okS := col["slug"]
	ui, okU := col["url"]
	if !okS || !okU {
		return problem.New(problem.Invalid, "the Pretty Links file has no slug and url columns (its header is %q)", strings.Join(header, ","))
	}
	ni, okN := col["name"]
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return problem.Wrap(problem.Invalid, err, "the Pretty Links file")
		}
		if si >= len(row) || ui >= len(row) {
			continue
		}
		path := strings.Trim(row[si], "/ ")
		title := ""
		if okN && ni < len(row) {
			title = row[ni]
		}
		rep := Item{Type: "pretty-link", Status: "publish", Title: title}
		slug := slugOf(strings.ReplaceAll(path, "/", "-"))
		if slug == "" || strings.TrimSpace(row[ui]) == "" {
			rep.Outcome, rep.Reason = Skipped, "no slug or url"
			im.rep.add(rep)
			continue
		}
		if err := im.product(rep, "pretty/"+path, slug, title, strings.TrimSpace(row[ui]), path); err != nil {
			return err
		}
	}
}
