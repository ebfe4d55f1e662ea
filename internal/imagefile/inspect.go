package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	xwebp "golang.org/x/image/webp"
)

var (
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
)

// markup is what makes a file dangerous to serve if a browser ever sniffs it
// as HTML or SVG. Lower case; matched case-insensitively. Not "<?xml": the
// XMP block of a camera's or an editor's JPEG may start with it, and an SVG
// has "<svg" anyway. (The uploaded bytes are never served: every rendition
// is encoded anew from the pixels. Refusing these files is a second wall.)
var markup = [][]byte{
	[]byte("<!doctype"), []byte("<html"), []byte("<script"), []byte("<svg"),
	[]byte("<body"), []byte("<iframe"),
}

// sniffWindow is how much of every file is searched for markup; browsers
// sniff about the first 512 bytes, so 1024 leaves a margin.
const sniffWindow = 1024

// maxScans bounds the scans of a progressive JPEG. The Go decoder walks every
// block of the image once per scan, so a file of many tiny scans would cost
// pixels times scans; real encoders write about ten.
const maxScans = 100

// Inspect sniffs the type from the bytes and reads the dimensions from the
// header without decoding pixels. It returns ErrTooLarge for more than
// MaxBytes, ErrUnsupported for anything but JPEG, PNG and WebP (and for
// polyglots and animated WebP), ErrTooManyPixels for more than MaxPixels and
// ErrCorrupt for a header that does not parse.
func Inspect(data []byte) (Info, error) {
	info, _, err := inspect(data)
	return info, err
}

// inspect is Inspect that also returns the EXIF orientation (1 to 8) that
// Process has to apply to the decoded pixels.
func inspect(data []byte) (Info, int, error) {
	if len(data) == 0 {
		return Info{}, 0, fmt.Errorf("%w: the file is empty", ErrUnsupported)
	}
	if len(data) > MaxBytes {
		return Info{}, 0, fmt.Errorf("%w: the file is %s; at most %s are accepted",
			ErrTooLarge, mebibytes(len(data)), mebibytes(MaxBytes))
	}
	format, err := sniff(data)
	if err != nil {
		return Info{}, 0, err
	}
	if hasMarkup(data[:min(len(data), sniffWindow)]) {
		return Info{}, 0, fmt.Errorf("%w: the %s file contains HTML or SVG markup", ErrUnsupported, name(format))
	}

	var cfg image.Config
	orientation := 1
	switch format {
	case JPEG:
		var w, h int
		if orientation, w, h, err = checkJPEG(data); err != nil {
			return Info{}, 0, err
		}
		// Checked before the decoder sees the file: image/jpeg reads on to
		// the first scan even for a config, and a bomb need not have one.
		if err := checkPixels(w, h); err != nil {
			return Info{}, 0, err
		}
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case PNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case WebP:
		if isAnimatedWebP(data) {
			return Info{}, 0, fmt.Errorf("%w: animated WebP images are not accepted", ErrUnsupported)
		}
		cfg, err = xwebp.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return Info{}, 0, decodeError(format, "header", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, 0, fmt.Errorf("%w: the %s header gives a size of %dx%d pixels", ErrCorrupt, name(format), cfg.Width, cfg.Height)
	}
	if err := checkPixels(cfg.Width, cfg.Height); err != nil {
		return Info{}, 0, err
	}
	info := Info{Format: format, Width: cfg.Width, Height: cfg.Height}
	if orientation >= 5 {
		info.Width, info.Height = info.Height, info.Width
	}
	return info, orientation, nil
}

// checkPixels returns ErrTooManyPixels if w x h is over MaxPixels.
func checkPixels(w, h int) error {
	if int64(w)*int64(h) > MaxPixels {
		return fmt.Errorf("%w: the image is %dx%d pixels (%s megapixels); at most %s are accepted",
			ErrTooManyPixels, w, h, megapixels(w, h), megapixels(MaxPixels, 1))
	}
	return nil
}

// sniff names the format from the magic bytes, and names a few common
// refused types so the message tells the user what they uploaded.
func sniff(data []byte) (Format, error) {
	switch {
	case bytes.HasPrefix(data, magicJPEG):
		return JPEG, nil
	case bytes.HasPrefix(data, magicPNG):
		return PNG, nil
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return WebP, nil
	}
	kind := "not a JPEG, PNG or WebP image"
	switch {
	case bytes.HasPrefix(data, []byte("GIF8")):
		kind = "a GIF image"
	case bytes.HasPrefix(data, []byte("%PDF")):
		kind = "a PDF document"
	case hasMarkup(data[:min(len(data), sniffWindow)]):
		kind = "an HTML or SVG document"
	}
	return "", fmt.Errorf("%w: the file is %s; only JPEG, PNG and WebP images are accepted", ErrUnsupported, kind)
}

// hasMarkup reports whether b contains one of the markup openers, ignoring
// case. It looks only at each '<', so it is linear in len(b).
func hasMarkup(b []byte) bool {
	for i := bytes.IndexByte(b, '<'); i >= 0; {
		rest := b[i:]
		for _, m := range markup {
			if len(rest) >= len(m) && bytes.EqualFold(rest[:len(m)], m) {
				return true
			}
		}
		next := bytes.IndexByte(rest[1:], '<')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

// checkJPEG walks the JPEG segments once. It refuses markup in COM and APPn
// segments (a JPEG that is also an HTML page), refuses more than maxScans
// scans, and returns the EXIF orientation (1 if there is none) and the size
// in the first SOF segment (0x0 if there is none).
func checkJPEG(data []byte) (orientation, width, height int, err error) {
	scans := 0
	i := 2 // after SOI
	for i < len(data) {
		if data[i] != 0xFF {
			if scans == 0 {
				return 0, 0, 0, fmt.Errorf("%w: the JPEG header is malformed (no marker at byte %d)", ErrCorrupt, i)
			}
			i++ // entropy-coded data between scans
			continue
		}
		if i+1 >= len(data) {
			break
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01:
			// Stuffed 0xFF, restart marker or TEM: no length follows.
			i += 2
			continue
		case marker == 0xD9: // EOI: what follows is not part of the image
			return max(orientation, 1), width, height, nil
		}
		if i+4 > len(data) {
			return 0, 0, 0, fmt.Errorf("%w: the JPEG header ends early", ErrCorrupt)
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 0, 0, 0, fmt.Errorf("%w: the JPEG header ends early or has a bad segment length", ErrCorrupt)
		}
		seg := data[i+4 : i+2+n]
		switch {
		case marker == 0xFE || (marker >= 0xE0 && marker <= 0xEF):
			if hasMarkup(seg) {
				return 0, 0, 0, fmt.Errorf("%w: the JPEG file contains HTML or SVG markup in its metadata", ErrUnsupported)
			}
			if marker == 0xE1 && orientation == 0 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
				orientation = exifOrientation(seg[6:])
			}
		case marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
			// SOFn: precision, height, width. DHT, JPG and DAC share the range.
			if width == 0 && len(seg) >= 5 {
				height = int(binary.BigEndian.Uint16(seg[1:]))
				width = int(binary.BigEndian.Uint16(seg[3:]))
			}
		case marker == 0xDA:
			scans++
			if scans > maxScans {
				return 0, 0, 0, fmt.Errorf("%w: the JPEG has more than %d progressive scans", ErrUnsupported, maxScans)
			}
		}
		i += 2 + n
	}
	// A missing EOI is the decoder's business: Process decodes fully.
	return max(orientation, 1), width, height, nil
}

// exifOrientation reads tag 0x0112 from IFD0 of a TIFF block and returns it,
// or 0 if it is missing or out of range. Every offset is bounds-checked
// because the block comes from the uploader.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return 0
	}
	ifd := int64(bo.Uint32(tiff[4:]))
	if ifd+2 > int64(len(tiff)) {
		return 0
	}
	count := int64(bo.Uint16(tiff[ifd:]))
	for e := ifd + 2; e+12 <= int64(len(tiff)) && e < ifd+2+count*12; e += 12 {
		if bo.Uint16(tiff[e:]) != 0x0112 {
			continue
		}
		if bo.Uint16(tiff[e+2:]) != 3 { // SHORT
			return 0
		}
		v := int(bo.Uint16(tiff[e+8:]))
		if v < 1 || v > 8 {
			return 0
		}
		return v
	}
	return 0
}

// isAnimatedWebP reports whether an extended WebP (VP8X first) sets the
// animation flag. x/image/webp cannot decode animations, and keeping only
// the first frame would surprise the uploader.
func isAnimatedWebP(data []byte) bool {
	return len(data) >= 21 && string(data[12:16]) == "VP8X" && data[20]&0x02 != 0
}

// decodeError classifies an error from a Go image decoder: features the
// decoder lacks are ErrUnsupported, everything else (bad or missing bytes)
// is ErrCorrupt. The decoder's text stays in the message for the logs.
func decodeError(format Format, what string, err error) error {
	switch e := err.(type) {
	case jpeg.UnsupportedError:
		return fmt.Errorf("%w: the JPEG uses a feature that is not supported (%s)", ErrUnsupported, string(e))
	case png.UnsupportedError:
		return fmt.Errorf("%w: the PNG uses a feature that is not supported (%s)", ErrUnsupported, string(e))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: the %s file is cut off (its %s ends early)", ErrCorrupt, name(format), what)
	}
	return fmt.Errorf("%w: the %s %s cannot be read (%v)", ErrCorrupt, name(format), what, err)
}

// name is the format as users write it.
func name(f Format) string {
	switch f {
	case JPEG:
		return "JPEG"
	case PNG:
		return "PNG"
	case WebP:
		return "WebP"
	}
	return string(f)
}
