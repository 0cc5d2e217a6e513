#!/usr/bin/env python3
"""Server measurements against a running OpenAI-compatible server (deltallm serve or llama-server).

Not a test: run it by hand, on a quiet machine, and compare only figures measured together.

  build/bin/deltallm serve -m qwen35-0.8b-Q8_0.gguf -t 2 -np 4 -c 32768 --port 8080 &
  python3 bench/serve_bench.py --url http://127.0.0.1:8080
  # the reference engine, same file, same conversation:
  ../shared/peer/run llama-server -m qwen35-0.8b-Q8_0.gguf -t 2 -np 4 -c 32768 --port 8081 &
  python3 bench/serve_bench.py --url http://127.0.0.1:8081

1. turn 2 vs turn 1: time to first token (TTFT) of a conversation whose turn 1 has a
   --prompt-tokens long user message (about: words are ~1 token), then of its turn 2 (the
   reply plus one short question), as a client sends it the moment turn 1 ends. Prints both,
   their ratio and the cached tokens the server reports.
2. aggregate generation tokens/s with 1, 2 and 4 concurrent clients (--gen tokens each).
3. one client's generation tokens/s over HTTP (compare with `deltallm bench -n N` tg on the
   same file and threads: the HTTP path should cost under 5%).
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse

WORDS = ("river stone cloud paper engine garden window lantern market signal orange valley "
         "copper thunder needle castle meadow pocket silver harbor").split()


def long_text(n_words, seed):
    return " ".join(WORDS[(i * 7 + seed * 13 + i // 5) % len(WORDS)] for i in range(n_words))


def stream_chat(url, messages, max_tokens):
    """Streams one chat completion; returns (ttft_s, total_s, text, n_chunks_with_text, usage)."""
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=3600)
    body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    t0 = time.perf_counter()
    c.request("POST", "/v1/chat/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise RuntimeError("HTTP %d: %s" % (r.status, r.read()[:300]))
    ttft, text, n, usage = None, "", 0, None
    while True:
        line = r.readline()
        if not line:
            break
        line = line.decode("utf-8", errors="replace").strip()
        if not line.startswith("data: "):
            continue
        data = line[6:]
        if data == "[DONE]":
            break
        j = json.loads(data)
        if j.get("usage"):
            usage = j["usage"]
        for ch in j.get("choices", []):
            d = ch.get("delta", {})
            piece = (d.get("content") or "") + (d.get("reasoning_content") or "")
            if piece:
                if ttft is None:
                    ttft = time.perf_counter() - t0
                text += d.get("content") or ""
                n += 1
    total = time.perf_counter() - t0
    c.close()
    return ttft if ttft is not None else total, total, text, n, usage


def cached(usage):
    if not usage:
        return "?"
    return (usage.get("prompt_tokens_details") or {}).get("cached_tokens", "?")


def turn2(args):
    m = [{"role": "user", "content": long_text(args.prompt_tokens, 1) + "\nSummarize the list above."}]
    t1, _, reply, _, u1 = stream_chat(args.url, m, 32)
    m += [{"role": "assistant", "content": reply}, {"role": "user", "content": "Which word came first?"}]
    t2, _, _, _, u2 = stream_chat(args.url, m, 32)
    print("turn 1: TTFT %.3f s (prompt %s tokens, cached %s)" % (t1, (u1 or {}).get("prompt_tokens", "?"), cached(u1)))
    print("turn 2: TTFT %.3f s (prompt %s tokens, cached %s)" % (t2, (u2 or {}).get("prompt_tokens", "?"), cached(u2)))
    print("turn 1 / turn 2 TTFT: %.1fx" % (t1 / t2))


def concurrency(args):
    for clients in (1, 2, 4):
        results = [None] * clients

        def one(i):
            msgs = [{"role": "user", "content": "Tell a long story about the %s." % WORDS[i]}]
            results[i] = stream_chat(args.url, msgs, args.gen)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        tokens = sum((r[4] or {}).get("completion_tokens", r[3]) for r in results)
        print("%d client(s): %d tokens in %.2f s: %.2f tokens/s aggregate" % (clients, tokens, wall, tokens / wall))
        if clients == 1:
            ttft, total, _, n, usage = results[0]
            gen = (usage or {}).get("completion_tokens", n)
            if gen > 1 and total > ttft:
                print("  one client, generation only: %.2f tokens/s (compare: deltallm bench -n %d tg)"
                      % ((gen - 1) / (total - ttft), args.gen))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--prompt-tokens", type=int, default=4000, help="about this many tokens in turn 1")
    ap.add_argument("--gen", type=int, default=128, help="tokens per client in the concurrency test")
    ap.add_argument("--only", choices=["turn2", "concurrency"], help="run one measurement")
    args = ap.parse_args()
    if args.only in (None, "turn2"):
        turn2(args)
    if args.only in (None, "concurrency"):
        concurrency(args)


if __name__ == "__main__":
    main()
