// Package device is the device service of the gateway: what happens
// between a person's phone and a sign-in, without HTTP. It keeps the
// verification transactions and their state machine (pending, reported,
// approved or denied, completed), takes a device's health report and
// decides it under the policy, sends login requests (pushes) to the
// person's devices and wakes their long-polls (Waker), takes their answers
// (approve or deny, number matching, a repeated approval, the withdrawal of
// the copies on the other devices), activates devices under the site's
// enrollment choice (admin codes, the prompt's own codes, approval by
// another device), checks passcodes, binds devices to realms and caches
// trust decisions for the request hot path (TrustCache). Its methods take
// values and return values and typed errors (*Error, carrying the device
// protocol's code); the device API (package deviceapi) turns them into
// answers, and the prompt pages call it for the browser's side.
package device
