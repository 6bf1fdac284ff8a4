// Package web holds what every HTTP surface of the gateway shares (the
// prompt's pages, the device API, the admin API and the dashboard): the
// security headers and JSON answers, the fixed files built into the binary,
// and the one error style. A handler returns an *Error (status, the
// message a person or client sees, a code for JSON) or any other error (a
// 500 that never shows its text), and an ErrorWriter turns it into a page
// for a browser or JSON for everyone else.
package web
