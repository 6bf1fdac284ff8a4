package pages

import (
	"encoding/base64"
	"fmt"
	"html/template"

	qrcode "github.com/skip2/go-qrcode"
)

// QR codes carry activation and verification links to a phone's camera.
// They are inlined as data: URIs (the prompt's CSP allows img-src data:) so
// a one-time link never travels in an image URL of its own.
const (
	// qrCodeSize is the width and height of the image in pixels.
	qrCodeSize = 256
	// maxQRContent bounds what a QR code may carry: a link is a few hundred
	// bytes, and anything longer makes modules too small for a camera.
	maxQRContent = 1024
)

// QRCode returns a data:image/png;base64 URI of a QR code of content
// (medium error correction, qrCodeSize pixels square), for the src of an
// img element in an html/template.
func QRCode(content string) (template.URL, error) {
	if len(content) > maxQRContent {
		return "", fmt.Errorf("QR code content is %d bytes, over the %d-byte limit", len(content), maxQRContent)
	}
	png, err := qrcode.Encode(content, qrcode.Medium, qrCodeSize)
	if err != nil {
		return "", fmt.Errorf("encoding QR code: %w", err)
	}
	// The URI is built here from base64 alone, so marking it safe for a src
	// attribute cannot let anything else through.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}
