// Package gatetest is test support: it runs a real prompt.Gate, on a fresh
// SQLite store in the test's temporary directory, behind an
// httptest.Server and in front of a tiny upstream that echoes what it
// got, so that a test drives the whole flow the way people and phones do:
// a browser signs in with the test users file, the reference agent
// (cmd/trustgate-device/agent) activates a device, reports its health for
// the prompt's deep link and answers login requests, and the test reads
// the outcome from the browser, the upstream, the auth log and the store.
//
// Every Gateway is its own gate, store, trust cache and server, so tests
// that use one may run in parallel. The package is built from prompt's
// exported API only (prompt.Config, prompt.NewGate, and the packages that
// hold what the configuration takes: device, session, signin, deviceapi)
// and is imported only by tests.
package gatetest
