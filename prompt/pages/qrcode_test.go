package pages

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

func TestQRCodeDataURIIsPNGOfTheContent(t *testing.T) {
	for _, content := range []string{
		"trustgate://activate?code=abc&origin=https%3A%2F%2Fgate.example.com",
		"https://gate.example.com/.trustgate/app/verify?challenge=c&tx=t",
		strings.Repeat("x", maxQRContent),
	} {
		uri, err := QRCode(content)
		if err != nil {
			t.Fatalf("QRCode(%d bytes): %v", len(content), err)
		}
		img := decodeQRDataURI(t, string(uri))
		b := img.Bounds()
		if b.Dx() != qrCodeSize || b.Dy() != qrCodeSize {
			t.Errorf("%d bytes: image is %dx%d, want %dx%d", len(content), b.Dx(), b.Dy(), qrCodeSize, qrCodeSize)
		}

		// No QR decoder is in the module cache, so compare the modules of
		// the image with the symbol for content at medium error correction:
		// a different content or level gives a different symbol.
		want, err := qrcode.New(content, qrcode.Medium)
		if err != nil {
			t.Fatal(err)
		}
		modules := want.Bitmap()
		n := len(modules)
		for row := range n {
			for col := range n {
				x := b.Min.X + int((float64(col)+0.5)*float64(b.Dx())/float64(n))
				y := b.Min.Y + int((float64(row)+0.5)*float64(b.Dy())/float64(n))
				if got := qrModuleDark(img, x, y); got != modules[row][col] {
					t.Fatalf("%d bytes: module (%d,%d) dark=%v, want %v", len(content), row, col, got, modules[row][col])
				}
			}
		}
	}
}

func TestQRCodeDataURIRefusesLongContent(t *testing.T) {
	uri, err := QRCode(strings.Repeat("x", maxQRContent+1))
	if err == nil {
		t.Fatalf("QRCode accepted %d bytes: %.40s...", maxQRContent+1, uri)
	}
	if uri != "" {
		t.Errorf("got URI %.40s... with error %v", uri, err)
	}
}

func decodeQRDataURI(t *testing.T, uri string) image.Image {
	t.Helper()
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(uri, prefix) {
		t.Fatalf("URI %.40s... lacks prefix %q", uri, prefix)
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(uri, prefix))
	if err != nil {
		t.Fatalf("decoding base64: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	return img
}

func qrModuleDark(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	return r+g+b < 3*0x8000
}
