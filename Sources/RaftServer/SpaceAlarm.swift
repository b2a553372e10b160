import Glibc
import RaftText

/// What a node measured of its disk: the free space of the file system holding its data directory, and what its
/// WAL segments and snapshots take.
struct DiskReading: Sendable, Hashable {
    var freeBytes: UInt64
    var totalBytes: UInt64
    var usedBytes: UInt64
}

/// The rule of the space alarm, and its state: raised when free space falls below the threshold (the larger of a
/// byte count and a share of the file system) or the WAL and snapshots exceed the quota; cleared only once free
/// space is back a tenth above the threshold and usage a tenth under the quota, so that a disk hovering at the
/// line does not flap the alarm.
struct SpaceAlarm: Sendable {
    /// Free bytes below which the alarm is raised (0: no byte threshold).
    var minimumFreeBytes: UInt64
    /// Share of the file system, in percent, below which the alarm is raised (0: no share).
    var minimumFreePercent: UInt64
    /// Most bytes the WAL and snapshots may take (nil: no quota).
    var quotaBytes: UInt64?
    private(set) var raised = false
    /// Why the alarm is raised, in words for people; empty when it is not.
    private(set) var reason = ""

    init(minimumFreeBytes: UInt64, minimumFreePercent: UInt64, quotaBytes: UInt64?) {
        self.minimumFreeBytes = minimumFreeBytes
        self.minimumFreePercent = minimumFreePercent
        self.quotaBytes = quotaBytes
    }

    func threshold(totalBytes: UInt64) -> UInt64 {
        max(minimumFreeBytes, totalBytes / 100 * minimumFreePercent)
    }

    /// Updates the state from a reading; returns true when the alarm was raised or cleared by it.
    mutating func update(_ reading: DiskReading) -> Bool {
        let threshold = threshold(totalBytes: reading.totalBytes)
        let wasRaised = raised
        if raised {
            let spaceBack = threshold == 0 || reading.freeBytes >= threshold + threshold / 10
            let underQuota = quotaBytes.map { reading.usedBytes <= $0 - $0 / 10 } ?? true
            if spaceBack && underQuota {
                raised = false
                reason = ""
            }
        } else if threshold > 0 && reading.freeBytes < threshold {
            raised = true
            reason =
                "\(ByteSizeText.format(reading.freeBytes)) free of \(ByteSizeText.format(reading.totalBytes)),"
                + " under the alarm threshold of \(ByteSizeText.format(threshold))"
        } else if let quota = quotaBytes, reading.usedBytes > quota {
            raised = true
            reason =
                "the WAL and snapshots take \(ByteSizeText.format(reading.usedBytes)), over the quota of"
                + " \(ByteSizeText.format(quota))"
        }
        return raised != wasRaised
    }
}

/// Measures a data directory's disk with `statvfs` and `stat`: cheap enough to run after every flush (free space)
/// and twice a second (usage, which lists the directory).
enum DiskProbe {
    /// Free and total bytes of the file system holding `directory`, as an unprivileged writer sees them.
    static func freeSpace(_ directory: String) -> (free: UInt64, total: UInt64)? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        let unit = UInt64(info.f_frsize)
        return (UInt64(info.f_bavail) * unit, UInt64(info.f_blocks) * unit)
    }

    /// Bytes taken by WAL segments (`wal-*.log`) and snapshots (`snap-*.snap`) in `directory`.
    static func usedBytes(_ directory: String) -> UInt64 {
        guard let handle = opendir(directory) else { return 0 }
        defer { closedir(handle) }
        var total: UInt64 = 0
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            let counted =
                (name.hasPrefix("wal-") && name.hasSuffix(".log"))
                || (name.hasPrefix("snap-") && name.hasSuffix(".snap"))
            guard counted else { continue }
            var info = stat()
            if stat(directory + "/" + name, &info) == 0 { total += UInt64(max(0, info.st_size)) }
        }
        return total
    }
}
