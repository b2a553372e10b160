import Foundation
import Glibc
import RaftClient
import Testing

extension RaftdIntegrationTests {
    @Suite("Startup errors and graceful shutdown")
    struct Lifecycle {
        /// A start that must fail: a name for the report and how to break a valid command line.
        struct BadOptions: Sendable, CustomStringConvertible {
            var description: String
            var replacing: [String: String]
            var adding: [String] = []
            /// Words the error line must contain.
            var naming: [String]
        }

        static let badOptions: [BadOptions] = [
            BadOptions(description: "--id not in --peers", replacing: ["--id": "n7"], naming: ["n7", "peer list"]),
            BadOptions(
                description: "bad --election-timeout", replacing: ["--election-timeout": "fast"],
                naming: ["--election-timeout", "fast"]),
            BadOptions(
                description: "malformed --peers", replacing: ["--peers": "n1=127.0.0.1:1,n2=nowhere"],
                naming: ["--peers", "n2=nowhere"]),
            BadOptions(
                description: "--entry-cache not a positive size", replacing: ["--entry-cache": "0"],
                naming: ["--entry-cache", "8MiB", "\"0\""]),
            BadOptions(
                description: "admin socket path over 107 bytes",
                replacing: ["--admin-socket": "/tmp/" + String(repeating: "s", count: 110) + ".sock"],
                naming: ["admin socket", "107"]),
        ]

        /// Exactly one `Error:` line on stderr, naming the problem, and a non-zero exit status.
        static func expectStartupError(
            _ result: (status: Int32, output: String), naming words: [String],
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(result.status != 0, "raftd must exit non-zero:\n\(result.output)", sourceLocation: sourceLocation)
            let errors = result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errors.count == 1, "one error line expected:\n\(result.output)", sourceLocation: sourceLocation)
            for word in words {
                #expect(
                    errors.first?.contains(word) == true, "the error should name \"\(word)\":\n\(result.output)",
                    sourceLocation: sourceLocation)
            }
        }

        @Test("Invalid options exit non-zero with one error line that names the problem", arguments: badOptions)
        func invalidOptionsAreRefused(_ bad: BadOptions) async throws {
            let cluster = try LocalCluster(size: 1)
            defer { cluster.shutdown() }
            var arguments = cluster.arguments("n1") + ["--election-timeout", "150ms-300ms"]
            for (option, value) in bad.replacing {
                if let at = arguments.firstIndex(of: option) {
                    arguments[at + 1] = value
                } else {
                    arguments += [option, value]
                }
            }
            Self.expectStartupError(try await cluster.runToExit(arguments + bad.adding), naming: bad.naming)
            #expect(access(cluster.node("n1").dataDir + "/LOCK", F_OK) != 0, "options are checked before any I/O")
        }

        @Test("A client port already in use is reported by address")
        func clientPortInUseIsReported() async throws {
            let cluster = try LocalCluster(size: 1)
            defer { cluster.shutdown() }
            let holder = try Sockets.listen(port: 0)
            defer { close(holder.fd) }
            var arguments = cluster.arguments("n1")
            arguments[arguments.firstIndex(of: "--client-listen")! + 1] = "127.0.0.1:\(holder.port)"
            Self.expectStartupError(
                try await cluster.runToExit(arguments), naming: ["127.0.0.1:\(holder.port)", "already in use"])
        }

        @Test("A peer port already in use is reported by address")
        func peerPortInUseIsReported() async throws {
            let cluster = try LocalCluster(size: 1)
            defer { cluster.shutdown() }
            let holder = try Sockets.listen(port: 0)
            defer { close(holder.fd) }
            let arguments = cluster.arguments("n1") + ["--peer-listen", "127.0.0.1:\(holder.port)"]
            Self.expectStartupError(
                try await cluster.runToExit(arguments), naming: ["127.0.0.1:\(holder.port)", "already in use"])
        }

        @Test("Options come from --config; the command line wins over the file")
        func configFileOptionsApplyUnderTheCommandLine() async throws {
            let cluster = try LocalCluster(size: 1)
            defer { cluster.shutdown() }
            let file = cluster.root + "/raftd.conf"
            let node = cluster.node("n1")
            try """
            # a comment
            id = n1
            peers = n1=127.0.0.1:\(node.peerPort)
            data-dir = \(node.dataDir)
            client-listen = 127.0.0.1:\(node.clientPort)
            max-value-bytes = 10
            election-timeout = fast
            """.write(toFile: file, atomically: true, encoding: .utf8)
            // The file's bad election timeout is overridden on the command line; everything else comes from the file.
            cluster.extraArguments = []
            let pid = try RaftdProcess.spawn(
                cluster.binary, ["--config", file, "--election-timeout", "100ms-200ms"],
                outputPath: cluster.root + "/c.out")
            defer { RaftdProcess.killAndReap(pid) }
            let port = node.clientPort
            _ = try await cluster.eventually("raftd started from a config file to elect itself") {
                try HTTPClient.put(port: port, "k", "0123456789").status == 200 ? true : nil
            }
            Expect.error(try HTTPClient.put(port: port, "k", "01234567890"), 413, "max-value-bytes from the file")

            let broken = cluster.root + "/broken.conf"
            try "id n1\n".write(toFile: broken, atomically: true, encoding: .utf8)
            Self.expectStartupError(try await cluster.runToExit(["--config", broken]), naming: ["broken.conf:1"])
        }

        @Test("A data directory locked by a running raftd, or of another cluster, is refused; the owner is unharmed")
        func lockedOrForeignDataDirectoryIsRefused() async throws {
            let cluster = try LocalCluster(size: 1)
            defer { cluster.shutdown() }
            try await cluster.start("n1")
            let ports = try Sockets.freeLoopbackPorts(2)
            let node = cluster.node("n1")
            let intruder = [
                "--id", "n1", "--peers", "n1=127.0.0.1:\(ports[0])", "--data-dir", node.dataDir,
                "--client-listen", "127.0.0.1:\(ports[1])",
            ]
            Self.expectStartupError(try await cluster.runToExit(intruder), naming: [node.dataDir, "locked"])
            // The refused start must not have taken the running node's admin socket or stopped it.
            #expect(try cluster.admin("n1").result("status")["id"] as? String == "n1")
            #expect(try cluster.status("n1").pid == Int(node.pid!))

            cluster.kill("n1", signal: SIGTERM)
            #expect(try await cluster.waitForExit("n1") == 0)
            let foreign = cluster.arguments("n1") + ["--cluster-id", "00000000000000ab"]
            Self.expectStartupError(try await cluster.runToExit(foreign), naming: ["cluster", "00000000000000ab"])
            // The directory still belongs to its cluster: the node starts again with its original options.
            try await cluster.start("n1")
        }

        @Test("Another node's data directory is refused")
        func anotherNodesDataDirectoryIsRefused() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            _ = try await cluster.waitForLeader()
            cluster.kill("n1", signal: SIGTERM)
            #expect(try await cluster.waitForExit("n1") == 0)
            var arguments = cluster.arguments("n2")
            arguments[arguments.firstIndex(of: "--data-dir")! + 1] = cluster.node("n1").dataDir
            let ports = try Sockets.freeLoopbackPorts(2)
            arguments[arguments.firstIndex(of: "--client-listen")! + 1] = "127.0.0.1:\(ports[0])"
            arguments += ["--peer-listen", "127.0.0.1:\(ports[1])"]
            Self.expectStartupError(try await cluster.runToExit(arguments), naming: [cluster.node("n1").dataDir])
        }

        @Test("A follower shut down with a forwarded write in flight answers 504 (outcome unknown), not 503")
        func shutdownAnswersInFlightWritesAsOutcomeUnknown() async throws {
            // Long election timeouts: the follower must stay a follower of the same leader until we stop it.
            let cluster = try LocalCluster(extraArguments: ["--election-timeout", "2s-4s", "--request-timeout", "10s"])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader(timeout: 15)
            let follower = cluster.ids.first { $0 != leader }!
            // The follower can still forward proposals to the leader but never hears that they committed.
            _ = try cluster.admin(follower).result("block", ["peers": [leader], "direction": "in"])
            let port = cluster.port(follower)
            async let answer = onThread { try HTTPClient.put(port: port, "inflight", "v", timeout: 15) }
            _ = try await cluster.eventually("the forwarded write to commit on the leader", timeout: 5) {
                try HTTPClient.get(port: cluster.port(leader), "inflight", stale: true).status == 200 ? true : nil
            }
            cluster.kill(follower, signal: SIGTERM)
            let response = try await answer
            #expect(try await cluster.waitForExit(follower) == 0)
            // The write is committed: a 503 would tell the client it was not applied and invite a blind retry.
            #expect(response.status != 503, "a committed write was answered as unavailable: \(response)")
            #expect(response.status == 200 || response.status == 504, "\(response)")
        }

        @Test("SIGINT to a follower and SIGTERM to a leader without reachable peers both exit 0 promptly")
        func shutdownWithoutAHandoverTargetStillExits() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let followers = cluster.ids.filter { $0 != leader }
            cluster.kill(followers[0], signal: SIGINT)
            #expect(try await cluster.waitForExit(followers[0]) == 0)
            #expect(try cluster.status(leader).role == "leader", "a follower leaving does not disturb the leader")
            cluster.kill(followers[1])

            let signalledAt = ContinuousClock.now
            cluster.kill(leader, signal: SIGTERM)
            let status = try await cluster.waitForExit(leader, timeout: 10)
            print("raftd graceful shutdown: a leader with no peers exited after \(millisecondsSince(signalledAt)) ms")
            #expect(status == 0)
            #expect(access(cluster.node(leader).adminSocket, F_OK) != 0)
        }

        @Test("SIGTERM to the leader hands leadership over, exits 0 and removes admin.sock; modes 0600 and 0700")
        func sigtermHandsOverLeadershipAndExitsCleanly() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let old = try await cluster.waitForLeader()
            for id in cluster.ids {
                var info = stat()
                #expect(stat(cluster.node(id).adminSocket, &info) == 0)
                #expect(
                    info.st_mode & 0o777 == 0o600, "\(id) admin.sock mode \(String(info.st_mode & 0o777, radix: 8))")
                #expect(stat(cluster.node(id).dataDir, &info) == 0)
                #expect(info.st_mode & 0o777 == 0o700, "\(id) data dir mode \(String(info.st_mode & 0o777, radix: 8))")
            }
            let oldTerm = try cluster.status(old).term
            let survivors = cluster.ids.filter { $0 != old }

            let signalledAt = ContinuousClock.now
            cluster.kill(old, signal: SIGTERM)
            let status = try await cluster.waitForExit(old)
            let exitMilliseconds = millisecondsSince(signalledAt)
            let newLeader = try await cluster.waitForLeader(among: survivors, timeout: 5)
            print(
                "raftd graceful shutdown: \(old) exited after \(exitMilliseconds) ms; survivors agreed on \(newLeader)"
                    + " after \(millisecondsSince(signalledAt)) ms")
            #expect(status == 0, "exit status of a SIGTERMed raftd:\n\(cluster.logTail(old))")
            #expect(access(cluster.node(old).adminSocket, F_OK) != 0, "admin.sock must be removed on a clean exit")
            let log = cluster.logTail(old, lines: 100)
            #expect(log.contains("transferring leadership to \(newLeader)"), "a handover, not an election:\n\(log)")
            #expect(try cluster.status(newLeader).term > oldTerm)
            try Expect.written(try HTTPClient.put(port: cluster.port(survivors[0]), "k", "v"), "PUT after handover")
        }
    }
}
