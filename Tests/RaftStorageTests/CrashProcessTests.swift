import Foundation
import Glibc
import RaftCore
import RaftProcess
import RaftStorage
import Testing

/// Must match `crashWriterPayload` in Tests/Fixtures/wal-crash-writer/main.swift.
func crashWriterPayload(writer: Int, sequence: Int, payloadBytes: Int) -> [UInt8] {
    var data = Array("w\(writer)-s\(sequence)-".utf8)
    while data.count < payloadBytes { data.append(UInt8(truncatingIfNeeded: writer &* 31 &+ sequence &+ data.count)) }
    return data
}

/// Finds the `wal-crash-writer` executable that `swift test` built next to the test bundle.
func crashWriterExecutable(filePath: String = #filePath) throws -> String {
    try fixtureExecutable("wal-crash-writer", filePath: filePath)
}

/// Finds the test fixture executable `name` that `swift test` built next to the test bundle.
func fixtureExecutable(_ name: String, filePath: String = #filePath) throws -> String {
    var candidates: [String] = []
    // The test runner lives in the build products directory (…/debug/<package>PackageTests.xctest).
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = runner.deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(directory.appendingPathComponent(name).path)
        directory = directory.deletingLastPathComponent()
    }
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path)
    // Fallback: the package's default build directory, found from this source file.
    let packageRoot = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    candidates.append(packageRoot.appendingPathComponent(".build/debug/\(name)").path)
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
    throw FixtureNotBuilt(name: name, searched: candidates)
}

struct FixtureNotBuilt: Error, CustomStringConvertible {
    var name: String
    var searched: [String]
    var description: String {
        "\(name) is not built (run `swift build --product \(name)`); searched: " + searched.joined(separator: ", ")
    }
}

@Suite("SIGKILL durability (real process)")
struct CrashProcessTests {
    /// Each round kills the writer once it has reported a seeded number of entries. The writer itself stops
    /// appending at a cap a little above that, so the work is bounded by a count: a loaded machine that wakes this
    /// test late gets a kill at a quiet moment, never a round of hundreds of thousands of entries.
    @Test(.timeLimit(.minutes(5)))
    func everyEntryReportedDurableSurvivesSIGKILL() async throws {
        let executable = try crashWriterExecutable()
        let seed = testSeed(default: 0xC0FF_EE01)
        print("everyEntryReportedDurableSurvivesSIGKILL seed=\(seed) (replay with SEED=\(seed))")
        var random = SeededGenerator(seed: seed)
        let temporary = TemporaryDirectory("sigkill")
        defer { temporary.remove() }
        let directory = temporary.path + "/data"
        let payloadBytes = 100
        var reportedTotal = 0
        var expectedLastIndexAtLeast: UInt64 = 0
        for round in 0..<6 {
            let killAfter = Int.random(in: 20...3_000, using: &random)
            let cap = killAfter + Int.random(in: 1...2_000, using: &random)
            let outputPath = temporary.path + "/out-\(round).txt"
            #expect(FileManager.default.createFile(atPath: outputPath, contents: nil))
            let pid = try ChildProcess.spawn(
                executable: executable, arguments: [directory, "4", String(payloadBytes), String(cap)],
                stdout: .file(outputPath), closeInheritedDescriptors: true)
            // Wait (by count, not time) for the writer to report `killAfter` entries or to reach its cap.
            let started = ContinuousClock.now
            while true {
                let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                let lines = text.utf8.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
                if lines > killAfter || text.contains("done\n") || text.contains("error") { break }
                if ContinuousClock.now - started > .seconds(120) {
                    Issue.record("round \(round): the writer reported \(lines - 1) of \(killAfter) entries in 120 s")
                    break
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            kill(pid, SIGKILL)
            #expect(ChildProcess.waitForExit(pid, timeout: .seconds(60)) == -SIGKILL, "the writer died of the SIGKILL")

            let output = try String(contentsOfFile: outputPath, encoding: .utf8)
            // Only complete lines count: a line cut by the kill was never fully reported.
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.first?.hasPrefix("ready") == true, "round \(round): \(lines.first ?? "")")
            var reported: [(index: UInt64, writer: Int, sequence: Int)] = []
            for line in lines.dropFirst() where line != "done" {
                let fields = line.split(separator: " ")
                guard fields.count == 3, let index = UInt64(fields[0]), let writer = Int(fields[1]),
                    let sequence = Int(fields[2])
                else {
                    Issue.record("round \(round): unexpected line \(line)")
                    continue
                }
                reported.append((index, writer, sequence))
            }
            reportedTotal += reported.count

            let storage = try NodeStorage(
                options: StorageOptions(directory: directory, clusterID: ClusterID(0xC4A5), nodeID: NodeID(1)))
            defer { storage.close() }
            let entries = storage.recovery.state.entries
            // Contiguous from 1 with nothing missing, and never shorter than what an earlier round saw.
            #expect(entries.map(\.index.rawValue) == Array(1...UInt64(entries.count)), "round \(round)")
            #expect(UInt64(entries.count) >= expectedLastIndexAtLeast, "round \(round): entries lost")
            for item in reported {
                let entry = try storage.entry(at: LogIndex(item.index))
                #expect(
                    entry?.data
                        == crashWriterPayload(writer: item.writer, sequence: item.sequence, payloadBytes: payloadBytes),
                    "seed \(seed) round \(round): entry \(item.index) reported durable but missing or damaged")
            }
            expectedLastIndexAtLeast = max(expectedLastIndexAtLeast, reported.map(\.index).max() ?? 0)
            print(
                "round \(round): \(reported.count) entries reported durable, log ends at \(storage.lastIndex),"
                    + " repairs: \(storage.recovery.repairs)")
        }
        #expect(reportedTotal > 0, "the writer never reported an entry; the test checked nothing")
    }
}
