/// An open file as handed out by a ``FileSystem``.
///
/// The descriptor number is only meaningful to the file system that opened it; the path is kept so that every
/// error can name the file it happened on.
public struct OpenFile: Sendable, Hashable {
    public let descriptor: Int32
    public let path: String

    public init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }
}

/// How ``FileSystem/open(_:options:)`` opens a file.
public struct FileOpenOptions: Sendable, Hashable {
    public var writable: Bool
    /// Create the file (owner-only, mode 0600) when it does not exist.
    public var create: Bool
    /// Fail with `EEXIST` when the file already exists (only with ``create``).
    public var exclusive: Bool
    /// Cut the file to zero bytes on open.
    public var truncate: Bool

    public init(writable: Bool, create: Bool = false, exclusive: Bool = false, truncate: Bool = false) {
        self.writable = writable
        self.create = create
        self.exclusive = exclusive
        self.truncate = truncate
    }

    public static let readOnly = FileOpenOptions(writable: false)
    public static let readWrite = FileOpenOptions(writable: true)
    public static let createNew = FileOpenOptions(writable: true, create: true, exclusive: true)
    public static let createOrTruncate = FileOpenOptions(writable: true, create: true, truncate: true)
    public static let createOrOpen = FileOpenOptions(writable: true, create: true)
}

/// A failed file-system call: which operation, on which path, and the `errno` it failed with.
public struct FileSystemError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(operation) \(path): \(errnoName(errno))" }
}

/// Every file access `RaftStorage` makes goes through this protocol, so tests can swap in
/// ``InMemoryFileSystem`` and inject torn writes, failed syncs, full disks and crashes.
///
/// Contract for implementations: a write either writes all bytes or throws (a short write that cannot be
/// completed throws, possibly after part of the bytes reached the file); `sync`/`syncData` that throw must never
/// be assumed to have made anything durable; files are created owner-only (0600), directories 0700.
public protocol FileSystem: Sendable {
    /// Creates the directory and any missing parents (mode 0700). Succeeds when it already exists.
    func createDirectory(at path: String) throws(FileSystemError)
    /// Names (not paths) of the entries in a directory, excluding `.` and `..`.
    func contentsOfDirectory(at path: String) throws(FileSystemError) -> [String]
    func fileExists(at path: String) -> Bool
    func open(_ path: String, options: FileOpenOptions) throws(FileSystemError) -> OpenFile
    func close(_ file: OpenFile)
    func size(of file: OpenFile) throws(FileSystemError) -> UInt64
    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(_ file: OpenFile, at offset: UInt64, count: Int) throws(FileSystemError) -> [UInt8]
    /// Writes all of `bytes` at `offset` or throws.
    func write(_ file: OpenFile, at offset: UInt64, bytes: UnsafeRawBufferPointer) throws(FileSystemError)
    /// `fsync`: file data and all metadata.
    func sync(_ file: OpenFile) throws(FileSystemError)
    /// `fdatasync`: file data and the metadata needed to read it back (including the size).
    func syncData(_ file: OpenFile) throws(FileSystemError)
    func truncate(_ file: OpenFile, toSizeBytes sizeBytes: UInt64) throws(FileSystemError)
    /// Atomically replaces `destination` (POSIX `rename`); durable only after ``syncDirectory(at:)``.
    func rename(from source: String, to destination: String) throws(FileSystemError)
    func removeFile(at path: String) throws(FileSystemError)
    /// Makes creations, renames and removals in a directory durable (`fsync` on the directory).
    func syncDirectory(at path: String) throws(FileSystemError)
    /// Takes an exclusive advisory lock without waiting (`flock(LOCK_EX|LOCK_NB)`); throws `EWOULDBLOCK` when
    /// another open file holds it. The lock is released when the file is closed or its process dies.
    func lockExclusive(_ file: OpenFile) throws(FileSystemError)
}

extension FileSystem {
    /// Writes all of `bytes` at `offset` or throws.
    public func write(_ file: OpenFile, at offset: UInt64, bytes: [UInt8]) throws(FileSystemError) {
        // `withUnsafeBytes` does not forward typed throws, so carry the error out by hand.
        let failure: FileSystemError? = bytes.withUnsafeBytes { buffer in
            do throws(FileSystemError) {
                try write(file, at: offset, bytes: buffer)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Reads a whole file; used for segments and snapshots, whose size is bounded by the options.
    public func readAll(_ file: OpenFile) throws(FileSystemError) -> [UInt8] {
        let sizeBytes = try size(of: file)
        return try read(file, at: 0, count: Int(sizeBytes))
    }
}

/// Joins a directory and a file name.
func joinPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}

func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
}
