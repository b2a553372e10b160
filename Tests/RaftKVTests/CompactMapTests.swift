import RaftCore
import Testing

@testable import RaftKV

/// The paged map under the key-value store: it must answer exactly as a dictionary would through growth, deletes,
/// overwrites, compaction and copies, and keep its pages near the size of the live data.
@Suite("compact map")
struct CompactMapTests {
    /// What the map holds, as a dictionary, read through `forEach` (which a snapshot is written from).
    private func contents(_ map: CompactMap) -> [[UInt8]: [UInt8]] {
        var seen: [[UInt8]: [UInt8]] = [:]
        map.forEach { key, value in
            #expect(seen.updateValue(Array(value), forKey: Array(key)) == nil, "a key listed twice")
        }
        return seen
    }

    private func expectSame(_ map: CompactMap, _ model: [[UInt8]: [UInt8]], _ context: String) {
        #expect(map.count == model.count, "\(context): count")
        #expect(contents(map) == model, "\(context): contents")
        for (key, value) in model.prefix(200) {
            #expect(map.value(for: key) == value, "\(context): \(key)")
        }
    }

    @Test(
        "random puts, overwrites and deletes (empty, small, page-sized values) read back as a dictionary, while the table grows too, and copies keep what they held",
        arguments: [1, 2, 3] as [UInt64])
    func matchesADictionary(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var map = CompactMap()
        var model: [[UInt8]: [UInt8]] = [:]
        var copies: [(CompactMap, [[UInt8]: [UInt8]])] = []
        var stepsGrowing = 0
        for step in 1...30_000 {
            let key = Array("key-\(random.next() % 12_000)".utf8)
            let roll = random.next() % 100
            if roll < 20 {
                #expect(map.remove(key) == (model[key] != nil), "step \(step): remove's answer")
                model[key] = nil
            } else {
                let size: Int =
                    switch roll {
                    case 20..<22: 0
                    case 22: CompactMap.pageBytes + Int(random.next() % 1000) - 500
                    default: Int(random.next() % 2_000)
                    }
                let value = [UInt8](repeating: UInt8(truncatingIfNeeded: step), count: size)
                #expect(map.set(key, value) == (model[key] != nil), "step \(step): set's answer")
                #expect(map.contains(key))
                model[key] = value
            }
            #expect(map.value(for: key) == model[key], "step \(step)")
            if map.isGrowing { stepsGrowing += 1 }
            if step % 5_000 == 0 || (map.isGrowing && stepsGrowing % 1_000 == 1) {
                expectSame(map, model, "seed \(seed) step \(step)")
                copies.append((map, model))
            }
        }
        #expect(stepsGrowing > 100, "the table never grew over several writes")
        for (number, (copy, held)) in copies.enumerated() { expectSame(copy, held, "copy \(number)") }
        for key in Array(model.keys) {
            map.remove(key)
            model[key] = nil
        }
        expectSame(map, [:], "after deleting every key")
        // Only the page being appended to may remain.
        #expect(map.totalBytes <= 2 * CompactMap.pageBytes, "\(map.totalBytes) bytes left with no keys")
    }

    @Test("overwriting the same keys again and again keeps the pages within 4/3 of the live data (plus a few pages)")
    func garbageIsReclaimed() {
        var map = CompactMap()
        let keys = (0..<2_000).map { Array("k\($0)".utf8) }
        for round in 0..<60 {
            for key in keys { map.set(key, [UInt8](repeating: UInt8(round), count: 1_000)) }
            let live = map.totalBytes - map.garbageBytes
            #expect(map.totalBytes <= live * 4 / 3 + 3 * CompactMap.pageBytes, "round \(round): \(map.totalBytes)")
        }
        #expect(map.count == 2_000)
        #expect(keys.allSatisfy { map.value(for: $0) == [UInt8](repeating: 59, count: 1_000) })
    }

    @Test("a table sized for a restore takes every key without growing, at under 10 bytes of table per key")
    func presizedTable() {
        var map = CompactMap(minimumCapacity: 100_000)
        let slots = map.capacity
        #expect(slots * 8 < 100_000 * 10)
        for i in 0..<100_000 { map.set(Array("pre-\(i)".utf8), Array(repeating: 7, count: 16)) }
        #expect(map.count == 100_000)
        #expect(map.value(for: Array("pre-99999".utf8)) == Array(repeating: 7, count: 16))
        #expect(map.value(for: Array("pre-100000".utf8)) == nil)
        #expect(map.capacity == slots, "the table grew")
    }

    @Test("growing the table moves a few slots per write: every key stays readable meanwhile, and it ends")
    func growthIsSpreadOverWrites() {
        var map = CompactMap()
        var written = 0
        func put() {
            map.set(Array("g\(written)".utf8), Array("\(written)".utf8))
            written += 1
        }
        var before = map.capacity
        while !map.isGrowing {
            before = map.capacity
            put()
        }
        var writesWhileGrowing = 0
        while map.isGrowing {
            put()
            writesWhileGrowing += 1
            if writesWhileGrowing % 16 == 0 {
                #expect(map.count == written)
                #expect((0..<written).allSatisfy { map.value(for: Array("g\($0)".utf8)) == Array("\($0)".utf8) })
            }
        }
        #expect(map.capacity > before)
        // The old table's slots, 64 a write.
        #expect(writesWhileGrowing >= before / CompactMap.drainSlotsPerWrite - 1, "\(writesWhileGrowing) writes")
        #expect(map.count == written)
        #expect((0..<written).allSatisfy { map.value(for: Array("g\($0)".utf8)) == Array("\($0)".utf8) })
    }
}
