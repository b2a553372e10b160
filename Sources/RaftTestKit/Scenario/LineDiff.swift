/// A minimal line diff (longest common subsequence) for readable scenario failures. Scenario outputs are a few
/// dozen lines, so the quadratic table is cheap.
enum LineDiff {
    /// Every line of both sides: `  ` common, `- ` expected only, `+ ` actual only.
    static func render(expected: [String], actual: [String]) -> [String] {
        let n = expected.count
        let m = actual.count
        var table = Array(repeating: Array(repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i][j] =
                    expected[i] == actual[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var out: [String] = []
        var i = 0
        var j = 0
        while i < n || j < m {
            if i < n && j < m && expected[i] == actual[j] {
                out.append("  " + expected[i])
                i += 1
                j += 1
            } else if i < n && (j == m || table[i + 1][j] >= table[i][j + 1]) {
                out.append("- " + expected[i])
                i += 1
            } else {
                out.append("+ " + actual[j])
                j += 1
            }
        }
        return out
    }
}
