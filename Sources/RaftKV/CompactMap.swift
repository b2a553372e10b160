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
/// 0.68 and 0.85 (9.4–11.8 bytes per key). A map of a million 12-byte keys with 256-byte values takes about 282 MB
/// where a persistent hash trie of arrays took 376 MB. The price of the tighter table is that it is replaced more
/// often: every key is hashed again once per ~25 % of growth, spread over the writes that follow (below).
///
/// Copies: the pages and the table are arrays of arrays (pages of 1 MiB, table segments of 64 KiB), so a copy (the
/// node writes its snapshot from one, off its main loop) shares them all, and a write after it copies the tail page
/// and the one table segment it changes, not the map. Old pages are never written, only dropped.
///
/// Growing: when the table passes a load of 0.85 it is replaced by one sized for a load of about 0.68, and the old one
/// is drained into it 64 slots per write (a lookup tries the new table, then the old one's slots not yet moved), so
/// no write pauses to rehash a million keys. A table whose load is mostly deleted slots is replaced by one of the same
/// size in the same way.
///
/// Invariants: every live slot of `table`, and of `draining` at `drainCursor` or after, points at a record in a live
/// page whose key hashes to the slot's tag and whose probe sequence from its home reaches the slot without an empty
/// slot between; no key has two live slots; `table.live + table.deleted + draining.live <= 0.85 * table.capacity`;
/// `pageGarbage[p]` is the bytes of page `p`'s records no slot points at; `totalBytes` and `garbageBytes` are the sums
/// over live pages of their sizes and garbage.
struct CompactMap: Sendable {
    static let pageBytes = 1 << 20
    /// Slots of the old table moved to the new one per write while the table grows.
    static let drainSlotsPerWrite = 64

    private static let offsetBits: UInt64 = 20
    private static let pageMask: UInt64 = (1 << 28) - 1
    private static let tagMask: UInt64 = 0xFFFF << 48

    private var pages: [[UInt8]] = []
    private var pageGarbage: [Int] = []
    private var freePages: [Int] = []
    /// The page records are appended to (never freed while it is the tail); nil before the first record.
    private var tail: Int?
    private var table: SlotTable
    /// The table being replaced, while its slots from `drainCursor` on are moved to `table`; its `live` counts
    /// those not moved yet.
    private var draining: SlotTable?
    private var drainCursor = 0
    /// Bytes in live pages, and how many of them belong to dead records.
    private(set) var totalBytes = 0
    private(set) var garbageBytes = 0

    /// A map whose table holds `minimumCapacity` keys before it first grows.
    init(minimumCapacity: Int = 0) {
        table = SlotTable(slots: (minimumCapacity * 20 + 16) / 17 + 1)
    }

    var count: Int { table.live + (draining?.live ?? 0) }

    /// Slots in the table (the new one while growing).
    var capacity: Int { table.capacity }

    /// Whether the table is being drained into a bigger one.
    var isGrowing: Bool { draining != nil }

    // MARK: - Reading

    func value(for key: [UInt8]) -> [UInt8]? {
        key.withUnsafeBytes { key in
            guard let slot = place(of: key, hash: Self.hash(key)).slot(in: self) else { return nil }
            return withRecord(at: slot) { _, value in Array(value) }
        }
    }

    func contains(_ key: [UInt8]) -> Bool {
        key.withUnsafeBytes { key in place(of: key, hash: Self.hash(key)).slot(in: self) != nil }
    }

    /// Every key and value, in the tables' order; the buffers are valid only during the call.
    func forEach<E: Error>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        try table.forEachEntry { (_, slot) throws(E) in
            try withRecord(at: slot) { (key, value) throws(E) in try body(key, value) }
        }
        try draining?.forEachEntry(from: drainCursor) { (_, slot) throws(E) in
            try withRecord(at: slot) { (key, value) throws(E) in try body(key, value) }
        }
    }

    /// The same keys with the same values (the layouts may differ).
    func hasSameContents(as other: CompactMap) -> Bool {
        guard count == other.count else { return false }
        var same = true
        forEach { key, value in
            guard same, let slot = other.place(of: key, hash: Self.hash(key)).slot(in: other) else {
                same = false
                return
            }
            same = other.withRecord(at: slot) { _, otherValue in value.elementsEqual(otherValue) }
        }
        return same
    }

    // MARK: - Writing

    /// Stores `value` under `key`; returns whether the key held a value before.
    @discardableResult
    mutating func set(_ key: [UInt8], _ value: [UInt8]) -> Bool {
        key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in set(key, value) }
        }
    }

    /// ``set(_:_:)`` from memory the caller holds during the call.
    @discardableResult
    mutating func set(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool {
        drain(slots: Self.drainSlotsPerWrite)
        let hash = Self.hash(key)
        let place = place(of: key, hash: hash)
        switch place {
        case .table(let index):
            discard(table[index])
            table[index] = Self.tag(hash) | append(key, value)
        case .draining(let index):
            // Moved to the new table with its new value.
            discard(draining![index])
            draining![index] = SlotTable.deleted
            draining!.live -= 1
            occupy(freeSlot(for: hash), with: Self.tag(hash) | append(key, value))
        case .absent(var free):
            if (count + table.deleted + 1) * 20 > table.capacity * 17 {
                startReplacingTable()
                free = freeSlot(for: hash)
            }
            occupy(free, with: Self.tag(hash) | append(key, value))
        }
        compactIfWorthIt()
        if case .absent = place { return false }
        return true
    }

    /// Removes `key`; returns whether it held a value.
    @discardableResult
    mutating func remove(_ key: [UInt8]) -> Bool {
        drain(slots: Self.drainSlotsPerWrite)
        let removed = key.withUnsafeBytes { key in
            switch place(of: key, hash: Self.hash(key)) {
            case .table(let index):
                discard(table[index])
                table.live -= 1
                // A slot followed by an empty one is on no other key's probe path: it can be empty, not deleted.
                if table[(index + 1) % table.capacity] == SlotTable.empty {
                    table[index] = SlotTable.empty
                } else {
                    table[index] = SlotTable.deleted
                    table.deleted += 1
                }
            case .draining(let index):
                discard(draining![index])
                draining![index] = SlotTable.deleted
                draining!.live -= 1
            case .absent:
                return false
            }
            return true
        }
        if removed { compactIfWorthIt() }
        return removed
    }

    // MARK: - The tables

    /// Where a key is: its slot in the table, its slot in the table being drained, or absent (with the slot of the
    /// table it would go in).
    private enum Place {
        case table(Int)
        case draining(Int)
        case absent(free: Int)

        func slot(in map: CompactMap) -> UInt64? {
            switch self {
            case .table(let index): map.table[index]
            case .draining(let index): map.draining![index]
            case .absent: nil
            }
        }
    }

    private func place(of key: UnsafeRawBufferPointer, hash: UInt64) -> Place {
        let tag = Self.tag(hash)
        // A local function, not a closure value: passed down without a context allocated for it per lookup.
        func matches(_ slot: UInt64) -> Bool {
            slot & Self.tagMask == tag && withRecord(at: slot) { stored, _ in stored.elementsEqual(key) }
        }
        let inTable = table.probe(hash, matches)
        if let index = inTable.found { return .table(index) }
        if let draining, let index = draining.probe(hash, skippingBelow: drainCursor, matches).found {
            return .draining(index)
        }
        return .absent(free: inTable.free!)
    }

    /// Where an entry of this hash that is in neither table goes in `table`.
    private func freeSlot(for hash: UInt64) -> Int {
        table.probe(hash) { _ in false }.free!
    }

    private mutating func occupy(_ index: Int, with slot: UInt64) {
        if table[index] == SlotTable.deleted { table.deleted -= 1 }
        table[index] = slot
        table.live += 1
    }

    /// Replaces the table once it is 0.85 full: by a bigger one when live keys fill more than 0.6 of it, sized for a
    /// load of about 0.68 (so the table holds 9.4–11.8 bytes per key); otherwise by one of the same size, which
    /// sweeps out the deleted slots. The old table is drained by the writes that follow.
    private mutating func startReplacingTable() {
        drain(slots: .max)
        let grow = (count + 1) * 5 > table.capacity * 3
        let slots = grow ? max(table.capacity + SlotTable.segmentSlots, (count + 1) * 25 / 17) : table.capacity
        draining = table
        drainCursor = 0
        table = SlotTable(slots: slots)
    }

    /// Moves up to `budget` slots of the table being drained into the new one.
    private mutating func drain(slots budget: Int) {
        guard let old = draining else { return }
        let end = budget >= old.capacity - drainCursor ? old.capacity : drainCursor + budget
        var moved = 0
        old.forEachEntry(from: drainCursor, to: end) { _, slot in
            let hash = withRecord(at: slot) { key, _ in Self.hash(key) }
            occupy(freeSlot(for: hash), with: slot)
            moved += 1
        }
        draining!.live -= moved
        drainCursor = end
        if end == old.capacity {
            draining = nil
            drainCursor = 0
        }
    }

    private static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: key)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// The slot's top 16 bits. The home slot comes from the hash's high bits, so the tag takes the low ones.
    private static func tag(_ hash: UInt64) -> UInt64 { (hash & 0xFFFF) << 48 }

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
            let keyLength = Varint.read(raw, &position)
            let valueLength = Varint.read(raw, &position)
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
        Varint.size(keyLength) + Varint.size(valueLength) + keyLength + valueLength
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
        Varint.append(key.count, to: &pages[number])
        Varint.append(value.count, to: &pages[number])
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
                let keyLength = Varint.read(raw, &offset)
                let valueLength = Varint.read(raw, &offset)
                let key = UnsafeRawBufferPointer(rebasing: raw[offset..<offset + keyLength])
                let value = UnsafeRawBufferPointer(rebasing: raw[offset + keyLength..<offset + keyLength + valueLength])
                offset += keyLength + valueLength
                let hash = Self.hash(key)
                let here = UInt64(worst + 1) << Self.offsetBits | UInt64(start)
                let place = place(of: key, hash: hash)
                guard let slot = place.slot(in: self), slot & ~Self.tagMask == here else { continue }
                let moved = Self.tag(hash) | append(key, value)
                switch place {
                case .table(let index): table[index] = moved
                case .draining(let index): draining![index] = moved
                case .absent: break
                }
            }
        }
        free(worst)
    }
}
