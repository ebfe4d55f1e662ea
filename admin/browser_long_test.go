package admin_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestBrowserLongArticle opens the editor on a 50 KB article and types at
// its end: the text arrives whole and is saved. How long the keys took is
// logged, never asserted (the editor serialises the document only when
// typing pauses, not per key).
func TestBrowserLongArticle(t *testing.T) {
	s := testenv.NewServer(t)
	u := s.NewUser(t, auth.Author)
	token := tokenOf(t, s, u)
	var body strings.Builder
	for i := 0; body.Len() < 50<<10; i++ {
		if i%8 == 0 {
			fmt.Fprintf(&body, "<h2>Part %d</h2>", i/8+1)
		}
		fmt.Fprintf(&body, "<p>Paragraph %d: gentle pressure along the muscle eases tension, and slow breathing helps the body relax.</p>", i)
	}
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "A very long guide", "body": body.String()})

	b := newTab(t, s)
	b.signIn(u)
	b.open("/admin/articles/" + a.ID)
	b.click(textbox("Body"))
	// The caret to the end of the document, as Ctrl+End would put it.
	b.do("put the caret at the end", chromedp.Evaluate[chromedp.Void](`window.cmsEditor.commands.focus('end'), 0`))
	// TipTap focuses on the next frame: keys sent before would go elsewhere.
	b.waitFor("the caret at the end", `document.activeElement.classList.contains('ProseMirror') &&
		window.cmsEditor.state.selection.to >= window.cmsEditor.state.doc.content.size - 1`)
	const typed = " The end, typed by hand."
	start := time.Now()
	b.keys(typed)
	t.Logf("typed %d keys into a %d KB body in %v (%.1f ms a key, with the browser round trips)",
		len(typed), body.Len()>>10, time.Since(start), float64(time.Since(start).Microseconds())/1000/float64(len(typed)))
	b.waitFor("the typed text in the editor", `document.querySelector('.ProseMirror').innerText.includes('typed by hand')`)
	b.clickToLoad(button("Save"))
	b.wantFlash("Saved.")
	got := apiArticle(t, s, token, a.ID)
	if !strings.Contains(got.Body, "The end, typed by hand.") || len(got.Body) < body.Len() {
		t.Fatalf("saved body (%d bytes) lacks the typed text or lost text: ...%s", len(got.Body), got.Body[max(0, len(got.Body)-200):])
	}
}
