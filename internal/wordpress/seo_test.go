package wordpress

import (
	"strings"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	v := Vars{Title: "Massage for chronic pain relief", SiteName: "Harbor Massage Clinic", SiteDescription: "Bodywork by the harbor",
		Excerpt: "How massage eases pain.", Category: "Pain relief"}
	tests := []struct {
		name, in string
		v        Vars
		want     string
	}{
		{"yoast", "%%title%% %%sep%% %%sitename%%", v, "Massage for chronic pain relief - Harbor Massage Clinic"},
		{"rank math", "%title% %sep% %sitename%", v, "Massage for chronic pain relief - Harbor Massage Clinic"},
		{"custom sep", "%%title%% %%sep%% %%sitename%%", Vars{Title: "A", SiteName: "B", Sep: "|"}, "A | B"},
		{"description", "%%excerpt%% Visit %%sitename%%.", v, "How massage eases pain. Visit Harbor Massage Clinic."},
		{"rank math description", "%excerpt% (%category%)", v, "How massage eases pain. (Pain relief)"},
		{"sitedesc and category", "%%primary_category%% %%sep%% %%sitedesc%%", v, "Pain relief - Bodywork by the harbor"},
		{"unknown removed", "%%title%% %%cf_price%% %%sep%% %customfield(price)% %sitename%", v, "Massage for chronic pain relief - Harbor Massage Clinic"},
		{"dangling sep at the end", "%%title%% %%sep%% %%sitename%%", Vars{Title: "Only title"}, "Only title"},
		{"dangling sep at the start", "%%title%% %%sep%% %%sitename%%", Vars{SiteName: "Site"}, "Site"},
		{"doubled sep", "%%title%% %%sep%% %%category%% %%sep%% %%sitename%%", Vars{Title: "T", SiteName: "S"}, "T - S"},
		{"page", "%%title%% %%page%% %%sep%% %%sitename%%", Vars{Title: "T", SiteName: "S", Page: "Page 2 of 3"}, "T Page 2 of 3 - S"},
		{"year", "Best massage tools %%currentyear%%", Vars{Now: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}, "Best massage tools 2024"},
		{"year unknown", "Best massage tools %currentyear%", Vars{}, "Best massage tools"},
		{"literal percent", "Save 20% on %title%", Vars{Title: "massage"}, "Save 20% on massage"},
		{"plain", "  Just   a  title  ", v, "Just a title"},
		{"all empty", "%%title%% %%sep%% %%sitename%%", Vars{}, ""},
		{"mixed syntax", "%%title% %title%%", Vars{Title: "T"}, "%T T%"},
		{"upper case", "%%Title%%", Vars{Title: "T"}, "T"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Expand(tt.in, tt.v); got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"%%title%% %%sep%% %%sitename%%", "%title% %sep% %sitename%", "%%%", "%a(b)%", "100%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Expand(s, Vars{Title: "T", SiteName: "S"})
		if len(out) > len(s)+2 {
			t.Fatalf("Expand(%q) = %q grew", s, out)
		}
		if out != strings.TrimSpace(out) || strings.Contains(out, "  ") {
			t.Fatalf("Expand(%q) = %q has stray space", s, out)
		}
	})
}
