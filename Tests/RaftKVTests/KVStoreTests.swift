import RaftCore
import RaftKV
import RaftWire
import Testing

/// Numbers entries as a log would and applies them to a store.
final class Applier {
    var store: KVStore
    var nextIndex: UInt64 = 0

    init(_ store: KVStore = KVStore()) { self.store = store }

    func apply(_ command: KVCommand, term: Term = 1) -> KVApplyResult? {
        nextIndex += 1
        return store.apply(Entry(index: LogIndex(nextIndex), term: term, data: command.encoded()))
    }

    func applyNoop(term: Term) {
        nextIndex += 1
        _ = store.apply(Entry(index: LogIndex(nextIndex), term: term, kind: .noop))
    }
}

@Suite struct KVStoreTests {
    private func put(
        _ key: String, _ value: String, _ condition: KVCommand.Condition = .none, idempotencyKey: String? = nil,
        at milliseconds: UInt64 = 1_000, sequence: UInt64 = 1
    ) -> KVCommand {
        KVCommand(
            operation: .put, key: Array(key.utf8), value: Array(value.utf8), condition: condition, origin: 2,
            sequence: sequence, idempotencyKey: idempotencyKey, timestampMilliseconds: milliseconds)
    }

    private func delete(_ key: String) -> KVCommand {
        KVCommand(operation: .delete, key: Array(key.utf8), origin: 1, sequence: 9, timestampMilliseconds: 1_000)
    }

    @Test func commandsRoundTripThroughTheirLogEncoding() throws {
        let commands = [
            put("k", "v"), put("k", "v", .previousValue(Array("old".utf8)), idempotencyKey: "abc"),
            put("k", "", .previousExists(false)), put("k", "v", .previousExists(true)), delete("gone"),
        ]
        for command in commands {
            #expect(try KVCommand(decoding: command.encoded()) == command)
        }
        #expect(throws: WireError.self) { try KVCommand(decoding: [9, 9, 9]) }
    }

    @Test func putGetDeleteAndConditionsBehaveLikeEtcd() {
        let kv = Applier()
        #expect(kv.apply(put("a", "1"))?.outcome == .stored(created: true))
        #expect(kv.apply(put("a", "2"))?.outcome == .stored(created: false))
        #expect(kv.store.value(for: Array("a".utf8)) == Array("2".utf8))
        #expect(kv.apply(put("a", "3", .previousValue(Array("1".utf8))))?.outcome == .conditionFailed)
        #expect(kv.apply(put("a", "3", .previousValue(Array("2".utf8))))?.outcome == .stored(created: false))
        #expect(kv.apply(put("a", "x", .previousExists(false)))?.outcome == .conditionFailed)
        #expect(kv.apply(put("b", "x", .previousExists(false)))?.outcome == .stored(created: true))
        #expect(kv.apply(put("c", "x", .previousValue(Array("y".utf8))))?.outcome == .conditionFailed)
        #expect(kv.apply(delete("a"))?.outcome == .deleted)
        #expect(kv.apply(delete("a"))?.outcome == .notFound)
        #expect(kv.store.value(for: Array("a".utf8)) == nil)
        #expect(kv.store.value(for: Array("b".utf8)) == Array("x".utf8))
        #expect(kv.store.count == 1)
    }

    @Test func aRetriedIdempotencyKeyIsAppliedOnceAndGetsTheOriginalAnswer() throws {
        let kv = Applier()
        let first = try #require(kv.apply(put("n", "1", idempotencyKey: "req-1")))
        _ = kv.apply(put("n", "2"))
        let retry = try #require(kv.apply(put("n", "1", idempotencyKey: "req-1", sequence: 2)))
        #expect(retry.replayed)
        #expect(retry.outcome == first.outcome)
        #expect(retry.index == first.index)
        #expect(retry.sequence == 2)
        #expect(kv.store.value(for: Array("n".utf8)) == Array("2".utf8), "the retry must not overwrite the later write")
    }

    @Test func idempotencyRecordsExpireByAppliedIndexIntoTombstonesThenAreForgotten() throws {
        // Records answer for 4 entries; tombstones in generations of 4 entries, 2 kept.
        let kv = Applier(KVStore(idempotencyRecordWindow: 4, tombstoneGenerationLength: 4, tombstoneGenerations: 2))
        let first = try #require(kv.apply(put("k", "1", idempotencyKey: "req")))  // index 1
        for n in 2...3 { _ = kv.apply(put("filler", "\(n)")) }
        _ = kv.apply(put("k", "newer"))  // index 4
        let inWindow = try #require(kv.apply(put("k", "1", idempotencyKey: "req", sequence: 2)))  // index 5
        #expect(inWindow.replayed && inWindow.index == first.index)
        #expect(kv.store.value(for: Array("k".utf8)) == Array("newer".utf8))

        let late = try #require(kv.apply(put("k", "1", idempotencyKey: "req", sequence: 3)))  // index 6
        #expect(late.outcome == .idempotencyKeyExpired(recordWindow: 4))
        #expect(!late.replayed)
        #expect(kv.store.value(for: Array("k".utf8)) == Array("newer".utf8), "an expired retry is not applied again")
        #expect(kv.store.idempotencyRecordCount == 0)
        #expect(kv.store.idempotencyTombstoneCount == 1)

        // Past the tombstone window (at most 2 generations of 4 entries after expiry) the key is new again.
        for n in 0..<8 { kv.applyNoop(term: Term(UInt64(2 + n))) }
        #expect(kv.store.idempotencyTombstoneCount == 0)
        let reused = try #require(kv.apply(put("k", "1", idempotencyKey: "req", sequence: 4), term: 10))
        #expect(!reused.replayed && reused.outcome == .stored(created: false))
        #expect(kv.store.value(for: Array("k".utf8)) == Array("1".utf8))
    }

    @Test func aRecordAnswersExactlyTheEntriesOfItsWindow() throws {
        let kv = Applier(KVStore(idempotencyRecordWindow: 3, tombstoneGenerationLength: 100, tombstoneGenerations: 2))
        let first = try #require(kv.apply(put("k", "1", idempotencyKey: "req")))  // index 1
        _ = kv.apply(put("other", "x"))  // 2
        _ = kv.apply(put("other", "y"))  // 3
        let last = try #require(kv.apply(put("k", "1", idempotencyKey: "req", sequence: 2)))  // 4 = 1 + window
        #expect(last.replayed && last.index == first.index && last.outcome == first.outcome)
        let after = try #require(kv.apply(put("k", "1", idempotencyKey: "req", sequence: 3)))  // 5
        #expect(after.outcome == .idempotencyKeyExpired(recordWindow: 3))
        // A conditional retry and a DELETE retry get the same clear answer instead of 412 or 404.
        let cas = try #require(kv.apply(put("k", "2", .previousValue(Array("1".utf8)), idempotencyKey: "cas")))
        #expect(cas.outcome == .stored(created: false))
        for _ in 0..<3 { _ = kv.apply(put("other", "z")) }
        let casRetry = try #require(
            kv.apply(put("k", "2", .previousValue(Array("1".utf8)), idempotencyKey: "cas", sequence: 4)))
        #expect(casRetry.outcome == .idempotencyKeyExpired(recordWindow: 3))
        #expect(kv.store.value(for: Array("k".utf8)) == Array("2".utf8))
        let delete = KVCommand(
            operation: .delete, key: Array("k".utf8), origin: 1, sequence: 5, idempotencyKey: "del",
            timestampMilliseconds: 0)
        #expect(kv.apply(delete)?.outcome == .deleted)
        for _ in 0..<3 { _ = kv.apply(put("other", "w")) }
        #expect(kv.apply(delete)?.outcome == .idempotencyKeyExpired(recordWindow: 3), "not a 404")
    }

    @Test func aSnapshotKeepsRecordsTombstonesAndWindows() throws {
        let kv = Applier(KVStore(idempotencyRecordWindow: 5, tombstoneGenerationLength: 8, tombstoneGenerations: 3))
        for n in 0..<20 { _ = kv.apply(put("k\(n % 3)", "\(n)", idempotencyKey: "key-\(n)")) }
        #expect(kv.store.idempotencyRecordCount == 6, "the records of entries 15...20 answer entry 20")
        #expect(kv.store.idempotencyTombstoneCount == 14)
        // Restored into a store with the production defaults: the snapshot's windows win.
        var restored = KVStore()
        try restored.restore(from: kv.store.snapshotData())
        #expect(restored.hasSameState(as: kv.store))
        #expect(restored.idempotencyRecordWindow == 5)
        let copy = Applier(restored)
        copy.nextIndex = kv.nextIndex
        for applier in [kv, copy] {
            #expect(applier.apply(put("k1", "19", idempotencyKey: "key-19", sequence: 2))?.replayed == true)
            let expired = applier.apply(put("k0", "0", idempotencyKey: "key-0", sequence: 2))
            #expect(expired?.outcome == .idempotencyKeyExpired(recordWindow: 5))
            #expect(applier.apply(put("k1", "new", idempotencyKey: "fresh"))?.outcome == .stored(created: false))
            #expect(applier.apply(put("k1", "x", idempotencyKey: "key-18"))?.outcome == .idempotencyKeyReused)
        }
        #expect(copy.store.hasSameState(as: kv.store))
        var again = KVStore()
        try again.restore(from: copy.store.snapshotData())
        #expect(again.hasSameState(as: kv.store))
    }

    @Test func anIdempotencyKeyReusedForADifferentRequestChangesNothing() throws {
        let kv = Applier()
        let first = try #require(kv.apply(put("a", "x", idempotencyKey: "K1")))
        #expect(!first.replayed)
        let other = try #require(kv.apply(put("b", "y", idempotencyKey: "K1", sequence: 2)))
        #expect(!other.replayed, "a different request is not a retry")
        #expect(other.outcome == .idempotencyKeyReused)
        #expect(kv.store.value(for: Array("b".utf8)) == nil, "the second request must not be applied")
        let delete = try #require(
            kv.apply(
                KVCommand(
                    operation: .delete, key: Array("a".utf8), origin: 2, sequence: 3, idempotencyKey: "K1",
                    timestampMilliseconds: 1_000)))
        #expect(!delete.replayed && delete.outcome == .idempotencyKeyReused)
        #expect(kv.store.value(for: Array("a".utf8)) == Array("x".utf8), "the DELETE must not be applied")
        // Each difference alone makes another request: value, condition.
        let otherValue = try #require(kv.apply(put("a", "z", idempotencyKey: "K1", sequence: 4)))
        #expect(!otherValue.replayed && otherValue.outcome == .idempotencyKeyReused)
        let otherCondition = try #require(
            kv.apply(put("a", "x", .previousExists(true), idempotencyKey: "K1", sequence: 5)))
        #expect(!otherCondition.replayed && otherCondition.outcome == .idempotencyKeyReused)
        #expect(kv.store.value(for: Array("a".utf8)) == Array("x".utf8))
        // The true retry still replays.
        let retry = try #require(kv.apply(put("a", "x", idempotencyKey: "K1", sequence: 6)))
        #expect(retry.replayed && retry.index == first.index && retry.outcome == first.outcome)
    }

    @Test func aSkewedProposerClockExpiresNoIdempotencyRecord() throws {
        let kv = Applier()
        let first = try #require(kv.apply(put("n", "1", idempotencyKey: "before-skew", at: 1_000)))
        // One write through a node whose clock runs ten minutes and one second ahead.
        _ = kv.apply(put("other", "v", idempotencyKey: "skewed", at: 1_000 + 601_000))
        _ = kv.apply(put("n", "2", at: 1_000 + 601_000))
        let retry = try #require(kv.apply(put("n", "1", idempotencyKey: "before-skew", at: 1_500, sequence: 2)))
        #expect(retry.replayed, "the skewed clock must not expire the record")
        #expect(retry.index == first.index)
        #expect(kv.store.value(for: Array("n".utf8)) == Array("2".utf8), "the retry must not overwrite the newer value")
    }

    @Test func aRetryWithinRaftctlsHorizonAtFullThroughputReplays() throws {
        // ~16k keyed writes/s for raftctl's ~16 s retry horizon is ~260k entries: the default window must keep them.
        let kv = Applier()
        let first = try #require(kv.apply(put("n", "first", idempotencyKey: "slow-retry")))
        for i in 0..<262_144 { _ = kv.apply(put("k\(i % 64)", "v", idempotencyKey: "bulk-\(i)")) }
        _ = kv.apply(put("n", "newer"))
        let retry = try #require(kv.apply(put("n", "first", idempotencyKey: "slow-retry", sequence: 2)))
        #expect(retry.replayed && retry.index == first.index)
        #expect(kv.store.value(for: Array("n".utf8)) == Array("newer".utf8))
    }

    @Test func aSnapshotRestoresValuesAndIdempotencyRecordsExactly() throws {
        let kv = Applier()
        _ = kv.apply(put("a", "1", idempotencyKey: "r1"))
        _ = kv.apply(put("b", "2"))
        kv.applyNoop(term: 2)
        var restored = KVStore()
        try restored.restore(from: kv.store.snapshotData())
        #expect(restored.hasSameState(as: kv.store))
        #expect(restored.appliedIndex == kv.store.appliedIndex)
        #expect(restored.value(for: Array("b".utf8)) == Array("2".utf8))
        let copy = Applier(restored)
        copy.nextIndex = kv.nextIndex
        let retry = try #require(copy.apply(put("a", "1", idempotencyKey: "r1"), term: 2))
        #expect(retry.replayed)
    }

    @Test func aVersionOneSnapshotIsStillRestored() throws {
        // Written by the previous format: clock, then records with a timestamp and without a request digest.
        var w = ByteWriter()
        w.write(UInt8(1))
        w.write(UInt64(3))  // applied index
        w.write(UInt64(2))  // applied term
        w.write(UInt64(99_000))  // the proposers' clock
        w.write(UInt64(1))
        w.writeBlob(Array("a".utf8))
        w.writeBlob(Array("x".utf8))
        w.write(UInt64(1))
        w.writeBlob(Array("K1".utf8))
        w.write(UInt64(2))  // record index
        w.write(UInt64(2))  // record term
        w.write(UInt64(98_000))  // timestamp
        w.write(UInt8(1))  // stored, created
        let kv = Applier(KVStore(idempotencyRecordWindow: 2))
        try kv.store.restore(from: w.bytes)
        kv.nextIndex = 3
        #expect(kv.store.value(for: Array("a".utf8)) == Array("x".utf8))
        let retry = try #require(kv.apply(put("a", "x", idempotencyKey: "K1", sequence: 2), term: 2))
        #expect(retry.replayed && retry.index == 2 && retry.outcome == .stored(created: true))
        let late = try #require(kv.apply(put("a", "x", idempotencyKey: "K1", sequence: 3), term: 2))
        #expect(late.outcome == .idempotencyKeyExpired(recordWindow: 2))
    }

    @Test func malformedSnapshotsAndEntriesAreRefusedWithoutChangingState() throws {
        var store = KVStore()
        #expect(throws: WireError.self) { try store.restore(from: [1, 0, 0]) }
        #expect(throws: WireError.self) { try store.restore(from: [7]) }
        var zeroWindow = KVStore().snapshotData()
        for offset in 17..<25 { zeroWindow[offset] = 0 }  // after version, index and term: the record window
        #expect(throws: WireError.self) { try store.restore(from: zeroWindow) }
        let result = store.apply(Entry(index: 1, term: 1, data: [1, 2, 3]))
        guard case .malformed = result?.outcome else {
            Issue.record("expected malformed, got \(String(describing: result))")
            return
        }
        #expect(store.count == 0)
        #expect(store.appliedIndex == 1)
    }
}
