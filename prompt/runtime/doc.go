// Package runtime keeps the gateway instances that share one store in step.
//
// Every configuration (and every reload of it) using one store shares one
// Shared: the store itself, the cookie codec, the device-trust cache, the
// waker of device long-polls, the session revocations, the active
// inventory of managed devices and the keys that sign upstream assertions.
// While it lives, Shared applies the events other instances send through
// the store (a push wakes this instance's long-polls, a device revocation
// drops its cached trust, a new active inventory is reloaded, a lost
// stream of events empties the cache and reloads the rest), rereads the
// cookie keys, signing keys, session revocations and the inventory so that
// a change made elsewhere arrives within keyRefreshInterval, rotates the
// signing key when it is due, purges expired records and runs retention.
// Device revocation and the activation of an inventory (or the return to
// the previous one), which must reach every instance at once, are its
// methods too.
//
// The package knows nothing of Caddy: caddymodule resolves the
// configuration into plain values (retention periods, the rotation period,
// configured cookie keys) and keeps one Shared per store in its usage pool.
package runtime
