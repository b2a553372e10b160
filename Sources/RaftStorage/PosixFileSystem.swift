import Glibc

/// The real file system, through Glibc system calls.
///
/// Stateless: every call maps to one or a few system calls. `EINTR` is retried for reads and writes, never for
/// `fsync`/`fdatasync`: after a failed sync the kernel may already have dropped the dirty pages, so a retry that
/// succeeds would claim durability for data that is gone ("fsyncgate").
public struct PosixFileSystem: FileSystem {
    public init() {}

    public func createDirectory(at path: String) throws(FileSystemError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o700) != 0 {
                let code = errno
                if code != EEXIST { throw FileSystemError(operation: "mkdir", path: prefix, errno: code) }
            }
            prefix += "/"
        }
    }

    public func contentsOfDirectory(at path: String) throws(FileSystemError) -> [String] {
        guard let directory = opendir(path) else {
            throw FileSystemError(operation: "opendir", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                UnsafeRawPointer(tuple).withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func fileExists(at path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public func open(_ path: String, options: FileOpenOptions) throws(FileSystemError) -> OpenFile {
        var flags = options.writable ? O_RDWR : O_RDONLY
        flags |= O_CLOEXEC
        if options.create { flags |= O_CREAT }
        if options.exclusive { flags |= O_EXCL }
        if options.truncate { flags |= O_TRUNC }
        let descriptor = Glibc.open(path, flags, 0o600)
        guard descriptor >= 0 else { throw FileSystemError(operation: "open", path: path, errno: errno) }
        return OpenFile(descriptor: descriptor, path: path)
    }

    public func close(_ file: OpenFile) {
        _ = Glibc.close(file.descriptor)
    }

    public func size(of file: OpenFile) throws(FileSystemError) -> UInt64 {
        var status = stat()
        guard fstat(file.descriptor, &status) == 0 else {
            throw FileSystemError(operation: "fstat", path: file.path, errno: errno)
        }
        return UInt64(status.st_size)
    }

    public func read(_ file: OpenFile, at offset: UInt64, count: Int) throws(FileSystemError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var doneBytes = 0
        var failure: Int32 = 0
        result.withUnsafeMutableBytes { buffer in
            while doneBytes < count {
                let n = pread(
                    file.descriptor, buffer.baseAddress! + doneBytes, count - doneBytes,
                    off_t(offset) + off_t(doneBytes))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { return }
                doneBytes += n
            }
        }
        if failure != 0 { throw FileSystemError(operation: "pread", path: file.path, errno: failure) }
        if doneBytes < count { result.removeLast(count - doneBytes) }
        return result
    }

    public func write(_ file: OpenFile, at offset: UInt64, bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        var doneBytes = 0
        while doneBytes < bytes.count {
            let n = pwrite(
                file.descriptor, bytes.baseAddress! + doneBytes, bytes.count - doneBytes,
                off_t(offset) + off_t(doneBytes))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "pwrite", path: file.path, errno: errno)
            }
            if n == 0 { throw FileSystemError(operation: "pwrite", path: file.path, errno: EIO) }
            doneBytes += n
        }
    }

    public func sync(_ file: OpenFile) throws(FileSystemError) {
        guard fsync(file.descriptor) == 0 else {
            throw FileSystemError(operation: "fsync", path: file.path, errno: errno)
        }
    }

    public func syncData(_ file: OpenFile) throws(FileSystemError) {
        guard fdatasync(file.descriptor) == 0 else {
            throw FileSystemError(operation: "fdatasync", path: file.path, errno: errno)
        }
    }

    public func truncate(_ file: OpenFile, toSizeBytes sizeBytes: UInt64) throws(FileSystemError) {
        guard ftruncate(file.descriptor, off_t(sizeBytes)) == 0 else {
            throw FileSystemError(operation: "ftruncate", path: file.path, errno: errno)
        }
    }

    public func rename(from source: String, to destination: String) throws(FileSystemError) {
        guard Glibc.rename(source, destination) == 0 else {
            throw FileSystemError(operation: "rename to \(destination)", path: source, errno: errno)
        }
    }

    public func removeFile(at path: String) throws(FileSystemError) {
        guard unlink(path) == 0 else { throw FileSystemError(operation: "unlink", path: path, errno: errno) }
    }

    public func syncDirectory(at path: String) throws(FileSystemError) {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError(operation: "open", path: path, errno: errno) }
        defer { _ = Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw FileSystemError(operation: "fsync", path: path, errno: errno) }
    }

    public func lockExclusive(_ file: OpenFile) throws(FileSystemError) {
        guard flock(file.descriptor, LOCK_EX | LOCK_NB) == 0 else {
            throw FileSystemError(operation: "flock", path: file.path, errno: errno)
        }
    }
}

/// `ENOSPC (No space left on device)`: the symbolic name operators search for, plus the C library's text.
func errnoName(_ code: Int32) -> String {
    let names: [Int32: String] = [
        EIO: "EIO", ENOSPC: "ENOSPC", EROFS: "EROFS", EEXIST: "EEXIST", ENOENT: "ENOENT", EACCES: "EACCES",
        EWOULDBLOCK: "EWOULDBLOCK", EBADF: "EBADF", EDQUOT: "EDQUOT", EPERM: "EPERM", ENOTDIR: "ENOTDIR",
    ]
    let text = String(cString: strerror(code))
    return "\(names[code] ?? "errno \(code)") (\(text))"
}
