package imagefile

import (
	"errors"
	"testing"
)

// FuzzInspect checks that Inspect never panics, that every refusal is one of
// the four error kinds (so the caller can always map it to a status), and
// that whatever it accepts is within the limits.
func FuzzInspect(f *testing.F) {
	small := picture(f, 40, 30)
	jpg := encodeJPEG(f, small, 80)
	f.Add(jpg)
	f.Add(afterSOI(jpg, exifAPP1(6)))
	f.Add(afterSOI(jpg, segment(0xFE, []byte("<script>"))))
	f.Add(encodePNG(f, small))
	f.Add(afterIHDR(encodePNG(f, small), pngTextChunks()...))
	f.Add(encodeWebP(f, small))
	f.Add(pngBomb(20000, 20000))
	f.Add(jpegBomb(20000, 20000))
	f.Add(webpVP8X(0, 20000, 20000))
	f.Add(webpVP8X(0x02, 10, 10))
	f.Add(jpg[:len(jpg)/2])
	f.Add([]byte("<svg/>"))
	f.Add([]byte("GIF89a"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Inspect(data)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooManyPixels) &&
				!errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Inspect error of no known kind: %v", err)
			}
			return
		}
		switch info.Format {
		case JPEG, PNG, WebP:
		default:
			t.Fatalf("accepted format %q", info.Format)
		}
		if info.Width <= 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > MaxPixels {
			t.Fatalf("accepted %dx%d", info.Width, info.Height)
		}
		if len(data) > MaxBytes {
			t.Fatalf("accepted %d bytes", len(data))
		}
	})
}
