/// Durations as operators write them: `150ms`, `5s`, `1m`, `2h` (whole numbers), and ranges `150ms-300ms`.
public enum DurationText {
    /// Milliseconds, or nil if `text` is not a duration.
    public static func milliseconds(_ text: some StringProtocol) -> Int? {
        let text = String(text)
        let units: [(String, Int)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits),
                value <= Int.max / scale
            else { return nil }
            return value * scale
        }
        return nil
    }

    /// A range `LOW-HIGH` (or a single duration, meaning `LOW-LOW`), with LOW ≤ HIGH.
    public static func range(_ text: some StringProtocol) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let value = milliseconds(parts[0]) else { return nil }
            return value...value
        case 2:
            guard let low = milliseconds(parts[0]), let high = milliseconds(parts[1]), low <= high else { return nil }
            return low...high
        default:
            return nil
        }
    }

    /// `150ms`, `5s`, `2m` — the largest unit that divides exactly.
    public static func format(milliseconds: Int) -> String {
        if milliseconds != 0 && milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds != 0 && milliseconds % 1_000 == 0 { return "\(milliseconds / 1_000)s" }
        return "\(milliseconds)ms"
    }
}
