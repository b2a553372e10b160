/// The hash table under ``CompactMap``: open addressing with linear probing over 64-bit slots (0 empty, 1 deleted,
/// anything else an entry the map defines), kept in segments of 64 KiB so that a copy of the table shares them and a
/// write after it copies one segment.
///
/// Invariants: `live` entries and `deleted` deleted slots are in the table; the map keeps `live + deleted` (plus the
/// entries still to move in from a table it is draining) within 0.85 of `capacity`, so a probe meets an empty slot.
struct SlotTable: Sendable {
    static let segmentShift = 13
    static var segmentSlots: Int { 1 << segmentShift }
    static let empty: UInt64 = 0
    static let deleted: UInt64 = 1

    private var segments: [[UInt64]]
    var live = 0
    var deleted = 0

    /// A table of at least `slots` slots (whole segments), all empty.
    init(slots: Int) {
        let count = max(1, (slots + Self.segmentSlots - 1) >> Self.segmentShift)
        segments = Array(repeating: Array(repeating: Self.empty, count: Self.segmentSlots), count: count)
    }

    var capacity: Int { segments.count << Self.segmentShift }

    /// The slot where a key of this hash starts probing (from the hash's high bits).
    func home(_ hash: UInt64) -> Int {
        Int(hash.multipliedFullWidth(by: UInt64(capacity)).high)
    }

    subscript(index: Int) -> UInt64 {
        get { segments[index >> Self.segmentShift][index & (Self.segmentSlots - 1)] }
        set { segments[index >> Self.segmentShift][index & (Self.segmentSlots - 1)] = newValue }
    }

    /// Follows the probe sequence of `hash`: the first entry for which `matches` is true, and the first slot an
    /// entry could be put in (a deleted slot, else the empty one that ends the sequence). Slots below `skippingBelow`
    /// count as deleted without being read (a table being drained has moved them out already); the probe gives up
    /// after visiting every slot once.
    func probe(_ hash: UInt64, skippingBelow floor: Int = 0, _ matches: (UInt64) -> Bool) -> (found: Int?, free: Int?) {
        let capacity = capacity
        var index = home(hash)
        var free: Int?
        var visited = 0
        while visited < capacity {
            if index < floor {
                // Skipped in one step: walking a drained prefix slot by slot made every lookup cost its length.
                visited += floor - index
                index = floor == capacity ? 0 : floor
                continue
            }
            let slot = self[index]
            if slot == Self.empty { return (nil, free ?? index) }
            if slot == Self.deleted {
                if free == nil { free = index }
            } else if matches(slot) {
                return (index, free)
            }
            visited += 1
            index += 1
            if index == capacity { index = 0 }
        }
        return (nil, free)
    }

    /// Every entry at an index in `start..<end` (by default to the end), with its index.
    func forEachEntry<E: Error>(from start: Int = 0, to end: Int? = nil, _ body: (Int, UInt64) throws(E) -> Void)
        throws(E)
    {
        let end = min(end ?? capacity, capacity)
        guard start < end else { return }
        for segmentIndex in (start >> Self.segmentShift)...((end - 1) >> Self.segmentShift) {
            let base = segmentIndex << Self.segmentShift
            let segment = segments[segmentIndex]
            for offset in max(0, start - base)..<min(Self.segmentSlots, end - base) {
                let slot = segment[offset]
                if slot > Self.deleted { try body(base + offset, slot) }
            }
        }
    }
}
