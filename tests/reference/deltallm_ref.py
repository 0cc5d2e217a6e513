#!/usr/bin/python3
"""Independent numpy reference for deltallm (qwen35 / qwen35moe / qwen3next).

  /usr/bin/python3 tests/reference/deltallm_ref.py --model FILE --tokens 1,2,3 \
      [--tokens-file F.i32] [--decode N] [--logits-out OUT.f32]

Evaluates the prompt (one batch by default), then N greedy single-token steps.
--logits-out writes float32 little-endian [n_prompt + N][n_vocab]: the logits of
every prompt position, then those of each decode step. stdout gets one
comma-separated line of greedy ids: the argmax of the last prompt row followed
by the argmax of each decode row (N+1 ids; tokens of type UNUSED are never
chosen), i.e. what `deltallm run --tokens ... -n N+1` should print.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import gguf  # noqa: E402
import model  # noqa: E402


def parse_tokens(args):
    toks = []
    if args.tokens_file:
        toks += np.fromfile(args.tokens_file, dtype="<i4").astype(np.int64).tolist()
    if args.tokens:
        toks += [int(s) for s in args.tokens.replace(" ", "").split(",") if s]
    if not toks:
        raise SystemExit("deltallm_ref: error: no prompt tokens (use --tokens or --tokens-file)")
    return toks


def main(argv=None):
    ap = argparse.ArgumentParser(description="numpy reference forward pass")
    ap.add_argument("--model", "-m", required=True, help="GGUF file")
    ap.add_argument("--tokens", help="comma-separated prompt token ids")
    ap.add_argument("--tokens-file", help="prompt token ids, little-endian int32 (read first)")
    ap.add_argument("--decode", type=int, default=0, help="greedy single-token steps after the prompt")
    ap.add_argument("--logits-out", help="write float32 logits [n_prompt+decode][n_vocab] here")
    ap.add_argument("--ubatch", type=int, default=0,
                    help="evaluate the prompt in chunks of this many tokens (default: one batch; 1 = seq path)")
    ap.add_argument("--act-quant", action="store_true",
                    help="round matmul activations as the reference does for quantized/BF16 weights")
    ap.add_argument("--precision", choices=["f64", "f32"], default="f64",
                    help="activation/accumulation precision of the numpy math (default f64)")
    ap.add_argument("--kv-f32", action="store_true", help="keep K and V in float32 (default: round to f16)")
    ap.add_argument("--verbose", "-v", action="store_true", help="timings on stderr")
    args = ap.parse_args(argv)

    toks = parse_tokens(args)
    t0 = time.time()
    try:
        m = model.Model(gguf.GGUFFile(args.model), act_quant=args.act_quant, kv_f16=not args.kv_f32,
                        dtype=np.float64 if args.precision == "f64" else np.float32)
        st = m.new_state()
        rows = []
        ub = args.ubatch if args.ubatch > 0 else len(toks)
        for i in range(0, len(toks), ub):
            rows.append(m.forward(toks[i:i + ub], st))
        t1 = time.time()
        ids = [m.greedy(rows[-1][-1])]
        for _ in range(args.decode):
            r = m.forward([ids[-1]], st)
            rows.append(r)
            ids.append(m.greedy(r[-1]))
    except (gguf.GGUFError, model.ModelError, ValueError, OSError) as e:
        print(f"deltallm_ref: error: {e}", file=sys.stderr)
        return 1
    logits = np.concatenate(rows, axis=0).astype("<f4")
    if args.logits_out:
        logits.tofile(args.logits_out)
    print(",".join(str(i) for i in ids))
    if args.verbose:
        print(f"prompt {len(toks)} tokens {t1 - t0:.2f}s, decode {args.decode} steps "
              f"{time.time() - t1:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
