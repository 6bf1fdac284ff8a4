package prompt

// LoginError is a refused or failed primary login. Reason is a short
// machine-readable code for the auth log (invalid_state, invalid_nonce,
// token_expired, ...); Err is the cause, for the operator's log only.
type LoginError struct {
	Reason string
	Err    error
}

func (e *LoginError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *LoginError) Unwrap() error { return e.Err }
