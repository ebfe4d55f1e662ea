package affiliate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Body links. An Amazon link in an article body keeps the tagged store URL
// as its href (Amazon forbids hiding where a link goes); the content API
// adds, when it serves the article, a ping attribute pointing at
// /go/{code}/ping?a={slug}&p={position}, which browsers that send pings
// POST to when the link is followed. The ping is recorded like a /go/
// click, by the same recorder: bot-flagged, unique-counted, spilled and
// drained on shutdown.

// BodyLink is a link an article shows readers, as the content API
// rendered it: the product it is tied to and the href the reader follows.
type BodyLink struct {
	Product string
	Href    string
}

// SetBodyLinks gives the service the content API's lookup of the link an
// article shows at a position, from its in-memory snapshot; the ping
// route checks every ping against it. Set it before serving.
func (s *Service) SetBodyLinks(fn func(slug string, position int) (BodyLink, bool)) {
	s.bodyLinks = fn
}

// LinkMode is the current Settings.LinkMode.
func (s *Service) LinkMode() string { return s.snapshot().settings.LinkMode }

// TrackingURLAt is the /go/ link of a product at a position of an
// article: <PublicURL>/go/{code}?a={slug}&p={position}.
func (s *Service) TrackingURLAt(code, slug string, position int) string {
	return s.TrackingURL(code, slug) + "&p=" + strconv.Itoa(position)
}

// PingURL is where a browser reports following the body link at a
// position of an article.
func (s *Service) PingURL(code, slug string, position int) string {
	return s.opts.PublicURL + "/go/" + url.PathEscape(code) + "/ping?a=" + url.QueryEscape(slug) + "&p=" + strconv.Itoa(position)
}

// autoTitle is the title of an auto-created product: the link's text,
// its white space collapsed, cut to the title limit; the ASIN when the
// link has no text (an image link).
func autoTitle(text, marketplace, asin string) string {
	t := strings.Join(strings.FieldsFunc(text, func(r rune) bool { return r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == ' ' || r == '\u00a0' }), " ")
	if t == "" {
		return "Amazon product " + asin + " (" + marketplace + ")"
	}
	if utf8.RuneCountInString(t) > maxTitle {
		t = string([]rune(t)[:maxTitle-1]) + "…"
	}
	return t
}

// ProductForLink returns the code of the catalogue product a body link to
// an Amazon product page is tied to: an existing product with the link's
// ASIN and marketplace, else one created now, with autoCreated set and
// titled from text. Links to anything but a product page return "" (they
// are tagged, not counted). Creating is race-safe across instances: the
// code derives from marketplace and ASIN, so concurrent saves insert the
// same _id and the loser reads the winner's product. Errors: those of the
// database; a link whose product cannot be stored is not counted but
// never fails the save.
func (s *Service) ProductForLink(ctx context.Context, href, text string) (string, error) {
	mp, asin, ok := AmazonProductOf(href)
	if !ok {
		return "", nil
	}
	c := s.snapshot()
	if code, ok := c.byASIN[asinKey(mp, asin)]; ok {
		return code, nil
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	p := &Product{Code: autoCode(mp, asin), Title: autoTitle(text, mp, asin), ASIN: asin, Marketplace: mp,
		AutoCreated: true, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := p.Validate(c.allowed); err != nil {
		// The store's www. host is not allowed, say: such a product
		// would not redirect, so the link stays uncounted.
		s.log.Warn("cannot create a product for a body link", "marketplace", mp, "asin", asin, "err", describe(err))
		return "", nil
	}
	err := s.store.InsertProduct(ctx, p)
	switch {
	case errors.Is(err, problem.Conflict):
		// Another save created it first, or an editor took the code.
		got, ferr := s.store.FindProductByCode(ctx, p.Code)
		if ferr != nil {
			return "", fmt.Errorf("find product %q: %w", p.Code, ferr)
		}
		if got.ASIN != asin || got.Marketplace != mp {
			s.log.Warn("the code of a body link's product is taken by another product", "code", p.Code)
			return "", nil
		}
	case err != nil:
		return "", fmt.Errorf("create product for %s on %s: %w", asin, mp, err)
	}
	s.changed(ctx, p.Code)
	return p.Code, nil
}

// handlePing answers POST /go/{code}/ping?a={slug}&p={position}: a
// browser's ping (Ping-To names the link followed) or a front end's
// navigator.sendBeacon (no Ping-To). It is counted only when the article
// shows a link to the product at that position, and with Ping-To, only
// when that link's href is where the reader went; anything else is a
// 4xx and not counted. The answer is 204 and carries nothing.
func (s *Service) handlePing(c *gin.Context) error {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	q, err := web.ParseQuery(c, "a", "p")
	if err != nil {
		return err
	}
	var f problem.Fields
	slug, pos := articleParam(q["a"]), positionParam(q["p"])
	if slug == "" {
		f.Add("a", "is required: the slug of the article the link is in")
	}
	if pos == 0 {
		f.Add("p", "is required: the link's position in the article, 1 to %d", maxPosition)
	}
	if err := f.Err(); err != nil {
		return err
	}
	code := c.Param("code")
	snap := s.snapshot()
	if snap.settings.LinkMode == LinkModeRedirect {
		return problem.New(problem.NotFound, "body links are counted by their /go/ redirect; pings are off")
	}
	if _, ok := snap.products[code]; !ok || s.bodyLinks == nil {
		return problem.New(problem.NotFound, "no product link with this code")
	}
	link, ok := s.bodyLinks(slug, pos)
	if !ok || link.Product != code {
		return problem.New(problem.NotFound, "the article shows no link to this product at this position")
	}
	if to := c.GetHeader("Ping-To"); to != "" && !sameURL(to, link.Href) {
		f.Add("Ping-To", "is not the link the article shows at this position")
		return f.Err()
	}
	s.rec.Record(s.click(c, code))
	c.Status(http.StatusNoContent)
	return nil
}

// sameURL compares the Ping-To a browser sends, which is the href as its
// URL parser wrote it, with the href served: equal as written, or once
// both are parsed and written again.
func sameURL(got, want string) bool {
	if got == want {
		return true
	}
	if len(got) > 2*MaxURLLength {
		return false
	}
	g, err1 := url.Parse(got)
	w, err2 := url.Parse(want)
	return err1 == nil && err2 == nil && g.String() == w.String()
}
