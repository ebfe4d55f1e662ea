package cms

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
)

// Compliance: the rules an affiliate health publisher must follow, checked
// on demand (GET .../compliance) and before every publication, which any
// error-level finding refuses. Each rule is listed once, in
// ComplianceRules, with its severity and the one-line explanation the
// README repeats; the checks below only say where a rule is broken.

// Severity says whether a finding blocks publication.
type Severity string

// The severities: an error blocks publication, a warning does not.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// The rule IDs, stable for clients that switch on them.
const (
	RuleLinkUntagged      = "affiliate-link-untagged"
	RuleProductUntagged   = "product-untagged"
	RuleDisclosureMissing = "disclosure-missing"
	RuleProductArchived   = "product-archived"
	RuleReviewMissing     = "medical-review-missing"
	RuleReviewDue         = "medical-review-due"
	RuleSourcesMissing    = "sources-missing"
	RulePriceNearLink     = "price-near-affiliate-link"
	RuleAmazonImage       = "amazon-image-hotlink"
	RuleHealthClaim       = "health-claim-absolute"
)

// ComplianceRule is one rule of the report.
type ComplianceRule struct {
	ID          string
	Severity    Severity
	Explanation string
}

// ComplianceRules are every rule, errors first.
var ComplianceRules = []ComplianceRule{
	{RuleLinkUntagged, SeverityError, "An Amazon link in the body goes to a store with no associate tag in the affiliate settings: it earns nothing."},
	{RuleProductUntagged, SeverityError, "An attached product is on an Amazon store with no associate tag: its link earns nothing."},
	{RuleProductArchived, SeverityError, "An attached product is archived or deleted: readers would find a dead link."},
	{RuleDisclosureMissing, SeverityError, "The article has affiliate links but the disclosure text in the affiliate settings is empty (FTC endorsement guides) or, for Amazon links, lacks Amazon's required statement \"" + affiliate.DefaultDisclosure + "\""},
	{RuleReviewMissing, SeverityWarning, "No medical review: health content should name a qualified reviewer."},
	{RuleReviewDue, SeverityWarning, "The medical review is more than a year old: the article is due for another."},
	{RuleSourcesMissing, SeverityWarning, "No sources: health claims should cite their evidence."},
	{RulePriceNearLink, SeverityWarning, "A price or star rating stands in the same paragraph or list item as an Amazon link: Amazon allows prices and ratings only fresh from its own API."},
	{RuleAmazonImage, SeverityWarning, "An image is hotlinked from Amazon's image hosts: Amazon allows its images only through its API or SiteStripe."},
	{RuleHealthClaim, SeverityWarning, "Absolute health claims (\"cures\", \"guaranteed\", \"100% effective\", ...) need competent and reliable scientific evidence (FTC health-products guidance)."},
}

var ruleSeverity = func() map[string]Severity {
	m := make(map[string]Severity, len(ComplianceRules))
	for _, r := range ComplianceRules {
		m[r.ID] = r.Severity
	}
	return m
}()

// Finding is one broken rule: which, how serious, what and where (the
// article's field, or the settings member to change).
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Field    string   `json:"field"`
}

// Compliance is the report: OK while no error-level finding remains.
type Compliance struct {
	OK       bool      `json:"ok"`
	Findings []Finding `json:"findings"`
}

// reviewValidity is how long a medical review stays current.
const reviewValidity = 1 // year

// disclosureField names the setting the disclosure findings ask to change.
const disclosureField = "affiliateSettings.disclosureText"

// Compliance checks the article the caller may read against the rules.
// For a published article with unpublished changes it checks the draft:
// what the next publish would publish. Errors: NotFound.
func (s *Service) Compliance(ctx context.Context, p *auth.Principal, id string) (*Compliance, error) {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return nil, err
	}
	c := s.checkCompliance(a)
	return &c, nil
}

// publishable refuses, as Unprocessable carrying every finding, the
// publication of a with error-level findings.
func (s *Service) publishable(a *Article) error {
	c := s.checkCompliance(a)
	if c.OK {
		return nil
	}
	var first string
	n := 0
	for _, f := range c.Findings {
		if f.Severity == SeverityError {
			if n == 0 {
				first = f.Message
			}
			n++
		}
	}
	return &problem.Error{
		Kind: problem.Unprocessable,
		Detail: fmt.Sprintf("the article cannot be published while %d compliance error(s) remain (%s); see findings or GET .../compliance",
			n, first),
		Extensions: map[string]any{"findings": c.Findings},
	}
}

// writeWarnings are the warnings of a write answer: what was saved but
// earns nothing, the untagged links and products of the report.
func (s *Service) writeWarnings(a *Article) []problem.FieldError {
	if s.aff == nil || (!a.HasAffiliateLinks && len(a.Products) == 0) {
		return nil
	}
	var out []problem.FieldError
	for _, f := range s.checkCompliance(a).Findings {
		if f.Rule == RuleLinkUntagged || f.Rule == RuleProductUntagged {
			out = append(out, problem.FieldError{Field: f.Field, Message: f.Message})
		}
	}
	return out
}

// checkCompliance runs every rule over a, in time linear in its body.
func (s *Service) checkCompliance(a *Article) Compliance {
	var out []Finding
	add := func(rule, field, format string, args ...any) {
		out = append(out, Finding{Rule: rule, Severity: ruleSeverity[rule], Field: field, Message: fmt.Sprintf(format, args...)})
	}
	scan := scanBody(a.BodyHTML)

	if s.aff != nil {
		for _, mp := range scan.marketplaces {
			if !s.aff.HasTag(mp) {
				add(RuleLinkUntagged, "body", "%d link(s) to %s: %s", scan.linksTo[mp], mp, affiliate.UntaggedMessage(mp))
			}
		}
		amazonProducts := false
		for i, ref := range a.Products {
			field := fmt.Sprintf("products[%d].code", i)
			st := s.aff.ProductState(ref.Code)
			switch {
			case !st.Known:
				add(RuleProductArchived, field, "the product %q is no longer in the catalogue: remove it from the article", ref.Code)
			case st.Archived:
				add(RuleProductArchived, field, "the product %q is archived: remove it or restore it in the catalogue", ref.Code)
			case st.Marketplace != "" && !s.aff.HasTag(st.Marketplace):
				add(RuleProductUntagged, field, "the product %q: %s", ref.Code, affiliate.UntaggedMessage(st.Marketplace))
			}
			amazonProducts = amazonProducts || st.Marketplace != ""
		}
		amazon := len(scan.marketplaces) > 0 || amazonProducts
		text := strings.TrimSpace(s.aff.Disclosure())
		switch {
		case text == "" && (amazon || a.HasAffiliateLinks || len(a.Products) > 0):
			add(RuleDisclosureMissing, disclosureField, "the article has affiliate links but the disclosure text is empty: set one in the affiliate settings")
		case amazon && !hasAmazonStatement(text):
			add(RuleDisclosureMissing, disclosureField, "the disclosure text lacks Amazon's required statement %q: add it in the affiliate settings", affiliate.DefaultDisclosure)
		}
	}

	switch r := a.MedicalReview; {
	case r == nil:
		add(RuleReviewMissing, "medicalReview", "no medical reviewer is named")
	default:
		if t, err := ParseReviewedAt(r.ReviewedAt); err == nil && t.AddDate(reviewValidity, 0, 0).Before(s.clock()) {
			add(RuleReviewDue, "medicalReview.reviewedAt", "the medical review of %s is more than a year old: have it reviewed again", t.Format(time.DateOnly))
		}
	}
	if len(a.Sources) == 0 {
		add(RuleSourcesMissing, "sources", "no sources are cited")
	}
	if scan.price != "" {
		add(RulePriceNearLink, "body", "%q stands next to an Amazon link: remove the price or rating (Amazon allows them only fresh from its API)", scan.price)
	}
	if scan.amazonImage != "" {
		add(RuleAmazonImage, "body", "the image %q is hotlinked from Amazon: use your own image or Amazon's API", scan.amazonImage)
	}
	if a.CoverImage != nil && isAmazonImage(a.CoverImage.URL) {
		add(RuleAmazonImage, "coverImage.url", "the cover image %q is hotlinked from Amazon: use your own image", a.CoverImage.URL)
	}
	claims := scan.claims
	for _, m := range healthClaim.FindAllString(a.Title+"\n"+a.Summary, -1) {
		claims = addClaim(claims, m)
	}
	if len(claims) > 0 {
		add(RuleHealthClaim, "body", "absolute health claim(s) %s: substantiate them with sources or soften them", quoteAll(claims))
	}
	slices.SortStableFunc(out, func(x, y Finding) int {
		if x.Severity == y.Severity {
			return 0
		}
		if x.Severity == SeverityError {
			return -1
		}
		return 1
	})
	c := Compliance{OK: true, Findings: out}
	if c.Findings == nil {
		c.Findings = []Finding{}
	}
	for _, f := range out {
		if f.Severity == SeverityError {
			c.OK = false
		}
	}
	return c
}

// amazonStatement is Amazon's required statement, folded for comparison.
var amazonStatement = foldSpaces(strings.TrimSuffix(affiliate.DefaultDisclosure, "."))

// hasAmazonStatement reports whether the disclosure contains Amazon's
// statement, whatever its case and spacing.
func hasAmazonStatement(text string) bool {
	return strings.Contains(foldSpaces(text), amazonStatement)
}

func foldSpaces(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// The patterns of the text rules. Go's regular expressions run in time
// linear in their input, so the checks stay linear in the body.
var (
	// priceOrRating finds a price ($19.99, 19,99 €, 20 USD) or a star
	// rating (4.5 stars, 4/5, ★★★★).
	priceOrRating = regexp.MustCompile(`(?i)[$€£¥]\s?\d+(?:[.,]\d{1,2})?|\b\d+(?:[.,]\d{1,2})?\s?(?:€|£|usd|eur|gbp|dollars?|euros?)|` +
		`\b\d(?:[.,]\d)?\s?(?:out of (?:5|five)\s)?stars?\b|\b\d(?:[.,]\d)?\s?/\s?5\b|[★☆⭐]+`)
	// healthClaim finds the absolute claims the FTC asks to substantiate;
	// a short list, a prompt to check rather than a verdict.
	healthClaim = regexp.MustCompile(`(?i)\b(?:cures?|cured|guaranteed|guarantees?|miracle|clinically proven|` +
		`100\s?%\s?(?:effective|safe|natural)|no side[- ]effects|permanent(?:ly)? (?:cures?|relief|results)|` +
		`instant(?:ly)? (?:cures?|relief))\b`)
)

// blockTags are the elements whose text is one context for the price
// rule: "next to a link" means in the same paragraph, list item or cell.
var blockTags = map[string]bool{
	"p": true, "li": true, "td": true, "th": true, "dd": true, "dt": true, "blockquote": true,
	"figcaption": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"div": true, "section": true, "article": true, "aside": true, "ul": true, "ol": true, "table": true,
}

// bodyScan is what one pass over the stored HTML finds.
type bodyScan struct {
	marketplaces []string       // Amazon stores linked, in order of first link
	linksTo      map[string]int // links per store
	price        string         // the first price or rating next to an Amazon link
	amazonImage  string         // the first image hotlinked from Amazon
	claims       []string       // the absolute health claims, each once, lower case
}

// block is an open block element: its own text (not its children's) and
// whether it holds an Amazon link.
type block struct {
	tag    string
	text   strings.Builder
	amazon bool
}

// scanBody reads the sanitized HTML once with the tokenizer. Each piece of
// text is added to the innermost open block only, and each block's text is
// matched once when it closes, so the pass is linear in the body.
func scanBody(body string) bodyScan {
	sc := bodyScan{linksTo: map[string]int{}}
	stack := []*block{{tag: ""}} // the root holds text outside any block
	closeBlock := func(b *block) {
		text := b.text.String()
		for _, m := range healthClaim.FindAllString(text, -1) {
			sc.claims = addClaim(sc.claims, m)
		}
		if b.amazon && sc.price == "" {
			sc.price = priceOrRating.FindString(text)
		}
	}
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// The end (io.EOF): the stored HTML came out of the
			// sanitizer, so there is no other error to expect, and a
			// report on what was read is still the best answer.
			for i := len(stack) - 1; i >= 0; i-- {
				closeBlock(stack[i])
			}
			return sc
		case html.TextToken:
			top := stack[len(stack)-1]
			top.text.Write(z.Text())
			top.text.WriteByte(' ')
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if blockTags[tag] && tt == html.StartTagToken {
				stack = append(stack, &block{tag: tag})
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch {
				case tag == "a" && string(k) == "href":
					if mp, ok := affiliate.LinkMarketplace(string(v)); ok {
						if sc.linksTo[mp] == 0 {
							sc.marketplaces = append(sc.marketplaces, mp)
						}
						sc.linksTo[mp]++
						stack[len(stack)-1].amazon = true
					}
				case tag == "img" && string(k) == "src":
					if sc.amazonImage == "" && isAmazonImage(string(v)) {
						sc.amazonImage = string(v)
					}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if !blockTags[tag] {
				continue
			}
			// Close up to the matching block; a stray end tag closes none.
			for i := len(stack) - 1; i >= 1; i-- {
				if stack[i].tag == tag {
					for j := len(stack) - 1; j >= i; j-- {
						closeBlock(stack[j])
					}
					stack = stack[:i]
					break
				}
			}
		}
	}
}

// amazonImageHosts are Amazon's image servers, matched as the host or a
// subdomain of one.
var amazonImageHosts = []string{"media-amazon.com", "images-amazon.com", "ssl-images-amazon.com"}

// isAmazonImage reports whether src is served by Amazon's image hosts
// (m.media-amazon.com, images-na.ssl-images-amazon.com, ...).
func isAmazonImage(src string) bool {
	u, err := url.Parse(strings.TrimSpace(src))
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range amazonImageHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// addClaim adds a claim, lower case, unless it is already listed.
func addClaim(claims []string, m string) []string {
	m = foldSpaces(m)
	if slices.Contains(claims, m) {
		return claims
	}
	return append(claims, m)
}

// quoteAll lists the claims as "a", "b".
func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
