import RaftCore
import RaftStorage
import Testing

/// The in-memory file system's power cuts, which the seeded simulations replay from a seed.
@Suite("simulated power loss replays from its seed")
struct SimulatedPowerLossTests {

    /// Forty files, each written past its synced part, in a file system whose inode table was first grown by
    /// `churn` files made and deleted (so the table's hashing order differs between the two).
    static func crashed(churn: Int, tearing: Bool) throws -> [String: [UInt8]] {
        let fileSystem = InMemoryFileSystem()
        try fileSystem.createDirectory(at: "/d")
        for i in 0..<churn {
            let file = try fileSystem.open("/d/churn\(i)", options: .createNew)
            fileSystem.close(file)
            try fileSystem.removeFile(at: "/d/churn\(i)")
        }
        for i in 0..<40 {
            let file = try fileSystem.open("/d/f\(i)", options: .createNew)
            let synced = [UInt8](repeating: UInt8(i), count: 5_000)
            try synced.withUnsafeBytes { try fileSystem.write(file, at: 0, bytes: $0) }
            try fileSystem.sync(file)
            let unsynced = [UInt8](repeating: 0xEE, count: 20_000)
            try unsynced.withUnsafeBytes { try fileSystem.write(file, at: 5_000, bytes: $0) }
            fileSystem.close(file)
        }
        try fileSystem.syncDirectory(at: "/d")
        var generator = SplitMix64(seed: 42)
        if tearing {
            fileSystem.simulateCrash(tearingUnsyncedWritesWith: &generator)
        } else {
            fileSystem.simulateCrash(losingPagesWith: &generator)
        }
        var contents: [String: [UInt8]] = [:]
        for i in 0..<40 { contents["f\(i)"] = fileSystem.contents(of: "/d/f\(i)") }
        return contents
    }

    /// A simulation seed once replayed differently in another process: the random draws of a power cut went to
    /// files in the hashing order of the inode table, which differs between processes (and between tables).
    @Test("the same seed loses the same pages of the same files, whatever order the inode table hashes in")
    func powerLossIsIndependentOfHashingOrder() throws {
        for tearing in [false, true] {
            let plain = try Self.crashed(churn: 0, tearing: tearing)
            #expect(plain.values.contains { $0.count > 5_000 }, "some unsynced bytes survive")
            #expect(Set(plain.values).count == 40, "each file keeps its own random part")
            for churn in [1, 7, 100] {
                #expect(try Self.crashed(churn: churn, tearing: tearing) == plain, "churn \(churn), tearing \(tearing)")
            }
        }
    }
}
