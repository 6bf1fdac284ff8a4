// Package policy holds trustgate's pure device-trust decisions. It does no
// I/O, knows nothing of HTTP or Caddy, and never reads the clock: time comes
// in as an argument.
//
// The flow it serves: after primary login, Access.Allows says whether the
// person may enter the application at all (AccessRules: users, groups,
// email addresses and *@domain); then Integration.Applies says whether
// the mobile device check applies to the user (by group) on the access
// device's platform. If it does, the device reports its Facts and Evaluate
// holds them to the Requirements, giving a Verdict: trusted or not, with the
// failed requirements and the warnings, each a Finding with a reason code
// and a fix hint for the user. Decide then turns the trust status under the
// application's Mode into an Outcome: allow, allow and record (with
// WouldBlock in check mode), or deny. Policy bundles mode, integration and
// requirements; Policy.Hash identifies it in trust-cache keys, so a changed
// policy re-checks at once.
//
// Versions are compared by ParseVersion and Version.Compare, which cope with
// real version strings (17.4.1, 14, 13.0.0_r1, 14.1-beta2); see Version for
// how suffixes order. Android security patch levels are dates
// (ParsePatchDate).
//
// Reason codes, as written to the auth log:
//
//	no_screen_lock              no screen lock set
//	no_biometrics               no biometrics enrolled
//	no_disk_encryption          storage not encrypted
//	rooted_device               jailbroken or rooted (any platform)
//	version_restricted          OS below the minimum version (min_os)
//	security_patch_out_of_date  Android security patch too old
//	app_version_restricted      mobile app below the minimum version
//	out_of_date                 OS too far behind the latest release (os_up_to_date)
//	invalid_facts               a needed fact missing or unreadable: the requirement fails
//	unsupported_platform        neither ios nor android: never trusted
//	invalid_policy              a requirement's configuration is broken: fails closed
//	endpoint_is_not_trusted     outcome reason for a refused (or would-be refused) login
package policy
