import ArgumentParser
import Glibc
import RaftServer

// Startup problems (port in use, locked or foreign data directory, …) print one line and exit 1.
do {
    var arguments = try RaftdCommand.argumentsWithConfigFile(Array(CommandLine.arguments.dropFirst()))
    if arguments.isEmpty { arguments = ["--help"] }
    var command = try RaftdCommand.parseAsRoot(arguments)
    try command.run()
} catch {
    RaftdCommand.exit(withError: error)
}
