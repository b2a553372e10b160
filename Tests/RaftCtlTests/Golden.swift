import Foundation
import Testing

/// Compares `text` with the golden file `Golden/NAME` beside the tests. A missing golden file is written from
/// `text` and the test fails once, so a new rendering is looked at before it becomes the reference.
func checkGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
        .appendingPathComponent(name)
    guard let expected = try? String(contentsOf: path, encoding: .utf8) else {
        try text.write(to: path, atomically: true, encoding: .utf8)
        Issue.record(
            "wrote the missing golden file \(path.path); check it and run again", sourceLocation: sourceLocation)
        return
    }
    #expect(text == expected, "differs from \(name):\n\(text)", sourceLocation: sourceLocation)
}
