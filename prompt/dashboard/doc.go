// Package dashboard is the endpoints dashboard: HTML views of the devices,
// the auth log and the rollout impact, with charts drawn on the server as
// inline SVG, a device's revocation and an admin's activation codes, for
// the members of an admin group (docs/dashboard.md).
//
// It is a plain http.Handler, routed with ServeMux patterns under a path
// prefix. It never signs anyone in itself: the gateway in front of it does,
// and hands the signed-in person over (Config.SignedIn); without one every
// request is refused. Its handlers return their failures, and one
// web.ErrorWriter answers them with the dashboard's error page. What it
// needs of the running gateway comes through the small Gateway interface.
package dashboard
