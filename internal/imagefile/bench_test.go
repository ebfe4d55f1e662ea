package imagefile

import (
	"image"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/disintegration/imaging"
)

// photo is a w x h image with smooth gradients, soft shapes and noise, so
// JPEG and WebP work about as hard as on a camera picture; a flat colour
// would make every encoder look fast.
func photo(tb testing.TB, w, h int) *image.YCbCr {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// Two crossing gradients plus a ripple and grain.
			v := 60 + 120*x/w + 40*y/h + int(20*sin(float64(x*y)/90000)) + rng.IntN(24) - 12
			m.Y[y*m.YStride+x] = uint8(min(max(v, 0), 255))
		}
	}
	for y := 0; y < (h+1)/2; y++ {
		for x := 0; x < (w+1)/2; x++ {
			i := y*m.CStride + x
			m.Cb[i] = uint8(100 + 60*x/w + rng.IntN(8))
			m.Cr[i] = uint8(110 + 50*y/h + rng.IntN(8))
		}
	}
	return m
}

// sin is a cheap periodic ripple; exactness does not matter here.
func sin(x float64) float64 {
	x -= float64(int(x/6.2832)) * 6.2832
	return x/3.1416 - 1
}

// peakHeap samples HeapAlloc every few milliseconds until stop is called
// and returns the largest value seen.
func peakHeap() (stop func() uint64) {
	var (
		peak uint64
		wg   sync.WaitGroup
	)
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// BenchmarkProcessPhoto12MP processes a 4000x3000 JPEG at quality 90 and
// reports the peak heap and, from one extra run of each stage, where the
// time goes (CPU time per stage, one after another). Run it with -benchtime=1x or 3x.
func BenchmarkProcessPhoto12MP(b *testing.B) {
	data := encodeJPEG(b, photo(b, 4000, 3000), 90)
	if _, err := Process(data[:1000]); err == nil {
		b.Fatal("warm-up on a truncated file did not fail")
	}
	encode(image.NewNRGBA(image.Rect(0, 0, 8, 8)), WebP) // compile the wasm module outside the timer

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	stop := peakHeap()
	b.ResetTimer()
	for b.Loop() {
		res, err := Process(data)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Sizes) != 10 {
			b.Fatalf("%d sizes", len(res.Sizes))
		}
	}
	b.StopTimer()
	peak := stop()
	b.ReportMetric(float64(len(data))/(1<<20), "input-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peak-base)/(1<<20), "peak-over-base-MiB")

	// The split, measured once per stage with the same functions Process uses.
	ms0 := func(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
	t := time.Now()
	info, orientation, err := inspect(data)
	if err != nil {
		b.Fatal(err)
	}
	img, err := decode(data, info.Format, orientation)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms0(t), "decode-ms")
	t = time.Now()
	if _, err := encode(img, JPEG); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms0(t), "orig-jpeg-ms")
	// Resizes chained widest first, as Process does; encodes one at a time
	// here, so the split is CPU time per stage (Process overlaps encodes).
	var resize, jpg, wp time.Duration
	src := img
	for i := len(Widths) - 1; i >= 0; i-- {
		t := time.Now()
		small := imaging.Resize(src, Widths[i], 0, imaging.Lanczos)
		src = small
		resize += time.Since(t)
		t = time.Now()
		if _, err := encode(small, JPEG); err != nil {
			b.Fatal(err)
		}
		jpg += time.Since(t)
		t = time.Now()
		if _, err := encode(small, WebP); err != nil {
			b.Fatal(err)
		}
		wp += time.Since(t)
	}
	b.ReportMetric(float64(resize.Microseconds())/1000, "resize-ms")
	b.ReportMetric(float64(jpg.Microseconds())/1000, "sizes-jpeg-ms")
	b.ReportMetric(float64(wp.Microseconds())/1000, "sizes-webp-ms")
}
