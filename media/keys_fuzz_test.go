package media_test

import (
	"strings"
	"testing"

	"github.com/wellness/cms/media"
)

// FuzzKeysIn: every key found is 32 lowercase hex digits that follow
// media.Path in the input, in order.
func FuzzKeysIn(f *testing.F) {
	key := strings.Repeat("ab12", 8)
	f.Add(`<p><img src="https://cms.test/media/` + key + `.jpg" alt="x"></p>`)
	f.Add(`/media//media/` + key + `/media/` + strings.ToUpper(key))
	f.Add(`<img src="/media/` + key[:31] + `">`)
	f.Fuzz(func(t *testing.T, html string) {
		rest := html
		for _, k := range media.KeysIn(html) {
			i := strings.Index(rest, media.Path+k)
			if i < 0 || len(k) != 32 || strings.Trim(k, "0123456789abcdef") != "" {
				t.Fatalf("key %q is not a key after %s in %q", k, media.Path, rest)
			}
			rest = rest[i+len(media.Path):]
		}
	})
}
