package login

import (
	"errors"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
)

func init() {
	caddy.RegisterModule(UsersFileLogin{})
}

// UsersFileLogin signs people in with a login form against a users file:
// the trusted_endpoints.login.users_file module. In JSON:
//
//	"login": {"source": "users_file", "path": "/etc/trustgate/users.yaml"}
type UsersFileLogin struct {
	// Path is the path of a JSON or YAML file of users with bcrypt or
	// argon2id password hashes (see `trustgate hash-password`).
	// Placeholders such as {env.*} are replaced when the config loads.
	Path string `json:"path,omitempty"`

	// path is Path with its placeholders replaced.
	path string
}

// CaddyModule returns the Caddy module information.
func (UsersFileLogin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  Namespace + ".users_file",
		New: func() caddy.Module { return new(UsersFileLogin) },
	}
}

// Validate checks that a path is set.
func (u *UsersFileLogin) Validate() error {
	if u.Path == "" {
		return errors.New("login users_file: the path is required")
	}
	return nil
}

// ConfigureGate loads the users file into cfg.Users.
func (u *UsersFileLogin) ConfigureGate(cfg *prompt.Config) error {
	u.path = caddy.NewReplacer().ReplaceKnown(u.Path, "")
	users, err := signin.LoadUsersFile(u.path)
	if err != nil {
		return err
	}
	warnAboutUsersFile(cfg.Logger, u.path, users)
	cfg.Users = users
	return nil
}

// Realm names the users file by its absolute path.
func (u *UsersFileLogin) Realm() (string, error) {
	return session.UsersFileRealm(u.path)
}

// UnmarshalCaddyfile sets up the users file from `users_file <path>`, the
// rest of a `login users_file <path>` line.
func (u *UsersFileLogin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the source's name
	if !d.AllArgs(&u.Path) {
		return d.ArgErr()
	}
	return nil
}

// warnAboutUsersFile logs what the operator should know about a users file
// as it loads, e.g. that it mixes hash algorithms or costs, which lets
// sign-in timing tell user names apart. The warnings name users, never
// hashes.
func warnAboutUsersFile(logger *zap.Logger, path string, users *signin.UsersFile) {
	for _, w := range users.Warnings() {
		logger.Warn(w, zap.String("users_file", path))
	}
}

// Interface guards
var (
	_ Login                 = (*UsersFileLogin)(nil)
	_ caddy.Validator       = (*UsersFileLogin)(nil)
	_ caddyfile.Unmarshaler = (*UsersFileLogin)(nil)
)
