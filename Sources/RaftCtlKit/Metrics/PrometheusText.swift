/// A parser for the Prometheus text exposition format (version 0.0.4), strict about the format's rules, for
/// `raftctl top` (which reads every node's `GET /metrics`) and for the tests that hold raftd to the format.
///
/// Rules enforced: every line ends with a newline; `# HELP` and `# TYPE` name a valid metric, at most once each,
/// and a family's TYPE precedes its samples; the lines of one family are contiguous; metric and label names are
/// valid, label names do not start with `__`, label values are quoted with only `\\`, `\"` and `\n` escapes; values
/// are floats (or `+Inf`, `-Inf`, `NaN`), an optional timestamp an integer; no series appears twice; counters are
/// not negative; a histogram has, per label set, cumulative buckets with an `le` label ending at `+Inf`, whose
/// count equals `_count`, and a `_sum`.
public struct PrometheusText: Sendable {
    public struct Sample: Sendable, Hashable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public struct Family: Sendable {
        public var name: String
        /// `counter`, `gauge`, `histogram`, `summary` or `untyped`.
        public var type: String
        public var help: String?
        public var samples: [Sample]
    }

    /// Families by name, in order of appearance.
    public private(set) var families: [Family] = []

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public init(parsing text: String) throws(ParseError) {
        var parser = Parser()
        try parser.parse(text)
        families = parser.families
    }

    public func family(_ name: String) -> Family? { families.first { $0.name == name } }

    /// The value of the one sample named `name` whose labels include `labels` (nil if none; the first if several).
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples(name).first { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    /// Every sample named `name` (a histogram's `_bucket`, `_sum` and `_count` samples by their own names).
    public func samples(_ name: String) -> [Sample] {
        families.flatMap(\.samples).filter { $0.name == name }
    }

    /// The sum over samples named `name` whose labels include `labels`.
    public func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples(name).filter { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }.map(\.value)
            .reduce(0, +)
    }

    /// The cumulative buckets (upper bound, count) of histogram `name` for the label set including `labels`.
    public func buckets(_ name: String, _ labels: [String: String] = [:]) -> [(bound: Double, count: Double)] {
        samples(name + "_bucket").filter { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }
            .compactMap { sample in sample.labels["le"].flatMap { Parser.number($0[...]) }.map { ($0, sample.value) } }
            .sorted { $0.bound < $1.bound }
    }

    /// The `q` quantile (0…1) of the observations between two readings of a histogram's cumulative buckets,
    /// interpolated within its bucket as Prometheus' `histogram_quantile` does; nil when nothing was observed.
    public static func quantile(
        _ q: Double, of now: [(bound: Double, count: Double)], since before: [(bound: Double, count: Double)] = []
    ) -> Double? {
        let previous = Dictionary(before.map { ($0.bound, $0.count) }, uniquingKeysWith: { $1 })
        let delta = now.map { (bound: $0.bound, count: $0.count - (previous[$0.bound] ?? 0)) }
        guard let total = delta.last?.count, total > 0 else { return nil }
        let rank = q * total
        var lowerBound = 0.0
        var lowerCount = 0.0
        for bucket in delta {
            if bucket.count >= rank {
                if bucket.bound == .infinity { return lowerBound }
                let inBucket = bucket.count - lowerCount
                guard inBucket > 0 else { return bucket.bound }
                return lowerBound + (bucket.bound - lowerBound) * (rank - lowerCount) / inBucket
            }
            lowerBound = bucket.bound
            lowerCount = bucket.count
        }
        return lowerBound
    }

    private struct Parser {
        var families: [Family] = []
        var lineNumber = 0
        /// Families whose lines ended (another family's line came after them).
        var closed: Set<String> = []
        var seenSeries: Set<String> = []

        mutating func parse(_ text: String) throws(ParseError) {
            guard text.isEmpty || text.hasSuffix("\n") else { throw ParseError(line: 0, message: "no final newline") }
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                lineNumber += 1
                if line.isEmpty { continue }
                if line.hasPrefix("#") {
                    try comment(line)
                } else {
                    try sample(line)
                }
            }
            for family in families { try check(family) }
        }

        func fail(_ message: String) -> ParseError { ParseError(line: lineNumber, message: message) }

        mutating func comment(_ line: Substring) throws(ParseError) {
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else { return }
            let name = String(parts[2])
            guard Self.isMetricName(name) else { throw fail("invalid metric name \"\(name)\" in \(parts[1])") }
            let rest = parts.count > 3 ? String(parts[3]) : ""
            let index = try open(name)
            if parts[1] == "TYPE" {
                guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(rest) else {
                    throw fail("unknown type \"\(rest)\" for \(name)")
                }
                guard families[index].samples.isEmpty else { throw fail("TYPE of \(name) after its samples") }
                guard families[index].type == "" else { throw fail("second TYPE for \(name)") }
                families[index].type = rest
            } else {
                guard families[index].help == nil else { throw fail("second HELP for \(name)") }
                families[index].help = rest
            }
        }

        /// The family `name` (a new one if it is the first time), checking that its lines are contiguous.
        mutating func open(_ name: String) throws(ParseError) -> Int {
            if let last = families.indices.last, families[last].name == name { return last }
            guard !closed.contains(name), !families.contains(where: { $0.name == name }) else {
                throw fail("the lines of \(name) are not contiguous")
            }
            if let last = families.last { closed.insert(last.name) }
            families.append(Family(name: name, type: "", help: nil, samples: []))
            return families.count - 1
        }

        mutating func sample(_ line: Substring) throws(ParseError) {
            var rest = line[...]
            let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
            let name = String(rest[..<nameEnd])
            guard Self.isMetricName(name) else { throw fail("invalid metric name \"\(name)\"") }
            rest = rest[nameEnd...]
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                try parseLabels(&rest, into: &labels)
            }
            guard rest.first == " " || rest.first == "\t" else { throw fail("no value for \(name)") }
            let fields = rest.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 1 || fields.count == 2, let value = Self.number(fields[0]) else {
                throw fail("bad value \"\(rest.dropFirst())\" for \(name)")
            }
            if fields.count == 2, Int64(fields[1]) == nil { throw fail("bad timestamp \"\(fields[1])\"") }
            let familyName = familyName(of: name)
            let index = try open(familyName)
            let series =
                name + "{"
                + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: ",") + "}"
            guard seenSeries.insert(series).inserted else { throw fail("duplicate series \(series)") }
            families[index].samples.append(Sample(name: name, labels: labels, value: value))
        }

        /// A histogram's or summary's `_bucket`, `_sum` and `_count` samples belong to the family their TYPE named.
        func familyName(of name: String) -> String {
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                let base = String(name.dropLast(suffix.count))
                if let last = families.last, last.name == base, last.type == "histogram" || last.type == "summary" {
                    return base
                }
            }
            return name
        }

        mutating func parseLabels(_ rest: inout Substring, into labels: inout [String: String]) throws(ParseError) {
            while true {
                if rest.first == "}" {
                    rest = rest.dropFirst()
                    return
                }
                guard let equals = rest.firstIndex(of: "=") else { throw fail("unterminated label set") }
                let name = String(rest[..<equals])
                guard Self.isLabelName(name) else { throw fail("invalid label name \"\(name)\"") }
                guard !name.hasPrefix("__") else { throw fail("reserved label name \"\(name)\"") }
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw fail("label \(name) has no quoted value") }
                rest = rest.dropFirst()
                var value = ""
                var closed = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if character == "\"" {
                        closed = true
                        break
                    }
                    if character == "\\" {
                        switch rest.first {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw fail("bad escape in the value of label \(name)")
                        }
                        rest = rest.dropFirst()
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { throw fail("unterminated value of label \(name)") }
                guard labels.updateValue(value, forKey: name) == nil else { throw fail("label \(name) given twice") }
                if rest.first == "," { rest = rest.dropFirst() }
            }
        }

        func check(_ family: Family) throws(ParseError) {
            switch family.type {
            case "counter":
                if let negative = family.samples.first(where: { $0.value < 0 }) {
                    throw ParseError(line: 0, message: "counter \(negative.name) is negative")
                }
            case "histogram":
                try checkHistogram(family)
            default: break
            }
        }

        func checkHistogram(_ family: Family) throws(ParseError) {
            func fail(_ message: String) -> ParseError { ParseError(line: 0, message: "\(family.name): \(message)") }
            var sets: [[String: String]: [(Double, Double)]] = [:]
            var counts: [[String: String]: Double] = [:]
            var sums: Set<[String: String]> = []
            for sample in family.samples {
                var labels = sample.labels
                switch sample.name {
                case family.name + "_bucket":
                    guard let le = labels.removeValue(forKey: "le"), let bound = Self.number(le[...]) else {
                        throw fail("a bucket without a valid le label")
                    }
                    sets[labels, default: []].append((bound, sample.value))
                case family.name + "_count": counts[labels] = sample.value
                case family.name + "_sum": sums.insert(labels)
                default: throw fail("unexpected sample \(sample.name)")
                }
            }
            for (labels, buckets) in sets {
                let sorted = buckets.sorted { $0.0 < $1.0 }
                guard sorted.last?.0 == .infinity else { throw fail("no +Inf bucket for \(labels)") }
                for (lower, upper) in zip(sorted, sorted.dropFirst()) where upper.1 < lower.1 {
                    throw fail("buckets are not cumulative at le=\(upper.0) for \(labels)")
                }
                guard counts[labels] == sorted.last?.1 else { throw fail("_count differs from the +Inf bucket") }
                guard sums.contains(labels) else { throw fail("no _sum for \(labels)") }
            }
        }

        static func number(_ text: Substring) -> Double? {
            switch text {
            case "+Inf", "Inf": .infinity
            case "-Inf": -.infinity
            case "NaN": .nan
            default: Double(text)
            }
        }

        static func isMetricName(_ name: String) -> Bool {
            guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" || first == ":" else {
                return false
            }
            return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == ":" }
        }

        static func isLabelName(_ name: String) -> Bool {
            guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" else { return false }
            return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
