// Package pages writes every page the gateway shows a person: the login
// form, the device prompt and its waiting state, the denial and notice
// after a device check, the refusal of the access rules, sign-out, the
// app-link fallback and the one message page that also shows errors. One
// Writer holds the templates and the static files (stylesheet, script),
// both built into the binary; the gate decides what to show and calls the
// Writer's method for that page. Everything a page shows that came from a
// person or a device goes through html/template and is escaped.
package pages
