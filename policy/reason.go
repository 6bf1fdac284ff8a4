package policy

// Reason is a machine-readable code for why a device is not trusted or a
// login was refused, as written to the auth log. Codes reuse the vocabulary
// security teams already parse (DESIGN §1) where one exists.
type Reason string

// Reasons for failed requirements and outcomes.
const (
	// ReasonNoScreenLock: no screen lock is set.
	ReasonNoScreenLock Reason = "no_screen_lock"
	// ReasonNoBiometrics: no biometrics are enrolled.
	ReasonNoBiometrics Reason = "no_biometrics"
	// ReasonNoDiskEncryption: storage is not encrypted.
	ReasonNoDiskEncryption Reason = "no_disk_encryption"
	// ReasonRootedDevice: the device is jailbroken (iOS) or rooted (Android).
	ReasonRootedDevice Reason = "rooted_device"
	// ReasonVersionRestricted: the OS is below the minimum version.
	ReasonVersionRestricted Reason = "version_restricted"
	// ReasonSecurityPatchOutOfDate: the Android security patch is too old.
	ReasonSecurityPatchOutOfDate Reason = "security_patch_out_of_date"
	// ReasonAppVersionRestricted: the mobile app is below the minimum version.
	ReasonAppVersionRestricted Reason = "app_version_restricted"
	// ReasonOutOfDate: the OS is further behind the latest release than
	// allowed.
	ReasonOutOfDate Reason = "out_of_date"
	// ReasonInvalidFacts: the device did not report a fact a requirement
	// needs, or reported one that cannot be read (a garbage version). The
	// requirement fails rather than passing by accident.
	ReasonInvalidFacts Reason = "invalid_facts"
	// ReasonUnsupportedPlatform: the device is neither iOS nor Android, so
	// the mobile app cannot vouch for it.
	ReasonUnsupportedPlatform Reason = "unsupported_platform"
	// ReasonInvalidPolicy: the requirement's own configuration is broken
	// (Validate would have refused it); it fails closed.
	ReasonInvalidPolicy Reason = "invalid_policy"
	// ReasonNotTrusted: the outcome reason when a login is refused (or, in
	// check mode, would be) because the device is not trusted.
	ReasonNotTrusted Reason = "endpoint_is_not_trusted"
)
