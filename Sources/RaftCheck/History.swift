import FoundationEssentials

/// One completed client operation of a history, as `raftctl check` reads it (one JSON object per line; the format
/// is in raftctl(1)) and `raftctl chaos` writes it.
///
/// Invariants: `complete`, when present, is not before `invoke`; a `write` has a value, a `cas` two; an `ok` read
/// has `output` (nil for "the key was absent"), an `ok` cas has `casSucceeded`.
public struct HistoryOperation: Sendable, Hashable {
    public enum Call: Sendable, Hashable {
        case read
        case write(String)
        case cas(old: String, new: String)
        case delete
    }

    /// `ok`: it happened and the client saw the answer; `fail`: it certainly did not happen; `info`: unknown, it
    /// may have taken effect at any moment after `invoke`, or never.
    public enum Status: String, Sendable, Hashable, Codable {
        case ok, fail, info
    }

    /// The line of the history it came from (1-based), for messages.
    public var line: Int
    public var process: Int
    public var key: String
    public var call: Call
    public var status: Status
    /// What an `ok` read returned (nil: the key was absent).
    public var output: String?
    /// Whether an `ok` cas succeeded.
    public var casSucceeded: Bool?
    /// For an `ok` write, when the client was told: whether the key was absent before it (nil: not told).
    public var createdKey: Bool?
    /// For an `ok` delete, when the client was told: whether there was a value to delete (nil: not told).
    public var deletedExisting: Bool?
    public var invoke: UInt64
    public var complete: UInt64?

    public init(
        line: Int = 0, process: Int, key: String, call: Call, status: Status, output: String? = nil,
        casSucceeded: Bool? = nil, createdKey: Bool? = nil, deletedExisting: Bool? = nil, invoke: UInt64,
        complete: UInt64?
    ) {
        self.line = line
        self.process = process
        self.key = key
        self.call = call
        self.status = status
        self.output = output
        self.casSucceeded = casSucceeded
        self.createdKey = createdKey
        self.deletedExisting = deletedExisting
        self.invoke = invoke
        self.complete = complete
    }

    /// `read -> 3-17`, `write 5-2`, `cas 1->2 (ok)`, `delete`.
    public var summary: String {
        switch call {
        case .read: status == .ok ? "read -> \(output ?? "nil")" : "read"
        case .write(let value): "write \(value)"
        case .cas(let old, let new):
            "cas \(old)->\(new)" + (status == .ok ? (casSucceeded == true ? " (ok)" : " (no match)") : "")
        case .delete: "delete"
        }
    }

    public var description: String {
        "process \(process) \(summary) [\(status.rawValue), line \(line), \(invoke)..\(complete.map(String.init) ?? "?")]"
    }
}

/// A history that cannot be read, with the line that is wrong.
public struct HistoryError: Error, CustomStringConvertible, Sendable {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// Reads and writes histories in JSON Lines.
public enum HistoryFormat {
    /// A JSON value as it may appear in `input` and `output`.
    enum JSONValue: Decodable {
        case null
        case bool(Bool)
        case number(String)
        case string(String)
        case array([JSONValue])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let flag = try? container.decode(Bool.self) {
                self = .bool(flag)
            } else if let integer = try? container.decode(Int64.self) {
                self = .number(String(integer))
            } else if let number = try? container.decode(Double.self) {
                self = .number(String(number))
            } else if let text = try? container.decode(String.self) {
                self = .string(text)
            } else if let array = try? container.decode([JSONValue].self) {
                self = .array(array)
            } else {
                self = .other
            }
        }

        /// A register value: a string, or a number by its decimal text.
        var scalar: String? {
            switch self {
            case .string(let text), .number(let text): text
            default: nil
            }
        }
    }

    struct Line: Decodable {
        var process: Int?
        var key: String?
        var type: String?
        var input: JSONValue?
        var output: JSONValue?
        var status: String?
        var invoke: UInt64?
        var complete: UInt64?
    }

    /// Parses a whole history; blank lines are skipped. Throws the first problem with its line number.
    public static func parse(_ text: String) throws(HistoryError) -> [HistoryOperation] {
        var operations: [HistoryOperation] = []
        let decoder = JSONDecoder()
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let trimmed = raw.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
            if trimmed.isEmpty { continue }
            let line: Line
            do {
                line = try decoder.decode(Line.self, from: Data(raw.utf8))
            } catch {
                throw HistoryError(line: number, message: "not a JSON object")
            }
            operations.append(try operation(line, number))
        }
        return operations
    }

    static func operation(_ line: Line, _ number: Int) throws(HistoryError) -> HistoryOperation {
        func fail(_ message: String) -> HistoryError { HistoryError(line: number, message: message) }
        guard let process = line.process else { throw fail("\"process\" (an integer) is missing") }
        guard let key = line.key else { throw fail("\"key\" (a string) is missing") }
        guard let statusText = line.status, let status = HistoryOperation.Status(rawValue: statusText) else {
            throw fail("\"status\" must be \"ok\", \"fail\" or \"info\"")
        }
        guard let invoke = line.invoke else { throw fail("\"invoke\" (nanoseconds) is missing") }
        if let complete = line.complete, complete < invoke {
            throw fail("\"complete\" (\(complete)) is before \"invoke\" (\(invoke))")
        }
        if status != .info && line.complete == nil {
            throw fail("\"complete\" is missing for a \(statusText) operation")
        }
        let call: HistoryOperation.Call
        var output: String?
        var casSucceeded: Bool?
        switch line.type {
        case "read":
            call = .read
            if status == .ok {
                switch line.output {
                case .null?, nil: output = nil
                case let value?:
                    guard let scalar = value.scalar else { throw fail("a read's \"output\" must be a value or null") }
                    output = scalar
                }
            }
        case "write":
            guard let value = line.input?.scalar else { throw fail("a write's \"input\" must be a string or number") }
            call = .write(value)
        case "cas":
            guard case .array(let pair)? = line.input, pair.count == 2, let old = pair[0].scalar,
                let new = pair[1].scalar
            else { throw fail("a cas's \"input\" must be [old, new]") }
            call = .cas(old: old, new: new)
            if status == .ok {
                guard case .bool(let succeeded)? = line.output else {
                    throw fail("an ok cas's \"output\" must be true or false")
                }
                casSucceeded = succeeded
            }
        case "delete":
            call = .delete
        default:
            throw fail("\"type\" must be \"read\", \"write\", \"cas\" or \"delete\"")
        }
        return HistoryOperation(
            line: number, process: process, key: key, call: call, status: status, output: output,
            casSucceeded: casSucceeded, invoke: invoke, complete: line.complete)
    }

    /// One operation as a line of JSON (no newline), in the format `parse` reads.
    public static func line(_ operation: HistoryOperation) -> String {
        func json(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        let (type, input, output): (String, String, String)
        switch operation.call {
        case .read: (type, input, output) = ("read", "null", operation.output.map(json) ?? "null")
        case .write(let value): (type, input, output) = ("write", json(value), "null")
        case .cas(let old, let new):
            (type, input, output) = (
                "cas", "[\(json(old)),\(json(new))]", operation.casSucceeded.map { "\($0)" } ?? "null"
            )
        case .delete: (type, input, output) = ("delete", "null", "null")
        }
        let complete = operation.complete.map { ",\"complete\":\($0)" } ?? ""
        return
            "{\"process\":\(operation.process),\"key\":\(json(operation.key)),\"type\":\"\(type)\",\"input\":\(input),"
            + "\"output\":\(output),\"status\":\"\(operation.status.rawValue)\",\"invoke\":\(operation.invoke)\(complete)}"
    }
}
