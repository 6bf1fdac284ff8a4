// Package session keeps people signed in between requests. After a
// primary login the gate asks a Keeper to Start a session: a
// self-contained cookie, signed and encrypted by the CookieCodec (whose
// keys rotate without signing anybody out), so that a signed-in request
// reads no storage. On every later request the Keeper reads it back in one
// place (decoding answered from a cache of decoded cookies, then expiry,
// the realm the session was issued in, and server-side Revocations
// checked every time) and the gate strips the gateway's cookies before
// the request goes upstream. The short-lived login-flow cookie (Flows)
// carries what a sign-in must remember between its pages. Device trust,
// sign-in and pages are the gate's: this package knows only cookies,
// sessions, realms and revocations.
package session
