/// The key-value map of ``KVStore``, laid out for a few bytes of overhead per key and a copy that costs nothing.
///
/// Records (a varint key length, a varint value length, the key, the value) are appended to pages of 1 MiB; a
/// record never changes once written. An open-addressing hash table (linear probing) of 64-bit slots finds them:
/// a slot holds 16 bits of the key's hash (so most probes compare no key), the record's page and its offset in the
/// page. A put appends a new record and points the slot at it; the old record becomes garbage. When garbage passes a
/// quarter of the pages, each write also moves the live records of the page with the most garbage to the tail and
/// frees that page, so the pages stay within about 4/3 of the live data; a page whose records are all dead is freed
/// at once.
///
/// Memory: a record is the key and value plus 2–6 bytes; the table adds 8 bytes per slot at a load between about
/// 0.55 and 0.85 (10–15 bytes per key). A map of a million 12-byte keys with 256-byte values takes about 285 MB
/// where a persistent hash trie of arrays took 376 MB.
///
/// Copies: the pages and the table are arrays of arrays (pages of 1 MiB, table segments of 64 KiB), so a copy (the
/// node writes its snapshot from one, off its main loop) shares them all, and a write after it copies the tail page
/// and the one table segment it changes, not the map. Old pages are never written, only dropped.
///
/// Invariants: `count` live slots and `deletedSlots` deleted ones, and `(count + deletedSlots) * 20 <= capacity * 17`,
/// so every probe sequence meets an empty slot; every live slot points at a record in a live page whose key hashes
/// to the slot's tag and whose probe sequence from its home reaches the slot without an empty slot between;
/// `pageGarbage[p]` is the bytes of page `p`'s records no slot points at; `totalBytes` and `garbageBytes` are the sums
/// over live pages of their sizes and garbage.
struct CompactMap: Sendable {
    static let pageBytes = 1 << 20
    static let segmentShift = 13
    static var segmentSlots: Int { 1 << segmentShift }

    private static let emptySlot: UInt64 = 0
    /// A deleted slot: page field 0, which no live slot has (it holds the page number plus one).
    private static let deletedSlot: UInt64 = 1
    private static let offsetBits: UInt64 = 20
    private static let pageMask: UInt64 = (1 << 28) - 1

    private var pages: [[UInt8]] = []
    private var pageGarbage: [Int] = []
    private var freePages: [Int] = []
    /// The page records are appended to; nil before the first record and after it was freed.
    private var tail: Int?
    private var segments: [[UInt64]]
    private(set) var count = 0
    private var deletedSlots = 0
    /// Bytes in live pages, and how many of them belong to dead records.
    private(set) var totalBytes = 0
    private(set) var garbageBytes = 0

    /// A map whose table holds `minimumCapacity` keys before it first grows.
    init(minimumCapacity: Int = 0) {
        let wanted = max(1, (minimumCapacity * 20 + 16) / 17 + 1)
        let segmentCount = (wanted + Self.segmentSlots - 1) >> Self.segmentShift
        segments = Array(repeating: Array(repeating: Self.emptySlot, count: Self.segmentSlots), count: segmentCount)
    }

    /// Slots in the table.
    var capacity: Int { segments.count << Self.segmentShift }

    // MARK: - Reading

    func value(for key: [UInt8]) -> [UInt8]? {
        key.withUnsafeBytes { key in
            let hash = Self.hash(key)
            let (index, found) = find(key, hash: hash)
            guard found else { return nil }
            return withRecord(at: slot(index)) { _, value in Array(value) }
        }
    }

    /// Every key and value, in the table's order; the buffers are valid only during the call.
    func forEach<E: Error>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        for segment in segments {
            for slot in segment where slot > Self.deletedSlot {
                try withRecord(at: slot) { (key, value) throws(E) in try body(key, value) }
            }
        }
    }

    /// The same keys with the same values (the layouts may differ).
    func hasSameContents(as other: CompactMap) -> Bool {
        guard count == other.count else { return false }
        var same = true
        forEach { key, value in
            guard same else { return }
            let hash = Self.hash(key)
            let (index, found) = other.find(key, hash: hash)
            same = found && other.withRecord(at: other.slot(index)) { _, otherValue in value.elementsEqual(otherValue) }
        }
        return same
    }

    // MARK: - Writing

    mutating func set(_ key: [UInt8], _ value: [UInt8]) {
        key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in set(key, value) }
        }
    }

    private mutating func set(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        let hash = Self.hash(key)
        var (index, found) = find(key, hash: hash)
        if found {
            discard(slot(index))
        } else {
            if (count + deletedSlots + 1) * 20 > capacity * 17 {
                // Grow when live keys fill more than half the table; otherwise only sweep out the deleted slots.
                let grow = (count + 1) * 2 > capacity
                rebuild(segmentCount: grow ? max(segments.count + 1, segments.count * 3 / 2) : segments.count)
                (index, found) = find(key, hash: hash)
            }
            if slot(index) == Self.deletedSlot { deletedSlots -= 1 }
            count += 1
        }
        let location = append(key, value)
        setSlot(index, Self.tag(hash) | location)
        compactIfWorthIt()
    }

    mutating func remove(_ key: [UInt8]) {
        key.withUnsafeBytes { key in
            let (index, found) = find(key, hash: Self.hash(key))
            guard found else { return }
            discard(slot(index))
            count -= 1
            // A slot followed by an empty one is on no other key's probe path: it can be empty, not deleted.
            if slot((index + 1) % capacity) == Self.emptySlot {
                setSlot(index, Self.emptySlot)
            } else {
                setSlot(index, Self.deletedSlot)
                deletedSlots += 1
            }
        }
        compactIfWorthIt()
    }

    // MARK: - The table

    private static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: key)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// The slot's top 16 bits. The home slot comes from the hash's high bits, so the tag takes the low ones.
    private static func tag(_ hash: UInt64) -> UInt64 { (hash & 0xFFFF) << 48 }

    private func home(_ hash: UInt64) -> Int {
        Int(hash.multipliedFullWidth(by: UInt64(capacity)).high)
    }

    private func slot(_ index: Int) -> UInt64 {
        segments[index >> Self.segmentShift][index & (Self.segmentSlots - 1)]
    }

    private mutating func setSlot(_ index: Int, _ value: UInt64) {
        segments[index >> Self.segmentShift][index & (Self.segmentSlots - 1)] = value
    }

    /// The slot holding `key`, or where it would go (the first deleted slot on its probe path, else the empty slot
    /// that ends the path).
    private func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> (index: Int, found: Bool) {
        let tag = Self.tag(hash)
        let capacity = capacity
        var index = home(hash)
        var firstDeleted: Int?
        while true {
            let slot = slot(index)
            if slot == Self.emptySlot { return (firstDeleted ?? index, false) }
            if slot == Self.deletedSlot {
                if firstDeleted == nil { firstDeleted = index }
            } else if slot & (0xFFFF << 48) == tag && withRecord(at: slot, { stored, _ in stored.elementsEqual(key) }) {
                return (index, true)
            }
            index += 1
            if index == capacity { index = 0 }
        }
    }

    /// A table of `segmentCount` segments with the same live slots and no deleted ones.
    private mutating func rebuild(segmentCount: Int) {
        let old = segments
        segments = Array(
            repeating: Array(repeating: Self.emptySlot, count: Self.segmentSlots), count: segmentCount)
        deletedSlots = 0
        let capacity = capacity
        for segment in old {
            for slot in segment where slot > Self.deletedSlot {
                var index = home(withRecord(at: slot) { key, _ in Self.hash(key) })
                while self.slot(index) != Self.emptySlot {
                    index += 1
                    if index == capacity { index = 0 }
                }
                setSlot(index, slot)
            }
        }
    }

    // MARK: - The pages

    private static func page(of slot: UInt64) -> Int { Int((slot >> offsetBits) & pageMask) - 1 }
    private static func offset(of slot: UInt64) -> Int { Int(slot & ((1 << offsetBits) - 1)) }

    private func withRecord<R, E: Error>(
        at slot: UInt64, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        let page = Self.page(of: slot)
        let offset = Self.offset(of: slot)
        // A typed throw cannot cross withUnsafeBytes's rethrows; the outcome is carried out instead.
        let outcome: Result<R, E> = pages[page].withUnsafeBytes { raw in
            var position = offset
            let keyLength = Self.readVarint(raw, &position)
            let valueLength = Self.readVarint(raw, &position)
            let key = UnsafeRawBufferPointer(rebasing: raw[position..<position + keyLength])
            let value = UnsafeRawBufferPointer(
                rebasing: raw[position + keyLength..<position + keyLength + valueLength])
            do throws(E) {
                return .success(try body(key, value))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    private func recordSize(at slot: UInt64) -> Int {
        withRecord(at: slot) { key, value in Self.recordSize(key.count, value.count) }
    }

    private static func recordSize(_ keyLength: Int, _ valueLength: Int) -> Int {
        varintSize(keyLength) + varintSize(valueLength) + keyLength + valueLength
    }

    /// Appends a record to the tail page (a new page when it does not fit) and returns its slot bits without tag.
    private mutating func append(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> UInt64 {
        let size = Self.recordSize(key.count, value.count)
        // A record starts inside the first `pageBytes` of a page; one bigger than a page gets a page of its own.
        if tail == nil || pages[tail!].count + size > Self.pageBytes {
            // The old tail's records may all be dead already: nothing else would free it.
            if let old = tail, pageGarbage[old] == pages[old].count { free(old) }
            var page: [UInt8] = []
            page.reserveCapacity(max(Self.pageBytes, size))
            if let free = freePages.popLast() {
                pages[free] = page
                tail = free
            } else {
                precondition(UInt64(pages.count) < Self.pageMask, "the key-value map is out of page numbers")
                pages.append(page)
                pageGarbage.append(0)
                tail = pages.count - 1
            }
        }
        let number = tail!
        let offset = pages[number].count
        Self.appendVarint(key.count, to: &pages[number])
        Self.appendVarint(value.count, to: &pages[number])
        pages[number].append(contentsOf: key)
        pages[number].append(contentsOf: value)
        totalBytes += size
        return UInt64(number + 1) << Self.offsetBits | UInt64(offset)
    }

    /// Counts a record no slot will point at any more as garbage; frees its page if nothing in it is live.
    private mutating func discard(_ slot: UInt64) {
        let page = Self.page(of: slot)
        let size = recordSize(at: slot)
        pageGarbage[page] += size
        garbageBytes += size
        if pageGarbage[page] == pages[page].count && page != tail { free(page) }
    }

    private mutating func free(_ page: Int) {
        totalBytes -= pages[page].count
        garbageBytes -= pageGarbage[page]
        pages[page] = []
        pageGarbage[page] = 0
        freePages.append(page)
    }

    /// Moves one page's live records to the tail when garbage is over a quarter of the pages (and over two pages'
    /// worth): at most one page a write, so no write pauses for long.
    private mutating func compactIfWorthIt() {
        guard garbageBytes > 2 * Self.pageBytes, garbageBytes * 4 > totalBytes else { return }
        var worst: Int?
        for (page, garbage) in pageGarbage.enumerated() where page != tail && garbage > 0 {
            if worst.map({ garbage > pageGarbage[$0] }) ?? true { worst = page }
        }
        guard let worst else { return }
        let page = pages[worst]
        page.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let start = offset
                let keyLength = Self.readVarint(raw, &offset)
                let valueLength = Self.readVarint(raw, &offset)
                let key = UnsafeRawBufferPointer(rebasing: raw[offset..<offset + keyLength])
                let value = UnsafeRawBufferPointer(rebasing: raw[offset + keyLength..<offset + keyLength + valueLength])
                offset += keyLength + valueLength
                let hash = Self.hash(key)
                let (index, found) = find(key, hash: hash)
                let here = UInt64(worst + 1) << Self.offsetBits | UInt64(start)
                guard found, slot(index) & ~(0xFFFF << 48) == here else { continue }
                setSlot(index, Self.tag(hash) | append(key, value))
            }
        }
        free(worst)
    }

    // MARK: - Varints

    private static func varintSize(_ value: Int) -> Int {
        var size = 1
        var rest = value >> 7
        while rest > 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    private static func appendVarint(_ value: Int, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private static func readVarint(_ raw: UnsafeRawBufferPointer, _ position: inout Int) -> Int {
        var value = 0
        var shift = 0
        while true {
            let byte = raw[position]
            position += 1
            value |= Int(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }
}
