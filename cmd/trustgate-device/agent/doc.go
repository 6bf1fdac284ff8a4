// Package agent is the device side of the trustgate device protocol: what
// the companion mobile app does, built only on the documented device API
// (package protocol) so that it proves the API can be used from its
// documentation alone.
//
// An Agent holds the device key and, once activated, the activation: the
// user it belongs to, the gateway origins it may act for and the passcode
// secret. It activates with an activation link, reports the phone's health
// facts for a verification deep link, long-polls for login requests
// (pushes) and answers them, and computes offline passcodes. Every request
// carries a device proof (protocol.SignProof) for exactly that request; the
// gateway's refusals come back as *APIError with the protocol's error code.
//
// The agent refuses deep links that name an origin it was not activated
// for: such a link asks the phone to vouch for a site the person never
// enrolled with, which is what a phishing page would do.
//
// The command trustgate-device wraps the agent for people; the gateway's
// end-to-end tests drive it directly.
package agent
