/// Why a command line could not be split into words.
///
/// `column` is the 1-based character position of the offending quote or backslash, so the message can point at it.
public struct TokenizeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kinds of malformed command line.
    public enum Kind: Equatable, Sendable {
        /// A `'` or `"` quote was opened and never closed.
        case unterminatedQuote(Character)
        /// The line ends with a backslash that has nothing to escape.
        case danglingEscape
    }

    public var kind: Kind
    public var column: Int

    public init(kind: Kind, column: Int) {
        self.kind = kind
        self.column = column
    }

    public var description: String {
        switch kind {
        case .unterminatedQuote(let quote):
            return "unterminated \(quote) quote (opened at column \(column))"
        case .danglingEscape:
            return "the line ends with an escape character '\\' (column \(column)) with nothing to escape"
        }
    }
}

extension REPL {
    /// Splits a command line like a shell: whitespace separates words; '…' and "…" quote; backslash escapes.
    ///
    /// Single quotes keep everything literally; inside double quotes a backslash escapes only `"` and `\`
    /// (elsewhere it stays a backslash, so Windows-like paths survive). Quoted and unquoted parts touching each other
    /// form one word (`a"b c"d` is `ab cd`), and `''` is an empty word. No variables, globs or comments.
    /// - Throws: `TokenizeError` for an unterminated quote or a trailing lone backslash.
    public static func tokenize(_ line: String) throws -> [String] {
        let scan = Scanner.scan(line)
        if let error = scan.error { throw error }
        return scan.words
    }

    /// The words before the one being completed: lenient, because a completion prefix routinely ends inside an
    /// opened quote (the word under the cursor), which is simply not a previous word.
    static func completedWords(_ prefix: String) -> [String] {
        Scanner.scan(prefix).words
    }
}

/// One pass over a line; on an error, `words` holds the complete words before the broken one.
private enum Scanner {
    static func scan(_ line: String) -> (words: [String], error: TokenizeError?) {
        var words: [String] = []
        var current = ""
        // A word exists as soon as any character or quote starts it, even if it stays empty ('' is a word).
        var inWord = false
        var quote: Character? = nil
        var quoteColumn = 0
        var escaping = false
        var escapeColumn = 0
        var column = 0
        for character in line {
            column += 1
            if escaping {
                // Inside double quotes only `"` and `\` are escapable; before anything else the backslash stays.
                if quote == "\"" && character != "\"" && character != "\\" { current.append("\\") }
                current.append(character)
                escaping = false
                continue
            }
            switch quote {
            case "'":
                if character == "'" { quote = nil } else { current.append(character) }
            case "\"":
                if character == "\"" {
                    quote = nil
                } else if character == "\\" {
                    escaping = true
                    escapeColumn = column
                } else {
                    current.append(character)
                }
            default:
                if character.isWhitespace {
                    if inWord {
                        words.append(current)
                        current = ""
                        inWord = false
                    }
                } else if character == "'" || character == "\"" {
                    quote = character
                    quoteColumn = column
                    inWord = true
                } else if character == "\\" {
                    escaping = true
                    escapeColumn = column
                    inWord = true
                } else {
                    current.append(character)
                    inWord = true
                }
            }
        }
        if let quote {
            return (words, TokenizeError(kind: .unterminatedQuote(quote), column: quoteColumn))
        }
        if escaping {
            return (words, TokenizeError(kind: .danglingEscape, column: escapeColumn))
        }
        if inWord { words.append(current) }
        return (words, nil)
    }
}
