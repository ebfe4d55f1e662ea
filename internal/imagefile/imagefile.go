// Package imagefile checks uploaded images and produces the renditions the
// media library stores: a metadata-free original and responsive sizes.
//
// Everything is decided from the bytes, never from a file name or a declared
// content type, because both come from the uploader.
package imagefile

import (
	"errors"
	"fmt"
	"strings"
)

// Format is an accepted image type.
type Format string

// The accepted formats.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	WebP Format = "webp"
)

// ContentType returns "image/jpeg", "image/png" or "image/webp", and
// "application/octet-stream" for anything else.
func (f Format) ContentType() string {
	switch f {
	case JPEG, PNG, WebP:
		return "image/" + string(f)
	}
	return "application/octet-stream"
}

// Ext returns ".jpg", ".png" or ".webp", and "" for anything else.
func (f Format) Ext() string {
	switch f {
	case JPEG:
		return ".jpg"
	case PNG:
		return ".png"
	case WebP:
		return ".webp"
	}
	return ""
}

// Limits for an upload.
const (
	MaxBytes  = 20 << 20   // 20 MiB of file
	MaxPixels = 50_000_000 // 50 megapixels
)

// Errors returned by Inspect and Process, always wrapped with a message a
// user can read; match them with errors.Is.
var (
	// ErrUnsupported means the bytes are not a JPEG, PNG or WebP image we
	// accept (SVG, HTML, GIF, PDF, a polyglot, an animation, empty input).
	ErrUnsupported = errors.New("unsupported file type")
	// ErrTooManyPixels means the header claims more than MaxPixels; it is
	// found before any pixel is decoded, so decompression bombs cost nothing.
	ErrTooManyPixels = errors.New("image has too many pixels")
	// ErrTooLarge means the file is over MaxBytes.
	ErrTooLarge = errors.New("file too large")
	// ErrCorrupt means the bytes look like an accepted type but the header
	// or the image data does not decode, e.g. a truncated upload.
	ErrCorrupt = errors.New("damaged image")
)

// Info is what the header says, with the EXIF orientation already applied:
// a 4000x3000 JPEG whose orientation is 5, 6, 7 or 8 is 3000 wide.
type Info struct {
	Format        Format
	Width, Height int
}

// megapixels formats w*h for messages: "108" or "50.4".
func megapixels(w, h int) string {
	s := fmt.Sprintf("%.1f", float64(w)*float64(h)/1e6)
	return strings.TrimSuffix(s, ".0")
}

// mebibytes formats a size for messages: "20.5 MiB".
func mebibytes(n int) string {
	s := fmt.Sprintf("%.1f", float64(n)/(1<<20))
	return strings.TrimSuffix(s, ".0") + " MiB"
}
