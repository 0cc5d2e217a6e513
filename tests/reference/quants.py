"""Dequantization of ggml block types and emulation of the reference's matmul
activation quantization, in numpy (spec: kernels.md §2 and §3.3).

dequantize(tensor) returns float32 values with numpy shape = reversed ne,
so a 2-D weight {in, out} becomes an array [out][in] (one row per output).
"""
import numpy as np

IQ4_NL_CODEBOOK = np.array([-127, -104, -83, -65, -49, -35, -22, -10,
                            1, 13, 25, 38, 53, 69, 89, 113], dtype=np.float32)


def _f16(b):
    """uint8 [..., 2] -> float32 [...] (IEEE half, exact)."""
    return np.ascontiguousarray(b).view("<f2")[..., 0].astype(np.float32)


def _u16(b):
    return np.ascontiguousarray(b).view("<u2")[..., 0]


def _blocks(data, block_bytes):
    return data.reshape(-1, block_bytes)


def _legacy_nibbles(qs):
    """qs uint8 [nb, 16] -> [nb, 32]: element j low nibble of byte j, j+16 the high one."""
    return np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.int32)


def _deq_q4_0(data):
    b = _blocks(data, 18)
    d = _f16(b[:, 0:2].reshape(-1, 1, 2))
    n = _legacy_nibbles(b[:, 2:18])
    return ((n - 8).astype(np.float32) * d)


def _deq_q4_1(data):
    b = _blocks(data, 20)
    d = _f16(b[:, 0:2].reshape(-1, 1, 2))
    m = _f16(b[:, 2:4].reshape(-1, 1, 2))
    n = _legacy_nibbles(b[:, 4:20])
    return n.astype(np.float32) * d + m


def _q5_high_bits(qh_bytes):
    qh = np.ascontiguousarray(qh_bytes).view("<u4")  # [nb, 1]
    return ((qh >> np.arange(32, dtype=np.uint32)) & 1).astype(np.int32)  # [nb, 32]


def _deq_q5_0(data):
    b = _blocks(data, 22)
    d = _f16(b[:, 0:2].reshape(-1, 1, 2))
    h = _q5_high_bits(b[:, 2:6])
    n = _legacy_nibbles(b[:, 6:22]) | (h << 4)
    return (n - 16).astype(np.float32) * d


def _deq_q5_1(data):
    b = _blocks(data, 24)
    d = _f16(b[:, 0:2].reshape(-1, 1, 2))
    m = _f16(b[:, 2:4].reshape(-1, 1, 2))
    h = _q5_high_bits(b[:, 4:8])
    n = _legacy_nibbles(b[:, 8:24]) | (h << 4)
    return n.astype(np.float32) * d + m


def _deq_q8_0(data):
    b = _blocks(data, 34)
    d = _f16(b[:, 0:2].reshape(-1, 1, 2))
    q = b[:, 2:34].view(np.int8).astype(np.float32)
    return q * d


def _deq_iq4_nl(data):
    b = _blocks(data, 18)
    d = _f16(b[:, 0:2].reshape(-1, 1, 2))
    n = _legacy_nibbles(b[:, 2:18])
    return IQ4_NL_CODEBOOK[n] * d


# K-quants: element index e = 0..255 within a super-block.
_E = np.arange(256)
_KH, _KC, _KL = _E // 128, (_E % 128) // 32, _E % 32


def _deq_q2_k(data):
    b = _blocks(data, 84)
    scales = b[:, 0:16].astype(np.int32)
    qs = b[:, 16:80].astype(np.int32)
    d = _f16(b[:, 80:82].reshape(-1, 1, 2))
    dmin = _f16(b[:, 82:84].reshape(-1, 1, 2))
    q = (qs[:, 32 * _KH + _KL] >> (2 * _KC)) & 3
    sc = scales[:, _E // 16]
    return d * (sc & 15).astype(np.float32) * q - dmin * (sc >> 4).astype(np.float32)


def _deq_q3_k(data):
    b = _blocks(data, 110)
    hmask = b[:, 0:32].astype(np.int32)
    qs = b[:, 32:96].astype(np.int32)
    sb = b[:, 96:108].astype(np.int32)
    d = _f16(b[:, 108:110].reshape(-1, 1, 2))
    q = (qs[:, 32 * _KH + _KL] >> (2 * _KC)) & 3
    hb = (hmask[:, _KL] >> (4 * _KH + _KC)) & 1
    j = np.arange(16)
    low = np.where(j < 8, sb[:, j % 8] & 15, sb[:, j % 8] >> 4)
    high = (sb[:, 8 + (j % 4)] >> (2 * (j // 4))) & 3
    s = (low | (high << 4)) - 32  # [nb, 16]
    return d * s[:, _E // 16].astype(np.float32) * (q - 4 * (1 - hb)).astype(np.float32)


def _k_scales_mins(sb):
    """12 packed bytes [nb, 12] -> 6-bit scales and mins [nb, 8] (Q4_K / Q5_K)."""
    sb = sb.astype(np.int32)
    sc = np.empty((sb.shape[0], 8), np.int32)
    mn = np.empty((sb.shape[0], 8), np.int32)
    for j in range(4):
        sc[:, j] = sb[:, j] & 63
        mn[:, j] = sb[:, j + 4] & 63
    for j in range(4, 8):
        sc[:, j] = (sb[:, j + 4] & 15) | ((sb[:, j - 4] >> 6) << 4)
        mn[:, j] = (sb[:, j + 4] >> 4) | ((sb[:, j] >> 6) << 4)
    return sc, mn


_G64, _R64 = _E // 64, _E % 64
_L32, _HALF = _R64 % 32, _R64 // 32
_J8 = 2 * _G64 + _HALF


def _deq_q4_k(data):
    b = _blocks(data, 144)
    d = _f16(b[:, 0:2].reshape(-1, 1, 2))
    dmin = _f16(b[:, 2:4].reshape(-1, 1, 2))
    sc, mn = _k_scales_mins(b[:, 4:16])
    qs = b[:, 16:144].astype(np.int32)
    n = (qs[:, 32 * _G64 + _L32] >> (4 * _HALF)) & 15
    return d * sc[:, _J8].astype(np.float32) * n - dmin * mn[:, _J8].astype(np.float32)


def _deq_q5_k(data):
    b = _blocks(data, 176)
    d = _f16(b[:, 0:2].reshape(-1, 1, 2))
    dmin = _f16(b[:, 2:4].reshape(-1, 1, 2))
    sc, mn = _k_scales_mins(b[:, 4:16])
    qh = b[:, 16:48].astype(np.int32)
    qs = b[:, 48:176].astype(np.int32)
    n = (qs[:, 32 * _G64 + _L32] >> (4 * _HALF)) & 15
    hb = (qh[:, _L32] >> _J8) & 1
    return d * sc[:, _J8].astype(np.float32) * (n + 16 * hb) - dmin * mn[:, _J8].astype(np.float32)


def _deq_q6_k(data):
    b = _blocks(data, 210)
    ql = b[:, 0:128].astype(np.int32)
    qh = b[:, 128:192].astype(np.int32)
    scales = b[:, 192:208].view(np.int8).astype(np.float32)
    d = _f16(b[:, 208:210].reshape(-1, 1, 2))
    src = 64 * _KH + 32 * (_KC % 2) + _KL
    low = (ql[:, src] >> (4 * (_KC // 2))) & 15
    high = (qh[:, 32 * _KH + _KL] >> (2 * _KC)) & 3
    q = (low | (high << 4)) - 32
    return d * scales[:, _E // 16] * q.astype(np.float32)


def _deq_iq4_xs(data):
    b = _blocks(data, 136)
    d = _f16(b[:, 0:2].reshape(-1, 1, 2))
    sh = _u16(b[:, 2:4].reshape(-1, 1, 2)).astype(np.int32)  # [nb, 1]
    sl = b[:, 4:8].astype(np.int32)
    qs = b[:, 8:136]
    ib = np.arange(8)
    ls = ((sl[:, ib // 2] >> (4 * (ib % 2))) & 15) | (((sh >> (2 * ib)) & 3) << 4)
    dl = d * (ls - 32).astype(np.float32)  # [nb, 8]
    n = _legacy_nibbles(qs.reshape(-1, 16)).reshape(-1, 8, 32)
    return (IQ4_NL_CODEBOOK[n] * dl[:, :, None]).reshape(-1, 256)


def _deq_f32(data):
    return data.view("<f4").astype(np.float32)


def _deq_f16(data):
    return data.view("<f2").astype(np.float32)


def _deq_bf16(data):
    return (data.view("<u2").astype(np.uint32) << 16).view(np.float32)


_DEQUANT = {
    "F32": _deq_f32, "F16": _deq_f16, "BF16": _deq_bf16,
    "Q4_0": _deq_q4_0, "Q4_1": _deq_q4_1, "Q5_0": _deq_q5_0, "Q5_1": _deq_q5_1,
    "Q8_0": _deq_q8_0, "IQ4_NL": _deq_iq4_nl, "Q2_K": _deq_q2_k, "Q3_K": _deq_q3_k,
    "Q4_K": _deq_q4_k, "Q5_K": _deq_q5_k, "Q6_K": _deq_q6_k, "IQ4_XS": _deq_iq4_xs,
}

SUPPORTED_TYPES = frozenset(_DEQUANT)


def dequantize(t):
    fn = _DEQUANT.get(t.type_name)
    if fn is None:
        raise ValueError(f"tensor {t.name}: no dequantizer for type {t.type_name}")
    vals = np.asarray(fn(t.data), dtype=np.float32).reshape(-1)
    return vals.reshape(tuple(reversed(t.ne)))


# --- activation quantization of the reference's CPU matmuls (kernels.md §3.3) ---

def f32_to_bf16_rne(x):
    """Round float32 values to bfloat16 (round to nearest even), returned as float32."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16 << 16
    return u.astype(np.uint32).view(np.float32)


def quant_act_q8_bf16scale(x):
    """Per-32 blocks along the last axis: d = amax/127 rounded to bf16 first,
    q = round_half_even(x * (1/d_bf16)) saturated to int8; returns d_bf16 * q."""
    shape = x.shape
    xb = np.asarray(x, dtype=np.float32).reshape(-1, 32)
    amax = np.abs(xb).max(axis=1, keepdims=True)
    d = f32_to_bf16_rne((amax / np.float32(127.0)).astype(np.float32))
    with np.errstate(divide="ignore"):
        inv = np.where(d > 0, np.float32(1.0) / d, np.float32(0.0)).astype(np.float32)
    q = np.clip(np.rint(xb * inv), -128, 127)
    return (q * d).astype(np.float32).reshape(shape)


def quant_act_q8_k(x):
    """Per-256 blocks: d = amax/127, q = round_half_even(x * 127/amax); returns d * q."""
    shape = x.shape
    xb = np.asarray(x, dtype=np.float32).reshape(-1, 256)
    amax = np.abs(xb).max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        iscale = np.where(amax > 0, np.float32(127.0) / amax, np.float32(0.0)).astype(np.float32)
    d = (amax / np.float32(127.0)).astype(np.float32)
    q = np.clip(np.rint(xb * iscale), -128, 127)
    return (q * d).astype(np.float32).reshape(shape)


# Weight type -> activation rounding the reference applies before the dot products.
ACT_QUANT_FOR_TYPE = {
    "Q4_0": quant_act_q8_bf16scale, "Q4_1": quant_act_q8_bf16scale,
    "Q5_0": quant_act_q8_bf16scale, "Q5_1": quant_act_q8_bf16scale,
    "Q8_0": quant_act_q8_bf16scale, "IQ4_NL": quant_act_q8_bf16scale,
    "Q4_K": quant_act_q8_bf16scale, "Q5_K": quant_act_q8_bf16scale,
    "Q6_K": quant_act_q8_bf16scale,
    "Q2_K": quant_act_q8_k, "Q3_K": quant_act_q8_k, "IQ4_XS": quant_act_q8_k,
    "BF16": f32_to_bf16_rne,
}
