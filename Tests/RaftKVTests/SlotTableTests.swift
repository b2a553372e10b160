import Testing

@testable import RaftKV

/// The probe sequence under the compact map's lookups: linear, wrapping at the end, and able to pass over the
/// prefix a growing map has already moved out of its old table.
@Suite("slot table")
struct SlotTableTests {
    /// A table whose last slot is the home of `hash`, with a probe chain that wraps: slots 8191, 0 and 1.
    private func wrappedChain() -> (SlotTable, UInt64) {
        var table = SlotTable(slots: 1)
        let hash = UInt64.max
        #expect(table.home(hash) == table.capacity - 1)
        table[table.capacity - 1] = 100
        table[0] = 101
        table[1] = 102
        return (table, hash)
    }

    @Test("a probe follows its chain around the end of the table, and stops at the first empty slot")
    func wrapsAround() {
        let (table, hash) = wrappedChain()
        #expect(table.probe(hash) { $0 == 102 } == (1, nil))
        #expect(table.probe(hash) { $0 == 103 } == (nil, 2))
    }

    @Test("slots below the floor count as deleted and are never read, also when the chain wraps into them")
    func skipsTheDrainedPrefix() {
        let (table, hash) = wrappedChain()
        #expect(table.probe(hash, skippingBelow: 1) { $0 == 102 } == (1, nil))
        #expect(table.probe(hash, skippingBelow: 1) { $0 == 101 } == (nil, 2), "slot 0 was moved out")
        #expect(table.probe(hash, skippingBelow: 3) { $0 == 102 } == (nil, 3))
        // Everything drained: nothing to find, nowhere to put anything, and the probe ends.
        #expect(table.probe(hash, skippingBelow: table.capacity) { _ in true } == (nil, nil))
    }

    @Test("a deleted slot is passed over but offered as the place for a new entry")
    func deletedSlots() {
        var (table, hash) = wrappedChain()
        table[0] = SlotTable.deleted
        #expect(table.probe(hash) { $0 == 102 } == (1, 0))
        #expect(table.probe(hash) { $0 == 101 } == (nil, 0))
    }

    @Test("entries are listed with their indexes, in a range that may start and end inside a segment")
    func listsEntriesInARange() {
        var table = SlotTable(slots: 3 * SlotTable.segmentSlots)
        let filled = [0, 5, SlotTable.segmentSlots - 1, SlotTable.segmentSlots, 2 * SlotTable.segmentSlots + 7]
        for index in filled { table[index] = UInt64(index) + 10 }
        table[9] = SlotTable.deleted
        var seen: [Int] = []
        table.forEachEntry(from: 5, to: 2 * SlotTable.segmentSlots + 7) { index, slot in
            #expect(slot == UInt64(index) + 10)
            seen.append(index)
        }
        #expect(seen == [5, SlotTable.segmentSlots - 1, SlotTable.segmentSlots])
        var all: [Int] = []
        table.forEachEntry { index, _ in all.append(index) }
        #expect(all == filled)
    }
}
