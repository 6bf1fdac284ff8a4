// Package sites keeps what the trusted_endpoints sites of one
// configuration tell about themselves as they are provisioned: each
// application's device policy, access rules and realms, and the login
// source of each realm. The admin API and the dashboard read it (what-if
// answers, the rollout impact, the realm of an admin's activation code);
// the handlers read it to refuse a realm shared by two login sources.
//
// A Registry lives on the trusted_endpoints app, which Caddy builds anew
// for every configuration: during a reload the new configuration's
// handlers fill a new registry while the old one serves the old
// configuration until it is dropped whole, so nothing needs unregistering
// and the sites of the configuration being replaced never count against
// the new one's. Within one configuration, two sites naming the same
// application keep the one provisioned last.
package sites
