package pages

import (
	"html/template"

	"github.com/trustgate/trustgate/policy"
)

// pageData is what every page template receives.
type pageData struct {
	Title       string
	Application string
	Message     string
	Error       string
	Link        string
	// Login form
	Username string
	CSRF     string
	// Logout page
	User string
	// Prompt page
	Prompt *Prompt
	// Denial and notice pages; DecidedBy is the integration that decided
	// (mobile, managed, or empty).
	DecidedBy string
	Failed    []findingView
	Warnings  []findingView
	// Forbidden page: whom to ask for access, as text or as an email
	// address.
	Contact      string
	ContactEmail string
}

// Login is what the login form shows.
type Login struct {
	// Username is the name typed before, shown again.
	Username string
	// CSRF is the login flow's token for the form.
	CSRF string
	// Error says what went wrong with the last attempt.
	Error string
}

// Prompt is what the prompt page shows.
type Prompt struct {
	// User is the person being checked, CSRF the login flow's token for
	// the page's forms, and Error what went wrong with the last attempt.
	User  string
	CSRF  string
	Error string
	// Devices is how many activated devices the person has, and
	// DeviceNames their models (device-supplied text, escaped on output).
	Devices     int
	DeviceNames []string
	// AppLink, HTTPSLink and IntentLink open the app for the inline check.
	AppLink    template.URL
	HTTPSLink  string
	IntentLink template.URL
	// TimedOut says the app did not answer the last request in time.
	TimedOut bool
	// Number is the number to type in the app for a pending push.
	Number string
	// Activation links and QR code, for enrollment.
	ActivationApp   template.URL
	ActivationHTTPS string
	ActivationQR    template.URL
	// AddDevice says the activation is for another device of a person
	// who has one, to be approved there (enrollment approve).
	AddDevice bool
	// CanSkip offers to continue without a checked device (mode check,
	// no activated app).
	CanSkip bool
}

// findingView is a failed or warned requirement as the pages show it.
type findingView struct {
	Reason   string
	Hint     string
	Deadline string
}

func findingViews(fs []policy.Finding) []findingView {
	out := make([]findingView, 0, len(fs))
	for _, f := range fs {
		v := findingView{Reason: string(f.Reason), Hint: f.Hint}
		if !f.Deadline.IsZero() {
			v.Deadline = f.Deadline.UTC().Format("2 January 2006")
		}
		out = append(out, v)
	}
	return out
}
