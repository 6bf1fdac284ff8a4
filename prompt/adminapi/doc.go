// Package adminapi is the gateway's admin API: the JSON (and CSV) routes
// under /trusted-endpoints/ that list and revoke devices, issue activation
// codes, query the auth log, sum the rollout impact, answer what-if
// questions, rotate keys, end a user's sessions, and fill, activate and
// restore the inventories of managed devices. docs/admin-api.md is its
// contract.
//
// It is a plain http.Handler, routed with ServeMux patterns; its handlers
// return their failures, and one web.ErrorWriter answers them as
// {"error": "..."}. What it needs of the running gateway (its store, key
// rotation, device and session revocation, the inventories and their
// activation on every instance, the sites' policies, access rules and
// realms) comes through the small Gateway interface, which the
// Caddy module implements and mounts on Caddy's admin endpoint.
package adminapi
