#!/usr/bin/env python3
"""Golden tokenizer outputs from independent implementations, for Stepwise's Swift tests.

1. llama.cpp (through llama-cpp-python) tokenizes a few hundred seeded random strings with each
   vocabulary in ../shared/fixtures/tokenizers (no BOS, special tokens not parsed).
2. Hugging Face `tokenizers` trains three small byte-level BPE tokenizers (GPT-2, Llama 3 and
   Qwen2 pre-tokenizer patterns), saves each tokenizer.json, and tokenizes the same strings;
   likewise a cut-down Llama-2 style (SentencePiece BPE) tokenizer.json that transformers
   converts from the llama-spm vocabulary (this step takes a few minutes).

Writes into Tests/TokenizersTests/Fixtures/ (kept well under 1 MB). Stepwise never needs Python
to build or test; rerun this only to regenerate the fixtures:

    /work/venv-ref/bin/python scripts/tokenizer-golden/make_golden.py
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VOCABS = os.path.join(os.path.dirname(REPO), "shared", "fixtures", "tokenizers")
OUT = os.path.join(REPO, "Tests", "TokenizersTests", "Fixtures")
SEED = 20261122
COUNT = 300

WORDS = ["the", "The", "THE", "hello", "World", "tokenizer", "verify", "step", "answer", "is", "x", "I",
         "don't", "we'll", "She'S", "they're", "I'M", "you've", "it'd", "'ll", "'", "''", "'s'",
         "llama.cpp", "e.g.", "3.14159", "1,000,000", "2026-11-22", "0x1F", "a+b=c", "(x)", "[1]",
         "<|endoftext|>", "<|im_start|>", "<s>", "</s>", "[PAD151650]", "<0x41>", "\u2581", "Ġ", "Ċ"]
SCRIPTS = [
    "Привет мир", "Ελληνικά", "עברית", "مرحبا بالعالم", "हिन्दी", "বাংলা", "ภาษาไทย", "한국어 문장",
    "日本語の文章です", "中文测试句子", "ខ្មែរ", "ქართული", "Ünïcödé", "naïve café", "Straße", "ǅ", "ﬁ",
]
EMOJI = ["🙂", "👍🏽", "👨‍👩‍👧‍👦", "🇩🇪", "🏳️‍🌈", "❤️", "✅", "🦙", "🤔💭", "1️⃣", "🫠"]
ODD = ["\ufffd", "\u200b", "\u200d", "\ufeff", "\ue000", "\uffff", "\U0010fffd", "\U0001fffe", "\u0301",
       "e\u0301", "\u00ad", "\u2028", "\u0085", "\u00a0", "\u3000", "\u2009", "\x01", "\x1b[31m", "\x7f",
       "\U000e0041", "\U0001d400", "\u2167", "\u00bd", "\u0663\u0664", "\uff11\uff12"]
SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\t\t ", "    ", " \t\n \r"]
PUNCT = [".", ",", "!", "?", "...", "!!!", "--", "—", "“quoted”", "«»", "{", "}", "#", "$", "%", "&&", "::", "->", "@@"]


def digits(rng):
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12)))


def random_string(rng):
    parts = []
    for _ in range(rng.randint(1, 12)):
        k = rng.random()
        if k < 0.30:
            parts.append(rng.choice(WORDS))
        elif k < 0.42:
            parts.append(rng.choice(SCRIPTS))
        elif k < 0.50:
            parts.append(rng.choice(EMOJI))
        elif k < 0.58:
            parts.append(rng.choice(ODD))
        elif k < 0.68:
            parts.append(digits(rng))
        elif k < 0.80:
            parts.append(rng.choice(PUNCT))
        else:
            parts.append(rng.choice(SPACES))
        if rng.random() < 0.6:
            parts.append(rng.choice([" ", " ", " ", "", "\n", "  "]))
    s = "".join(parts)
    if rng.random() < 0.1:
        s = " " + s
    return s


def write_ids(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for ids in rows:
            f.write(" ".join(str(i) for i in ids) + "\n")


def llama_cpp_outputs(strings):
    import llama_cpp
    for name in ["gpt-2", "llama-bpe", "llama-spm", "qwen2"]:
        path = os.path.join(VOCABS, f"ggml-vocab-{name}.gguf")
        llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
        rows = [llm.tokenize(s.encode("utf-8"), add_bos=False, special=False) for s in strings]
        write_ids(os.path.join(OUT, f"llamacpp-{name}.ids"), rows)
        # The same with special tokens parsed (how the engine tokenizes formatted prompts).
        special = [llm.tokenize(s.encode("utf-8"), add_bos=False, special=True) for s in strings]
        write_ids(os.path.join(OUT, f"llamacpp-{name}.special.ids"), special)
        print(f"llama.cpp {name}: {sum(map(len, rows))} tokens", file=sys.stderr)


PATTERNS = {
    # Same regexes the Hugging Face exports of Llama 3 and Qwen2 carry.
    "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}


def hf_outputs(strings, corpus):
    from tokenizers import Tokenizer, Regex, decoders, models, pre_tokenizers, processors, trainers
    for name in ["gpt2", "llama3", "qwen2"]:
        tok = Tokenizer(models.BPE(ignore_merges=(name == "llama3")))
        if name == "gpt2":
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        else:
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(PATTERNS[name]), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ])
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=700, min_frequency=2, show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        tok.train_from_iterator(corpus, trainer=trainer)
        config = {"eos_token": "<|endoftext|>",
                  "chat_template": "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n'}}{% endfor %}"}
        if name == "llama3":
            # As Llama 3 exports do: BOS comes from the post-processor, not tokenizer_config.
            bos = "<|endoftext|>"
            tok.post_processor = processors.TemplateProcessing(
                single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))])
        else:
            config["add_bos_token"] = False
        folder = os.path.join(OUT, f"hf-{name}")
        os.makedirs(folder, exist_ok=True)
        tok.save(os.path.join(folder, "tokenizer.json"))
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump(config, f)
        # HF always splits out added tokens; the Swift test compares with parseSpecial on.
        rows = [tok.encode(s, add_special_tokens=False).ids for s in strings]
        write_ids(os.path.join(OUT, f"hf-{name}.ids"), rows)
        print(f"tokenizers {name}: {sum(map(len, rows))} tokens", file=sys.stderr)


def hf_sentencepiece_small(strings):
    """A Llama-2 style tokenizer.json (BPE over "▁"-escaped characters with <0xNN> byte
    fallback), cut down from transformers' conversion of the llama-spm vocabulary to its first
    1500 ids so it stays small; Hugging Face `tokenizers` gives the expected ids."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer
    full = AutoTokenizer.from_pretrained(VOCABS, gguf_file="ggml-vocab-llama-spm.gguf")
    j = json.loads(full.backend_tokenizer.to_str())
    keep = 1500
    vocab = {t: i for t, i in j["model"]["vocab"].items() if i < keep}
    merges = []
    for m in j["model"]["merges"]:
        left, right = (m.split(" ", 1) if isinstance(m, str) else m)
        if left in vocab and right in vocab and left + right in vocab:
            merges.append([left, right])
    j["model"]["vocab"] = vocab
    j["model"]["merges"] = merges
    j["added_tokens"] = [a for a in j["added_tokens"] if a["id"] < keep]
    tok = Tokenizer.from_str(json.dumps(j))
    folder = os.path.join(OUT, "hf-llama2")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": True, "bos_token": "<s>", "eos_token": "</s>",
                   "chat_template": "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ '[INST] ' + m['content'] + ' [/INST]' }}{% else %}{{ m['content'] + eos_token }}{% endif %}{% endfor %}"}, f)
    rows = [tok.encode(s, add_special_tokens=False).ids for s in strings]
    write_ids(os.path.join(OUT, "hf-llama2.ids"), rows)
    print(f"tokenizers llama2-style: {sum(map(len, rows))} tokens", file=sys.stderr)


CONVERSATIONS = [
    [{"role": "user", "content": "What is 2+2?"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Solve x+1=3.\nShow steps."}],
    [{"role": "user", "content": "  spaces kept  "}, {"role": "assistant", "content": "ok"}],
]


def chat_golden():
    """The qwen2 vocabulary's own chat template rendered by jinja2 (as transformers does)."""
    import gguf
    import jinja2
    r = gguf.GGUFReader(os.path.join(VOCABS, "ggml-vocab-qwen2.gguf"))
    f = r.fields["tokenizer.chat_template"]
    template = bytes(f.parts[f.data[0]]).decode("utf-8")
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    t = env.from_string(template)
    cases = []
    for conv in CONVERSATIONS:
        for gen in (True, False):
            cases.append({"messages": conv, "add_generation_prompt": gen,
                          "text": t.render(messages=conv, add_generation_prompt=gen)})
    with open(os.path.join(OUT, "chat-qwen2.json"), "w", encoding="utf-8") as fh:
        json.dump({"cases": cases}, fh, ensure_ascii=False, indent=1)


def main():
    rng = random.Random(SEED)
    strings = [random_string(rng) for _ in range(COUNT)]
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "random-strings.json"), "w", encoding="utf-8") as f:
        json.dump({"seed": SEED, "strings": strings}, f, ensure_ascii=True, indent=0)
    corpus = []
    for name in ["gpt-2", "llama-spm"]:
        with open(os.path.join(VOCABS, f"ggml-vocab-{name}.gguf.inp"), encoding="utf-8") as f:
            corpus += f.read().split("\n__ggml_vocab_test__\n")
    corpus += [random_string(random.Random(SEED + 1 + i)) for i in range(2000)]
    chat_golden()
    hf_outputs(strings, corpus)
    hf_sentencepiece_small(strings)
    if "--no-llama-cpp" not in sys.argv:
        llama_cpp_outputs(strings)


if __name__ == "__main__":
    main()
