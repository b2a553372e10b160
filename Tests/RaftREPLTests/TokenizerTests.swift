import Testing

@testable import RaftREPL

@Suite("REPL tokenizer")
struct TokenizerTests {
    @Test("whitespace of any kind and amount separates words")
    func whitespaceSeparatesWords() throws {
        #expect(try REPL.tokenize("put  key\tvalue ") == ["put", "key", "value"])
    }

    @Test("an empty or blank line has no words")
    func emptyLineHasNoWords() throws {
        #expect(try REPL.tokenize("") == [])
        #expect(try REPL.tokenize("   \t ") == [])
    }

    @Test("single quotes keep blanks, double quotes and backslashes literally")
    func singleQuotesAreLiteral() throws {
        #expect(try REPL.tokenize(#"put k 'a b "c" \n'"#) == ["put", "k", #"a b "c" \n"#])
    }

    @Test("double quotes keep blanks and single quotes; backslash escapes only a double quote or a backslash")
    func doubleQuotesAndTheirEscapes() throws {
        #expect(try REPL.tokenize(#"put "it's \"x\" \\ \n""#) == ["put", #"it's "x" \ \n"#])
    }

    @Test("a backslash outside quotes escapes the next character, a blank or a quote included")
    func backslashEscapesOutsideQuotes() throws {
        #expect(try REPL.tokenize(#"put a\ b \'c \\"#) == ["put", "a b", "'c", #"\"#])
    }

    @Test("quoted and unquoted parts that touch form one word, and empty quotes are an empty word")
    func adjacentPartsJoinAndEmptyQuotesCount() throws {
        #expect(try REPL.tokenize(#"a"b c"d '' """#) == ["ab cd", "", ""])
    }

    @Test("non-ASCII text passes through unchanged")
    func unicodeSurvives() throws {
        #expect(try REPL.tokenize("put clé 'naïve café' 🚀") == ["put", "clé", "naïve café", "🚀"])
    }

    @Test("an unterminated quote is an error naming the quote and its column")
    func unterminatedQuoteIsAnError() {
        #expect(throws: TokenizeError(kind: .unterminatedQuote("\""), column: 5)) {
            try REPL.tokenize(#"put "abc"#)
        }
        #expect(throws: TokenizeError(kind: .unterminatedQuote("'"), column: 12)) {
            try REPL.tokenize(#"get a "'b" 'c"#)
        }
        let message = TokenizeError(kind: .unterminatedQuote("'"), column: 3).description
        #expect(message.contains("unterminated ' quote"))
        #expect(message.contains("column 3"))
    }

    @Test("a trailing lone backslash is an error")
    func danglingEscapeIsAnError() {
        #expect(throws: TokenizeError(kind: .danglingEscape, column: 7)) {
            try REPL.tokenize(#"put a \"#)
        }
    }
}

@Suite("REPL completion context")
struct CompletionContextTests {
    @Test("the words before the cursor's word are tokenized like a command line, quotes included")
    func previousWordsAreTokenized() {
        #expect(REPL.completedWords("kill ") == ["kill"])
        #expect(REPL.completedWords("put 'a b' \"c\" ") == ["put", "a b", "c"])
        #expect(REPL.completedWords("") == [])
    }

    @Test("a quote opened by the word under the cursor is not a previous word")
    func openQuoteIsDropped() {
        #expect(REPL.completedWords("put key \"") == ["put", "key"])
        #expect(REPL.completedWords("put '") == ["put"])
    }
}
