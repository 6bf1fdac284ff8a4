// Package integration parses the Caddyfile blocks of the device-check
// integrations (today mobile, the trustgate app) into the policy values
// the handler's JSON holds: a *policy.Integration and, for an integration
// that checks device health, *policy.Requirements.
//
// Each integration has its own parser (ParseMobile). The lines that every
// integration block shares, enable and platforms, are read by one scope
// (scope.go), so that they read and fail alike in every block; the health
// requirement lines are read by requirementsParser (requirements.go).
// Another integration's block gets its parser beside ParseMobile: a scope
// that reads its own platforms (policy.ParseManagedPlatform for managed
// devices), and its own lines.
// Checking the whole configuration is left to policy's Validate, which a
// JSON configuration goes through too.
package integration
