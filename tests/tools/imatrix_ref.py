#!/usr/bin/python3
"""The importance-matrix sums of a model over token chunks, from the independent
numpy reference (tests/reference/model.py), for tests/tools/imatrix_cli_test.cpp.

Every weight matmul of the reference's forward pass (Model.mm) records, per
input column, the sum of the squares of its input rows and the number of rows;
a stacked MoE tensor per expert (only the rows routed to it). Each chunk runs
from a fresh state in one batch. Prints JSON {name: {"sum2": [...], "rows": [...]}}
(sum2 expert-major, rows per expert; dense tensors have one "matrix").

usage: imatrix_ref.py MODEL TOKENS.i32 CHUNK_SIZE N_CHUNKS
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import gguf  # noqa: E402
import model  # noqa: E402


def main():
    path, tok_path, c, n_chunks = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    tokens = np.fromfile(tok_path, dtype="<i4")
    m = model.Model(gguf.GGUFFile(path), dtype=np.float64)
    n_expert = m.hp.n_expert
    stats = {}
    plain_mm = model.Model.mm

    def record(name, x, e, n_mat):
        s = stats.get(name)
        if s is None:
            s = stats[name] = {"sum2": np.zeros((n_mat, x.shape[1])), "rows": np.zeros(n_mat, dtype=np.int64)}
        s["sum2"][e] += np.sum(x.astype(np.float64) ** 2, axis=0)
        s["rows"][e] += x.shape[0]

    def mm(self, name, x, w=None):
        if name.endswith("_exps.weight"):
            full = self.w(name)  # [X][rows][cols]
            e = next(i for i in range(n_expert) if np.may_share_memory(w, full[i]))
            # a fused gate_up tensor is multiplied twice (gate rows, then up rows): count it once
            if w.__array_interface__["data"][0] == full[e].__array_interface__["data"][0]:
                record(name, x, e, n_expert)
        elif name not in ("output.weight", "token_embd.weight"):
            record(name, x, 0, 1)
        return plain_mm(self, name, x, w)

    model.Model.mm = mm
    for ch in range(n_chunks):
        st = m.new_state()
        m.forward(tokens[ch * c:(ch + 1) * c], st)
    out = {k: {"sum2": v["sum2"].reshape(-1).tolist(), "rows": v["rows"].tolist()} for k, v in stats.items()}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
