// Package media is the media library: images uploaded once, checked and
// resized (internal/imagefile), kept under names derived from their bytes,
// and served publicly from memory or local disk with no database call per
// request.
//
// An item's files are written first and recorded second. A file is found
// only through a recorded item, so a crash between the two leaves files
// nothing serves, and the sweep (at start and every hour) removes files no
// item records once they are an hour old.
package media

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/imagefile"
	"github.com/wellness/cms/internal/problem"
)

// Limits of the text fields.
const (
	MaxText     = 500 // alt and caption, in characters
	MaxFileName = 200
)

// Item is one image of the library as stored.
type Item struct {
	ID         string           `bson:"_id"`
	Version    int64            `bson:"version"`
	FileName   string           `bson:"fileName"`
	Format     imagefile.Format `bson:"format"`
	Width      int              `bson:"width"`
	Height     int              `bson:"height"`
	Alt        string           `bson:"alt"`
	Caption    string           `bson:"caption"`
	Original   File             `bson:"original"`
	Sizes      []File           `bson:"sizes"`
	UploadedBy string           `bson:"uploadedBy"`
	CreatedAt  time.Time        `bson:"createdAt"`
	UpdatedAt  time.Time        `bson:"updatedAt"`
}

// File is one stored rendition: its key is the start of the SHA-256 of its
// bytes, so the same bytes always have the same URL.
type File struct {
	Key    string           `bson:"key"`
	Format imagefile.Format `bson:"format"`
	Width  int              `bson:"width"`
	Height int              `bson:"height"`
	Bytes  int64            `bson:"bytes"`
}

// Files lists every file of the item, the original first.
func (it *Item) Files() []File { return append([]File{it.Original}, it.Sizes...) }

// Largest is the widest rendition in format f, the original when it is in f.
func (it *Item) Largest(f imagefile.Format) File {
	if it.Original.Format == f {
		return it.Original
	}
	var best File
	for _, s := range it.Sizes {
		if s.Format == f && s.Width > best.Width {
			best = s
		}
	}
	return best
}

// In returns the item's renditions in format f, narrowest first, ending with
// the original when it is in f.
func (it *Item) In(f imagefile.Format) []File {
	var out []File
	for _, s := range it.Sizes {
		if s.Format == f {
			out = append(out, s)
		}
	}
	if it.Original.Format == f {
		out = append(out, it.Original)
	}
	return out
}

// ValidID reports whether id could name an item: the hex of an ObjectID.
func ValidID(id string) bool {
	_, err := bson.ObjectIDFromHex(id)
	return err == nil
}

// action is something done to the library.
type action string

const (
	actRead   action = "read"   // list and fetch items
	actUpload action = "upload" // add an item
	actChange action = "change" // edit alt and caption, delete
)

// leastRole is who may do what, for their own items and for others': the
// one place that says so. It follows the article rules: authors manage
// their own uploads, editors and up everyone's; contributors may pick
// from the library but not add to it.
var leastRole = map[action]struct{ own, other auth.Role }{
	actRead:   {auth.Contributor, auth.Contributor},
	actUpload: {auth.Author, auth.Author},
	actChange: {auth.Author, auth.Editor},
}

// may checks that p may take act on an item uploaded by owner ("" for no
// item yet). Errors: Forbidden.
func may(p *auth.Principal, act action, owner string) error {
	r := leastRole[act]
	least := r.other
	if owner == "" || p.Owns(owner) {
		least = r.own
	}
	if !p.AtLeast(least) {
		if owner != "" && !p.Owns(owner) && p.AtLeast(r.own) {
			return problem.New(problem.Forbidden, "only its uploader or an %s may %s this item", r.other, act)
		}
		return problem.New(problem.Forbidden, "the media library's %s needs the %s role", act, least)
	}
	return nil
}

// cleanText trims s and removes control characters; it reports whether
// what is left is valid UTF-8 of at most max characters.
func cleanText(s string, max int) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	return s, utf8.RuneCountInString(s) <= max
}

// cleanFileName keeps the last element of a client's file name, without
// control characters, at most MaxFileName characters; it is shown and
// searched, never used as a path.
func cleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name, _ = cleanText(strings.ToValidUTF8(name, ""), MaxFileName)
	name = strings.ReplaceAll(name, "\n", " ")
	if r := []rune(name); len(r) > MaxFileName {
		name = string(r[:MaxFileName])
	}
	return name
}
