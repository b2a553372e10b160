// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "swift-raft",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "RaftStorage", targets: ["RaftStorage"]),
        .library(name: "RaftRuntime", targets: ["RaftRuntime"]),
        .library(name: "RaftKV", targets: ["RaftKV"]),
        .library(name: "RaftLockService", targets: ["RaftLockService"]),
        .library(name: "RaftTestKit", targets: ["RaftTestKit"]),
        .executable(name: "raftd", targets: ["raftd"]),
        .executable(name: "raftctl", targets: ["raftctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The consensus algorithm: standard library only, no I/O, clock, threads or global randomness.
        .target(name: "RaftCore"),
        // Write-ahead log, hard state and snapshots on disk, behind an injectable file layer.
        .target(name: "RaftStorage", dependencies: ["RaftCore"]),
        // The deterministic node runtime: core, storage, a state machine and waiting clients on one loop, with the
        // world (network, clocks, background work) behind an environment. raftd and the simulator both run it.
        .target(name: "RaftRuntime", dependencies: ["RaftCore", "RaftStorage"]),
        // An example state machine for the runtime: a replicated lock service with fencing tokens.
        .target(name: "RaftLockService", dependencies: ["RaftCore", "RaftRuntime"]),
        // The peer protocol: bounds-checked byte reader/writer and the peer frame codec.
        .target(name: "RaftWire", dependencies: ["RaftCore"]),
        // What clients and operators exchange with a node: admin requests and answers, the status document, the
        // HTTP API's JSON bodies, the failpoint names.
        .target(name: "RaftAPI"),
        // The client of a node: its HTTP API and admin socket over blocking sockets with bounded waits, and a cluster
        // client that follows the leader and retries with the same Idempotency-Key. raftctl and the tests use it.
        .target(name: "RaftClient", dependencies: ["RaftAPI"]),
        // Starting, waiting for and reaping child processes (posix_spawn, bounded waits): raftctl's daemons and every
        // process a test runs.
        .target(name: "RaftProcess"),
        // Quantities as people write them: durations (150ms), sizes (256MiB), UTC timestamps.
        .target(name: "RaftText"),
        // glibc's malloc_trim, which Swift's Glibc module does not export: raftd returns the memory a snapshot
        // restore freed.
        .target(name: "CSystemMemory"),
        // The replicated key-value state machine with exactly-once client sessions.
        .target(
            name: "RaftKV",
            dependencies: ["RaftCore", "RaftWire", "RaftRuntime"]),
        // The node shell: the core's event loop, peer transport, HTTP client API, admin socket, raftd's command.
        .target(
            name: "RaftServer",
            dependencies: [
                "CSystemMemory",
                "RaftCore", "RaftWire", "RaftAPI", "RaftText", "RaftKV", "RaftStorage", "RaftRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "raftd",
            dependencies: ["RaftServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // raftctl as a library: cluster directory, supervisor, process control, commands, REPL wiring.
        .target(
            name: "RaftCtlKit",
            dependencies: [
                "RaftAPI", "RaftClient", "RaftProcess", "RaftText", "RaftREPL", "RaftCheck",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Linearizability checking of client histories (register per key) and their pictures, for raftctl check.
        .target(name: "RaftCheck"),
        .testTarget(name: "RaftCheckTests", dependencies: ["RaftCheck"]),
        .executableTarget(name: "raftctl", dependencies: ["RaftCtlKit"]),
        // In-memory cluster harness, scripted scenarios, seeded simulator and safety checkers.
        .target(name: "RaftTestKit", dependencies: ["RaftCore", "RaftStorage", "RaftRuntime", "RaftKV", "RaftCheck"]),
        // Benchmarks (not tests, not shipped): `swift run -c release raft-core-bench`, `raft-storage-bench`.
        // Throughput and allocation benchmark of the core alone.
        .executableTarget(
            name: "raft-core-bench", dependencies: ["RaftCore", "CMallocCounter"], path: "Benchmarks/raft-core-bench"),
        // Allocation counter for the benchmark only: interposes malloc & co. in the process that links it.
        .target(name: "CMallocCounter", path: "Benchmarks/CMallocCounter"),
        .executableTarget(
            name: "kv-memory-bench", dependencies: ["RaftKV", "RaftCore", "CMallocCounter"],
            path: "Benchmarks/kv-memory-bench"),
        // Durable-append benchmark (group commit vs raw fsync rate, recovery time).
        .executableTarget(
            name: "raft-storage-bench", dependencies: ["RaftStorage", "RaftCore"],
            path: "Benchmarks/raft-storage-bench"),
        // Test fixtures, built beside the test binaries. Appends with fsync and reports each durable index; the
        // SIGKILL durability test drives it.
        .executableTarget(
            name: "wal-crash-writer", dependencies: ["RaftStorage", "RaftCore"], path: "Tests/Fixtures/wal-crash-writer"
        ),
        // Moves one large snapshot file through the transfer path and reports its peak memory: the bounded-memory
        // test drives it, in a process of its own so that no other test's allocations count.
        .executableTarget(
            name: "snapshot-transfer-probe", dependencies: ["RaftStorage", "RaftCore"],
            path: "Tests/Fixtures/snapshot-transfer-probe"),
        .testTarget(
            name: "RaftCoreTests", dependencies: ["RaftCore", "RaftTestKit", "RaftProcess"], exclude: ["Scenarios"]),
        .testTarget(name: "RaftWireTests", dependencies: ["RaftWire", "RaftText", "RaftCore"]),
        .testTarget(name: "RaftKVTests", dependencies: ["RaftKV", "RaftWire", "RaftCore"]),
        .testTarget(
            name: "RaftRuntimeTests",
            dependencies: ["RaftRuntime", "RaftKV", "RaftStorage", "RaftCore", "RaftTestKit", "RaftAPI"]),
        .testTarget(
            name: "RaftLockServiceTests", dependencies: ["RaftLockService", "RaftRuntime", "RaftStorage", "RaftCore"]),
        .testTarget(name: "RaftStorageTests", dependencies: ["RaftStorage", "RaftCore", "RaftTestKit", "RaftProcess"]),
        // GNU readline (apt: libreadline-dev) behind a shim header with setters Swift 6 strict concurrency accepts.
        .systemLibrary(name: "CReadline", path: "Sources/CReadline", providers: [.apt(["libreadline-dev"])]),
        // raftctl's interactive shell: readline line editing, history, completion, Ctrl-C handling, watch views.
        .target(name: "RaftREPL", dependencies: ["CReadline"]),
        // A minimal REPL host (a test fixture) the RaftREPL tests drive through a pipe and a pseudo-terminal.
        .executableTarget(name: "repl-demo", dependencies: ["RaftREPL"], path: "Tests/Fixtures/repl-demo"),
        .testTarget(name: "RaftREPLTests", dependencies: ["RaftREPL", "RaftProcess", "ChildProcessTestSupport"]),
        // Driving a child process under a pseudo-terminal, for the end-to-end tests of the REPL and `top`.
        .target(name: "ChildProcessTestSupport", dependencies: ["RaftProcess"], path: "Tests/ChildProcessTestSupport"),
        .testTarget(
            name: "RaftServerTests",
            dependencies: [
                "RaftServer", "RaftWire", "RaftAPI", "RaftClient", "RaftProcess", "RaftCore", "RaftStorage",
                "ChildProcessTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // End-to-end tests that drive the built raftctl and raftd binaries (none linked: they run as processes).
        // Golden files are read from the source tree by path, not bundled.
        .testTarget(
            name: "RaftCtlTests",
            dependencies: [
                "RaftCtlKit", "RaftAPI", "RaftClient", "RaftProcess", "RaftText", "ChildProcessTestSupport",
            ],
            exclude: ["Golden"]),
        // Checks man pages and shell completions against the built raftctl and raftd (run after `swift build`).
        .testTarget(name: "DocsTests", dependencies: ["RaftProcess"]),
    ],
    swiftLanguageModes: [.v6]
)
