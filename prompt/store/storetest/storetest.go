// Package storetest is the conformance suite that every store.Store backend
// must pass. A backend's own tests call Run with a function that opens a new,
// empty store, and RunShared with one that opens two handles on one new
// database, the way two gateway instances share it.
//
// The suite fixes what the store interface leaves to the implementation:
//
//   - Times are stored at microsecond precision (or finer) and come back in
//     UTC. The suite uses whole microseconds, except where it checks that a
//     finer time is kept to within a microsecond.
//   - A nil and an empty Groups slice are equivalent; either may come back.
//     So are a nil and an empty AuthLogEntry.FailedRequirements or Warnings.
//   - An auth-log entry appended without the device-trust fields (Mode,
//     WouldBlock, FailedRequirements, Warnings, DeviceID, DeviceFacts,
//     AccessDevice, Unbound, Integration) reads back with each at its zero
//     value, and FailedRequirements, Warnings and DeviceFacts nil.
//   - CountFailures counts failures at or after since; Purge forgets failures
//     recorded strictly before its argument, and single-use ids whose expiry
//     is strictly before it.
//   - QueryAuthLog treats Since as inclusive and Until as exclusive, orders by
//     ID (newest first), and treats Limit <= 0 as 100.
//   - Cookie keys come back in the order they were stored, newest first,
//     whatever their Created times say: AddCookieKey always makes the newest.
//   - A call whose context is already canceled returns an error wrapping
//     context.Canceled and changes nothing.
//   - A time that is not set (a device never revoked, never seen, never
//     verified; a transaction never updated) comes back as the zero time.
//   - JSON fields (Device.PublicKey and Health, Transaction.Data,
//     Push.Details, AuthLogEntry.DeviceFacts) come back as the same JSON value, not necessarily byte
//     for byte; a nil or empty one comes back nil. So a device with no
//     health report has a nil Health, an empty Verdict and a zero VerifiedAt.
//   - An activation, transaction or push has expired at now when now is at
//     or after its Expires. Purge deletes those whose Expires is strictly
//     before its argument, in any state; it never deletes devices.
//   - PurgeAuthLog deletes entries whose Time is strictly before its
//     argument, ordered by Time; PurgeInactiveDevices deletes devices whose
//     LastActive is strictly before it. Both return how many they deleted
//     and refuse a limit below 1 with an error.
//   - Creating any record whose key (device ID, code hash, transaction or
//     push ID) is already stored gives store.ErrConflict and keeps the
//     stored one. CreateTransaction and CreatePush store an empty State as
//     pending.
//   - ListDevices orders by ID, byte-wise, and leaves out revoked devices
//     unless asked; RolloutImpact's breakdowns are ordered by logins, most
//     first, then by key, and are empty, not nil, when nothing matches.
//     DeviceHealthHistory orders by report time, newest first, and reports
//     made at the same instant newest stored first.
//   - UserDevices and PendingPushes order by Created, oldest first, and
//     records created at the same instant in the order they were stored.
//   - LastSeen never moves back: RecordHealth with a time before it leaves
//     it as it is. RecordHealth and RevokeDevice of an unknown device give
//     store.ErrNotFound.
//   - TransitionTransaction keeps DeviceID when deviceID is empty and Data
//     when data is nil or empty, and sets Updated to now. An unknown
//     transaction gives store.ErrNotFound whatever from is.
//   - AnswerPush refuses a state other than approved or denied with an
//     error, and changes nothing.
//   - Inventories orders by Created, newest first, and by ID among
//     inventories made at the same instant. InventoryEntries refuses a
//     negative offset or a limit below 1 with an error, and returns no
//     entries, without an error, for a page past the end. An entry's
//     strings come back as stored, empty ones empty. AddInventoryEntries of
//     no entries changes nothing, but still answers ErrNotFound or
//     ErrConflict as a batch would.
//   - InOneCommit is optional (store.OneCommitter); its tests skip a store
//     without it. Where offered, the calls made inside it see each other's
//     writes and commit together, an error fn returns keeps nothing of
//     what fn wrote (a nested InOneCommit's error, nothing of its own
//     calls), and single-use ids stay single-use between calls inside it
//     and outside.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// Run runs the conformance suite against one backend. open is called once
// per subtest and must return a new, empty store; Run closes every store it
// opens (with t.Cleanup, or directly where closing is what is tested), so
// open must not close it. Anything else open creates, such as a temporary
// directory, it should release with t.Cleanup, which then runs after the
// store is closed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	s := suite{open: open}
	for _, group := range [][]subtest{
		s.keyTests(), s.onceTests(), s.authLogTests(), s.deviceTests(),
		s.flowTests(), s.purgeTests(), s.sharedStateTests(), s.lifecycleTests(),
	} {
		for _, tt := range group {
			t.Run(tt.name, tt.run)
		}
	}
}

// subtest is one named test of the suite.
type subtest struct {
	name string
	run  func(t *testing.T)
}

// keyTests are the tests of the cookie and signing keys.
func (s suite) keyTests() []subtest {
	return []subtest{
		{"CookieKeysIsEmptyOnNewStore", s.cookieKeysIsEmptyOnNewStore},
		{"InitCookieKeysStoresCandidateOnEmptyStore", s.initCookieKeysStoresCandidateOnEmptyStore},
		{"InitCookieKeysKeepsFirstKey", s.initCookieKeysKeepsFirstKey},
		{"InitCookieKeysKeepsKeysAlreadyAdded", s.initCookieKeysKeepsKeysAlreadyAdded},
		{"AddCookieKeyMakesKeyNewestAndKeepsOlder", s.addCookieKeyMakesKeyNewestAndKeepsOlder},
		{"AddCookieKeyMakesKeyNewestDespiteEarlierCreated", s.addCookieKeyMakesKeyNewestDespiteEarlierCreated},
		{"AddCookieKeyRejectsDuplicateID", s.addCookieKeyRejectsDuplicateID},
		{"SigningKeys", s.signingKeys},
	}
}

// onceTests are the tests of failures (lockouts) and single-use IDs.
func (s suite) onceTests() []subtest {
	return []subtest{
		{"CountFailuresCountsFromSince", s.countFailuresCountsFromSince},
		{"CountFailuresIsZeroForUnknownKey", s.countFailuresIsZeroForUnknownKey},
		{"ClearFailuresClearsOnlyThatKey", s.clearFailuresClearsOnlyThatKey},
		{"PurgeForgetsOnlyFailuresBeforeCutoff", s.purgeForgetsOnlyFailuresBeforeCutoff},

		{"UseOnceIsSingleUse", s.useOnceIsSingleUse},
		{"UseOnceIsSingleUseUnderConcurrency", s.useOnceIsSingleUseUnderConcurrency},
		{"PurgeFreesExpiredSingleUseIDs", s.purgeFreesExpiredSingleUseIDs},
	}
}

// authLogTests are the tests of the auth log.
func (s suite) authLogTests() []subtest {
	return []subtest{
		{"AppendAuthLogRoundTripsEveryField", s.appendAuthLogRoundTripsEveryField},
		{"AppendAuthLogRoundTripsEdgeValues", s.appendAuthLogRoundTripsEdgeValues},
		{"AppendAuthLogWithoutTrustFieldsReadsBackZeroValues", s.appendAuthLogWithoutTrustFieldsReadsBackZeroValues},
		{"AppendAuthLogReturnsIncreasingIDs", s.appendAuthLogReturnsIncreasingIDs},
		{"QueryAuthLogOnEmptyStoreReturnsNothing", s.queryAuthLogOnEmptyStoreReturnsNothing},
		{"QueryAuthLogFilters", s.queryAuthLogFilters},
		{"QueryAuthLogLimitDefaultsTo100", s.queryAuthLogLimitDefaultsTo100},
		{"QueryAuthLogPagesWithBeforeID", s.queryAuthLogPagesWithBeforeID},
	}
}

// deviceTests are the tests of devices, their health history and the rollout impact.
func (s suite) deviceTests() []subtest {
	return []subtest{
		{"CreateDeviceRoundTripsEveryField", s.createDeviceRoundTripsEveryField},
		{"CreateDeviceRejectsDuplicateID", s.createDeviceRejectsDuplicateID},
		{"DeviceOfUnknownIDIsNotFound", s.deviceOfUnknownIDIsNotFound},
		{"UserDevicesListsOnlyThatUserOldestFirst", s.userDevicesListsOnlyThatUserOldestFirst},
		{"RecordHealthUpdatesOnlyHealthVerdictAndLastSeen", s.recordHealthUpdatesOnlyHealthVerdictAndLastSeen},
		{"RecordHealthDoesNotMoveLastSeenBack", s.recordHealthDoesNotMoveLastSeenBack},
		{"RecordHealthSetsLastSeenOfDeviceNeverSeen", s.recordHealthSetsLastSeenOfDeviceNeverSeen},
		{"RevokeDeviceKeepsFirstTime", s.revokeDeviceKeepsFirstTime},
		{"ListDevicesFilters", s.listDevicesFilters},
		{"ListDevicesComparesOSVersionsByPlatform", s.listDevicesComparesOSVersionsByPlatform},
		{"ListDevicesPagesStablyUnderInserts", s.listDevicesPagesStablyUnderInserts},
		{"DeviceHealthHistoryListsReportsNewestFirst", s.deviceHealthHistoryListsReportsNewestFirst},
		{"DeviceHealthHistoryKeepsOnlyTheLatestReports", s.deviceHealthHistoryKeepsOnlyTheLatestReports},
		{"PurgeInactiveDevicesDeletesTheirHealthHistory", s.purgeInactiveDevicesDeletesTheirHealthHistory},
		{"RolloutImpactCountsWouldBlockLogins", s.rolloutImpactCountsWouldBlockLogins},
		{"RolloutImpactOfEmptyLogIsZero", s.rolloutImpactOfEmptyLogIsZero},
		{"RolloutImpactCountsPeopleTheAccessRulesRefuseApart", s.rolloutImpactCountsPeopleTheAccessRulesRefuseApart},
		{"RolloutImpactSplitsDesktopsBlockWouldLetInOrKeepOut", s.rolloutImpactSplitsDesktopsBlockWouldLetInOrKeepOut},
	}
}

// flowTests are the tests of activation codes, verification transactions and pushes.
func (s suite) flowTests() []subtest {
	return []subtest{
		{"ConsumeActivationSucceedsOnce", s.consumeActivationSucceedsOnce},
		{"ConsumeActivationExpiresAtExpires", s.consumeActivationExpiresAtExpires},
		{"ConsumeActivationOfUnknownCodeIsNotFound", s.consumeActivationOfUnknownCodeIsNotFound},
		{"CreateActivationRejectsDuplicateCode", s.createActivationRejectsDuplicateCode},
		{"ConsumeActivationIsSingleUseUnderConcurrency", s.consumeActivationIsSingleUseUnderConcurrency},
		{"DevicesAndActivationsKeepTheirRealm", s.devicesAndActivationsKeepTheirRealm},

		{"CreateTransactionRoundTripsEveryField", s.createTransactionRoundTripsEveryField},
		{"CreateTransactionRejectsDuplicateID", s.createTransactionRejectsDuplicateID},
		{"TransactionOfUnknownIDIsNotFound", s.transactionOfUnknownIDIsNotFound},
		{"TransitionTransactionFollowsTheFlow", s.transitionTransactionFollowsTheFlow},
		{"TransitionTransactionRefusesWhatItCannotDo", s.transitionTransactionRefusesWhatItCannotDo},
		{"TransitionTransactionHasOneWinnerUnderConcurrency", s.transitionTransactionHasOneWinnerUnderConcurrency},

		{"CreatePushRoundTripsEveryField", s.createPushRoundTripsEveryField},
		{"CreatePushRejectsDuplicateID", s.createPushRejectsDuplicateID},
		{"PendingPushesListsOnlyPendingUnexpiredOldestFirst", s.pendingPushesListsOnlyPendingUnexpiredOldestFirst},
		{"AnswerPushRecordsTheAnswer", s.answerPushRecordsTheAnswer},
		{"AnswerPushRefusesWhatItCannotDo", s.answerPushRefusesWhatItCannotDo},
		{"AnswerPushTwiceConflicts", s.answerPushTwiceConflicts},
		{"AnswerPushRejectsStateThatIsNotAnAnswer", s.answerPushRejectsStateThatIsNotAnAnswer},
		{"AnswerPushHasOneWinnerUnderConcurrency", s.answerPushHasOneWinnerUnderConcurrency},
		{"WithdrawPushesLeavesOnlyTheAnswer", s.withdrawPushesLeavesOnlyTheAnswer},
	}
}

// purgeTests are the tests of retention.
func (s suite) purgeTests() []subtest {
	return []subtest{
		{"PurgeRemovesExpiredActivationsTransactionsAndPushes", s.purgeRemovesExpiredActivationsTransactionsAndPushes},

		{"PurgeAuthLogDeletesOldestEntriesInBatches", s.purgeAuthLogDeletesOldestEntriesInBatches},
		{"PurgeAuthLogOnEmptyLogDeletesNothing", s.purgeAuthLogOnEmptyLogDeletesNothing},
		{"PurgeInactiveDevicesDeletesOnlyInactiveDevices", s.purgeInactiveDevicesDeletesOnlyInactiveDevices},
		{"PurgeInactiveDevicesDeletesTheirPushes", s.purgeInactiveDevicesDeletesTheirPushes},
		{"PurgeInactiveDevicesHonoursLimit", s.purgeInactiveDevicesHonoursLimit},
		{"PurgeWithoutPositiveLimitFailsAndChangesNothing", s.purgeWithoutPositiveLimitFailsAndChangesNothing},
		{"PurgeWithCanceledContextChangesNothing", s.purgeWithCanceledContextChangesNothing},
	}
}

// sharedStateTests are the tests of session revocations, provider sessions and inventories (each a group of subtests).
func (s suite) sharedStateTests() []subtest {
	return []subtest{
		{"SessionRevocations", s.sessionRevocations},
		{"ProviderSessions", s.providerSessions},
		{"Inventories", s.inventories},
	}
}

// lifecycleTests are the tests of closing, canceled contexts and InOneCommit.
func (s suite) lifecycleTests() []subtest {
	return []subtest{
		{"CloseMakesStoreUnusable", s.closeMakesStoreUnusable},
		{"CanceledContextReturnsErrorAndChangesNothing", s.canceledContextReturnsErrorAndChangesNothing},
		{"CanceledContextLeavesDeviceRecordsUnchanged", s.canceledContextLeavesDeviceRecordsUnchanged},

		{"InOneCommitCallsSeeEachOtherAndAllCommit", s.inOneCommitCallsSeeEachOtherAndAllCommit},
		{"InOneCommitErrorKeepsNothing", s.inOneCommitErrorKeepsNothing},
		{"InOneCommitNestedErrorUndoesOnlyTheInnerCalls", s.inOneCommitNestedErrorUndoesOnlyTheInnerCalls},
		{"InOneCommitWithCanceledContextChangesNothing", s.inOneCommitWithCanceledContextChangesNothing},
		{"InOneCommitKeepsSingleUseUnderConcurrency", s.inOneCommitKeepsSingleUseUnderConcurrency},
	}
}

// RunShared runs the tests for two gateway instances sharing one database.
// openPair is called once per subtest (some call it several times) and must
// return two separate handles, as two processes would hold them, on one new,
// empty database. RunShared closes both with t.Cleanup, so openPair must not.
func RunShared(t *testing.T, openPair func(t *testing.T) (a, b store.Store)) {
	t.Helper()
	s := sharedSuite{openPair: openPair}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"InitCookieKeysAgreesAcrossInstances", s.initCookieKeysAgreesAcrossInstances},
		{"AddCookieKeyIsSeenByOtherInstance", s.addCookieKeyIsSeenByOtherInstance},
		{"SigningKeysAcrossInstances", s.signingKeysAcrossInstances},
		{"LockoutHoldsAcrossInstances", s.lockoutHoldsAcrossInstances},
		{"UseOnceIsSingleUseAcrossInstances", s.useOnceIsSingleUseAcrossInstances},
		{"PurgeOnOneInstanceFreesIDForOther", s.purgeOnOneInstanceFreesIDForOther},
		{"AuthLogIsSharedAcrossInstances", s.authLogIsSharedAcrossInstances},
		{"ConsumeActivationIsSingleUseAcrossInstances", s.consumeActivationIsSingleUseAcrossInstances},
		{"TransitionTransactionHasOneWinnerAcrossInstances", s.transitionTransactionHasOneWinnerAcrossInstances},
		{"AnswerPushHasOneWinnerAcrossInstances", s.answerPushHasOneWinnerAcrossInstances},
		{"DeviceRevokedOnOneInstanceIsRevokedOnOther", s.deviceRevokedOnOneInstanceIsRevokedOnOther},
		{"PushCreatedOnOneInstanceIsAnsweredOnOther", s.pushCreatedOnOneInstanceIsAnsweredOnOther},
		{"CreateWithOneKeyHasOneWinnerAcrossInstances", s.createWithOneKeyHasOneWinnerAcrossInstances},
		{"TransitionTransactionToRivalStatesHasOneWinnerAcrossInstances", s.transitionTransactionToRivalStatesHasOneWinnerAcrossInstances},
		{"LastSeenIsLatestAfterConcurrentUpdatesAcrossInstances", s.lastSeenIsLatestAfterConcurrentUpdatesAcrossInstances},
		{"PurgeInactiveDevicesOnOneInstanceIsSeenByOther", s.purgeInactiveDevicesOnOneInstanceIsSeenByOther},
		{"SessionRevokedOnOneInstanceIsRevokedOnOther", s.sessionRevokedOnOneInstanceIsRevokedOnOther},
		{"ActivateInventoryLeavesOneActiveAcrossInstances", s.activateInventoryLeavesOneActiveAcrossInstances},
		{"ActivateInventoryHasOneWinnerAcrossInstances", s.activateInventoryHasOneWinnerAcrossInstances},
		{"AddInventoryEntriesRacingActivationAddsAllOrNothing", s.addInventoryEntriesRacingActivationAddsAllOrNothing},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// suite holds the single-handle tests.
type suite struct {
	open func(t *testing.T) store.Store
}

// newStore opens a store for t and closes it when t ends.
func (s suite) newStore(t *testing.T) store.Store {
	t.Helper()
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// sharedSuite holds the tests for two handles on one database.
type sharedSuite struct {
	openPair func(t *testing.T) (a, b store.Store)
}

// newPair opens two handles on one database for t and closes both when t
// ends.
func (s sharedSuite) newPair(t *testing.T) (a, b store.Store) {
	t.Helper()
	a, b = s.openPair(t)
	if a == nil || b == nil {
		t.Fatal("openPair returned a nil store")
	}
	if a == b {
		t.Fatal("openPair returned the same handle twice; want two handles on one database")
	}
	for _, st := range []store.Store{a, b} {
		t.Cleanup(func() {
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	return a, b
}

// base is the suite's reference time: whole microseconds, in UTC.
var base = time.Date(2025, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// parallel runs fn(i) for i in [0, n) on n goroutines released at once, and
// returns when all have finished.
func parallel(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// canceledContext returns a context that is already canceled.
func canceledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
