package caddymodule

import (
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
)

// warnAboutUsersFile logs what the operator should know about a users file
// as it loads, e.g. that it mixes hash algorithms or costs, which lets
// sign-in timing tell user names apart. The warnings name users, never
// hashes.
func warnAboutUsersFile(logger *zap.Logger, path string, users *prompt.UsersFile) {
	for _, w := range users.Warnings() {
		logger.Warn(w, zap.String("users_file", path))
	}
}
