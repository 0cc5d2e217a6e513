"""Forward pass of qwen35 / qwen35moe / qwen3next in numpy, written from
../shared/spec/models.md §1-4 and kernels.md §4, §8.1 (not from the C++ engine).

Activations are float64 by default (float32 selectable): the reference's own
float32 rounding is independent of any other implementation's, so a float64
oracle halves the combined noise. Sums of squares for the norms are float64. K and V are rounded to float16 when they enter the KV cache
(the reference's default cache type). Optionally (act_quant=True) matmul inputs
are rounded the way the reference quantizes activations for quantized weights
(kernels.md §3.3); by default they are used unrounded.
"""
import math

import numpy as np

import quants

ARCHS = ("qwen35", "qwen35moe", "qwen3next")


class ModelError(Exception):
    pass


# --------------------------------------------------------------------------
# primitives (models.md §3.0)

# Every primitive keeps the dtype of its input (float32 or float64).

def rms_norm(x, w, eps):
    """RMSNorm over the last axis: x * (1/sqrt(mean(x^2) + eps)) * w (sum of squares in float64)."""
    ss = np.sum(np.square(x.astype(np.float64)), axis=-1, keepdims=True)
    scale = (1.0 / np.sqrt(ss / x.shape[-1] + eps)).astype(x.dtype)
    return x * scale * w.astype(x.dtype)


def l2_norm(x, eps):
    """x / max(||x||, eps) over the last axis (sum in float64)."""
    n = np.sqrt(np.sum(np.square(x.astype(np.float64)), axis=-1, keepdims=True))
    return x / np.maximum(n, eps).astype(x.dtype)


def sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def silu(x):
    return x * sigmoid(x)


def softplus(x):
    with np.errstate(over="ignore"):
        return np.where(x > 20, x, np.log(1.0 + np.exp(x)))


def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def to_f16(x):
    """Round to IEEE half (nearest even), keep the dtype."""
    return x.astype(np.float16).astype(x.dtype)


# --------------------------------------------------------------------------
# hyper-parameters (models.md §1)

class HParams:
    def __init__(self, g):
        arch = g.get("general.architecture")
        if arch not in ARCHS:
            raise ModelError(f"unsupported architecture {arch!r} (want one of {', '.join(ARCHS)})")
        self.arch = arch

        def key(name, default=None, required=False):
            full = f"{arch}.{name}"
            v = g.get(full)
            if v is None:
                if required:
                    raise ModelError(f"missing metadata key {full}")
                return default
            return v

        self.n_layer = int(key("block_count", required=True))
        self.n_mtp = int(key("nextn_predict_layers", 0))
        self.n_main = self.n_layer - self.n_mtp
        if self.n_main <= 0:
            raise ModelError(f"{arch}.nextn_predict_layers={self.n_mtp} leaves no main layers")
        self.n_embd = int(key("embedding_length", required=True))
        hq = key("attention.head_count", required=True)
        hkv = key("attention.head_count_kv", hq)
        # Per-layer arrays (third-party files) -> the value of the attention layers.
        self._hq = hq
        self._hkv = hkv
        self.n_ff = key("feed_forward_length", 0)
        hq0 = hq if not isinstance(hq, list) else max(hq)
        self.head_dim = int(key("attention.key_length", self.n_embd // hq0))
        self.head_dim_v = int(key("attention.value_length", self.n_embd // hq0))
        if self.head_dim != self.head_dim_v:
            raise ModelError(f"{arch}.attention.key_length != value_length")
        self.n_rot = int(key("rope.dimension_count", self.head_dim))
        if self.n_rot > self.head_dim or self.n_rot % 2:
            raise ModelError(f"{arch}.rope.dimension_count={self.n_rot} invalid for head dim {self.head_dim}")
        self.rope_base = float(key("rope.freq_base", 10000.0))
        factor = key("rope.scaling.factor", key("rope.scale_linear", 0.0))
        self.freq_scale = 1.0 / factor if factor else 1.0
        self.eps = float(key("attention.layer_norm_rms_epsilon", required=True))
        self.n_expert = int(key("expert_count", 0))
        self.n_expert_used = int(key("expert_used_count", 0))
        if self.n_expert and not self.n_expert_used:
            raise ModelError(f"{arch}.expert_used_count missing or 0 with {self.n_expert} experts")
        ff0 = self.n_ff if not isinstance(self.n_ff, list) else max(self.n_ff)
        self.n_ff_exp = int(key("expert_feed_forward_length",
                                ff0 // self.n_expert_used if self.n_expert_used else 0))
        self.n_ff_shexp = int(key("expert_shared_feed_forward_length",
                                  self.n_ff_exp if arch == "qwen3next" else ff0))
        self.conv_kernel = int(key("ssm.conv_kernel", required=True))
        self.ssm_inner = int(key("ssm.inner_size", required=True))
        self.ssm_dk = int(key("ssm.state_size", required=True))
        self.ssm_hv = int(key("ssm.time_step_rank", required=True))
        self.ssm_hk = int(key("ssm.group_count", required=True))
        if self.ssm_hv % self.ssm_hk:
            raise ModelError(f"{arch}.ssm.time_step_rank={self.ssm_hv} is not a multiple of "
                             f"ssm.group_count={self.ssm_hk}")
        if self.ssm_inner % self.ssm_hv:
            raise ModelError(f"{arch}.ssm.inner_size={self.ssm_inner} is not a multiple of "
                             f"ssm.time_step_rank={self.ssm_hv}")
        self.ssm_dv = self.ssm_inner // self.ssm_hv
        self.ssm_r = self.ssm_hv // self.ssm_hk
        self.key_dim = self.ssm_hk * self.ssm_dk
        self.conv_dim = 2 * self.key_dim + self.ssm_inner
        self.interval = int(key("full_attention_interval", 4))
        rec = key("attention.recurrent_layers", None)
        if isinstance(rec, list) and len(rec) >= self.n_main:
            self.recurrent = [bool(rec[i]) for i in range(self.n_main)]
        else:
            if self.interval <= 0:
                raise ModelError(f"{arch}.full_attention_interval={self.interval}")
            # Full attention iff (i+1) % interval == 0, over the main layers only.
            self.recurrent = [(i + 1) % self.interval != 0 for i in range(self.n_main)]

    def heads(self, il):
        hq = self._hq[il] if isinstance(self._hq, list) else self._hq
        hkv = self._hkv[il] if isinstance(self._hkv, list) else self._hkv
        return int(hq), int(hkv)

    def ff(self, il):
        return int(self.n_ff[il] if isinstance(self.n_ff, list) else self.n_ff)


# --------------------------------------------------------------------------
# per-sequence state (models.md §4)

class SeqState:
    """Recurrent state of every Gated DeltaNet layer and the KV cache of every
    attention layer, for one sequence."""

    def __init__(self, hp, dtype=np.float64):
        self.hp = hp
        self.dtype = dtype
        self.reset()

    def reset(self):
        hp = self.hp
        self.pos = 0
        self.conv = {}   # il -> [Kc-1][conv_dim], oldest input first
        self.ssm = {}    # il -> [Hv][dk][dv]  (key index, then value index contiguous)
        self.k = {}      # il -> [n_past][Hkv][D] (values rounded to f16)
        self.v = {}
        for il in range(hp.n_main):
            if hp.recurrent[il]:
                self.conv[il] = np.zeros((hp.conv_kernel - 1, hp.conv_dim), self.dtype)
                self.ssm[il] = np.zeros((hp.ssm_hv, hp.ssm_dk, hp.ssm_dv), self.dtype)
            else:
                _, hkv = hp.heads(il)
                self.k[il] = np.zeros((0, hkv, hp.head_dim), self.dtype)
                self.v[il] = np.zeros((0, hkv, hp.head_dim), self.dtype)

    def copy(self):
        s = SeqState.__new__(SeqState)
        s.hp = self.hp
        s.dtype = self.dtype
        s.pos = self.pos
        s.conv = {k: v.copy() for k, v in self.conv.items()}
        s.ssm = {k: v.copy() for k, v in self.ssm.items()}
        s.k = {k: v.copy() for k, v in self.k.items()}
        s.v = {k: v.copy() for k, v in self.v.items()}
        return s


# --------------------------------------------------------------------------

class Model:
    def __init__(self, gguf_file, act_quant=False, kv_f16=True, dtype=np.float64):
        self.g = gguf_file
        self.dt = np.dtype(dtype)
        self.hp = HParams(gguf_file)
        self.act_quant = act_quant
        self.kv_f16 = kv_f16
        self._cache = {}
        self._check_tensors()
        v = self.g.tensors["token_embd.weight"].ne
        self.n_vocab = int(v[1])
        ttype = self.g.get("tokenizer.ggml.token_type")
        self.token_type = np.array(ttype, dtype=np.int32) if isinstance(ttype, list) else None

    def new_state(self):
        return SeqState(self.hp, self.dt)

    # --- tensors -----------------------------------------------------------
    def has(self, name):
        return name in self.g.tensors

    def w(self, name):
        """Dequantized tensor in the compute dtype, numpy shape = reversed ne."""
        a = self._cache.get(name)
        if a is None:
            a = quants.dequantize(self.g.tensors[name]).astype(self.dt)
            self._cache[name] = a
        return a

    def type_of(self, name):
        return self.g.tensors[name].type_name

    def _check_tensors(self):
        hp = self.hp
        E = hp.n_embd
        problems = []

        def need(name, ne):
            t = self.g.tensors.get(name)
            if t is None:
                problems.append(f"missing tensor {name}")
                return False
            got = tuple(t.ne) + (1,) * (len(ne) - len(t.ne))
            want = tuple(ne) + (1,) * (len(t.ne) - len(ne))
            if got != want:
                problems.append(f"tensor {name}: shape {list(t.ne)}, expected {list(ne)}")
            if t.type_name not in quants.SUPPORTED_TYPES:
                problems.append(f"tensor {name}: unsupported type {t.type_name}")
            return True

        need("token_embd.weight", (E, self.g.tensors["token_embd.weight"].ne[1]
                                   if "token_embd.weight" in self.g.tensors else 0))
        need("output_norm.weight", (E,))
        if "token_embd.weight" in self.g.tensors and self.has("output.weight"):
            need("output.weight", (E, self.g.tensors["token_embd.weight"].ne[1]))
        for il in range(hp.n_main):
            p = f"blk.{il}."
            need(p + "attn_norm.weight", (E,))
            need(p + "post_attention_norm.weight", (E,))
            if hp.recurrent[il]:
                KD, VD, CD, Hv = hp.key_dim, hp.ssm_inner, hp.conv_dim, hp.ssm_hv
                if self.has(p + "attn_qkv.weight") and self.has(p + "attn_gate.weight"):
                    need(p + "attn_qkv.weight", (E, CD))
                    need(p + "attn_gate.weight", (E, VD))
                elif self.has(p + "ssm_in.weight"):
                    need(p + "ssm_in.weight", (E, 2 * KD + 2 * VD))
                else:
                    problems.append(f"layer {il}: neither attn_qkv+attn_gate nor ssm_in")
                if self.has(p + "ssm_ba.weight"):
                    need(p + "ssm_ba.weight", (E, 2 * Hv))
                else:
                    need(p + "ssm_beta.weight", (E, Hv))
                    need(p + "ssm_alpha.weight", (E, Hv))
                need(p + "ssm_conv1d.weight", (hp.conv_kernel, CD))
                need(p + "ssm_dt.bias", (Hv,))
                need(p + "ssm_a", (Hv,))
                need(p + "ssm_norm.weight", (hp.ssm_dv,))
                need(p + "ssm_out.weight", (VD, E))
            else:
                hq, hkv = hp.heads(il)
                D = hp.head_dim
                need(p + "attn_q.weight", (E, 2 * hq * D))
                need(p + "attn_k.weight", (E, hkv * D))
                need(p + "attn_v.weight", (E, hkv * D))
                need(p + "attn_output.weight", (hq * D, E))
                need(p + "attn_q_norm.weight", (D,))
                need(p + "attn_k_norm.weight", (D,))
            moe = hp.n_expert > 0 and (hp.arch == "qwen35moe" or self.has(p + "ffn_gate_inp.weight"))
            if moe:
                X, Fe, Fs = hp.n_expert, hp.n_ff_exp, hp.n_ff_shexp
                need(p + "ffn_gate_inp.weight", (E, X))
                if self.has(p + "ffn_gate_up_exps.weight"):
                    need(p + "ffn_gate_up_exps.weight", (E, 2 * Fe, X))
                else:
                    need(p + "ffn_gate_exps.weight", (E, Fe, X))
                    need(p + "ffn_up_exps.weight", (E, Fe, X))
                need(p + "ffn_down_exps.weight", (Fe, E, X))
                if hp.arch == "qwen35moe" or self.has(p + "ffn_gate_inp_shexp.weight"):
                    need(p + "ffn_gate_inp_shexp.weight", (E,))
                    need(p + "ffn_gate_shexp.weight", (E, Fs))
                    need(p + "ffn_up_shexp.weight", (E, Fs))
                    need(p + "ffn_down_shexp.weight", (Fs, E))
            else:
                F = hp.ff(il)
                need(p + "ffn_gate.weight", (E, F))
                need(p + "ffn_up.weight", (E, F))
                need(p + "ffn_down.weight", (F, E))
        if problems:
            raise ModelError("; ".join(problems))

    # --- matmul ------------------------------------------------------------
    def _act(self, x, wtype):
        if self.act_quant:
            fn = quants.ACT_QUANT_FOR_TYPE.get(wtype)
            if fn is not None:
                return fn(x.astype(np.float32)).astype(self.dt)
        return x

    def mm(self, name, x, w=None):
        """y[t][o] = sum_i W[o][i] x[t][i] for the weight `name` (or the given
        slice `w` of it)."""
        W = self.w(name) if w is None else w
        return self._act(x, self.type_of(name)) @ W.T

    # --- layers ------------------------------------------------------------
    def _delta_net(self, il, h, st):
        """Gated DeltaNet layer (models.md §3.2) over the T tokens of h [T][E]."""
        hp = self.hp
        p = f"blk.{il}."
        T = h.shape[0]
        Hk, Hv, dk, dv, r = hp.ssm_hk, hp.ssm_hv, hp.ssm_dk, hp.ssm_dv, hp.ssm_r
        KD, VD = hp.key_dim, hp.ssm_inner

        # Step 1: projections -> m [T][CD] (q|k|v), z [T][VD], b/a [T][Hv]
        if self.has(p + "attn_qkv.weight") and self.has(p + "attn_gate.weight"):
            m = self.mm(p + "attn_qkv.weight", h)
            z = self.mm(p + "attn_gate.weight", h)
        else:
            u = self.mm(p + "ssm_in.weight", h).reshape(T, Hk, 2 * dk + 2 * r * dv)
            q_ = u[:, :, :dk].reshape(T, KD)
            k_ = u[:, :, dk:2 * dk].reshape(T, KD)
            v_ = u[:, :, 2 * dk:2 * dk + r * dv].reshape(T, VD)
            z = np.ascontiguousarray(u[:, :, 2 * dk + r * dv:].reshape(T, VD))
            m = np.concatenate([q_, k_, v_], axis=1)
        if self.has(p + "ssm_ba.weight"):
            ba = self.mm(p + "ssm_ba.weight", h).reshape(T, Hk, 2 * r)
            b_raw = ba[:, :, :r].reshape(T, Hv)
            alpha = ba[:, :, r:].reshape(T, Hv)
            kh = np.arange(Hv) // r      # grouped (HF order)
        else:
            b_raw = self.mm(p + "ssm_beta.weight", h)
            alpha = self.mm(p + "ssm_alpha.weight", h)
            kh = np.arange(Hv) % Hk      # tiled (converter-reordered)

        # Step 2: gates
        beta = sigmoid(b_raw)                                      # [T][Hv]
        gamma = softplus(alpha + self.w(p + "ssm_dt.bias")) * self.w(p + "ssm_a")
        decay = np.exp(np.minimum(gamma, 50.0))

        # Step 3: causal depthwise conv (taps oldest -> newest) + SiLU
        Kc = hp.conv_kernel
        wconv = self.w(p + "ssm_conv1d.weight")                    # [CD][Kc]
        xpad = np.concatenate([st.conv[il], m], axis=0)           # [Kc-1+T][CD]
        y = np.zeros_like(m)
        for j in range(Kc):
            y += xpad[j:j + T] * wconv[:, j]
        st.conv[il] = np.ascontiguousarray(xpad[T:])
        uu = silu(y)

        # Step 4: split and L2-normalise q, k
        qn = l2_norm(uu[:, :KD].reshape(T, Hk, dk), hp.eps)
        kn = l2_norm(uu[:, KD:2 * KD].reshape(T, Hk, dk), hp.eps)
        v = uu[:, 2 * KD:].reshape(T, Hv, dv)

        # Step 5: gated delta rule, sequential over tokens, vectorised over heads
        scale = 1.0 / math.sqrt(dk)
        S = st.ssm[il]                                             # [Hv][dk][dv]
        out = np.empty((T, Hv, dv), self.dt)
        for t in range(T):
            kq = np.stack([kn[t][kh], qn[t][kh]], axis=1)          # [Hv][2][dk]
            pq = kq @ S                                            # [Hv][2][dv]
            b = beta[t][:, None]
            d = decay[t][:, None]
            delta = b * v[t] - (b * d) * pq[:, 0]
            kdotq = np.sum(kq[:, 0] * kq[:, 1], axis=1)[:, None]
            out[t] = (d * scale) * pq[:, 1] + (scale * kdotq) * delta
            S = d[:, :, None] * S + kq[:, 0][:, :, None] * delta[:, None, :]
            np.clip(S, -1e6, 1e6, out=S)
        st.ssm[il] = S

        # Step 6: per-head gated RMSNorm, output projection
        n = rms_norm(out, self.w(p + "ssm_norm.weight"), hp.eps)  # [T][Hv][dv]
        g = n * silu(z.reshape(T, Hv, dv))
        return self.mm(p + "ssm_out.weight", g.reshape(T, VD))

    def _rope(self, x, pos):
        """Partial NEOX RoPE on x [T][H][D]: dims [0, n_rot) rotate, pairs (i, i+n_rot/2)."""
        hp = self.hp
        half = hp.n_rot // 2
        # theta_i = pos * ts^i by repeated float32 multiplication, ts = base^(-2/n_rot)
        # (the reference's float32 rounding of theta is kept in both precisions)
        ts = np.float32(hp.rope_base ** (-2.0 / hp.n_rot))
        theta = np.empty((len(pos), half), np.float32)
        cur = (np.asarray(pos, np.float32) * np.float32(hp.freq_scale)).astype(np.float32)
        for i in range(half):
            theta[:, i] = cur
            cur = (cur * ts).astype(np.float32)
        c = np.cos(theta.astype(np.float64)).astype(x.dtype)[:, None, :]
        s = np.sin(theta.astype(np.float64)).astype(x.dtype)[:, None, :]
        x = x.copy()
        x0 = x[:, :, :half].copy()
        x1 = x[:, :, half:hp.n_rot].copy()
        x[:, :, :half] = x0 * c - x1 * s
        x[:, :, half:hp.n_rot] = x0 * s + x1 * c
        return x

    def _attention(self, il, h, st):
        """Gated full attention (models.md §3.3) for T tokens at positions st.pos.."""
        hp = self.hp
        p = f"blk.{il}."
        T = h.shape[0]
        hq, hkv = hp.heads(il)
        D = hp.head_dim
        qg = self.mm(p + "attn_q.weight", h).reshape(T, hq, 2, D)
        q = qg[:, :, 0]
        gate = qg[:, :, 1].reshape(T, hq * D)
        k = self.mm(p + "attn_k.weight", h).reshape(T, hkv, D)
        v = self.mm(p + "attn_v.weight", h).reshape(T, hkv, D)
        q = rms_norm(q, self.w(p + "attn_q_norm.weight"), hp.eps)
        k = rms_norm(k, self.w(p + "attn_k_norm.weight"), hp.eps)
        pos = np.arange(st.pos, st.pos + T)
        q = self._rope(q, pos)
        k = self._rope(k, pos)
        if self.kv_f16:
            k, v = to_f16(k), to_f16(v)
        st.k[il] = np.concatenate([st.k[il], k], axis=0)
        st.v[il] = np.concatenate([st.v[il], v], axis=0)
        K, V = st.k[il], st.v[il]                                  # [n_kv][Hkv][D]
        n_kv = K.shape[0]
        # causal mask: query at position pos[t] sees cache entries 0..pos[t]
        mask = np.arange(n_kv)[None, :] > pos[:, None]             # [T][n_kv]
        grp = hq // hkv
        scale = 1.0 / math.sqrt(D)
        o = np.empty((T, hq, D), self.dt)
        for i in range(hq):
            g = i // grp
            sc = (q[:, i] @ K[:, g].T) * scale                     # [T][n_kv]
            sc = np.where(mask, -np.inf, sc)
            o[:, i] = softmax(sc) @ V[:, g]
        o = o.reshape(T, hq * D) * sigmoid(gate)
        return self.mm(p + "attn_output.weight", o)

    def _swiglu(self, f, gate_name, up_name, down_name, wg=None, wu=None, wd=None):
        a = silu(self.mm(gate_name, f, wg)) * self.mm(up_name, f, wu)
        return self.mm(down_name, a, wd)

    def _ffn(self, il, f):
        hp = self.hp
        p = f"blk.{il}."
        moe = hp.n_expert > 0 and (hp.arch == "qwen35moe" or self.has(p + "ffn_gate_inp.weight"))
        if not moe:
            return self._swiglu(f, p + "ffn_gate.weight", p + "ffn_up.weight", p + "ffn_down.weight")
        T = f.shape[0]
        X, K, Fe = hp.n_expert, hp.n_expert_used, hp.n_ff_exp
        probs = softmax(self.mm(p + "ffn_gate_inp.weight", f))     # [T][X], over all experts
        sel = np.argsort(-probs, axis=1, kind="stable")[:, :K]    # [T][K]
        wsel = np.take_along_axis(probs, sel, axis=1)
        wsel = wsel / np.sum(wsel, axis=1, keepdims=True)
        fused = self.has(p + "ffn_gate_up_exps.weight")
        gname = p + ("ffn_gate_up_exps.weight" if fused else "ffn_gate_exps.weight")
        uname = p + ("ffn_gate_up_exps.weight" if fused else "ffn_up_exps.weight")
        dname = p + "ffn_down_exps.weight"
        Wd = self.w(dname)                                         # [X][E][Fe]
        if fused:
            Wgu = self.w(gname)                                    # [X][2Fe][E]: gate rows first
            Wg, Wu = Wgu[:, :Fe], Wgu[:, Fe:]
        else:
            Wg, Wu = self.w(gname), self.w(uname)                  # [X][Fe][E]
        routed = np.zeros((T, hp.n_embd), self.dt)
        for slot in range(K):
            for e in np.unique(sel[:, slot]):
                rows = np.nonzero(sel[:, slot] == e)[0]
                y = self._swiglu(f[rows], gname, uname, dname, Wg[e], Wu[e], Wd[e])
                routed[rows] += wsel[rows, slot][:, None] * y
        if self.has(p + "ffn_gate_inp_shexp.weight"):
            sh = self._swiglu(f, p + "ffn_gate_shexp.weight", p + "ffn_up_shexp.weight",
                              p + "ffn_down_shexp.weight")
            wsh = self.w(p + "ffn_gate_inp_shexp.weight").reshape(1, hp.n_embd)
            sig = sigmoid(self.mm(p + "ffn_gate_inp_shexp.weight", f, wsh))  # [T][1]
            routed = routed + sig * sh
        return routed

    # --- whole model -------------------------------------------------------
    def embed(self, tokens):
        t = self.g.tensors["token_embd.weight"]
        E = self.hp.n_embd
        rows = []
        if t.type_name == "F32" or "token_embd.weight" in self._cache:
            W = self.w("token_embd.weight")
            return W[np.asarray(tokens)]
        row_bytes = t.n_bytes // t.ne[1]
        for tok in tokens:
            sub = type(t)(t.name, (E, 1), t.type_id, 0)
            sub.data = t.data[tok * row_bytes:(tok + 1) * row_bytes]
            rows.append(quants.dequantize(sub).reshape(E))
        return np.stack(rows).astype(self.dt)

    def forward(self, tokens, st):
        """Runs tokens (consecutive positions st.pos..) through the model,
        advancing st; returns logits [T][n_vocab] (float32)."""
        hp = self.hp
        tokens = np.asarray(tokens, dtype=np.int64)
        if tokens.ndim != 1 or len(tokens) == 0:
            raise ModelError("need a non-empty 1-D token list")
        bad = tokens[(tokens < 0) | (tokens >= self.n_vocab)]
        if len(bad):
            raise ModelError(f"token id {int(bad[0])} out of range [0, {self.n_vocab})")
        if st.pos == 0:
            st.reset()
        x = self.embed(tokens)                                     # [T][E]
        for il in range(hp.n_main):
            p = f"blk.{il}."
            h = rms_norm(x, self.w(p + "attn_norm.weight"), hp.eps)
            if hp.recurrent[il]:
                x = x + self._delta_net(il, h, st)
            else:
                x = x + self._attention(il, h, st)
            f = rms_norm(x, self.w(p + "post_attention_norm.weight"), hp.eps)
            x = x + self._ffn(il, f)
        st.pos += len(tokens)
        hn = rms_norm(x, self.w("output_norm.weight"), hp.eps)
        head = "output.weight" if self.has("output.weight") else "token_embd.weight"
        return self.mm(head, hn).astype(np.float32)

    def greedy(self, row):
        """argmax over the vocabulary, never choosing a token of type UNUSED (5)."""
        row = np.asarray(row, np.float32)
        if self.token_type is not None and len(self.token_type) == len(row):
            row = np.where(self.token_type == 5, -np.inf, row)
        return int(np.argmax(row))
