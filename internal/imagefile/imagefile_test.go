package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/gen2brain/webp"
	xwebp "golang.org/x/image/webp"
)

// red marks the top-left corner of every test picture so a rotation can be
// seen in the output.
var red = color.NRGBA{R: 255, A: 255}

// picture is a w x h gradient with a red block in the top-left corner.
func picture(tb testing.TB, w, h int) *image.NRGBA {
	tb.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{R: 0, G: uint8(80 + 100*x/w), B: uint8(120 + 100*y/h), A: 255})
		}
	}
	block := image.Rect(0, 0, max(w/5, 1), max(h/5, 1))
	draw.Draw(m, block, image.NewUniform(red), image.Point{}, draw.Src)
	return m
}

func encodeJPEG(tb testing.TB, m image.Image, quality int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(tb testing.TB, m image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodeWebP(tb testing.TB, m image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := webp.Encode(&buf, m, webp.Options{Quality: 80}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// gpsMarker and the XMP text are inserted into test inputs and must not
// survive Process.
const (
	gpsMarker = "GPSMARKER-52.37N-4.89E"
	xmpText   = "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">XMPMARKER</x:xmpmeta>"
)

// exifAPP1 builds an APP1 Exif segment: a little-endian TIFF header, IFD0
// with Orientation and a GPS IFD pointer, and a GPS IFD whose latitude ref,
// latitude and processing method carry recognisable bytes.
func exifAPP1(orientation uint16) []byte {
	le := binary.LittleEndian
	var t []byte
	t = append(t, 'I', 'I', 42, 0)
	t = le.AppendUint32(t, 8) // IFD0 at 8
	// IFD0: 2 entries, then next-IFD offset 0. Ends at 8+2+24+4 = 38.
	t = le.AppendUint16(t, 2)
	t = appendEntry(t, 0x0112, 3, 1, uint32(orientation)) // Orientation SHORT
	t = appendEntry(t, 0x8825, 4, 1, 38)                  // GPS IFD pointer LONG
	t = le.AppendUint32(t, 0)
	// GPS IFD at 38: 3 entries (38+2+36+4 = 80), then data at 80.
	const data = 80
	t = le.AppendUint16(t, 3)
	t = appendEntry(t, 0x0001, 2, 2, uint32('N'))                  // GPSLatitudeRef "N\0"
	t = appendEntry(t, 0x0002, 5, 3, data)                         // GPSLatitude 3 RATIONAL
	t = appendEntry(t, 0x001B, 7, uint32(len(gpsMarker)), data+24) // GPSProcessingMethod
	t = le.AppendUint32(t, 0)
	for _, v := range []uint32{52, 1, 22, 1, 1234, 100} {
		t = le.AppendUint32(t, v)
	}
	t = append(t, gpsMarker...)
	return segment(0xE1, append([]byte("Exif\x00\x00"), t...))
}

func appendEntry(b []byte, tag, typ uint16, count, value uint32) []byte {
	le := binary.LittleEndian
	b = le.AppendUint16(b, tag)
	b = le.AppendUint16(b, typ)
	b = le.AppendUint32(b, count)
	if typ == 3 {
		b = le.AppendUint16(b, uint16(value))
		return le.AppendUint16(b, 0)
	}
	return le.AppendUint32(b, value)
}

// segment builds a JPEG marker segment.
func segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker}
	s = binary.BigEndian.AppendUint16(s, uint16(len(payload)+2))
	return append(s, payload...)
}

// afterSOI inserts segments right after a JPEG's SOI marker.
func afterSOI(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// pngChunk builds a PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// afterIHDR inserts chunks after a PNG's IHDR (8 signature + 25 IHDR bytes).
func afterIHDR(p []byte, chunks ...[]byte) []byte {
	out := append([]byte{}, p[:33]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[33:]...)
}

// pngTextChunks are metadata chunks that must not survive Process.
func pngTextChunks() [][]byte {
	return [][]byte{
		pngChunk("tEXt", []byte("Comment\x00TEXTMARKER")),
		pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00ITXTMARKER")),
		pngChunk("zTXt", []byte("Author\x00\x00x\x9c\x03\x00\x00\x00\x00\x01")),
	}
}

// decodeAny decodes a variant with the decoder for its format.
func decodeAny(t *testing.T, v Variant) image.Image {
	t.Helper()
	var (
		m   image.Image
		err error
	)
	switch v.Format {
	case JPEG:
		m, err = jpeg.Decode(bytes.NewReader(v.Data))
	case PNG:
		m, err = png.Decode(bytes.NewReader(v.Data))
	case WebP:
		m, err = xwebp.Decode(bytes.NewReader(v.Data))
	}
	if err != nil {
		t.Fatalf("decode %s %dx%d: %v", v.Format, v.Width, v.Height, err)
	}
	return m
}

// checkVariant checks that a variant's bytes are its format and size.
func checkVariant(t *testing.T, v Variant, format Format, w, h int) {
	t.Helper()
	info, err := Inspect(v.Data)
	if err != nil {
		t.Fatalf("%s %dx%d: Inspect output: %v", v.Format, v.Width, v.Height, err)
	}
	want := Info{Format: format, Width: w, Height: h}
	if info != want || v.Format != format || v.Width != w || v.Height != h {
		t.Errorf("variant %+v with bytes %+v, want %+v", Info{v.Format, v.Width, v.Height}, info, want)
	}
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r>>8 > 200 && g>>8 < 60 && b>>8 < 60
}

func TestFormat(t *testing.T) {
	tests := []struct {
		f         Format
		ctype, ex string
	}{
		{JPEG, "image/jpeg", ".jpg"},
		{PNG, "image/png", ".png"},
		{WebP, "image/webp", ".webp"},
		{"gif", "application/octet-stream", ""},
	}
	for _, tt := range tests {
		if got := tt.f.ContentType(); got != tt.ctype {
			t.Errorf("%q.ContentType() = %q, want %q", tt.f, got, tt.ctype)
		}
		if got := tt.f.Ext(); got != tt.ex {
			t.Errorf("%q.Ext() = %q, want %q", tt.f, got, tt.ex)
		}
	}
}

func TestProcess(t *testing.T) {
	big := picture(t, 1000, 750)
	tests := []struct {
		name   string
		data   []byte
		format Format
		w, h   int
		widths []int // sizes expected
	}{
		{"jpeg", encodeJPEG(t, big, 90), JPEG, 1000, 750, []int{320, 640, 960}},
		{"png", encodePNG(t, big), PNG, 1000, 750, []int{320, 640, 960}},
		{"webp", encodeWebP(t, big), WebP, 1000, 750, []int{320, 640, 960}},
		{"jpeg 300 wide", encodeJPEG(t, picture(t, 300, 200), 90), JPEG, 300, 200, nil},
		{"png exactly 320", encodePNG(t, picture(t, 320, 100)), PNG, 320, 100, nil},
		{"png 321", encodePNG(t, picture(t, 321, 100)), PNG, 321, 100, []int{320}},
		{"jpeg tall", encodeJPEG(t, picture(t, 700, 2100), 85), JPEG, 700, 2100, []int{320, 640}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Inspect(tt.data)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if want := (Info{tt.format, tt.w, tt.h}); info != want {
				t.Errorf("Inspect = %+v, want %+v", info, want)
			}
			res, err := Process(tt.data)
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			checkVariant(t, res.Original, tt.format, tt.w, tt.h)

			var want []Variant
			for _, w := range tt.widths {
				h := int(math.Floor(float64(w)*float64(tt.h)/float64(tt.w) + 0.5))
				want = append(want, Variant{Format: tt.format, Width: w, Height: h})
				if tt.format != WebP {
					want = append(want, Variant{Format: WebP, Width: w, Height: h})
				}
			}
			if len(res.Sizes) != len(want) {
				t.Fatalf("got %d sizes, want %d", len(res.Sizes), len(want))
			}
			for i, v := range res.Sizes {
				checkVariant(t, v, want[i].Format, want[i].Width, want[i].Height)
				if v.Width >= tt.w {
					t.Errorf("size %d is %d wide, not narrower than the original %d", i, v.Width, tt.w)
				}
				if !isRed(decodeAny(t, v).At(2, 2)) {
					t.Errorf("size %s %d: top-left corner is not red", v.Format, v.Width)
				}
			}
		})
	}
}

func TestProcessKeepsAlpha(t *testing.T) {
	m := picture(t, 400, 300)
	for y := 200; y < 300; y++ {
		for x := 300; x < 400; x++ {
			m.SetNRGBA(x, y, color.NRGBA{})
		}
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{{"png", encodePNG(t, m)}, {"webp", encodeWebP(t, m)}} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Process(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range append([]Variant{res.Original}, res.Sizes...) {
				img := decodeAny(t, v)
				b := img.Bounds()
				if _, _, _, a := img.At(b.Max.X-3, b.Max.Y-3).RGBA(); a > 0x2000 {
					t.Errorf("%s %dx%d: transparent corner has alpha %#x", v.Format, v.Width, v.Height, a)
				}
				if _, _, _, a := img.At(3, 3).RGBA(); a < 0xF000 {
					t.Errorf("%s %dx%d: opaque corner has alpha %#x", v.Format, v.Width, v.Height, a)
				}
			}
		})
	}
}

func TestOrientation(t *testing.T) {
	// Stored 1000x600 with red top-left. Each orientation moves that corner.
	stored := encodeJPEG(t, picture(t, 1000, 600), 90)
	tests := []struct {
		orientation uint16
		w, h        int
		corner      string // where red ends up in the upright image
	}{
		{1, 1000, 600, "top-left"},
		{3, 1000, 600, "bottom-right"},
		{6, 600, 1000, "top-right"},
		{8, 600, 1000, "bottom-left"},
		{5, 600, 1000, "top-left"},
	}
	for _, tt := range tests {
		t.Run(tt.corner, func(t *testing.T) {
			data := afterSOI(stored, exifAPP1(tt.orientation))
			info, err := Inspect(data)
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != tt.w || info.Height != tt.h {
				t.Errorf("Inspect with orientation %d = %dx%d, want %dx%d", tt.orientation, info.Width, info.Height, tt.w, tt.h)
			}
			res, err := Process(data)
			if err != nil {
				t.Fatal(err)
			}
			checkVariant(t, res.Original, JPEG, tt.w, tt.h)
			for _, v := range append([]Variant{res.Original}, res.Sizes...) {
				img := decodeAny(t, v)
				b := img.Bounds()
				corners := map[string]image.Point{
					"top-left":     {3, 3},
					"top-right":    {b.Max.X - 4, 3},
					"bottom-left":  {3, b.Max.Y - 4},
					"bottom-right": {b.Max.X - 4, b.Max.Y - 4},
				}
				for name, p := range corners {
					if got := isRed(img.At(p.X, p.Y)); got != (name == tt.corner) {
						t.Errorf("orientation %d, %s %dx%d: %s red = %v", tt.orientation, v.Format, v.Width, v.Height, name, got)
					}
				}
			}
		})
	}
}

func TestProcessRemovesMetadata(t *testing.T) {
	jpg := afterSOI(encodeJPEG(t, picture(t, 700, 500), 90),
		exifAPP1(1), segment(0xE1, []byte(xmpText)),
		segment(0xED, []byte("Photoshop 3.0\x008BIMIPTCMARKER")),
		segment(0xE2, []byte("ICC_PROFILE\x00\x01\x01ICCMARKER")),
		segment(0xFE, []byte("COMMENTMARKER")))
	pngData := afterIHDR(encodePNG(t, picture(t, 700, 500)), pngTextChunks()...)
	forbidden := []string{"Exif\x00\x00", gpsMarker, "N\x00\x00\x00", "http://ns.adobe.com/xap", "XMPMARKER",
		"IPTCMARKER", "ICCMARKER", "COMMENTMARKER", "tEXt", "iTXt", "zTXt", "TEXTMARKER", "ITXTMARKER"}

	for _, tt := range []struct {
		name string
		data []byte
	}{{"jpeg", jpg}, {"png", pngData}} {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range forbidden[:2] {
				if tt.name == "jpeg" && !bytes.Contains(tt.data, []byte(s)) {
					t.Fatalf("test input lacks %q", s)
				}
			}
			res, err := Process(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Sizes) != 4 {
				t.Errorf("got %d sizes, want 4", len(res.Sizes))
			}
			for _, v := range append([]Variant{res.Original}, res.Sizes...) {
				for _, s := range forbidden {
					if bytes.Contains(v.Data, []byte(s)) {
						t.Errorf("%s %dx%d contains %q", v.Format, v.Width, v.Height, s)
					}
				}
			}
		})
	}
}

// pngBomb is a valid PNG header claiming w x h with a tiny IDAT.
func pngBomb(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	out := append([]byte{}, magicPNG...)
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, pngChunk("IEND", nil)...)
}

// jpegBomb is SOI, a baseline SOF claiming w x h with three components, EOI.
func jpegBomb(w, h uint16) []byte {
	sof := []byte{8}
	sof = binary.BigEndian.AppendUint16(sof, h)
	sof = binary.BigEndian.AppendUint16(sof, w)
	sof = append(sof, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	out := append([]byte{0xFF, 0xD8}, segment(0xC0, sof)...)
	return append(out, 0xFF, 0xD9)
}

// webpVP8X is an extended WebP header with the given flags and canvas,
// followed by extra chunks.
func webpVP8X(flags byte, w, h uint32, extra ...byte) []byte {
	vp8x := []byte{'V', 'P', '8', 'X', 10, 0, 0, 0, flags, 0, 0, 0,
		byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16),
		byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	body := append([]byte("WEBP"), vp8x...)
	body = append(body, extra...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func TestRefused(t *testing.T) {
	jpg := encodeJPEG(t, picture(t, 400, 300), 90)
	pngData := encodePNG(t, picture(t, 400, 300))
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, picture(t, 20, 20), nil); err != nil {
		t.Fatal(err)
	}
	tooLarge := make([]byte, MaxBytes+1)
	copy(tooLarge, jpg)

	tests := []struct {
		name    string
		data    []byte
		want    error
		inspect bool   // Inspect already refuses (else only Process does)
		msg     string // part of the message the user reads
	}{
		{"png bomb", pngBomb(20000, 20000), ErrTooManyPixels, true, "20000x20000 pixels (400 megapixels)"},
		{"jpeg bomb", jpegBomb(20000, 20000), ErrTooManyPixels, true, "at most 50 are accepted"},
		{"webp bomb", webpVP8X(0, 20000, 20000), ErrTooManyPixels, true, "400 megapixels"},
		{"just over the pixel limit", pngBomb(10000, 5001), ErrTooManyPixels, true, "50 megapixels"},
		{"over MaxBytes", tooLarge, ErrTooLarge, true, "at most 20 MiB"},
		{"truncated jpeg", jpg[:len(jpg)*6/10], ErrCorrupt, false, "JPEG"},
		{"truncated jpeg header", jpg[:40], ErrCorrupt, true, "JPEG header"},
		{"truncated png", pngData[:len(pngData)*6/10], ErrCorrupt, false, "PNG"},
		{"truncated png header", pngData[:20], ErrCorrupt, true, "PNG"},
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ErrUnsupported, true, "HTML or SVG"},
		{"bare svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ErrUnsupported, true, "only JPEG, PNG and WebP"},
		{"html", []byte("<!DOCTYPE html><html><body>hi</body></html>"), ErrUnsupported, true, "HTML"},
		{"gif", gifBuf.Bytes(), ErrUnsupported, true, "GIF"},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), ErrUnsupported, true, "PDF"},
		{"empty", nil, ErrUnsupported, true, "empty"},
		{"jpeg with script comment", afterSOI(jpg, segment(0xFE, []byte("<script>alert(1)</script>"))), ErrUnsupported, true, "markup"},
		{"jpeg with html deep in APP segment", afterSOI(jpg, segment(0xE1, []byte("Exif\x00\x00")), segment(0xEC, append(make([]byte, 5000), "<HTML><body>"...))), ErrUnsupported, true, "markup"},
		{"html with jpeg after", append([]byte("<html><body><img src=x onerror=alert(1)></body></html>"), jpg...), ErrUnsupported, true, "HTML"},
		{"png with html text chunk", afterIHDR(pngData, pngChunk("tEXt", []byte("c\x00<iframe src=//evil>"))), ErrUnsupported, true, "markup"},
		{"animated webp", webpVP8X(0x02, 10, 10, 'A', 'N', 'I', 'M', 6, 0, 0, 0, 0, 0, 0, 0, 0, 0), ErrUnsupported, true, "animated"},
		{"riff but not webp", append([]byte("RIFF\x04\x00\x00\x00WAVE"), make([]byte, 20)...), ErrUnsupported, true, "not a JPEG, PNG or WebP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ierr := Inspect(tt.data)
			if tt.inspect && !errors.Is(ierr, tt.want) {
				t.Errorf("Inspect: %v, want %v", ierr, tt.want)
			}
			if !tt.inspect && ierr != nil {
				t.Errorf("Inspect: %v, want nil (only a full decode finds this)", ierr)
			}
			_, err := Process(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Process: %v, want %v", err, tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.want.Error()+": ") || !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q: want %q, then a reason containing %q", msg, tt.want.Error()+": ", tt.msg)
			}
		})
	}
}

func TestExifOrientationMalformed(t *testing.T) {
	good := exifAPP1(6)[4+6:] // the TIFF block
	tests := []struct {
		name string
		tiff []byte
		want int
	}{
		{"good", good, 6},
		{"empty", nil, 0},
		{"short", good[:7], 0},
		{"bad byte order", append([]byte("XX"), good[2:]...), 0},
		{"ifd past end", append(append([]byte{}, good[:4]...), 0xFF, 0xFF, 0, 0), 0},
		{"entries cut off", good[:20], 0},
	}
	for _, tt := range tests {
		if got := exifOrientation(tt.tiff); got != tt.want {
			t.Errorf("%s: exifOrientation = %d, want %d", tt.name, got, tt.want)
		}
	}
}
