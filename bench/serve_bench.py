#!/usr/bin/env python3
"""Client-side benchmark for `moeinfer serve` (Python standard library only).

  1. Aggregate decode: N concurrent streaming /v1/completions requests with token-id prompts; the
     rate counts the tokens all streams received while every stream was decoding (from the last
     first token to the first last token), so prefill and stragglers are left out.
  2. Time to first token with a cached prefix: a request whose prompt is PREFIX + A (cold), then
     PREFIX + B (the prefix's KV blocks come from the prefix cache), each timed to its first token.

Works with models without a tokenizer (random weights from `moeinfer make-model`): prompts are
token ids, and streamed chunks carry "token_ids".

  ./build/moeinfer serve -m MODEL.gguf --parallel 4 --port 8080 &
  python3 bench/serve_bench.py --url http://127.0.0.1:8080 --clients 4 --max-tokens 128
"""
import argparse
import http.client
import json
import random
import threading
import time
import urllib.parse


def stream_completion(url, prompt_ids, max_tokens, seed):
    """Returns (arrival time of each streamed token, time the request was sent)."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    body = json.dumps({"prompt": prompt_ids, "max_tokens": max_tokens, "stream": True, "temperature": 0, "seed": seed})
    t0 = time.perf_counter()
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError("HTTP %d: %s" % (resp.status, resp.read()[:300]))
    stamps = []
    while True:
        line = resp.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data: "):
            continue
        data = line[6:]
        if data == b"[DONE]":
            break
        chunk = json.loads(data)
        if not chunk["choices"]:
            continue
        c = chunk["choices"][0]
        n = len(c.get("token_ids", [])) or (1 if c.get("text") else 0)
        now = time.perf_counter()
        stamps.extend([now] * n)
    conn.close()
    return stamps, t0


def aggregate_decode(url, clients, prompt_tokens, max_tokens, vocab):
    rng = random.Random(1)
    prompts = [[rng.randrange(3, vocab) for _ in range(prompt_tokens)] for _ in range(clients)]
    results = [None] * clients

    def run(i):
        results[i] = stream_completion(url, prompts[i], max_tokens, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    firsts = [r[0][0] for r in results]
    lasts = [r[0][-1] for r in results]
    t0, t1 = max(firsts), min(lasts)
    count = sum(1 for r in results for s in r[0] if t0 < s <= t1)
    return {"clients": clients, "tokens_per_client": [len(r[0]) for r in results],
            "window_s": t1 - t0, "tokens_in_window": count, "aggregate_decode_tok_s": count / (t1 - t0)}


def ttft_prefix(url, prefix_tokens, vocab, reps):
    rng = random.Random(7)
    out = []
    for r in range(reps):
        prefix = [rng.randrange(3, vocab) for _ in range(prefix_tokens)]
        a = prefix + [rng.randrange(3, vocab) for _ in range(8)]
        b = prefix + [rng.randrange(3, vocab) for _ in range(8)]
        sa, ta = stream_completion(url, a, 1, r)
        sb, tb = stream_completion(url, b, 1, r)
        out.append((sa[0] - ta, sb[0] - tb))
    cold = sorted(x[0] for x in out)[len(out) // 2]
    warm = sorted(x[1] for x in out)[len(out) // 2]
    return {"prefix_tokens": prefix_tokens, "ttft_cold_s": cold, "ttft_cached_s": warm, "speedup": cold / warm,
            "pairs": out}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--prompt-tokens", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=32000, help="token ids are drawn from [3, VOCAB)")
    ap.add_argument("--prefix-tokens", type=int, default=1000)
    ap.add_argument("--ttft-reps", type=int, default=3)
    ap.add_argument("--skip-decode", action="store_true")
    ap.add_argument("--skip-ttft", action="store_true")
    a = ap.parse_args()
    report = {}
    if not a.skip_decode:
        report["decode"] = aggregate_decode(a.url, a.clients, a.prompt_tokens, a.max_tokens, a.vocab)
    if not a.skip_ttft:
        report["ttft"] = ttft_prefix(a.url, a.prefix_tokens, a.vocab, a.ttft_reps)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
