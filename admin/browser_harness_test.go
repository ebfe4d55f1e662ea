package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/input"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// The browser tests drive the admin UI in a real Chromium: one browser
// process for the test binary, started by the first test that needs it,
// and a browser context of its own (an incognito profile: own cookies) for
// every tab, so two tabs of one test are two people.

// browserTimeout bounds each test; the whole suite takes far less.
const browserTimeout = 60 * time.Second

var (
	chromeOnce sync.Once
	chromeCtx  context.Context // the browser, for NewContext
	chromeErr  error
	chromeSkip string
)

// browserTestsRequired reports whether the browser tests must run (CI): a missing
// browser or axe-core is then a failure, not a skip.
func browserTestsRequired() bool { return os.Getenv("CMS_BROWSER_TESTS") == "required" }

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startChromium starts the shared browser. Its context is never cancelled:
// the process dies with the test binary (chromedp sets the parent-death
// signal on Linux). The profile directory is not a t.TempDir, which would
// be removed under the running browser when the first test ends; stale
// ones from earlier runs are removed here instead.
func startChromium() {
	path := findChromium()
	if path == "" {
		chromeSkip = "no chromium, chromium-browser or google-chrome in PATH"
		return
	}
	removeStaleProfiles()
	dir, err := os.MkdirTemp("", "cms-admin-chromium-")
	if err != nil {
		chromeErr = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, _ := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, _ := chromedp.NewContext(alloc)
	// The first Run starts the browser and binds it to ctx, which has no
	// deadline: a test's timeout must not close the browser.
	if err := chromedp.Do(ctx); err != nil {
		chromeErr = fmt.Errorf("start %s: %w", path, err)
		return
	}
	chromeCtx = ctx
}

func removeStaleProfiles() {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "cms-admin-chromium-*"))
	for _, d := range old {
		if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > 15*time.Minute {
			_ = os.RemoveAll(d)
		}
	}
}

// tab is one page in a browser context of its own.
type tab struct {
	t   testing.TB
	s   *testenv.Server
	ctx context.Context

	mu       sync.Mutex
	problems []string // exceptions and CSP reports, checked at the end
}

// newTab opens a tab in a fresh browser context, bounded by
// browserTimeout. It skips the test when there is no browser (unless
// CMS_BROWSER_TESTS=required). Exceptions and CSP violations on any of its
// pages fail the test when it ends.
func newTab(t *testing.T, s *testenv.Server) *tab {
	t.Helper()
	chromeOnce.Do(startChromium)
	if chromeSkip != "" {
		if browserTestsRequired() {
			t.Fatalf("CMS_BROWSER_TESTS=required: %s", chromeSkip)
		}
		t.Skip(chromeSkip)
	}
	if chromeErr != nil {
		t.Fatal(chromeErr)
	}
	bctx, cancelTab := chromedp.NewContext(chromeCtx, chromedp.WithNewBrowserContext())
	ctx, cancel := context.WithTimeout(bctx, browserTimeout)
	tb := &tab{t: t, s: s, ctx: ctx}
	t.Cleanup(cancelTab)
	t.Cleanup(cancel)
	// Open the target now, so that the console subscription sees every
	// page.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.note(m)
		}
	}()
	t.Cleanup(func() {
		// Let messages already sent arrive, then stop reading.
		_ = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`0`))
		cancel()
		<-done
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, p := range tb.problems {
			t.Errorf("browser: %s", p)
		}
	})
	return tb
}

// note keeps the messages that mean a broken page: an uncaught exception,
// or a console error about the Content Security Policy. A 404 of the
// favicon (which the UI does not have) is not one.
func (b *tab) note(m chromedp.ConsoleMessage) {
	text := m.String()
	// Media URLs are absolute, on the configured public URL, which in tests
	// (http://cms.test) is not the server's origin: the browser refuses to
	// load them under img-src 'self' https:. In a deployment the public URL
	// is the origin (or https), so this is no fault of the page.
	if strings.Contains(text, "'http://cms.test/media/") && strings.Contains(text, "img-src") {
		return
	}
	bad := m.IsException() ||
		strings.Contains(text, "Content Security Policy") ||
		(m.Type == chromedp.ConsoleError && !strings.Contains(m.URL, "favicon") && !strings.Contains(text, "favicon") &&
			strings.Contains(text, "Refused"))
	if !bad {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf("%s: %s (%s:%d)", m.Type, text, m.URL, m.Line+1))
}

// do runs actions, failing the test with what on error.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

func (b *tab) fail(what string, err error) {
	b.t.Helper()
	// The test's context may be over; look where the page is with a
	// short one of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	b.t.Fatalf("%s: %v (at %s)", what, err, loc)
}

// evalJS evaluates a JavaScript expression and decodes its value.
func evalJS[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is true.
func (b *tab) waitFor(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond),
		chromedp.WithPollingTimeout(0))); err != nil {
		b.fail("wait for "+what, err)
	}
}

// open loads a path of the server and logs how long the page took.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.s.URL+path))
	b.logLoad()
}

// logLoad logs the page's load time (navigation start to the end of the
// load event), for reading the "page load under 1 s" off the test
// log; it is never asserted.
func (b *tab) logLoad() {
	b.t.Helper()
	ms, err := chromedp.Run(b.ctx, chromedp.Poll[float64](
		`(e => e && e.loadEventEnd > 0 && e.duration)(performance.getEntriesByType('navigation')[0])`,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		b.fail("read the navigation timing", err)
	}
	b.t.Logf("page load %6.1f ms  %s", ms, b.path())
}

// path is the current page's path and query.
func (b *tab) path() string {
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return strings.TrimPrefix(loc, b.s.URL)
}

// byName selects the elements with role and accessible name (exact),
// through the browser's accessibility tree: what a screen reader user
// finds, not markup. Nodes the tree ignores (hidden, behind a modal
// dialog) do not count. An empty role matches any role but text.
func byName(role, name string) chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, t *chromedp.Target, n *chromedp.Node) ([]cdp.NodeID, error) {
		nodes, err := queryAX(ctx, t, n.NodeID, role, name)
		if err != nil {
			return nil, err
		}
		var backend []cdp.BackendNodeID
		for _, ax := range nodes {
			if ax.Ignored || ax.BackendDOMNodeID == 0 {
				continue
			}
			if role == "" && ax.Role != nil {
				if r := axString(ax.Role); r == "StaticText" || r == "InlineTextBox" || r == "LabelText" || r == "generic" || r == "none" {
					continue
				}
			}
			backend = append(backend, ax.BackendDOMNodeID)
		}
		if len(backend) == 0 {
			return nil, nil
		}
		pushed, err := cdp.Call(ctx, t, dom.PushNodesByBackendIDsToFrontend,
			dom.PushNodesByBackendIDsToFrontendParams{BackendNodeIDs: backend})
		if err != nil {
			return nil, err
		}
		return pushed.NodeIDs, nil
	})
}

// queryAX finds the accessibility nodes with role and name under the DOM
// node id. Chromium's name filter misses some controls whose name comes
// from a label, such as a file input (its name is "Upload image", yet a
// query for that name finds only the label's text); so when a role is
// given and the filtered query finds nothing, the role's nodes are
// compared by their computed names here.
func queryAX(ctx context.Context, t *chromedp.Target, id cdp.NodeID, role, name string) ([]*accessibility.Node, error) {
	res, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{
		NodeID: id, AccessibleName: name, Role: role})
	if err != nil {
		return nil, err
	}
	for _, a := range res.Nodes {
		if !a.Ignored || role == "" {
			return res.Nodes, nil
		}
	}
	if role == "" {
		return nil, nil
	}
	all, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{NodeID: id, Role: role})
	if err != nil {
		return nil, err
	}
	var out []*accessibility.Node
	for _, a := range all.Nodes {
		if axString(a.Name) == name {
			out = append(out, a)
		}
	}
	return out, nil
}

func axString(v *accessibility.Value) string {
	if v == nil {
		return ""
	}
	var s string
	_ = json.Unmarshal(v.Value, &s)
	return s
}

// ax is a control found by role and name.
type ax struct{ role, name string }

func (c ax) sel() chromedp.Search { return chromedp.Search(c.role + " “" + c.name + "”") }

func (c ax) opts(more ...chromedp.QueryOption) []chromedp.QueryOption {
	return append([]chromedp.QueryOption{byName(c.role, c.name), chromedp.RetryInterval(25 * time.Millisecond)}, more...)
}

func button(name string) ax  { return ax{"button", name} }
func link(name string) ax    { return ax{"link", name} }
func textbox(name string) ax { return ax{"textbox", name} }

// click clicks a control when it is visible.
func (b *tab) click(c ax) {
	b.t.Helper()
	b.do("click "+string(c.sel()), chromedp.Click(c.sel(), c.opts()...))
}

// clickToLoad clicks a control that loads a new page (a link, a submit
// button) and waits for that page.
func (b *tab) clickToLoad(c ax) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil,
		chromedp.Click(c.sel(), c.opts()...))); err != nil {
		b.fail("click "+string(c.sel())+" and wait for the page", err)
	}
	b.logLoad()
}

// typeInto focuses a field and types text at its end, key by key.
func (b *tab) typeInto(c ax, text string) {
	b.t.Helper()
	b.do("type into "+string(c.sel()), chromedp.SendKeys(c.sel(), text, c.opts()...))
}

// fill replaces a field's value by typing: select all, then type.
func (b *tab) fill(c ax, text string) {
	b.t.Helper()
	b.do("fill "+string(c.sel()),
		chromedp.Focus(c.sel(), c.opts()...),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent("\b"),
		chromedp.SendKeys(c.sel(), text, c.opts()...))
}

// keys types text into whatever has the focus.
func (b *tab) keys(text string) {
	b.t.Helper()
	b.do("type "+text, chromedp.KeyEvent(text))
}

// press sends one key n times, with modifiers.
func (b *tab) press(key string, n int, mods ...chromedp.Modifier) {
	b.t.Helper()
	for range n {
		b.do("press a key", chromedp.KeyEvent(key, chromedp.KeyModifiers(mods...)))
	}
}

// enter presses Enter as a keyboard does, without the extra character
// event of chromedp's "\r", which a rich-text editor would see as a second
// line break.
func (b *tab) enter() {
	b.t.Helper()
	b.do("press Enter", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}); err != nil {
				return err
			}
		}
		return nil
	}))
}

// value reads a field's value.
func (b *tab) value(c ax) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(c.sel(), c.opts()...))
	if err != nil {
		b.fail("read "+string(c.sel()), err)
	}
	return v
}

// text reads an element's visible text.
func (b *tab) text(c ax) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(c.sel(), c.opts()...))
	if err != nil {
		b.fail("read "+string(c.sel()), err)
	}
	return v
}

// visible waits until a control is visible.
func (b *tab) visible(c ax) {
	b.t.Helper()
	b.do("wait for "+string(c.sel()), chromedp.WaitVisible(c.sel(), c.opts()...))
}

// has reports whether a control is in the accessibility tree now, without
// waiting.
func (b *tab) has(c ax) bool {
	b.t.Helper()
	n := 0
	_, err := chromedp.Run(b.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		doc, err := cdp.Call(ctx, t, dom.GetDocument, dom.GetDocumentParams{})
		if err != nil {
			return err
		}
		nodes, err := queryAX(ctx, t, doc.Root.NodeID, c.role, c.name)
		if err != nil {
			return err
		}
		for _, a := range nodes {
			if !a.Ignored {
				n++
			}
		}
		return nil
	}))
	if err != nil {
		b.fail("query the accessibility tree", err)
	}
	return n > 0
}

// wantFlash fails the test unless the page says msg in its flash (the
// message after a form); it shows an error flash when there is one.
func (b *tab) wantFlash(msg string) {
	b.t.Helper()
	got := evalJS[string](b, `[...document.querySelectorAll('.flash, [role=alert]')].map(e => e.textContent.trim()).join(' | ')`)
	if !strings.Contains(got, msg) {
		b.t.Fatalf("at %s the page says %q, want %q", b.path(), got, msg)
	}
}

// badge is the editor's status badge.
func (b *tab) badge() string {
	b.t.Helper()
	return evalJS[string](b, `(document.querySelector('.status-line .badge') || {textContent: ''}).textContent.trim()`)
}

// heading is the page's h1 text.
func (b *tab) heading() string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		b.fail("read the h1", err)
	}
	return strings.TrimSpace(v)
}

// signIn signs user in through the sign-in form and waits for the page
// after it.
func (b *tab) signIn(u *auth.User) {
	b.t.Helper()
	b.open("/admin/login")
	b.typeInto(textbox("Email"), u.Email)
	b.typeInto(textbox("Password"), testenv.Password)
	b.clickToLoad(button("Sign in"))
	if p := b.path(); strings.HasPrefix(p, "/admin/login") {
		b.t.Fatalf("sign in as %s: still at %s", u.Email, p)
	}
}

// screenshot writes a PNG of the whole page to CMS_SCREENSHOT_DIR, or a
// directory under the system's temporary directory that outlives the test.
func (b *tab) screenshot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot", err)
	}
	dir := os.Getenv("CMS_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "cms-admin-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// axe-core, read once.
var (
	axeOnce sync.Once
	axeJS   string
	axeErr  error
)

type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// checkAxe runs axe-core (WCAG 2 A and AA, and best practices) on the
// current page and fails the test on every serious or critical violation.
// The script is evaluated through the DevTools protocol, which the page's
// CSP does not govern; a <script> element would be refused.
func (b *tab) checkAxe(what string) {
	b.t.Helper()
	axeOnce.Do(func() {
		var src []byte
		src, axeErr = os.ReadFile(filepath.Join("web", "node_modules", "axe-core", "axe.min.js"))
		axeJS = string(src)
	})
	if axeErr != nil {
		if browserTestsRequired() {
			b.t.Fatalf("CMS_BROWSER_TESTS=required: axe-core: %v (run npm ci in admin/web)", axeErr)
		}
		b.t.Logf("axe checks skipped (%v; run npm ci in admin/web)", axeErr)
		return
	}
	if !evalJS[bool](b, `typeof window.axe === 'object'`) {
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](axeJS)); err != nil {
			b.fail("load axe-core", err)
		}
	}
	raw := evalJS[[]byte](b, `axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']}).then(r => JSON.stringify(r.violations))`)
	var js string
	if err := json.Unmarshal(raw, &js); err != nil {
		b.t.Fatalf("axe result: %v", err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(js), &vs); err != nil {
		b.t.Fatalf("axe result: %v", err)
	}
	serious := 0
	for _, v := range vs {
		if v.Impact != "serious" && v.Impact != "critical" {
			b.t.Logf("axe (%s, %s): %s: %s (%d elements)", what, v.Impact, v.ID, v.Help, len(v.Nodes))
			continue
		}
		serious++
		var targets []string
		for _, n := range v.Nodes {
			summary, _, _ := strings.Cut(strings.TrimPrefix(n.Summary, "Fix any of the following:\n "), "\n")
			targets = append(targets, fmt.Sprintf("\n      %v  %s\n        %s", n.Target, n.HTML, strings.TrimSpace(summary)))
		}
		b.t.Errorf("axe on %s (%s): %s, %s: %s%s", what, b.path(), v.Impact, v.ID, v.Help, strings.Join(targets, ""))
	}
	b.t.Logf("axe on %s: %d violations, %d serious or critical", what, len(vs), serious)
}

// axNames asserts that each control is in the accessibility tree with
// exactly that role and name.
func (b *tab) axNames(where string, controls ...ax) {
	b.t.Helper()
	for _, c := range controls {
		if !b.has(c) {
			b.t.Errorf("%s: no %s named %q in the accessibility tree", where, c.role, c.name)
		}
	}
}

// writePNG writes a small PNG to a temporary file, for uploads.
func writePNG(t *testing.T, name string, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(40 + x%200), uint8(120 + y%100), 180, 255})
		}
	}
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}
