import ModelFormats
import Tokenizers

/// The engine's view of a `Tokenizers.Tokenizer`.
///
/// Prompt text is tokenized with special tokens recognised (`<|im_start|>` written in a chat
/// prompt becomes the control token), because prompts come from templates. BOS is added only
/// when the model's tokenizer asks for it.
struct TokenizerCodec: TextCodec {
    let tokenizer: Tokenizer

    func encode(_ text: String, addBOS: Bool) throws -> [Int32] {
        tokenizer.encode(text, addBOS: addBOS && tokenizer.addsBOS, parseSpecial: true)
    }

    func tokenText(_ token: Int32) -> String { tokenizer.tokenText(token) }

    func makeStreamDecoder() -> any StreamingTextDecoder { tokenizer.makeStreamingDecoder() }

    var endOfGeneration: Set<Int32> { tokenizer.endOfGeneration }
}

extension StreamingDecoder: StreamingTextDecoder {}

/// The codec of a model file's own tokenizer.
func makeCodec(_ file: ModelFile) throws -> any TextCodec {
    TokenizerCodec(tokenizer: try Tokenizer(try file.loadTokenizerData()))
}
