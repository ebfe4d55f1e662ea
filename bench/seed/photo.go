package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

// phonePhoto is a w x h JPEG that compresses like a photo (gradients with
// noise, about 1 byte a pixel at quality 90), not like a flat colour.
func phonePhoto(w, h int) ([]byte, error) {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			v := (x*200/w + y*55/h + r.IntN(24)) & 0xff
			img.Y[img.YOffset(x, y)] = uint8(v)
		}
	}
	for y := range h / 2 {
		for x := range w / 2 {
			i := img.COffset(x*2, y*2)
			img.Cb[i] = uint8(100 + x*60/w + r.IntN(6))
			img.Cr[i] = uint8(140 - y*40/h + r.IntN(6))
		}
	}
	var b bytes.Buffer
	err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	return b.Bytes(), err
}

// uploadPhoto uploads a 12-megapixel phone-sized JPEG and returns the
// path of its 640-pixel JPEG rendition and the upload's duration.
func uploadPhoto(c *client) (string, time.Duration, int, error) {
	data, err := phonePhoto(4000, 3000)
	if err != nil {
		return "", 0, 0, err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, err := w.CreateFormFile("file", "treatment-room.jpg")
	if err != nil {
		return "", 0, 0, err
	}
	fw.Write(data)
	w.WriteField("alt", "The treatment room")
	w.Close()
	req, err := http.NewRequest(http.MethodPost, c.base+"/api/v1/media", &body)
	if err != nil {
		return "", 0, 0, err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	c.mu.Lock()
	req.Header.Set("Authorization", "Bearer "+c.token)
	c.mu.Unlock()
	t0 := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return "", 0, 0, err
	}
	defer resp.Body.Close()
	took := time.Since(t0)
	var item struct {
		Sizes []struct {
			Width       int    `json:"width"`
			ContentType string `json:"contentType"`
			URL         string `json:"url"`
		} `json:"sizes"`
	}
	if resp.StatusCode != http.StatusCreated {
		return "", 0, 0, fmt.Errorf("upload a photo: %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&item); err != nil {
		return "", 0, 0, err
	}
	for _, s := range item.Sizes {
		if s.Width == 640 && s.ContentType == "image/jpeg" {
			i := strings.Index(s.URL, "/media/")
			return s.URL[i:], took, len(data), nil
		}
	}
	return "", 0, 0, fmt.Errorf("the photo has no 640-pixel JPEG")
}
