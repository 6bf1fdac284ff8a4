package prompt

import "github.com/trustgate/trustgate/prompt/signin"

// Forwarding names for code outside the signin branch's files; the lead
// removes this file once callers use package signin.
type (
	UsersFile  = signin.UsersFile
	OIDCConfig = signin.OIDCConfig
	OIDCLogin  = signin.OIDCLogin
	OIDCTokens = signin.OIDCTokens
	LoginError = signin.LoginError
)

var (
	LoadUsersFile        = signin.LoadUsersFile
	ParseUsers           = signin.ParseUsers
	NewOIDCLogin         = signin.NewOIDCLogin
	NewPKCEVerifier      = signin.NewPKCEVerifier
	IsConfigurationError = signin.IsConfigurationError
)
