// Package metrics turns what a gate does into the gateway's Prometheus
// metrics, all named caddy_trusted_endpoints_*: a Metrics holds the
// collectors, an Observer (one per site, a prompt.Observer) counts a
// gate's logins, device checks, login requests and storage failures under
// the site's application name and logs when the gate starts and stops
// running under its fail mode, and CountedStore counts the store calls
// made while serving a site; Metrics itself counts the fetches of the
// inventory of managed devices (a runtime.InventoryFetchObserver) and
// reports the active inventory's entries. The embedding program makes one Metrics per
// process, so that counts survive configuration reloads, and registers it
// in the registry of each configuration it loads (caddymodule does both
// with Caddy's metrics registry). No Caddy here.
package metrics
