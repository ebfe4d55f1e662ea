package imagefile

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"runtime"
	"sync"

	"github.com/disintegration/imaging"
	"github.com/gen2brain/webp"
	xwebp "golang.org/x/image/webp"
)

// Widths are the responsive widths produced (never larger than the original).
var Widths = []int{320, 640, 960, 1280, 1920}

// Encoder settings. WebP is always lossy: the sizes are for display, and
// lossless WebP of a photo is larger than the JPEG it replaces.
const (
	jpegQuality = 85
	webpQuality = 80
	// webpMethod is libwebp's speed/size trade-off (0 fast .. 6 small):
	// 1 encodes about three times faster than the default 4
	// (0.24 against 0.9 s at 1920 wide), for files about 15% larger; at
	// 4, WebP alone would take most of an upload's 1.5 s budget.
	webpMethod = 1
)

// Variant is one encoded rendition.
type Variant struct {
	Format        Format
	Width, Height int
	Data          []byte
}

// Result is what Process makes of an upload.
type Result struct {
	// Original is the full-size image re-encoded in its own format. Encoding
	// from pixels is what removes EXIF (with GPS), XMP, IPTC, ICC and PNG
	// text chunks: none of them is copied.
	Original Variant
	// Sizes holds, for each of Widths smaller than the original, the image
	// in the original format and then in WebP, by increasing width.
	Sizes []Variant
}

// Process checks data as Inspect does, decodes it fully, applies the EXIF
// orientation and encodes the original and the sizes. It returns the errors
// of Inspect, and ErrCorrupt when the pixel data does not decode (a
// truncated file).
//
// Memory is bounded by one decoded full-size image plus its sizes (at most
// 1920 wide, about a third of a 12-megapixel image in all). The encodes run
// on every core; how many uploads are processed at once is the caller's
// limit.
func Process(data []byte) (Result, error) {
	info, orientation, err := inspect(data)
	if err != nil {
		return Result{}, err
	}
	img, err := decode(data, info.Format, orientation)
	if err != nil {
		return Result{}, err
	}
	b := img.Bounds()
	if b.Dx() != info.Width || b.Dy() != info.Height {
		// The header and the pixels disagree; the media library would
		// store wrong dimensions.
		return Result{}, fmt.Errorf("%w: the %s header says %dx%d but the pixels are %dx%d",
			ErrCorrupt, name(info.Format), info.Width, info.Height, b.Dx(), b.Dy())
	}

	// The sizes are made widest first, each from the one before it (the
	// first from the full-size image): a Lanczos resize costs in proportion
	// to its source, and from 12 megapixels five resizes took most of an
	// upload's time. Each step at least halves the width at most 3x, which
	// Lanczos handles without visible loss.
	formats := []Format{info.Format, WebP}
	if info.Format == WebP {
		formats = formats[:1]
	}
	jobs := []job{{img: img, format: info.Format}}
	src := image.Image(img)
	for i := len(Widths) - 1; i >= 0; i-- {
		if Widths[i] >= b.Dx() {
			continue
		}
		small := imaging.Resize(src, Widths[i], 0, imaging.Lanczos)
		src = small
		for _, f := range formats {
			jobs = append(jobs, job{img: small, format: f})
		}
	}
	if err := encodeAll(jobs); err != nil {
		return Result{}, err
	}
	res := Result{Original: jobs[0].variant()}
	// Widest first above; the Result lists them narrowest first, the
	// original format before WebP.
	for i := len(jobs) - len(formats); i > 0; i -= len(formats) {
		for k := range formats {
			res.Sizes = append(res.Sizes, jobs[i+k].variant())
		}
	}
	return res, nil
}

// job is one rendition to encode.
type job struct {
	img    image.Image
	format Format
	data   []byte
}

func (j *job) variant() Variant {
	b := j.img.Bounds()
	return Variant{Format: j.format, Width: b.Dx(), Height: b.Dy(), Data: j.data}
}

// encodeAll encodes the jobs on every core: the WebP encoder is the slowest
// step and each of its calls runs on one.
func encodeAll(jobs []job) error {
	next := make(chan int)
	errs := make(chan error, len(jobs))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for i := range next {
				var err error
				jobs[i].data, err = encode(jobs[i].img, jobs[i].format)
				errs <- err
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// decode decodes the pixels and turns them upright. It returns ErrCorrupt
// for data that ends early or does not decode.
func decode(data []byte, format Format, orientation int) (image.Image, error) {
	var (
		img image.Image
		err error
	)
	r := bytes.NewReader(data)
	switch format {
	case JPEG:
		img, err = jpeg.Decode(r)
	case PNG:
		img, err = png.Decode(r)
	case WebP:
		img, err = xwebp.Decode(r)
	default:
		return nil, fmt.Errorf("%w: format %q", ErrUnsupported, format)
	}
	if err != nil {
		return nil, decodeError(format, "image data", err)
	}
	return orient(img, orientation), nil
}

// orient applies an EXIF orientation (1 to 8) so the pixels are upright.
// The imaging rotations are counter-clockwise: orientation 6 ("rotate 90°
// clockwise to display") is Rotate270.
func orient(img image.Image, orientation int) image.Image {
	switch orientation {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// encode writes img in format f with the package's settings.
func encode(img image.Image, f Format) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch f {
	case JPEG:
		err = jpeg.Encode(&buf, opaqueRGBA(img), &jpeg.Options{Quality: jpegQuality})
	case PNG:
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		err = enc.Encode(&buf, img)
	case WebP:
		err = webp.Encode(&buf, tightNRGBA(img), webp.Options{Quality: webpQuality, Method: webpMethod})
	default:
		err = fmt.Errorf("unknown format %q", f)
	}
	if err != nil {
		// Not the uploader's fault: the caller's 500.
		return nil, fmt.Errorf("encode %s %dx%d: %w", name(f), img.Bounds().Dx(), img.Bounds().Dy(), err)
	}
	return buf.Bytes(), nil
}

// opaqueRGBA lets image/jpeg take its fast path for the *image.NRGBA that
// imaging returns; otherwise it reads every pixel through At. JPEG output
// only ever comes from a JPEG source, which is opaque, and for opaque pixels
// NRGBA and RGBA bytes are the same. JPEG has no alpha anyway.
func opaqueRGBA(img image.Image) image.Image {
	if m, ok := img.(*image.NRGBA); ok {
		return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	}
	return img
}

// tightNRGBA returns img as an *image.NRGBA at the origin with no row
// padding. gen2brain/webp hands Pix straight to libwebp assuming exactly
// that, and for an *image.NYCbCrA (what x/image/webp returns for lossy WebP
// with alpha) it assumes Y, Cb, Cr and A are one contiguous buffer, which
// they are not: it reads the wrong memory and the alpha comes out garbled.
func tightNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	if m, ok := img.(*image.NRGBA); ok && b.Min == (image.Point{}) && m.Stride == 4*b.Dx() {
		return m
	}
	// imaging converts YCbCr row by row much faster than draw.Draw does
	// into an NRGBA.
	return imaging.Clone(img)
}
