/// A scenario script: the small language `raftctl scenario run` reads (raftctl(1), SCENARIO SCRIPTS).
///
/// One step per line; `#` starts a comment; `$NAME` is replaced by a value bound earlier (`wait leader as L`,
/// `let F = follower 1`). The header comments `# name:` and `# summary:` name the scenario, and `nodes N` (before
/// any step) sets the size of its scratch cluster. Steps:
///
/// - `say TEXT`: narration.
/// - `raftctl ARGS`: run a raftctl command, which must succeed; `raftctl? ARGS` may fail (check it with
///   `expect exit` or `expect output`).
/// - `campaign ID ID…`: make several nodes start an election at the same moment.
/// - `wait leader [not ID] [among-others ID,…] [as NAME]` (binds NAME and NAME_term), `wait role ID ROLE`,
///   `wait caught-up ID`, `wait event ID KIND [matching TEXT] [count N] [since T]` (events of that kind whose
///   detail contains TEXT, recorded since T, by default since the wait began), `wait load N`
///   (writes acknowledged to the background client): wait, up to 15 s, for a condition.
/// - `burst ID N`: send N writes to one node at once (keys and Idempotency-Keys `burst-ID-1`…), waiting up to 2 s
///   for answers.
/// - `let NAME = leader | follower N | term ID | commit ID | applied ID | last-index ID | now` (`now`: the UTC
///   time, for `wait event … since $NAME`).
/// - `expect exit N`, `expect output TEXT` (of the last raftctl step), `expect role ID ROLE`, `expect leader ID`,
///   `expect leader not ID`, `expect leader none`, `expect term|commit|applied|last-index ID OP VALUE` (OP one of
///   `= != < <= > >=`), `expect value KEY VALUE` (or `none`), `expect log ID INDEX term [OP] T`,
///   `expect log ID INDEX command TEXT`, `expect copies ID IDEMKEY N` (entries in ID's log carrying that
///   Idempotency-Key; a final `*` matches a prefix), `expect logs-match`, `expect loaded-writes-readable`.
///   Expectations about the cluster hold if they come true within 5 s.
/// - `when A = B STEP`, `when A != B STEP`: a `say` or `expect` step that applies only when the two (substituted)
///   words are equal, or differ: narration and promises that depend on what happened.
/// - `load start`, `load stop`: a client writing keys in the background, remembering what was acknowledged.
struct ScenarioScript: Sendable {
    struct Step: Sendable, Hashable {
        /// 1-based line in the script, for error messages.
        var line: Int
        /// The words of the line (quotes removed, variables not yet substituted).
        var words: [String]
        /// The whole line after its verb, for `say` and `expect output` (variables not yet substituted).
        var rest: String
    }

    var name: String
    var summary: String
    var nodes: Int
    var steps: [Step]

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    static let verbs: Set<String> = [
        "say", "raftctl", "raftctl?", "campaign", "wait", "let", "expect", "when", "load", "burst",
    ]

    init(parsing text: String, defaultName: String) throws(ParseError) {
        name = defaultName
        summary = ""
        nodes = 3
        steps = []
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let trimmed = raw.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("#") {
                let comment = trimmed.dropFirst().trimmingWhitespace()
                if comment.hasPrefix("name:") { name = String(comment.dropFirst(5)).trimmingWhitespace() }
                if comment.hasPrefix("summary:") { summary = String(comment.dropFirst(8)).trimmingWhitespace() }
                continue
            }
            let words = try Self.words(trimmed, line: line)
            guard let verb = words.first else { continue }
            if verb == "nodes" {
                guard steps.isEmpty, words.count == 2, let count = Int(words[1]), (1...9).contains(count) else {
                    throw ParseError(line: line, message: "`nodes N` (1 to 9) must come before the first step")
                }
                nodes = count
                continue
            }
            guard Self.verbs.contains(verb) else {
                throw ParseError(
                    line: line,
                    message: "unknown step \"\(verb)\"; steps are \(Self.verbs.sorted().joined(separator: ", "))")
            }
            let rest = trimmed.dropFirst(verb.count).trimmingWhitespace()
            try Self.check(words, line: line)
            steps.append(Step(line: line, words: words, rest: rest))
        }
        guard !steps.isEmpty else { throw ParseError(line: 1, message: "the script has no steps") }
    }

    /// Splits a line into words; double quotes group words and are removed.
    static func words(_ line: String, line number: Int) throws(ParseError) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var started = false
        for character in line {
            if character == "\"" {
                quoted.toggle()
                started = true
            } else if character == " " && !quoted {
                if started { words.append(current) }
                current = ""
                started = false
            } else {
                current.append(character)
                started = true
            }
        }
        guard !quoted else { throw ParseError(line: number, message: "unterminated quote") }
        if started { words.append(current) }
        return words
    }

    /// Checks a step's shape when the script is read, so a typo fails before the cluster is touched.
    static func check(_ words: [String], line: Int) throws(ParseError) {
        func fail(_ usage: String) -> ParseError { ParseError(line: line, message: "usage: \(usage)") }
        let count = words.count
        switch words[0] {
        case "say": if count < 2 { throw fail("say TEXT") }
        case "raftctl", "raftctl?": if count < 2 { throw fail("raftctl COMMAND [ARGS]") }
        case "campaign": if count < 2 { throw fail("campaign ID [ID…]") }
        case "load": if count != 2 || !["start", "stop"].contains(words[1]) { throw fail("load start|stop") }
        case "burst": if count != 3 || Int(words[2]) == nil { throw fail("burst ID COUNT") }
        case "when":
            guard count >= 6, ["=", "!="].contains(words[2]), ["say", "expect"].contains(words[4]) else {
                throw fail("when A = B say TEXT | when A != B expect …")
            }
            try check(Array(words[4...]), line: line)
        case "let":
            guard count >= 4, words[2] == "=",
                ["leader", "follower", "term", "commit", "applied", "last-index", "now"].contains(words[3])
            else { throw fail("let NAME = leader|follower N|term ID|commit ID|applied ID|last-index ID|now") }
        case "wait":
            guard count >= 2, ["leader", "role", "caught-up", "event", "load"].contains(words[1]) else {
                throw fail(
                    "wait leader [not ID] [among-others ID,…] [as NAME] | wait role ID ROLE | wait caught-up ID"
                        + " | wait event ID KIND [matching TEXT] [count N] [since T] | wait load N")
            }
        case "expect":
            let kinds = [
                "exit", "output", "role", "leader", "term", "commit", "applied", "last-index", "value", "log",
                "copies", "logs-match", "loaded-writes-readable",
            ]
            guard count >= 2, kinds.contains(words[1]) else {
                throw fail("expect \(kinds.joined(separator: "|")) …")
            }
            if ["term", "commit", "applied", "last-index"].contains(words[1]) {
                guard count == 5, ["=", "!=", "<", "<=", ">", ">="].contains(words[3]) else {
                    throw fail("expect \(words[1]) ID OP VALUE")
                }
            }
            if words[1] == "log" && !(count >= 6 && ["term", "command"].contains(words[4])) {
                throw fail("expect log ID INDEX term [OP] T | expect log ID INDEX command TEXT")
            }
            if words[1] == "copies" && count != 5 { throw fail("expect copies ID IDEMPOTENCY-KEY N") }
            if words[1] == "value" && count != 4 { throw fail("expect value KEY VALUE|none") }
            if words[1] == "role" && count != 4 { throw fail("expect role ID ROLE") }
        default: break
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let characters = Array(self)
        var start = 0
        var end = characters.count
        while start < end && characters[start].isWhitespace { start += 1 }
        while end > start && characters[end - 1].isWhitespace { end -= 1 }
        return String(characters[start..<end])
    }
}
