import Foundation
import XCTest
import ModelFormats
@testable import Tokenizers

final class ChatFormatTests: XCTestCase {
    let convo = [ChatMessage(.system, "Be brief."), ChatMessage(.user, "What is 2+2?"),
                 ChatMessage(.assistant, "4"), ChatMessage(.user, "And 3+3?")]

    func testQwen2TemplateFromTheSharedVocabulary() throws {
        let data = try TokenizerData.load(path: "\(vocabDir)/ggml-vocab-qwen2.gguf")
        let t = try ChatTemplate.detect(template: data.chatTemplate)
        XCTAssertEqual(t.format, .chatml)
        XCTAssertEqual(t.defaultSystemPrompt, "You are a helpful assistant")
        XCTAssertEqual(t.render([ChatMessage(.user, "Hi")], addGenerationPrompt: true),
                       "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        // The rendered prompt tokenizes into the control tokens when special tokens are parsed.
        let tok = try VocabCache.shared.tokenizer("qwen2")
        let ids = tok.encode(t.render(convo, addGenerationPrompt: true), parseSpecial: true)
        XCTAssertEqual(ids.first, tok.id(of: "<|im_start|>"))
        XCTAssertEqual(ids.filter { $0 == tok.id(of: "<|im_end|>") }.count, 4)
        // …and not when they are not (untrusted text cannot forge a turn).
        XCTAssertFalse(tok.encode("<|im_start|>").contains(tok.id(of: "<|im_start|>")!))
    }

    /// The same conversations rendered by jinja2 from the qwen2 vocabulary's own template
    /// (scripts/tokenizer-golden/make_golden.py).
    func testMatchesJinjaRenderingOfTheQwen2Template() throws {
        let data = try TokenizerData.load(path: "\(vocabDir)/ggml-vocab-qwen2.gguf")
        let t = try ChatTemplate.detect(template: data.chatTemplate)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(fixturesDir)/chat-qwen2.json")))
        let cases = try XCTUnwrap((json as? [String: Any])?["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let messages = try XCTUnwrap(c["messages"] as? [[String: String]]).map {
                ChatMessage(ChatMessage.Role(rawValue: $0["role"] ?? "") ?? .user, $0["content"] ?? "")
            }
            let gen = try XCTUnwrap(c["add_generation_prompt"] as? Bool)
            XCTAssertEqual(t.render(messages, addGenerationPrompt: gen), c["text"] as? String)
        }
    }

    func testChatMLWithSystem() throws {
        let t = ChatTemplate(format: .chatml, defaultSystemPrompt: "ignored when a system turn exists")
        XCTAssertEqual(t.render(convo, addGenerationPrompt: false),
                       "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                       + "<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n")
    }

    func testLlama3() throws {
        let tpl = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
        let t = try ChatTemplate.detect(template: tpl)
        XCTAssertEqual(t.format, .llama3)
        XCTAssertFalse(t.knowledgeDateHeader)
        XCTAssertEqual(t.render([ChatMessage(.system, "S "), ChatMessage(.user, " Hi")], addGenerationPrompt: true),
                       "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
                       + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        let t31 = ChatTemplate(format: .llama3, knowledgeDateHeader: true)
        XCTAssertEqual(t31.render([ChatMessage(.user, "Hi")], addGenerationPrompt: false),
                       "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
                       + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>")
        // Llama 3.2 templates date the header with today's date.
        let t32 = try ChatTemplate.detect(template: "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: {{ strftime_now('%d %b %Y') }}")
        XCTAssertTrue(t32.knowledgeDateHeader)
        XCTAssertEqual(t32.todayDate.count, 11)
        XCTAssertNotEqual(t32.todayDate, "26 Jul 2024")
        XCTAssertTrue(t32.render([], addGenerationPrompt: false).contains("Today Date: \(t32.todayDate)\n\n"))
        let tok = try VocabCache.shared.tokenizer("llama-bpe")
        let ids = tok.encode(t.render([ChatMessage(.user, "Hi")], addGenerationPrompt: true), parseSpecial: true)
        XCTAssertEqual(ids.first, tok.bosID)
        XCTAssertEqual(ids.filter { $0 == tok.id(of: "<|start_header_id|>") }.count, 2)
    }

    func testLlama2AndMistral() throws {
        let llama2 = try ChatTemplate.detect(template: "{% if messages[0]['role'] == 'system' %}... '<<SYS>>\\n' ... '[INST] ' ... {% endif %}")
        XCTAssertEqual(llama2.format, .llama2)
        XCTAssertEqual(llama2.render(convo, addGenerationPrompt: true),
                       "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWhat is 2+2? [/INST] 4 </s><s>[INST] And 3+3? [/INST]")
        let mistral = try ChatTemplate.detect(template: "{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endfor %}")
        XCTAssertEqual(mistral.format, .mistral)
        XCTAssertEqual(mistral.render(convo, addGenerationPrompt: true),
                       "<s>[INST] Be brief.\n\nWhat is 2+2? [/INST]4</s>[INST] And 3+3? [/INST]")
        let tok = try VocabCache.shared.tokenizer("llama-spm")
        let ids = tok.encode(llama2.render([ChatMessage(.user, "Hi")], addGenerationPrompt: true), parseSpecial: true)
        XCTAssertEqual(ids.first, tok.bosID)
    }

    func testRawAndErrors() throws {
        XCTAssertEqual(ChatTemplate(format: .raw).render(convo, addGenerationPrompt: true),
                       "Be brief.\n\nWhat is 2+2?\n\n4\n\nAnd 3+3?")
        XCTAssertThrowsError(try ChatTemplate.detect(template: "{{ messages | tojson }}")) { e in
            XCTAssertEqual("\(e)", "unrecognised chat template (not ChatML, Llama 3, Llama 2 or Mistral); choose one with --template chatml|llama3|llama2|mistral|raw")
        }
        XCTAssertThrowsError(try ChatTemplate.detect(template: nil)) { e in
            XCTAssertTrue("\(e)".contains("--template chatml|llama3|llama2|mistral|raw"))
        }
        XCTAssertEqual(try ChatFormat.named("ChatML"), .chatml)
        XCTAssertThrowsError(try ChatFormat.named("vicuna"))
    }
}
