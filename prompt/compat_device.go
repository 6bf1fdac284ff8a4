package prompt

import (
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/deviceapi"
)

// Forwarding names for code outside the device helper's files, while the
// restructure (issue 14) lands; removed once every caller names package
// device or deviceapi.
type (
	TrustCache    = device.TrustCache
	TrustDecision = device.TrustDecision
	Waker         = device.Waker
	AndroidApp    = device.AndroidApp
	Enrollment    = device.Enrollment
	Limiter       = deviceapi.Limiter
	Limits        = deviceapi.Limits
	Rate          = deviceapi.Rate
)

const (
	EnrollAdmin   = device.EnrollAdmin
	EnrollSelf    = device.EnrollSelf
	EnrollApprove = device.EnrollApprove
)

var (
	NewTrustCache     = device.NewTrustCache
	NewWaker          = device.NewWaker
	ParseEnrollment   = device.ParseEnrollment
	IssueActivation   = device.IssueActivation
	ActivationLinks   = device.ActivationLinks
	NewPasscodeSecret = device.NewPasscodeSecret
	PasscodeAt        = device.PasscodeAt
	DeviceInRealm     = device.InRealm
	ValidateAppLinks  = device.ValidateAppLinks
	NewLimiter        = deviceapi.NewLimiter
	DefaultLimits     = deviceapi.DefaultLimits
)
