/// Draws a checked history as one self-contained HTML page (inline CSS and SVG, nothing fetched): per key, every
/// operation as a bar from invoke to complete on its process's row, coloured by outcome, with the fault windows and
/// each leader's term shaded behind; on a violation, the linearization up to the failing operation is numbered
/// and the failing operation is outlined, with the reason above the drawing.
public struct HistoryReport {
    /// A span of time with a label: a fault in force, or a leader's tenure.
    public struct Window: Sendable, Hashable {
        public var start: UInt64
        public var end: UInt64
        public var label: String
        public init(start: UInt64, end: UInt64, label: String) {
            self.start = start
            self.end = end
            self.label = label
        }
    }

    public var title: String
    public var history: [HistoryOperation]
    public var results: [LinearizabilityChecker.KeyResult]
    public var faults: [Window] = []
    public var leaders: [Window] = []
    /// At most this many operations are drawn per key (those nearest the failing one, or the last ones).
    public var maxBarsPerKey = 1_500

    public init(title: String, history: [HistoryOperation], results: [LinearizabilityChecker.KeyResult]) {
        self.title = title
        self.history = history
        self.results = results
    }

    /// `text` with `&`, `<`, `>` and `"` escaped, for HTML and SVG.
    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `850 µs`, `12.3 ms`, `4.07 s`.
    static func duration(_ nanoseconds: UInt64) -> String {
        func three(_ value: Double) -> String {
            let digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            let rounded = (value * scale).rounded() / scale
            return digits == 0 ? String(Int(rounded)) : String(rounded)
        }
        if nanoseconds < 1_000_000 { return three(Double(nanoseconds) / 1e3) + " µs" }
        if nanoseconds < 1_000_000_000 { return three(Double(nanoseconds) / 1e6) + " ms" }
        return three(Double(nanoseconds) / 1e9) + " s"
    }

    public func html() -> String {
        let valid = results.allSatisfy { if case .linearizable = $0.verdict { true } else { false } }
        var body = ""
        for result in results { body += section(result) }
        let ops = history.count
        let verdict =
            valid
            ? "<span class=ok>linearizable</span>"
            : results.contains { if case .violation = $0.verdict { true } else { false } }
                ? "<span class=bad>NOT linearizable</span>" : "<span class=unknown>unknown (budget exceeded)</span>"
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
            h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 6px}
            .ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}.unknown{color:#b26a00;font-weight:600}
            .legend span{display:inline-block;margin-right:16px}.sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
            .reason{background:#fdecea;border-left:4px solid #c62828;padding:8px 12px;margin:6px 0;max-width:1180px}
            svg text{font:11px system-ui,sans-serif} .note{color:#666}
            </style></head><body>
            <h1>\(Self.escape(title))</h1>
            <div>\(verdict): \(ops) operations on \(results.count) keys</div>
            <div class=legend>
            <span><i class=sw style="background:#43a047"></i>ok</span>
            <span><i class=sw style="background:#bdbdbd"></i>fail (did not happen)</span>
            <span><i class=sw style="background:#ffb300"></i>info (unknown outcome: may apply any time after its start, or never)</span>
            <span><i class=sw style="background:#ffcdd2"></i>fault in force</span>
            <span><i class=sw style="background:#e3f2fd"></i>leader and term</span>
            </div>
            \(body)
            </body></html>

            """
    }

    func section(_ result: LinearizabilityChecker.KeyResult) -> String {
        var operations = history.filter { $0.key == result.key }
        var violation: LinearizabilityChecker.Violation?
        var heading = "<span class=ok>linearizable</span>"
        if case .violation(let found) = result.verdict {
            violation = found
            heading = "<span class=bad>not linearizable</span>"
        } else if case .unknown = result.verdict {
            heading = "<span class=unknown>unknown</span>"
        }
        var note = ""
        if operations.count > maxBarsPerKey {
            let center = violation?.failing.invoke ?? operations.map(\.invoke).max() ?? 0
            operations.sort {
                let a = $0.invoke > center ? $0.invoke - center : center - $0.invoke
                let b = $1.invoke > center ? $1.invoke - center : center - $1.invoke
                return a < b
            }
            note =
                "<div class=note>showing the \(maxBarsPerKey) of \(operations.count) operations nearest "
                + (violation == nil ? "the end" : "the failing one") + "</div>"
            operations = Array(operations.prefix(maxBarsPerKey))
        }
        var text = "<h2>key \(Self.escape(result.key)): \(heading), \(result.operations) operations</h2>\(note)"
        if let violation {
            text +=
                "<div class=reason>cannot place <b>\(Self.escape(violation.failing.description))</b>: "
                + "\(Self.escape(violation.reason)). The \(violation.prefix.count) operations numbered in blue are the "
                + "longest linearization found before it.</div>"
        }
        return text + svg(operations, violation)
    }

    func svg(_ operations: [HistoryOperation], _ violation: LinearizabilityChecker.Violation?) -> String {
        guard !operations.isEmpty else { return "" }
        let processes = Array(Set(operations.map(\.process))).sorted()
        let start = operations.map(\.invoke).min()!
        let knownEnds = operations.compactMap { $0.status == .info ? nil : $0.complete } + operations.map(\.invoke)
        let end = max(knownEnds.max()!, start + 1)
        let left = 90.0
        let width = 1100.0
        let rowHeight = 22.0
        let top = 20.0
        let height = top + Double(processes.count) * rowHeight + 30
        func x(_ time: UInt64) -> Double {
            left + width * Double(min(max(time, start), end) - start) / Double(end - start)
        }
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + width + 20))\" height=\"\(Int(height))\">"
        for (index, window) in leaders.enumerated() where window.end > start && window.start < end {
            let x0 = x(window.start)
            let x1 = x(window.end)
            out +=
                "<rect x=\"\(x0)\" y=\"\(top - 4)\" width=\"\(max(1, x1 - x0))\" height=\"\(height - top - 22)\" "
                + "fill=\"\(index % 2 == 0 ? "#e3f2fd" : "#f1f8ff")\"/>"
            if x1 - x0 >= Double(window.label.count) * 6.5 + 6 {
                out += "<text x=\"\(x0 + 3)\" y=\"\(height - 12)\" fill=\"#1565c0\">\(Self.escape(window.label))</text>"
            }
        }
        for window in faults where window.end > start && window.start < end {
            let x0 = x(window.start)
            let x1 = x(window.end)
            out +=
                "<rect x=\"\(x0)\" y=\"\(top - 4)\" width=\"\(max(1, x1 - x0))\" height=\"\(height - top - 22)\" "
                + "fill=\"#ffcdd2\" fill-opacity=\"0.6\"><title>\(Self.escape(window.label))</title></rect>"
            if x1 - x0 >= Double(window.label.count) * 6.5 + 6 {
                out += "<text x=\"\(x0 + 3)\" y=\"\(top - 8)\" fill=\"#c62828\">\(Self.escape(window.label))</text>"
            }
        }
        for (row, process) in processes.enumerated() {
            let y = top + Double(row) * rowHeight
            out += "<text x=\"4\" y=\"\(y + 14)\">process \(process)</text>"
            out +=
                "<line x1=\"\(left)\" y1=\"\(y + rowHeight - 2)\" x2=\"\(left + width)\" y2=\"\(y + rowHeight - 2)\" stroke=\"#eee\"/>"
        }
        var order: [HistoryOperation: Int] = [:]
        for (index, operation) in (violation?.prefix ?? []).enumerated() { order[operation] = index + 1 }
        for operation in operations {
            let row = processes.firstIndex(of: operation.process)!
            let y = top + Double(row) * rowHeight + 2
            let x0 = x(operation.invoke)
            // An info operation may take effect until the end: its bar runs on.
            let x1 = operation.status == .info ? left + width : x(operation.complete ?? end)
            let fill =
                switch operation.status {
                case .ok: "#43a047"
                case .fail: "#bdbdbd"
                case .info: "#ffb300"
                }
            var stroke = ""
            if violation?.failing == operation {
                stroke = " stroke=\"#c62828\" stroke-width=\"3\""
            } else if order[operation] != nil {
                stroke = " stroke=\"#1565c0\" stroke-width=\"2\""
            }
            let opacity = operation.status == .info ? " fill-opacity=\"0.45\"" : ""
            out +=
                "<rect x=\"\(x0)\" y=\"\(y)\" width=\"\(max(2, x1 - x0))\" height=\"\(rowHeight - 6)\" rx=\"2\" "
                + "fill=\"\(fill)\"\(opacity)\(stroke)><title>\(Self.escape(operation.description))</title></rect>"
            var label = operation.summary
            if let number = order[operation] { label = "\(number). " + label }
            if violation?.failing == operation { label = "✗ " + label }
            let room = Int((x1 - x0) / 6.2)
            if room >= 3 {
                let shown = label.count > room ? String(label.prefix(room - 1)) + "…" : label
                out += "<text x=\"\(x0 + 3)\" y=\"\(y + 12)\" fill=\"#fff\">\(Self.escape(shown))</text>"
            }
        }
        out += "<text x=\"\(left)\" y=\"\(height - 2)\" fill=\"#666\">0</text>"
        out +=
            "<text x=\"\(left + width)\" y=\"\(height - 2)\" fill=\"#666\" text-anchor=\"end\">"
            + "\(Self.duration(end - start)) later</text>"
        return out + "</svg>"
    }
}
