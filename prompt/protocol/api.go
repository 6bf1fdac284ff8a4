package protocol

import (
	"encoding/json"
	"time"
)

// The device API lives under APIPrefix on the gateway's origin. Every
// request but activation carries a device proof (SignProof) in the
// Authorization header as "TrustgateProof <proof>"; activation carries a
// proof that embeds the new public key. See docs/device-api.yaml.
const (
	APIPrefix = "/.trustgate/device/v1/"

	// PathActivate is POSTed an ActivateRequest.
	PathActivate = APIPrefix + "activate"
	// PathReportPrefix + transaction ID + "/report" is POSTed a
	// ReportRequest.
	PathReportPrefix = APIPrefix + "transactions/"
	// PathPushes is read (GET) for pending login requests; with
	// ?wait=<seconds> it long-polls until one arrives.
	// PathPushes + "/" + push ID is POSTed an AnswerRequest.
	PathPushes = APIPrefix + "pushes"
	// PathDevice is read (GET) for the device's own record.
	PathDevice = APIPrefix + "device"
)

// Links the gateway hands to the app.
const (
	// Scheme is the app's custom URL scheme: trustgate://verify?... and
	// trustgate://activate?...
	Scheme = "trustgate"
	// VerifyLinkPath is the HTTPS (universal / app link) path of a
	// verification deep link; ActivateLinkPath that of an activation link.
	VerifyLinkPath   = "/.trustgate/app/verify"
	ActivateLinkPath = "/.trustgate/app/activate"
	// ReturnPath is where the app sends the phone's browser back to after
	// approving, with tx and code in the query.
	ReturnPath = "/.trustgate/return"
)

// Query parameters of the deep links.
const (
	// ParamOrigin is the gateway origin (scheme://host[:port]) the app must
	// talk to; the app refuses an origin it was not activated for.
	ParamOrigin = "origin"
	// ParamTransaction is the verification transaction ID.
	ParamTransaction = "tx"
	// ParamChallenge is the transaction's one-time challenge.
	ParamChallenge = "challenge"
	// ParamCode is the activation code, or the return code on ReturnPath.
	ParamCode = "code"
)

// ActivateRequest binds a new device key (carried in the proof's jwk
// header) to the user the activation code was issued for.
type ActivateRequest struct {
	// Code is the activation code from the activation link.
	Code string `json:"code"`
	// Platform is "ios" or "android".
	Platform string `json:"platform"`
	// Model, OSVersion and AppVersion describe the device; free text,
	// shown to admins escaped.
	Model      string `json:"model,omitempty"`
	OSVersion  string `json:"os_version,omitempty"`
	AppVersion string `json:"app_version,omitempty"`
}

// ActivateResponse tells the app who it now belongs to and what to trust.
type ActivateResponse struct {
	// DeviceID is the device key's RFC 7638 thumbprint; later proofs name
	// it in kid.
	DeviceID string `json:"device_id"`
	// User is the user the device is bound to.
	User string `json:"user"`
	// Origins are the gateway origins the app may act for. The app refuses
	// deep links naming any other origin.
	Origins []string `json:"origins"`
	// Passcode provisions the TOTP generator for offline passcodes.
	Passcode PasscodeSetup `json:"passcode"`
	// Approval, when set, says the device is pending: it is activated only
	// once one of the person's active devices approves it (a push of kind
	// "enrollment"). Until then, and for good if that is denied or does
	// not come in time, the gateway does not know the device.
	Approval *Approval `json:"approval,omitempty"`
}

// Approval is what a pending device shows while it waits to be approved.
type Approval struct {
	// Number is the number the person types on the approving device
	// (number matching): two digits, 10 to 99.
	Number string `json:"number"`
	// Expires is when the approval lapses.
	Expires time.Time `json:"expires"`
}

// Push kinds.
const (
	// PushKindLogin, the default (an empty kind), asks to approve a
	// sign-in.
	PushKindLogin = "login"
	// PushKindEnrollment asks to approve a new device of the person.
	PushKindEnrollment = "enrollment"
)

// NewDevice describes the device an enrollment push asks to approve, as
// the new device stated it at activation (free text, to be shown escaped).
type NewDevice struct {
	Platform   string `json:"platform"`
	Model      string `json:"model,omitempty"`
	OSVersion  string `json:"os_version,omitempty"`
	AppVersion string `json:"app_version,omitempty"`
}

// PasscodeSetup is an RFC 6238 TOTP secret and its parameters.
type PasscodeSetup struct {
	// Secret is the base32 secret.
	Secret string `json:"secret"`
	// URI is the otpauth:// form of the same secret.
	URI string `json:"uri"`
	// Digits and Period are the code length and step (seconds).
	Digits int `json:"digits"`
	Period int `json:"period"`
	// Algorithm is "SHA1".
	Algorithm string `json:"algorithm"`
}

// ReportRequest is a device's health report for a verification transaction.
type ReportRequest struct {
	// Challenge is the transaction's challenge from the deep link.
	Challenge string `json:"challenge"`
	// Facts are the device's health facts: the JSON form of policy.Facts.
	Facts json.RawMessage `json:"facts"`
}

// Finding is one requirement the device failed or was warned about.
type Finding struct {
	// Requirement is the requirement's name, e.g. "screen_lock".
	Requirement string `json:"requirement"`
	// Reason is the auth-log reason code, e.g. "no_screen_lock".
	Reason string `json:"reason"`
	// Hint tells the person how to fix it.
	Hint string `json:"hint"`
	// Deadline is when a warning becomes a requirement, if it has one.
	Deadline *time.Time `json:"deadline,omitempty"`
}

// ReportResponse is the verdict on a health report, and what happens next.
type ReportResponse struct {
	// Trusted is the verdict: whether the device met every enforced
	// requirement.
	Trusted bool `json:"trusted"`
	// Failed and Warnings are the unmet requirements.
	Failed   []Finding `json:"failed,omitempty"`
	Warnings []Finding `json:"warnings,omitempty"`
	// State is the transaction's state after the report: "reported" when a
	// login request now waits for the person's approval (Push), "denied"
	// when policy refuses the login outright.
	State string `json:"state"`
	// Push is the login request to approve, when State is "reported".
	Push *Push `json:"push,omitempty"`
}

// Push is a login request shown in the app.
type Push struct {
	// ID identifies the request; answer it at PathPushes + "/" + ID.
	ID string `json:"id"`
	// Application is the protected application the person is signing in
	// to.
	Application string `json:"application"`
	// User is whose login it is.
	User string `json:"user"`
	// AccessDevice describes the browser asking: e.g. "Chrome on Android 14".
	AccessDevice string `json:"access_device"`
	// IP is the browser's IP address.
	IP string `json:"ip"`
	// Time is when the login started; Expires when the request lapses.
	Time    time.Time `json:"time"`
	Expires time.Time `json:"expires"`
	// NumberMatching says the person must type the number the browser
	// shows before approving; the number itself is never sent to the app.
	NumberMatching bool `json:"number_matching,omitempty"`
	// Inline says the request belongs to a check of this very phone.
	Inline bool `json:"inline,omitempty"`
	// Kind is PushKindEnrollment for a request to approve a new device
	// (NewDevice), with number matching against the number the new device
	// shows; empty (PushKindLogin) for a login request.
	Kind string `json:"kind,omitempty"`
	// NewDevice is the device to approve, for an enrollment push.
	NewDevice *NewDevice `json:"new_device,omitempty"`
}

// PushesResponse lists the device's pending login requests.
type PushesResponse struct {
	Pushes []Push `json:"pushes"`
}

// Answers to a push.
const (
	AnswerApprove = "approve"
	AnswerDeny    = "deny"
)

// Deny reasons an app may give.
const (
	DenyCancelled = "user_cancelled"
	DenyFraud     = "user_marked_fraud"
)

// AnswerRequest approves or denies a login request.
type AnswerRequest struct {
	// Answer is "approve" or "deny".
	Answer string `json:"answer"`
	// Reason, when denying, is "user_cancelled" (default) or
	// "user_marked_fraud". It goes only with a denial: an approval
	// carrying one is refused.
	Reason string `json:"reason,omitempty"`
	// Number is the number the person typed, when the push asks for number
	// matching: two decimal digits, 10 to 99.
	Number string `json:"number,omitempty"`
}

// AnswerResponse confirms an answer.
type AnswerResponse struct {
	// State is "approved" or "denied".
	State string `json:"state"`
	// ReturnURL, for an approved inline check, is the link the app opens in
	// the phone's browser to finish the login there.
	ReturnURL string `json:"return_url,omitempty"`
}

// DeviceResponse is the device's own record.
type DeviceResponse struct {
	DeviceID   string `json:"device_id"`
	User       string `json:"user"`
	Platform   string `json:"platform"`
	Model      string `json:"model,omitempty"`
	OSVersion  string `json:"os_version,omitempty"`
	AppVersion string `json:"app_version,omitempty"`
	// Verdict is "trusted" or "not trusted" after the last report.
	Verdict string `json:"verdict,omitempty"`
}

// Error is the body of every error response of the device API.
type Error struct {
	// Error is a short human-readable message.
	Error string `json:"error"`
	// Code is a machine-readable code: bad_request, invalid_proof,
	// replayed_proof, unknown_device, revoked_device, not_found, conflict,
	// already_answered, expired, wrong_user, wrong_challenge, wrong_number,
	// enrollment_refused, too_many_requests, locked_out, unavailable.
	Code string `json:"code"`
}
