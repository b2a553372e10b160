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

    @Test func idempotencyRecordsExpireByProposerTimeAndByCount() throws {
        let kv = Applier(KVStore(idempotencyTTLMilliseconds: 1_000, maxIdempotencyRecords: 3))
        _ = kv.apply(put("k", "1", idempotencyKey: "old", at: 1_000))
        _ = kv.apply(put("k", "2", at: 5_000))
        let retry = try #require(kv.apply(put("k", "1", idempotencyKey: "old", at: 5_000)))
        #expect(!retry.replayed, "a record past its TTL is forgotten, so the retry applies again")
        for i in 0..<10 { _ = kv.apply(put("k", "\(i)", idempotencyKey: "key-\(i)", at: 5_000)) }
        #expect(kv.store.idempotencyRecordCount == 3)
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

    @Test func malformedSnapshotsAndEntriesAreRefusedWithoutChangingState() throws {
        var store = KVStore()
        #expect(throws: WireError.self) { try store.restore(from: [1, 0, 0]) }
        #expect(throws: WireError.self) { try store.restore(from: [7]) }
        let result = store.apply(Entry(index: 1, term: 1, data: [1, 2, 3]))
        guard case .malformed = result?.outcome else {
            Issue.record("expected malformed, got \(String(describing: result))")
            return
        }
        #expect(store.count == 0)
        #expect(store.appliedIndex == 1)
    }
}
