package wpimport

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// The outcomes of an item in a report.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
	Skipped   = "skipped"
	Failed    = "failed"
)

// Report is what an import did, or with DryRun would do: counts per type,
// status and outcome, every item created, updated, skipped or failed with
// the reason, every shortcode removed and every link that will not earn.
type Report struct {
	Site   string `json:"site"`
	DryRun bool   `json:"dryRun"`
	// Counts are keyed by the WordPress post type, then "status outcome"
	// (for example "publish created").
	Counts     map[string]map[string]int `json:"counts"`
	Items      []Item                    `json:"items"`
	Users      []User                    `json:"users"`
	Shortcodes []Shortcode               `json:"shortcodes"`
	Links      []Link                    `json:"links"`
	Seconds    float64                   `json:"seconds"`

	shortcodes map[string]int // name -> index in Shortcodes
}

// Item is one WordPress item the import did something with.
type Item struct {
	WordPressID int64  `json:"wordpressId"`
	Type        string `json:"type"`
	Status      string `json:"status"`
	Title       string `json:"title"`
	Outcome     string `json:"outcome"`
	Reason      string `json:"reason,omitempty"`
	// ArticleID or ProductCode is what it became.
	ArticleID   string `json:"articleId,omitempty"`
	ProductCode string `json:"productCode,omitempty"`
	Slug        string `json:"slug,omitempty"`
}

// User is a WordPress author and the user their articles are under.
type User struct {
	Login   string `json:"login"`
	Email   string `json:"email"`
	UserID  string `json:"userId,omitempty"`
	Outcome string `json:"outcome"` // created (disabled), mapped, existing
}

// Shortcode is one shortcode name removed from bodies.
type Shortcode struct {
	Name  string  `json:"name"`
	Posts []int64 `json:"posts"`
}

// Link is a body link that will not earn as it is.
type Link struct {
	WordPressID int64  `json:"wordpressId"`
	Href        string `json:"href"`
	Reason      string `json:"reason"`
}

func newReport(dryRun bool) *Report {
	return &Report{DryRun: dryRun, Counts: map[string]map[string]int{}, Items: []Item{}, Users: []User{},
		Shortcodes: []Shortcode{}, Links: []Link{}, shortcodes: map[string]int{}}
}

func (r *Report) count(typ, status, outcome string) {
	m := r.Counts[typ]
	if m == nil {
		m = map[string]int{}
		r.Counts[typ] = m
	}
	m[strings.TrimSpace(status+" "+outcome)]++
}

// add records an item; unchanged ones are only counted.
func (r *Report) add(it Item) {
	r.count(it.Type, it.Status, it.Outcome)
	if it.Outcome != Unchanged {
		r.Items = append(r.Items, it)
	}
}

func (r *Report) shortcode(name string, post int64) {
	i, ok := r.shortcodes[name]
	if !ok {
		i = len(r.Shortcodes)
		r.shortcodes[name] = i
		r.Shortcodes = append(r.Shortcodes, Shortcode{Name: name})
	}
	if posts := r.Shortcodes[i].Posts; len(posts) == 0 || posts[len(posts)-1] != post {
		r.Shortcodes[i].Posts = append(posts, post)
	}
}

// Failures counts the items that failed.
func (r *Report) Failures() int {
	n := 0
	for _, it := range r.Items {
		if it.Outcome == Failed {
			n++
		}
	}
	return n
}

// WriteText writes the report for a terminal.
func (r *Report) WriteText(w io.Writer) {
	verb := "imported"
	if r.DryRun {
		verb = "would import (dry run: nothing was written)"
	}
	fmt.Fprintf(w, "WordPress site %s: %s in %.1f s\n", r.Site, verb, r.Seconds)
	for _, typ := range slices.Sorted(maps.Keys(r.Counts)) {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Counts[typ])) {
			parts = append(parts, fmt.Sprintf("%d %s", r.Counts[typ][k], k))
		}
		fmt.Fprintf(w, "  %-12s %s\n", typ, strings.Join(parts, ", "))
	}
	if len(r.Users) > 0 {
		fmt.Fprintln(w, "authors:")
		for _, u := range r.Users {
			fmt.Fprintf(w, "  %s -> %s (%s)\n", u.Login, u.Email, u.Outcome)
		}
	}
	if len(r.Items) > 0 {
		fmt.Fprintln(w, "items:")
		for _, it := range r.Items {
			line := fmt.Sprintf("  %s %d %q (%s): %s", it.Type, it.WordPressID, it.Title, it.Status, it.Outcome)
			if it.Reason != "" {
				line += ": " + it.Reason
			}
			fmt.Fprintln(w, line)
		}
	}
	if len(r.Shortcodes) > 0 {
		fmt.Fprintln(w, "shortcodes removed:")
		for _, s := range r.Shortcodes {
			fmt.Fprintf(w, "  [%s] in %d posts %v\n", s.Name, len(s.Posts), s.Posts)
		}
	}
	if len(r.Links) > 0 {
		fmt.Fprintln(w, "links that will not earn:")
		for _, l := range r.Links {
			fmt.Fprintf(w, "  post %d: %s: %s\n", l.WordPressID, l.Href, l.Reason)
		}
	}
}
