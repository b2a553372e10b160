#if canImport(Glibc)
    import Glibc
#endif

/// A small tmpfs mounted by a test, to fill a real file system: only as root (a test that needs one is skipped
/// otherwise, with ``Tmpfs/unavailableReason`` as its message). The mount is detached by ``unmount()``, which
/// `deinit` calls too, so a failing test never leaves it behind.
public final class Tmpfs {
    public let path: String
    private var mounted = true

    /// Mounts a tmpfs of `megabytes` at `path` (created if missing, mode 0700).
    public init(at path: String, megabytes: Int) throws(TmpfsError) {
        mkdir(path, 0o700)
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(megabytes)m,mode=0700") == 0 else {
            throw TmpfsError(description: "mount tmpfs at \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
    }

    /// Grows or shrinks the file system in place: what is on it stays.
    public func resize(megabytes: Int) throws(TmpfsError) {
        guard mount("tmpfs", path, "tmpfs", UInt(MS_REMOUNT), "size=\(megabytes)m,mode=0700") == 0 else {
            throw TmpfsError(description: "remount \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Detaches the mount (lazily: processes still holding files there keep them until they close them).
    public func unmount() {
        guard mounted else { return }
        mounted = false
        umount2(path, Int32(MNT_DETACH))
    }

    deinit { unmount() }

    /// Why tmpfs tests cannot run here, or nil when they can (root, and a trial mount succeeded).
    public static let unavailableReason: String? = {
        guard geteuid() == 0 else { return "mounting a tmpfs needs root; run the suite as root to include this test" }
        var template = Array("/tmp/tmpfs-probe-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            return "cannot create a directory under /tmp"
        }
        let directory = String(cString: made)
        defer { rmdir(directory) }
        guard mount("tmpfs", directory, "tmpfs", 0, "size=1m") == 0 else {
            return "this machine refuses to mount a tmpfs (\(String(cString: strerror(errno))))"
        }
        umount2(directory, Int32(MNT_DETACH))
        return nil
    }()
}

public struct TmpfsError: Error, CustomStringConvertible {
    public var description: String
}

/// raftd's space alarm defaults (256 MiB or 5 % free) would stop every test cluster on a machine whose /tmp is
/// nearly full, failing tests that have nothing to do with disks. There, and only there, test clusters get a
/// lower threshold; elsewhere they run with the defaults.
public enum DiskHeadroom {
    /// raftd options (`name` → `value`) that test clusters under `path` need on this machine; empty when the
    /// defaults leave room.
    public static func raftdOptions(under path: String = "/tmp") -> [(String, String)] {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return [] }
        let unit = UInt64(info.f_frsize)
        let free = UInt64(info.f_bavail) * unit
        let defaultThreshold = max(256 << 20, UInt64(info.f_blocks) * unit / 100 * 5)
        guard free < defaultThreshold + (1 << 30) else { return [] }
        return [("min-free-space", "64MiB"), ("min-free-percent", "0")]
    }
}
