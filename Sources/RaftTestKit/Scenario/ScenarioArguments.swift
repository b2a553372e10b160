import RaftCore

/// The words of one command line after its name: positional words and `key=value` options. Handlers consume
/// what they understand; ``finish()`` then rejects leftovers, so a typo never silently changes a story.
struct ScenarioArguments {
    let line: Int
    private(set) var positional: [String]
    private var named: [(key: String, value: String)]
    private(set) var flags: Set<String>

    static let knownFlags: Set<String> = ["quiet"]

    init(line: Int, words: [String]) {
        self.line = line
        var positional: [String] = []
        var named: [(String, String)] = []
        var flags: Set<String> = []
        for word in words {
            if let eq = word.firstIndex(of: "="), eq != word.startIndex {
                named.append((String(word[..<eq]), String(word[word.index(after: eq)...])))
            } else if Self.knownFlags.contains(word) {
                flags.insert(word)
            } else {
                positional.append(word)
            }
        }
        self.positional = positional
        self.named = named
        self.flags = flags
    }

    func error(_ message: String) -> ScenarioError { ScenarioError(line: line, message: message) }

    mutating func flag(_ name: String) -> Bool { flags.remove(name) != nil }

    mutating func option(_ key: String) -> String? {
        guard let position = named.firstIndex(where: { $0.key == key }) else { return nil }
        return named.remove(at: position).value
    }

    mutating func intOption(_ key: String) throws(ScenarioError) -> Int? {
        guard let text = option(key) else { return nil }
        guard let value = Int(text), value >= 0 else { throw error("\(key)=\(text) is not a count") }
        return value
    }

    mutating func boolOption(_ key: String) throws(ScenarioError) -> Bool? {
        guard let text = option(key) else { return nil }
        switch text {
        case "on", "true", "yes": return true
        case "off", "false", "no": return false
        default: throw error("\(key)=\(text): expected on or off")
        }
    }

    mutating func nodeOption(_ key: String) throws(ScenarioError) -> NodeID? {
        guard let text = option(key) else { return nil }
        guard let id = NodeID(parsing: text) else { throw error("\(key)=\(text) is not a node like n2") }
        return id
    }

    /// Every remaining `key=value` option, in order (for commands like `propose n1 a=1 b=2`).
    mutating func takeAllOptions() -> [(key: String, value: String)] {
        defer { named.removeAll() }
        return named
    }

    mutating func popPositional() -> String? {
        positional.isEmpty ? nil : positional.removeFirst()
    }

    mutating func node() throws(ScenarioError) -> NodeID {
        guard let text = popPositional() else { throw error("expected a node like n1") }
        guard let id = NodeID(parsing: text) else { throw error("`\(text)` is not a node like n1") }
        return id
    }

    mutating func nodes() throws(ScenarioError) -> [NodeID] {
        var ids: [NodeID] = []
        while !positional.isEmpty { ids.append(try node()) }
        return ids
    }

    mutating func finish() throws(ScenarioError) {
        if let word = positional.first { throw error("unexpected argument `\(word)`") }
        if let option = named.first { throw error("unknown option `\(option.key)=`") }
        if let flag = flags.first { throw error("flag `\(flag)` does not apply here") }
    }
}
