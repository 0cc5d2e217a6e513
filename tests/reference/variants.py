"""Layout variants of the F32 test models, derived per models.md §2 so that the
same network is stored another way: the logits must not change. Used by
selfcheck.py to check the code paths no stored reference file exercises:

  next_ssm_in     qwen3next with the legacy fused ssm_in (per-key-head groups)
  moe_gate_up     qwen35moe with fused ffn_gate_up_exps (gate rows first)
  next_as_35moe   qwen3next (grouped V heads, fused ssm_ba) rewritten as qwen35moe
                  (tiled V heads, split ssm_beta/ssm_alpha)
  small_as_next   qwen35-small (tiled, r = 3, tied head) rewritten as qwen3next
                  (grouped, fused ssm_ba, dense FFN)
  dense_mtp       qwen35 with an extra MTP (nextn) block that must not be run
  moe_mtp         qwen35moe with an extra MTP block
"""
import numpy as np

import gguf

_T_ARRAY, _T_I32, _T_U32 = 9, 5, 4


class Editable:
    """A GGUF file held as editable metadata and float32 tensors."""

    def __init__(self, path):
        import quants
        g = gguf.GGUFFile(path)
        self.meta = [[k, g.metadata_types[k][0], v, g.metadata_types[k][1]] for k, v in g.metadata.items()]
        self.tensors = {}  # name -> float32 array, numpy shape = reversed ne
        for name, t in g.tensors.items():
            if t.type_name != "F32":
                raise ValueError(f"variants need an F32 file ({name} is {t.type_name})")
            self.tensors[name] = quants.dequantize(t).copy()
        self.arch = g.get("general.architecture")

    def key(self, name):
        for k, _, v, _ in self.meta:
            if k == name:
                return v
        raise KeyError(name)

    def set_key(self, name, vtype, value, etype=None):
        for m in self.meta:
            if m[0] == name:
                m[1:] = [vtype, value, etype]
                return
        self.meta.append([name, vtype, value, etype])

    def rename_arch(self, new):
        old = self.arch
        for m in self.meta:
            if m[0].startswith(old + "."):
                m[0] = new + m[0][len(old):]
            if m[0] == "general.architecture":
                m[2] = new
        self.arch = new

    def write(self, path):
        tensors = []
        for name, a in self.tensors.items():
            a = np.ascontiguousarray(a, dtype="<f4")
            ne = list(reversed(a.shape))
            tensors.append((name, ne, "F32", a.tobytes()))
        gguf.write_gguf(path, [tuple(m) for m in self.meta], tensors)


def _dims(e):
    a = e.arch
    Hk, Hv = e.key(f"{a}.ssm.group_count"), e.key(f"{a}.ssm.time_step_rank")
    dk = e.key(f"{a}.ssm.state_size")
    dv = e.key(f"{a}.ssm.inner_size") // Hv
    return Hk, Hv, dk, dv, Hv // Hk


def _recurrent_layers(e):
    return sorted(int(n.split(".")[1]) for n in e.tensors if n.endswith("ssm_conv1d.weight"))


def next_ssm_in(src, dst):
    e = Editable(src)
    Hk, Hv, dk, dv, r = _dims(e)
    KD = Hk * dk
    for il in _recurrent_layers(e):
        p = f"blk.{il}."
        qkv = e.tensors.pop(p + "attn_qkv.weight")   # [CD][E]
        z = e.tensors.pop(p + "attn_gate.weight")    # [VD][E]
        groups = []
        for g in range(Hk):
            groups += [qkv[g * dk:(g + 1) * dk], qkv[KD + g * dk:KD + (g + 1) * dk],
                       qkv[2 * KD + g * r * dv:2 * KD + (g + 1) * r * dv],
                       z[g * r * dv:(g + 1) * r * dv]]
        e.tensors[p + "ssm_in.weight"] = np.concatenate(groups, axis=0)
    e.write(dst)


def moe_gate_up(src, dst):
    e = Editable(src)
    for name in [n for n in e.tensors if n.endswith("ffn_gate_exps.weight")]:
        p = name[:-len("ffn_gate_exps.weight")]
        gate = e.tensors.pop(name)                    # [X][Fe][E]
        up = e.tensors.pop(p + "ffn_up_exps.weight")
        e.tensors[p + "ffn_gate_up_exps.weight"] = np.concatenate([gate, up], axis=1)
    e.write(dst)


def _permute_v_heads(e, il, perm, Hk, dk, dv):
    """Reorders value heads: new head i = old head perm[i], in every tensor that
    is indexed by value head (models.md §2.4.2)."""
    p = f"blk.{il}."
    KD = Hk * dk

    def heads_rows(a, start):
        blocks = [a[start + h * dv:start + (h + 1) * dv] for h in perm]
        return np.concatenate([a[:start]] + blocks + [a[start + len(perm) * dv:]], axis=0)

    e.tensors[p + "attn_qkv.weight"] = heads_rows(e.tensors[p + "attn_qkv.weight"], 2 * KD)
    e.tensors[p + "ssm_conv1d.weight"] = heads_rows(e.tensors[p + "ssm_conv1d.weight"], 2 * KD)
    e.tensors[p + "attn_gate.weight"] = heads_rows(e.tensors[p + "attn_gate.weight"], 0)
    out = e.tensors[p + "ssm_out.weight"]              # [E][VD]
    e.tensors[p + "ssm_out.weight"] = np.concatenate([out[:, h * dv:(h + 1) * dv] for h in perm], axis=1)
    for n in ("ssm_a", "ssm_dt.bias"):
        e.tensors[p + n] = e.tensors[p + n][perm]


def next_as_35moe(src, dst):
    """grouped (HF) order -> tiled order: HF head k*r+j goes to position j*Hk+k."""
    e = Editable(src)
    Hk, Hv, dk, dv, r = _dims(e)
    perm = np.array([(p % Hk) * r + p // Hk for p in range(Hv)])
    for il in _recurrent_layers(e):
        p = f"blk.{il}."
        ba = e.tensors.pop(p + "ssm_ba.weight").reshape(Hk, 2 * r, -1)   # per group [b(r) | a(r)]
        beta = ba[:, :r].reshape(Hv, -1)
        alpha = ba[:, r:].reshape(Hv, -1)
        e.tensors[p + "ssm_beta.weight"] = beta[perm]
        e.tensors[p + "ssm_alpha.weight"] = alpha[perm]
        _permute_v_heads(e, il, perm, Hk, dk, dv)
    e.rename_arch("qwen35moe")
    e.set_key("qwen35moe.rope.dimension_sections", _T_ARRAY, [3, 3, 2, 0], _T_I32)
    e.write(dst)


def small_as_next(src, dst):
    """tiled order -> grouped order: tiled position j*Hk+k holds HF head k*r+j."""
    e = Editable(src)
    Hk, Hv, dk, dv, r = _dims(e)
    perm = np.array([(h % r) * Hk + h // r for h in range(Hv)])  # grouped h <- tiled perm[h]
    for il in _recurrent_layers(e):
        p = f"blk.{il}."
        beta = e.tensors.pop(p + "ssm_beta.weight")[perm]     # [Hv][E], grouped order
        alpha = e.tensors.pop(p + "ssm_alpha.weight")[perm]
        groups = []
        for g in range(Hk):
            groups += [beta[g * r:(g + 1) * r], alpha[g * r:(g + 1) * r]]
        e.tensors[p + "ssm_ba.weight"] = np.concatenate(groups, axis=0)
        _permute_v_heads(e, il, perm, Hk, dk, dv)
    e.rename_arch("qwen3next")
    e.write(dst)


def _add_mtp(src, dst, seed):
    e = Editable(src)
    a = e.arch
    L = e.key(f"{a}.block_count")
    rng = np.random.default_rng(seed)
    last = max(int(n.split(".")[1]) for n in e.tensors if n.startswith("blk.") and "attn_k.weight" in n)
    E = e.key(f"{a}.embedding_length")
    # The MTP block: a copy of the last attention block with perturbed weights
    # (so running it by mistake changes the logits), plus the nextn tensors.
    for n in [n for n in e.tensors if n.startswith(f"blk.{last}.")]:
        w = e.tensors[n]
        e.tensors[f"blk.{L}." + n[len(f"blk.{last}."):]] = (w * (1 + 0.5 * rng.standard_normal(w.shape))).astype(np.float32)
    e.tensors[f"blk.{L}.nextn.eh_proj.weight"] = (0.05 * rng.standard_normal((E, 2 * E))).astype(np.float32)
    for n in ("enorm", "hnorm", "shared_head_norm"):
        e.tensors[f"blk.{L}.nextn.{n}.weight"] = (1 + 0.1 * rng.standard_normal(E)).astype(np.float32)
    e.set_key(f"{a}.block_count", _T_U32, L + 1)
    e.set_key(f"{a}.nextn_predict_layers", _T_U32, 1)
    e.write(dst)


def dense_mtp(src, dst):
    _add_mtp(src, dst, 1)


def moe_mtp(src, dst):
    _add_mtp(src, dst, 2)


# name -> (builder, source file, token file, number of prompt tokens to use)
VARIANTS = {
    "next_ssm_in": (next_ssm_in, "qwen3next-tiny-f32", "tokens.i32", 64),
    "moe_gate_up": (moe_gate_up, "qwen35moe-tiny-f32", "tokens.i32", 64),
    "next_as_35moe": (next_as_35moe, "qwen3next-tiny-f32", "tokens.i32", 64),
    "small_as_next": (small_as_next, "qwen35-small-f32", "tokens300.i32", 100),
    "dense_mtp": (dense_mtp, "qwen35-tiny-f32", "tokens.i32", 64),
    "moe_mtp": (moe_mtp, "qwen35moe-tiny-f32", "tokens.i32", 64),
}
