package wordpress

import (
	"strconv"
	"strings"
	"time"
)

// Vars are the values SEO title and description templates refer to.
type Vars struct {
	Title, SiteName, SiteDescription, Excerpt, Category string
	Sep                                                 string // "" means "-"
	Page                                                string // "Page 2 of 3", or empty
	// Now gives %%currentyear%%, %%currentmonth%% and %%currentdate%%;
	// zero leaves them empty.
	Now time.Time
}

// value returns a variable's text; ok is false for a separator.
func (v Vars) value(name string) (text string, isSep bool) {
	switch name {
	case "sep":
		if v.Sep == "" {
			return "-", true
		}
		return v.Sep, true
	case "title":
		return v.Title, false
	case "sitename":
		return v.SiteName, false
	case "sitedesc":
		return v.SiteDescription, false
	case "excerpt", "excerpt_only":
		return v.Excerpt, false
	case "category", "primary_category", "category_title":
		return v.Category, false
	case "page", "pagenumber":
		return v.Page, false
	case "currentyear":
		if !v.Now.IsZero() {
			return strconv.Itoa(v.Now.Year()), false
		}
	case "currentmonth":
		if !v.Now.IsZero() {
			return v.Now.Month().String(), false
		}
	case "currentdate":
		if !v.Now.IsZero() {
			return v.Now.Format("January 2, 2006"), false
		}
	}
	return "", false
}

// Expand fills a Yoast (%%title%% %%sep%% %%sitename%%) or Rank Math
// (%title% %sep% %sitename%) template. Unknown placeholders are removed
// (custom fields like %%cf_price%% or %customfield(price)% included), a
// "%" that starts no placeholder stays, runs of space collapse, and a
// separator left dangling at either end or doubled because a variable was
// empty is dropped. It is linear in the template's length.
func Expand(template string, v Vars) string {
	type segment struct {
		text  string
		isSep bool
	}
	var pieces []segment
	lit := 0 // start of the pending literal text
	for i := 0; i < len(template); {
		if template[i] != '%' {
			i++
			continue
		}
		name, end := placeholder(template, i)
		if end < 0 {
			i++
			continue
		}
		if lit < i {
			pieces = append(pieces, segment{text: template[lit:i]})
		}
		text, isSep := v.value(strings.ToLower(name))
		pieces = append(pieces, segment{text: text, isSep: isSep})
		i, lit = end, end
	}
	pieces = append(pieces, segment{text: template[lit:]})

	// Drop separators with nothing but space (or another separator)
	// before them, then trailing ones.
	var kept []segment
	content := false // text other than space since the last separator
	for _, p := range pieces {
		if p.isSep {
			if !content {
				continue
			}
			content = false
		} else if strings.TrimSpace(p.text) != "" {
			content = true
		}
		kept = append(kept, p)
	}
	for len(kept) > 0 {
		last := kept[len(kept)-1]
		if last.isSep {
			kept = kept[:len(kept)-1]
		} else if strings.TrimSpace(last.text) == "" {
			kept = kept[:len(kept)-1]
		} else {
			break
		}
	}
	var b strings.Builder
	for _, p := range kept {
		b.WriteString(p.text)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// placeholder reads a placeholder starting at template[i] == '%': Yoast's
// %%name%% or Rank Math's %name% or %name(arg)%. It returns the name and
// the index after it, or end -1 when there is none. A name is letters,
// digits and underscores.
func placeholder(template string, i int) (name string, end int) {
	yoast := i+1 < len(template) && template[i+1] == '%'
	j := i + 1
	if yoast {
		j++
	}
	start := j
	for j < len(template) && isNameByte(template[j]) {
		j++
	}
	if j == start {
		return "", -1
	}
	name = template[start:j]
	if yoast {
		if strings.HasPrefix(template[j:], "%%") {
			return name, j + 2
		}
		return "", -1
	}
	if j < len(template) && template[j] == '(' {
		k := strings.IndexAny(template[j:], ")%")
		if k < 0 || template[j+k] != ')' {
			return "", -1
		}
		j += k + 1
	}
	if j < len(template) && template[j] == '%' {
		return name, j + 1
	}
	return "", -1
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
