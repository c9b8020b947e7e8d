import Foundation
import ModelFormats
import Tokenizers

/// `stepwise tokenize`: show how a model's tokenizer splits a text.
enum TokenizeCommand {
    static let command = Command(
        name: "tokenize",
        summary: "show the token ids and pieces of a text for a model's tokenizer",
        help: """
        Usage: stepwise tokenize --model PATH [--json] [--special] [--bos] TEXT

        Tokenizes TEXT the way the engine will (special tokens such as <|im_start|> are plain
        text unless --special is given; no BOS unless --bos).

        Options:
          --model PATH   a .gguf file, a Hugging Face folder, or a tokenizer.json
          --special      recognise control tokens written in TEXT
          --bos          put the model's BOS token first
          --json         {"count": N, "ids": [...], "pieces": [...]} instead of a table
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        let args = try Arguments(argv, command: "tokenize", valued: ["model"], flags: ["json", "special", "bos"])
        guard let model = args.value("model") else { throw CLIError.usage("missing --model PATH", command: "tokenize") }
        let text = try args.positional(0, "TEXT")
        try args.expectPositionals(atMost: 1)
        let tok = try readingInput { try Tokenizer.load(path: model) }
        let ids = tok.encode(text, addBOS: args.flag("bos"), parseSpecial: args.flag("special"))
        let pieces = ids.map { tok.tokenText($0) }
        if args.flag("json") {
            let obj: [String: Any] = ["count": ids.count, "ids": ids.map(Int.init), "pieces": pieces]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
            console.out(String(decoding: data, as: UTF8.self))
        } else {
            for (id, piece) in zip(ids, pieces) {
                console.out("\(String(id).padding(toLength: 8, withPad: " ", startingAt: 0)) \(piece.debugDescription)")
            }
            console.out("\(ids.count) tokens")
        }
        return 0
    }
}
