package wpimport

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Limit bounds an uploaded export (and its Pretty Links file).
const Limit = 512 << 20

// requestTime is how long an import request may take: the upload from a
// slow uplink and the import of a large site after it.
const requestTime = 30 * time.Minute

// Register mounts POST /import/wxr on r, the /api/v1 group: admins only.
func (s *Service) Register(r *auth.Router) {
	r.POST("/import/wxr", auth.AtLeast(auth.Admin), web.BodyLimit(Limit), web.Handle(s.handleImport))
}

func (s *Service) handleImport(c *gin.Context) error {
	if _, err := web.ParseQuery(c); err != nil {
		return err
	}
	AllowTime(c.Writer)
	form, err := ReadForm(c.Request)
	if err != nil {
		return err
	}
	defer form.Close()
	form.Run.By = auth.Caller(c)
	rep, err := s.Import(c.Request.Context(), form.File, form.Run)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, rep)
	return nil
}

// AllowTime gives an import request requestTime to arrive and answer,
// instead of the server's bounds.
func AllowTime(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(requestTime)); err == nil {
		_ = rc.SetWriteDeadline(time.Now().Add(requestTime))
	}
}

// Form is an import request read: the export in a temporary file (it is
// read twice) and the run's options. Close removes the files.
type Form struct {
	File  *os.File
	Run   Run
	files []*os.File
}

// Close removes the temporary files.
func (f *Form) Close() {
	for _, file := range f.files {
		file.Close()
		os.Remove(file.Name())
	}
}

// ReadForm reads a multipart import request, the API's and the admin
// UI's: the part "file" (the WXR export, required), "prettyLinks" (a
// Pretty Links CSV), "authorMap" (see ParseAuthorMap), "dryRun" ("true"
// or "false") and "media" ("keep" or "import"). Any other part is refused.
func ReadForm(r *http.Request) (_ *Form, err error) {
	mr, err := web.Multipart(r, "the export in a part named file")
	if err != nil {
		return nil, err
	}
	form := &Form{}
	defer func() {
		if err != nil {
			form.Close()
		}
	}()
	var f problem.Fields
	for part, err := range web.Parts(mr, &f) {
		if err != nil {
			return nil, err
		}
		switch name := part.FormName(); name {
		case "file", "prettyLinks":
			if part.FileName() == "" {
				continue // a browser sends a file input left empty as a part without a file name
			}
			file, err := form.spool(part)
			if err != nil {
				return nil, err
			}
			if name == "file" {
				form.File = file
			} else {
				form.Run.PrettyLinks = file
			}
		case "authorMap":
			b, err := io.ReadAll(io.LimitReader(part, 64<<10))
			if err != nil {
				return nil, web.BodyError(err)
			}
			if form.Run.AuthorMap, err = ParseAuthorMap(string(b)); err != nil {
				f.Add(name, "%v", err)
			}
		case "dryRun", "media":
			b, err := io.ReadAll(io.LimitReader(part, 16))
			if err != nil {
				return nil, web.BodyError(err)
			}
			v := strings.TrimSpace(string(b))
			switch {
			case name == "dryRun" && (v == "true" || v == "on"):
				form.Run.DryRun = true
			case name == "dryRun" && (v == "false" || v == ""):
			case name == "media" && (v == MediaKeep || v == MediaImport):
				form.Run.Media = v
			case name == "media":
				f.Add(name, "must be keep or import")
			default:
				f.Add(name, "must be true or false")
			}
		default:
			f.Add(name, "is not a field of an import (file, prettyLinks, authorMap, dryRun, media)")
		}
	}
	if form.File == nil {
		f.Add("file", "is required: the WordPress export (Tools > Export in WordPress)")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return form, nil
}

// spool copies a part to a temporary file, rewound.
func (f *Form) spool(r io.Reader) (*os.File, error) {
	file, err := os.CreateTemp("", "cms-import-*")
	if err != nil {
		return nil, fmt.Errorf("store the upload: %w", err)
	}
	f.files = append(f.files, file)
	if _, err := io.Copy(file, r); err != nil {
		return nil, web.BodyError(err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return file, nil
}

// ParseAuthorMap reads "login=email" pairs, separated by commas or lines:
// which existing user each WordPress login's posts go to.
func ParseAuthorMap(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, pair := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		login, email, ok := strings.Cut(pair, "=")
		login, email = strings.TrimSpace(login), strings.TrimSpace(email)
		if !ok || login == "" || email == "" {
			return nil, fmt.Errorf("%q is not login=email", pair)
		}
		m[login] = email
	}
	return m, nil
}
