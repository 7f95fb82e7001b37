#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<parser>/) from small hand-made files and the
test data: tiny GGUF and safetensors files (a few KiB), the test models' config.json files, small
tokenizer.json files, the test chat templates and request bodies. Run from the repo root; the
output is committed, so this only needs running when the seeds should change."""
import glob
import json
import os
import struct

OUT = "tests/fuzz/corpus"


def put(parser, name, data):
    os.makedirs(f"{OUT}/{parser}", exist_ok=True)
    with open(f"{OUT}/{parser}/{name}", "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# --- GGUF (v3): header, key/values, tensor infos, 32-byte aligned data ---------------------------
def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gval(v):
    if isinstance(v, bool):
        return struct.pack("<I", 7) + struct.pack("<?", v)
    if isinstance(v, int):
        return struct.pack("<I", 4) + struct.pack("<I", v)
    if isinstance(v, float):
        return struct.pack("<I", 6) + struct.pack("<f", v)
    if isinstance(v, str):
        return struct.pack("<I", 8) + gstr(v)
    if isinstance(v, list):
        if all(isinstance(x, str) for x in v):
            return struct.pack("<I", 9) + struct.pack("<IQ", 8, len(v)) + b"".join(gstr(x) for x in v)
        if all(isinstance(x, float) for x in v):
            return struct.pack("<I", 9) + struct.pack("<IQ", 6, len(v)) + b"".join(struct.pack("<f", x) for x in v)
        return struct.pack("<I", 9) + struct.pack("<IQ", 5, len(v)) + b"".join(struct.pack("<i", x) for x in v)
    raise TypeError(v)


def gguf(kvs, tensors):
    """tensors: list of (name, dims (ggml order), F32 values)."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, v in kvs.items():
        out += gstr(k) + gval(v)
    data = b""
    for name, dims, vals in tensors:
        out += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", 0, len(data))  # F32
        data += b"".join(struct.pack("<f", x) for x in vals)
        data += b"\0" * (-len(data) % 32)
    out += b"\0" * (-len(out) % 32)
    return out + data


def filled(n, seed):
    return [((i * 7 + seed) % 13 - 6) / 16.0 for i in range(n)]


def llama_gguf(with_tokenizer):
    d, f, v = 8, 16, 8
    kvs = {
        "general.architecture": "llama",
        "llama.block_count": 1, "llama.context_length": 32, "llama.embedding_length": d,
        "llama.feed_forward_length": f, "llama.attention.head_count": 2, "llama.attention.head_count_kv": 1,
        "llama.attention.layer_norm_rms_epsilon": 1e-5, "llama.rope.freq_base": 10000.0,
    }
    if with_tokenizer:
        toks = ["<unk>", "<s>", "</s>", "\u2581h", "i", "\u2581hi", "<0x0A>", "!"]
        kvs.update({
            "tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": toks,
            "tokenizer.ggml.scores": [0.0, 0.0, 0.0, -1.0, -2.0, -0.5, -3.0, -4.0],
            "tokenizer.ggml.token_type": [2, 3, 3, 1, 1, 1, 6, 1],
            "tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2,
            "tokenizer.chat_template": "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
                                       "{% if add_generation_prompt %}<|assistant|>{% endif %}",
        })
    t = [("token_embd.weight", [d, v], filled(d * v, 1)), ("blk.0.attn_norm.weight", [d], [1.0] * d),
         ("blk.0.attn_q.weight", [d, d], filled(d * d, 2)), ("blk.0.attn_k.weight", [d, 4], filled(d * 4, 3)),
         ("blk.0.attn_v.weight", [d, 4], filled(d * 4, 4)), ("blk.0.attn_output.weight", [d, d], filled(d * d, 5)),
         ("blk.0.ffn_norm.weight", [d], [1.0] * d), ("blk.0.ffn_gate.weight", [d, f], filled(d * f, 6)),
         ("blk.0.ffn_down.weight", [f, d], filled(d * f, 7)), ("blk.0.ffn_up.weight", [d, f], filled(d * f, 8)),
         ("output_norm.weight", [d], [1.0] * d), ("output.weight", [d, v], filled(d * v, 9))]
    return gguf(kvs, t)


put("gguf", "llama-tokenizer.gguf", llama_gguf(True))
put("gguf", "llama-plain.gguf", llama_gguf(False))
put("gguf", "deepseek2-header.gguf", gguf({
    "general.architecture": "deepseek2", "deepseek2.block_count": 2, "deepseek2.embedding_length": 16,
    "deepseek2.feed_forward_length": 32, "deepseek2.attention.head_count": 2, "deepseek2.attention.head_count_kv": 2,
    "deepseek2.attention.kv_lora_rank": 8, "deepseek2.attention.key_length": 12, "deepseek2.attention.value_length": 8,
    "deepseek2.rope.dimension_count": 4, "deepseek2.expert_count": 4, "deepseek2.expert_used_count": 2,
    "deepseek2.expert_shared_count": 1, "deepseek2.expert_feed_forward_length": 8, "deepseek2.leading_dense_block_count": 1,
    "deepseek2.expert_gating_func": 2, "deepseek2.expert_weights_scale": 2.5, "deepseek2.context_length": 64,
    "deepseek2.attention.layer_norm_rms_epsilon": 1e-6, "deepseek2.vocab_size": 16}, []))


# --- safetensors: u64 header length, JSON header, data ------------------------------------------
def safetensors(tensors, meta=None):
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if meta:
        header["__metadata__"] = meta
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


f32 = lambda n: b"".join(struct.pack("<f", x) for x in filled(n, 3))
put("safetensors", "f32-bf16.safetensors", safetensors(
    [("model.embed_tokens.weight", "F32", [4, 2], f32(8)), ("model.norm.weight", "BF16", [2], b"\x80\x3f\x00\x40")],
    {"format": "pt"}))
put("safetensors", "fp8.safetensors", safetensors(
    [("w.weight", "F8_E4M3", [2, 4], bytes(range(8))), ("w.weight_scale_inv", "F32", [1, 1], f32(1))]))
put("safetensors", "index.json", json.dumps({"metadata": {"total_size": 16}, "weight_map": {
    "model.embed_tokens.weight": "model-00001-of-00002.safetensors", "lm_head.weight": "model-00002-of-00002.safetensors"}}))

# --- config.json: the test models' -----------------------------------------------------------------
for path in sorted(glob.glob("tests/data/*/config.json")):
    put("config_json", os.path.basename(os.path.dirname(path)) + ".json", open(path, "rb").read())

# --- tokenizer.json: small byte-level BPE and SentencePiece-style BPE ------------------------------
bytelevel = {
    "version": "1.0", "added_tokens": [{"id": 8, "content": "<|end|>", "special": True, "single_word": False,
                                        "lstrip": False, "rstrip": False, "normalized": False}],
    "normalizer": None,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
         "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|end|>", "type_id": 0}},
                                                                 {"Sequence": {"id": "A", "type_id": 0}}],
                       "pair": [], "special_tokens": {"<|end|>": {"id": "<|end|>", "ids": [8], "tokens": ["<|end|>"]}}},
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
              "vocab": {"H": 0, "e": 1, "l": 2, "o": 3, "\u0120": 4, "He": 5, "ll": 6, "llo": 7},
              "merges": ["H e", "l l", "ll o"]},
}
put("tokenizer_json", "bytelevel.json", json.dumps(bytelevel))
spm = {
    "version": "1.0", "added_tokens": [{"id": 0, "content": "<unk>", "special": True, "single_word": False,
                                        "lstrip": False, "rstrip": False, "normalized": False}],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                       {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    "pre_tokenizer": None, "post_processor": None,
    "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                                                 {"type": "ByteFallback"}, {"type": "Fuse"},
                                                 {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
              "vocab": {"<unk>": 0, "<0x0A>": 1, "\u2581": 2, "h": 3, "i": 4, "\u2581h": 5, "\u2581hi": 6},
              "merges": ["\u2581 h", "\u2581h i"]},
}
put("tokenizer_json", "sentencepiece.json", json.dumps(spm))

# --- chat templates: the test data's ----------------------------------------------------------------
for path in sorted(glob.glob("tests/data/chat_templates/*/tokenizer_config.json")):
    t = json.load(open(path)).get("chat_template")
    if isinstance(t, list):
        t = t[0]["template"]
    if isinstance(t, str):
        put("chat_template", os.path.basename(os.path.dirname(path)) + ".jinja", t)
put("chat_template", "macros.jinja", "{% macro f(x) %}{{ x | upper }}{% endmacro %}{% for m in messages %}"
    "{{ f(m.content) }}{% if m.tool_calls %}{{ m.tool_calls | tojson }}{% endif %}{% endfor %}{{ tools | length }}")

# --- request bodies ---------------------------------------------------------------------------------
put("request", "chat.json", json.dumps({"model": "m", "messages": [{"role": "system", "content": "be brief"},
    {"role": "user", "content": [{"type": "text", "text": "hi"}]}], "max_tokens": 16, "temperature": 0.7,
    "top_p": 0.9, "stop": ["\n\n"], "stream": True, "stream_options": {"include_usage": True}, "seed": 1,
    "logprobs": True, "top_logprobs": 2, "presence_penalty": 0.5}))
put("request", "completion.json", json.dumps({"model": "m", "prompt": [1, 2, 3], "max_tokens": 4, "echo": False,
    "logprobs": 1, "frequency_penalty": 0.1, "stop": "x"}))
put("request", "bad.json", '{"messages": [{"role": "user"}], "n": 2, "tools": []}')
