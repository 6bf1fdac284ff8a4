// Package deviceapi is the device API over HTTP (docs/device-api.yaml):
// what the trustgate app calls under protocol.APIPrefix to activate, report
// a device's health, list its login requests (a long-poll the device
// service's Waker wakes) and answer them. Each request is rate-limited per
// client address (and, once its proof verifies, per device) by the
// Limiter, routed by an http.ServeMux, and handled by a function that
// reads and checks the body and the device's signed proof, calls package
// device, and writes the answer. Every failure is returned, not written:
// one web.ErrorWriter turns it into the protocol's JSON error
// ({"error": ..., "code": ...}) with the status its code stands for.
package deviceapi
