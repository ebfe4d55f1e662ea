package media

import (
	"bytes"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/imagefile"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// uploadLimit is the largest upload body: the file and its text fields.
const uploadLimit = imagefile.MaxBytes + 64<<10

// UploadLimit is uploadLimit for other forms that upload to the library
// (the admin UI's), so that every way in takes the same bodies.
const UploadLimit = uploadLimit

// Register mounts the library's routes on r, the /api/v1 group.
func (s *Service) Register(r *auth.Router) {
	read := auth.AtLeast(leastRole[actRead].own)
	r.GET("/media", read, web.Handle(s.handleList))
	r.POST("/media", auth.AtLeast(leastRole[actUpload].own), web.BodyLimit(uploadLimit), web.Handle(s.handleCreate))
	r.GET("/media/:id", read, web.Handle(s.handleGet))
	r.PATCH("/media/:id", auth.AtLeast(leastRole[actChange].own), web.Handle(s.handlePatch))
	r.DELETE("/media/:id", auth.AtLeast(leastRole[actChange].own), web.Handle(s.handleDelete))
}

// RegisterFiles mounts the public files under Path on r, the root group.
func (s *Service) RegisterFiles(r *auth.Router) {
	h := web.Handle(s.handleFile)
	r.GET(Path+":file", auth.Public, h)
	r.HEAD(Path+":file", auth.Public, h)
}

// View is an item as the API shows it.
type View struct {
	ID          string     `json:"id"`
	URL         string     `json:"url"`
	ContentType string     `json:"contentType"`
	Width       int        `json:"width"`
	Height      int        `json:"height"`
	Bytes       int64      `json:"bytes"`
	FileName    string     `json:"fileName"`
	Alt         string     `json:"alt"`
	Caption     string     `json:"caption"`
	Sizes       []SizeView `json:"sizes"`
	UploadedBy  string     `json:"uploadedBy"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// SizeView is one resized rendition.
type SizeView struct {
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	ContentType string `json:"contentType"`
	Bytes       int64  `json:"bytes"`
	URL         string `json:"url"`
}

// View is the API form of it.
func (s *Service) View(it *Item) View {
	v := View{ID: it.ID, URL: s.URL(it.Original), ContentType: it.Format.ContentType(), Width: it.Width,
		Height: it.Height, Bytes: it.Original.Bytes, FileName: it.FileName, Alt: it.Alt, Caption: it.Caption,
		Sizes: make([]SizeView, 0, len(it.Sizes)), UploadedBy: it.UploadedBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
	for _, f := range it.Sizes {
		v.Sizes = append(v.Sizes, SizeView{Width: f.Width, Height: f.Height, ContentType: f.Format.ContentType(),
			Bytes: f.Bytes, URL: s.URL(f)})
	}
	return v
}

func (s *Service) write(c *gin.Context, status int, it *Item) {
	c.Header("ETag", web.ETag(it.Version))
	c.Header("Cache-Control", "no-store")
	c.JSON(status, s.View(it))
}

// readOnly are the members of an item a PATCH may send back unchanged.
var readOnly = web.ReadOnlyMembers("id", "url", "contentType", "width", "height", "bytes", "fileName",
	"sizes", "uploadedBy", "createdAt", "updatedAt")

// uploadTime is how long an upload's body may take to arrive: 20 MB from
// a clinic's slow uplink, where other requests get 30 s.
const uploadTime = 5 * time.Minute

func (s *Service) handleCreate(c *gin.Context) error {
	if _, err := web.ParseQuery(c); err != nil {
		return err
	}
	AllowUploadTime(c.Writer)
	up, err := readUpload(c.Request)
	if err != nil {
		return err
	}
	it, err := s.Create(c.Request.Context(), auth.Caller(c), up)
	if err != nil {
		return err
	}
	c.Header("Location", path.Join(c.Request.URL.Path, it.ID))
	s.write(c, http.StatusCreated, it)
	return nil
}

// AllowUploadTime gives the request the read deadline of an upload
// (uploadTime) instead of the server's, and its answer the time to
// resize after it.
func AllowUploadTime(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(uploadTime)); err == nil {
		// The answer comes after the body and the resizing.
		_ = rc.SetWriteDeadline(time.Now().Add(uploadTime + time.Minute))
	}
}

// readUpload reads the multipart body: one part "file", and "alt" and
// "caption" at most once each; any other part is refused.
func readUpload(r *http.Request) (Upload, error) {
	ups, err := readUploads(r, false)
	if err != nil {
		return Upload{}, err
	}
	return ups[0], nil
}

// ReadUpload reads the body of one upload as the API does; the admin
// UI's image dialog posts the same form.
func ReadUpload(r *http.Request) (Upload, error) { return readUpload(r) }

// ReadUploads is ReadUpload for a form that may send several "file"
// parts (a file input with multiple), which share its alt and caption.
func ReadUploads(r *http.Request) ([]Upload, error) { return readUploads(r, true) }

func readUploads(r *http.Request, many bool) ([]Upload, error) {
	mr, err := web.Multipart(r, "the image in a part named file")
	if err != nil {
		return nil, err
	}
	var ups []Upload
	var alt, caption string
	var f problem.Fields
	var repeatable []string
	if many {
		repeatable = []string{"file"}
	}
	for part, err := range web.Parts(mr, &f, repeatable...) {
		if err != nil {
			return nil, err
		}
		switch name := part.FormName(); name {
		case "file":
			up := Upload{FileName: part.FileName()}
			up.Data, err = io.ReadAll(io.LimitReader(part, imagefile.MaxBytes+1))
			if err != nil {
				return nil, web.BodyError(err)
			}
			if len(up.Data) > imagefile.MaxBytes {
				return nil, problem.New(problem.TooLarge, "the image is over %d MB; at most %d are accepted",
					imagefile.MaxBytes>>20, imagefile.MaxBytes>>20)
			}
			ups = append(ups, up)
		case "alt", "caption":
			b, err := io.ReadAll(io.LimitReader(part, 4*MaxText+1))
			if err != nil {
				return nil, web.BodyError(err)
			}
			if len(b) > 4*MaxText {
				f.Add(name, "must be at most %d characters", MaxText)
			}
			if name == "alt" {
				alt = string(b)
			} else {
				caption = string(b)
			}
		default:
			f.Add(name, "is not a field of an upload (file, alt, caption)")
		}
	}
	if len(ups) == 0 {
		f.Add("file", "is required: the image, as a file part")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	for i := range ups {
		ups[i].Alt, ups[i].Caption = alt, caption
	}
	return ups, nil
}

func (s *Service) handleGet(c *gin.Context) error {
	if _, err := web.ParseQuery(c); err != nil {
		return err
	}
	it, err := s.Get(c.Request.Context(), auth.Caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	if web.NotModified(c, web.ETag(it.Version)) {
		return nil
	}
	s.write(c, http.StatusOK, it)
	return nil
}

const listScope = "media"

func (s *Service) handleList(c *gin.Context) error {
	q, err := web.ParseQuery(c, "limit", "cursor", "q")
	if err != nil {
		return err
	}
	var f problem.Fields
	filter := Filter{Limit: q.Limit(&f, 20, 100), Q: q["q"]}
	if len(filter.Q) > MaxText {
		f.Add("q", "must be at most %d characters", MaxText)
	}
	scope := listScope + "\x00q=" + filter.Q
	var at int64
	var id string
	if q.Cursor(&f, scope, func() bool { return ValidID(id) }, &at, &id) {
		filter.After = &Position{CreatedAt: time.UnixMilli(at).UTC(), ID: id}
	}
	if err := f.Err(); err != nil {
		return err
	}
	want := filter.Limit
	filter.Limit++
	items, err := s.List(auth.Caller(c), filter)
	if err != nil {
		return err
	}
	views := make([]View, len(items))
	for i, it := range items {
		views[i] = s.View(it)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, web.NewPage(views, want, func(v View) string {
		return web.EncodeCursor(scope, v.CreatedAt.UnixMilli(), v.ID)
	}))
	return nil
}

func (s *Service) handlePatch(c *gin.Context) error {
	var p Patch
	at, err := web.ReadUpdate(c, "media item", &p, readOnly, func() (any, int64, error) {
		it, err := s.Get(c.Request.Context(), auth.Caller(c), c.Param("id"))
		if err != nil {
			return nil, 0, err
		}
		return s.View(it), it.Version, nil
	})
	if err != nil {
		return err
	}
	it, err := s.Update(c.Request.Context(), auth.Caller(c), c.Param("id"), at, &p)
	if err != nil {
		return err
	}
	s.write(c, http.StatusOK, it)
	return nil
}

func (s *Service) handleDelete(c *gin.Context) error {
	force, err := web.Force(c)
	if err != nil {
		return err
	}
	at, err := web.IfMatch(c, false, "media item")
	if err != nil {
		return err
	}
	if err := s.Delete(c.Request.Context(), auth.Caller(c), c.Param("id"), at, force); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// The headers of every file answer, built once. The policy forbids
// everything a document could do, should a browser ever render one as a
// page; images are embedded by front ends on other origins.
var (
	immutable    = []string{"public, max-age=31536000, immutable"}
	fileCSP      = []string{"default-src 'none'; sandbox"}
	crossOrig    = []string{"cross-origin"}
	nosniff      = []string{"nosniff"}
	acceptRanges = []string{"bytes"}
)

// handleFile serves a file: GET and HEAD, Range and If-None-Match, from
// memory or local disk. Only files of recorded items are served.
func (s *Service) handleFile(c *gin.Context) error {
	name := c.Param("file")
	key, ext, _ := strings.Cut(name, ".")
	sv, ok := s.lib.Load().byKey[key]
	if !ok || "."+ext != sv.format.Ext() {
		return problem.New(problem.NotFound, "no media file with this name")
	}
	h := c.Writer.Header()
	h["Cache-Control"] = immutable
	h["Etag"] = sv.etagH
	h["Content-Security-Policy"] = fileCSP
	h["Cross-Origin-Resource-Policy"] = crossOrig
	h["X-Content-Type-Options"] = nosniff
	if web.ETagListed(c.Request.Header.Get("If-None-Match"), sv.etag) {
		c.Status(http.StatusNotModified)
		return nil
	}
	data, file, err := s.files.body(c.Request.Context(), key, sv.file.Bytes)
	if err != nil {
		return err
	}
	h["Content-Type"] = sv.contentType
	h["Accept-Ranges"] = acceptRanges
	if file == nil && c.Request.Header.Get("Range") == "" {
		// The usual request, answered from memory without
		// http.ServeContent's copying through a fresh buffer.
		h["Content-Length"] = sv.lengthH
		c.Writer.WriteHeader(http.StatusOK)
		if c.Request.Method != http.MethodHead {
			_, _ = c.Writer.Write(data)
		}
		return nil
	}
	var body io.ReadSeeker = file
	if file != nil {
		defer file.Close()
	} else {
		body = bytes.NewReader(data)
	}
	w := &rangeRefusal{ResponseWriter: c.Writer}
	http.ServeContent(w, c.Request, "", time.Time{}, body)
	if w.refused {
		// http.ServeContent's answer is text; every error here is
		// problem+json. Content-Range (bytes */size) stays.
		for _, k := range []string{"Content-Type", "Cache-Control", "Etag", "Content-Length"} {
			h.Del(k)
		}
		return problem.New(problem.RangeNotSatisfiable, "the range is outside the file's %d bytes", sv.file.Bytes)
	}
	return nil
}

// rangeRefusal passes an answer through, except a 416, which it swallows
// so that the handler can answer it as problem+json.
type rangeRefusal struct {
	http.ResponseWriter
	refused bool
}

func (w *rangeRefusal) WriteHeader(code int) {
	if code == http.StatusRequestedRangeNotSatisfiable {
		w.refused = true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *rangeRefusal) Write(b []byte) (int, error) {
	if w.refused {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}
