// Package accessdevice classifies the device a browser runs on (an iPhone,
// an Android tablet, a desktop...) from what its request says: the
// User-Agent, the User-Agent Client Hints and the touch hint the gateway's
// own pages set. The prompt uses the classification to offer the right
// link into the mobile app, and the auth log records it; it proves
// nothing, since a client chooses every header it sends. Classify is the
// only place that classifies access devices.
package accessdevice
