/// Sizes as operators write them: `0`, `4096`, `64KiB`, `256MiB`, `8GiB` (powers of 1024; `K`, `M`, `G` and
/// `KB`, `MB`, `GB` mean the same, as in etcd's and most tools' flags), whole numbers only.
public enum ByteSizeText {
    /// Bytes, or nil if `text` is not a size.
    public static func bytes(_ text: some StringProtocol) -> UInt64? {
        let text = String(text)
        let units: [(String, UInt64)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30),
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1), ("", 1),
        ]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt64(digits),
                value <= UInt64.max / scale
            else { return nil }
            return value * scale
        }
        return nil
    }

    /// `5.2 MiB`, `312 KiB`, `17 B`: one decimal past the largest unit not over the size.
    public static func format(_ bytes: UInt64) -> String {
        let units: [(String, UInt64)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        for (name, scale) in units where bytes >= scale {
            let tenths = (bytes * 10 + scale / 2) / scale
            return tenths % 10 == 0 ? "\(tenths / 10) \(name)" : "\(tenths / 10).\(tenths % 10) \(name)"
        }
        return "\(bytes) B"
    }
}
