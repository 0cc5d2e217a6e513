#!/usr/bin/env python3
"""Generate text with the deltallm Python bindings.

    DELTALLM_LIB=build/lib/libdeltallm.so python3 bindings/python/examples/generate.py MODEL.gguf "Once upon a time" 32

(Run from anywhere: the package is found beside this script.)"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import deltallm  # noqa: E402


def main():
    if len(sys.argv) < 3:
        print(f"usage: {sys.argv[0]} MODEL.gguf PROMPT [N_TOKENS] [SEED]", file=sys.stderr)
        return 2
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    try:
        model = deltallm.Model(sys.argv[1])
        sys.stdout.write(sys.argv[2])
        for piece in deltallm.generate(model, sys.argv[2], n_predict=n, seed=seed):
            sys.stdout.write(piece)
            sys.stdout.flush()
        sys.stdout.write("\n")
    except deltallm.DeltaLLMError as e:
        print(f"generate.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
