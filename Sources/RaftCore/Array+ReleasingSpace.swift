extension Array {
    /// Removes the first `count` elements, and moves the rest to a buffer of their own size when they would fill
    /// less than half of the old one.
    ///
    /// `removeFirst` keeps the array's capacity, and the pages it once touched stay resident: a log index or
    /// entry cache that held a burst of 200,000 entries would otherwise hold that memory for good while it holds a
    /// few thousand. Copying the survivors costs what the shift `removeFirst` does anyway.
    public mutating func removeFirstReleasingSpace(_ count: Int) {
        let remaining = self.count - count
        // Small arrays are not worth a new buffer: their memory is in a shared heap page anyway.
        guard remaining * 2 < capacity, capacity * MemoryLayout<Element>.stride >= 64 * 1024 else {
            removeFirst(count)
            return
        }
        var survivors: [Element] = []
        survivors.reserveCapacity(remaining)
        survivors.append(contentsOf: self[count...])
        self = survivors
    }
}
