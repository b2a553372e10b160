/// Columns padded to their widest cell (the last one not padded).
func renderTable(_ rows: [[String]]) -> String {
    var widths = [Int](repeating: 0, count: rows.first?.count ?? 0)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    return rows.map { row in
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
