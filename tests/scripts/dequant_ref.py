#!/usr/bin/python3
"""Independent numpy dequantizer, written from spec/kernels.md §1 and §2.

The test oracle for deltallm's row decoders. For every tensor of a GGUF file
whose type it can decode, prints one line

    <name>\t<type name>\t<n elements>\t<checksum hex>

where the checksum is taken over the float32 bit patterns of the dequantized
tensor (GGUF element order):  sum_i bits_i * (i * 0x9E3779B97F4A7C15 | 1)
mod 2^64.  Every weight is odd, so any change of a single value changes the
sum. Types it cannot decode are printed with checksum "-".

    dequant_ref.py FILE...                 checksums of every tensor; with
                                           several files, each file's lines
                                           follow a line "== FILE"
    dequant_ref.py FILE --dump NAME OUT    raw float32 of one tensor to OUT

All arithmetic is float32, with products formed in the order the spec gives
(block scale times integer scale, then times the quant).
"""
import struct
import sys

import numpy as np

F32 = np.float32

# --- GGUF container (kernels.md §1) ------------------------------------------

SCALAR_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<B",
              10: "<Q", 11: "<q", 12: "<d"}

# id -> (name, block elements, block bytes) of the types decoded here.
TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 30: ("BF16", 1, 2),
    2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34), 20: ("IQ4_NL", 32, 18),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 23: ("IQ4_XS", 256, 136),
    139: ("IQ4_K", 256, 144), 144: ("IQ4_KS", 256, 136),
    133: ("Q6_0", 32, 26), 137: ("IQ2_K", 256, 76), 138: ("IQ3_K", 256, 110),
    140: ("IQ5_K", 256, 176), 141: ("IQ6_K", 256, 212), 145: ("IQ2_KS", 256, 70),
    146: ("IQ4_KSS", 256, 128), 152: ("IQ5_KS", 256, 168), 156: ("IQ3_KS", 256, 102),
    157: ("IQ2_KL", 256, 86),
}
# The scale at the start of every row (ik types): its numpy format.
ROW_META = {144: "<f4", 146: "<f4", 152: "<f4", 145: "<f2", 156: "<f2", 157: "<f2"}


class Reader:
    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = bytes(self.buf[self.pos:self.pos + n]).decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et = self.take("<I")
            n = self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(SCALAR_FMT[t])


def read_gguf(path):
    with open(path, "rb") as f:
        buf = f.read()
    r = Reader(buf)
    if buf[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file")
    r.pos = 4
    version = r.take("<I")
    if version not in (2, 3):
        raise SystemExit(f"{path}: version {version}")
    n_tensors = r.take("<Q")
    n_kv = r.take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        meta[key] = r.value(r.take("<I"))
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<Q") for _ in range(nd)]
        typ = r.take("<I")
        off = r.take("<Q")
        tensors.append((name, ne, typ, off))
    align = meta.get("general.alignment", 32)
    data = (r.pos + align - 1) // align * align
    return buf, data, tensors


# --- decoders (kernels.md §2) -------------------------------------------------

IQ4 = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113],
               dtype=np.int32)


def f16(b, off):
    """fp16 at byte `off` of each block row of b -> float32 column [nb, 1]."""
    return b[:, off:off + 2].copy().view("<f2").astype(F32)


def legacy_nibbles(qs):
    """[nb, 16] bytes -> [nb, 32] nibbles: element j low nibble of qs[j],
    element j+16 high nibble."""
    return np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.int32)


def q5_high(b, off):
    qh = b[:, off:off + 4].copy().view("<u4").astype(np.uint64)  # [nb, 1]
    return ((qh >> np.arange(32, dtype=np.uint64)) & 1).astype(np.int32)


def dq_q4_0(b):
    return (legacy_nibbles(b[:, 2:18]) - 8).astype(F32) * f16(b, 0)


def dq_q4_1(b):
    return legacy_nibbles(b[:, 4:20]).astype(F32) * f16(b, 0) + f16(b, 2)


def dq_q5_0(b):
    q = legacy_nibbles(b[:, 6:22]) | (q5_high(b, 2) << 4)
    return (q - 16).astype(F32) * f16(b, 0)


def dq_q5_1(b):
    q = legacy_nibbles(b[:, 8:24]) | (q5_high(b, 4) << 4)
    return q.astype(F32) * f16(b, 0) + f16(b, 2)


def dq_q8_0(b):
    return b[:, 2:34].view(np.int8).astype(F32) * f16(b, 0)


def dq_iq4_nl(b):
    return f16(b, 0) * IQ4[legacy_nibbles(b[:, 2:18])].astype(F32)


# Element index e = 0..255 of a super-block and its derived indices.
E = np.arange(256)
H, C, L = E // 128, (E % 128) // 32, E % 32


def dq_q2_k(b):
    scales, qs = b[:, 0:16].astype(np.int32), b[:, 16:80].astype(np.int32)
    d, dmin = f16(b, 80), f16(b, 82)
    q = (qs[:, 32 * H + L] >> (2 * C)) & 3
    sc = scales[:, E // 16]
    dl = d * (sc & 15).astype(F32)
    ml = dmin * (sc >> 4).astype(F32)
    return dl * q.astype(F32) - ml


def dq_q3_k(b):
    hmask = b[:, 0:32].astype(np.int32)
    qs = b[:, 32:96].astype(np.int32)
    sc = b[:, 96:108].astype(np.int32)
    d = f16(b, 108)
    q = (qs[:, 32 * H + L] >> (2 * C)) & 3
    hb = (hmask[:, L] >> (4 * H + C)) & 1
    j = np.arange(16)
    low = np.where(j < 8, sc[:, j % 8] & 15, sc[:, j % 8] >> 4)
    high = (sc[:, 8 + j % 4] >> (2 * (j // 4))) & 3
    s = (low | (high << 4)) - 32  # [nb, 16]
    dl = d * s[:, E // 16].astype(F32)
    return dl * np.where(hb == 1, q, q - 4).astype(F32)


def k_scales_mins(b12):
    """Q4_K/Q5_K 12-byte packing -> (sc[nb, 8], m[nb, 8])."""
    x = b12.astype(np.int32)
    sc = np.empty((x.shape[0], 8), np.int32)
    m = np.empty((x.shape[0], 8), np.int32)
    for j in range(8):
        if j < 4:
            sc[:, j] = x[:, j] & 63
            m[:, j] = x[:, j + 4] & 63
        else:
            sc[:, j] = (x[:, j + 4] & 15) | ((x[:, j - 4] >> 6) << 4)
            m[:, j] = (x[:, j + 4] >> 4) | ((x[:, j] >> 6) << 4)
    return sc, m


G, R = E // 64, E % 64
KL, HALF = R % 32, R // 32
KJ = 2 * G + HALF


def dq_q4_k(b):
    d, dmin = f16(b, 0), f16(b, 2)
    sc, m = k_scales_mins(b[:, 4:16])
    qs = b[:, 16:144].astype(np.int32)
    byte = qs[:, 32 * G + KL]
    n = np.where(HALF == 1, byte >> 4, byte & 15)
    d1 = d * sc[:, KJ].astype(F32)
    m1 = dmin * m[:, KJ].astype(F32)
    return d1 * n.astype(F32) - m1


def dq_q5_k(b):
    d, dmin = f16(b, 0), f16(b, 2)
    sc, m = k_scales_mins(b[:, 4:16])
    qh = b[:, 16:48].astype(np.int32)
    qs = b[:, 48:176].astype(np.int32)
    byte = qs[:, 32 * G + KL]
    n = np.where(HALF == 1, byte >> 4, byte & 15) + 16 * ((qh[:, KL] >> KJ) & 1)
    d1 = d * sc[:, KJ].astype(F32)
    m1 = dmin * m[:, KJ].astype(F32)
    return d1 * n.astype(F32) - m1


def dq_q6_k(b):
    ql = b[:, 0:128].astype(np.int32)
    qh = b[:, 128:192].astype(np.int32)
    sc = b[:, 192:208].view(np.int8).astype(np.int32)
    d = f16(b, 208)
    src = ql[:, 64 * H + 32 * (C % 2) + L]
    low = np.where(C < 2, src & 15, src >> 4)
    high = (qh[:, 32 * H + L] >> (2 * C)) & 3
    q = (low | (high << 4)) - 32
    return (d * sc[:, E // 16].astype(F32)) * q.astype(F32)


def dq_iq4_xs(b):
    d = f16(b, 0)
    sh = b[:, 2:4].copy().view("<u2").astype(np.int32)  # [nb, 1]
    sl = b[:, 4:8].astype(np.int32)
    ib = np.arange(8)
    ls = ((sl[:, ib // 2] >> (4 * (ib % 2))) & 15) | (((sh >> (2 * ib)) & 3) << 4)
    dl = d * (ls - 32).astype(F32)  # [nb, 8]
    out = np.empty((b.shape[0], 256), F32)
    for s in range(8):
        n = legacy_nibbles(b[:, 8 + 16 * s:8 + 16 * s + 16])
        out[:, 32 * s:32 * s + 32] = dl[:, s:s + 1] * IQ4[n].astype(F32)
    return out


# ik codebooks (kernels.md §2.5): the IQ4_NL values, then the same plus 4.
IQ4K = np.concatenate([IQ4, IQ4 + 4])


def dq_iq4_k(b):
    """Sixteen 16-element sub-blocks s = 2*ib + half: 6-bit scale from
    scales_l[ib] nibble `half` and scales_h[ib // 2] bits 4*(ib % 2) + 2*half,
    codebook from bit s of `extra`, quants = nibble `half` of qs[16*ib + j]."""
    d = f16(b, 0)
    extra = b[:, 2:4].copy().view("<u2").astype(np.int32)  # [nb, 1]
    sh = b[:, 4:8].astype(np.int32)
    sl = b[:, 8:16].astype(np.int32)
    qs = b[:, 16:144].astype(np.int32)
    out = np.empty((b.shape[0], 256), F32)
    for s in range(16):
        ib, half = s // 2, s % 2
        low = (sl[:, ib] >> (4 * half)) & 15
        high = (sh[:, ib // 2] >> (4 * (ib % 2) + 2 * half)) & 3
        dl = d[:, 0] * ((low | (high << 4)) - 32).astype(F32)
        table = 16 * ((extra[:, 0] >> s) & 1)
        n = (qs[:, 16 * ib:16 * ib + 16] >> (4 * half)) & 15
        out[:, 32 * ib + 16 * half:32 * ib + 16 * half + 16] = dl[:, None] * IQ4K[table[:, None] + n].astype(F32)
    return out


def dq_iq4_ks(b, D):
    """Blocks of scales[8] + qs[128] (D: each block's row scale, [nb, 1]);
    sub-block ib: D * ((scales[ib] & 254) - 127), codebook by its low bit."""
    sc = b[:, 0:8].astype(np.int32)
    out = np.empty((b.shape[0], 256), F32)
    for ib in range(8):
        dl = D * ((sc[:, ib:ib + 1] & 254) - 127).astype(F32)
        n = legacy_nibbles(b[:, 8 + 16 * ib:8 + 16 * ib + 16])
        out[:, 32 * ib:32 * ib + 32] = dl * IQ4K[16 * (sc[:, ib:ib + 1] & 1) + n].astype(F32)
    return out


# --- ik's other types, written from the loops of the reference's row decoders
# (ik_llama.cpp ggml-quants.c dequantize_row_q6_0, iqk_quantize.cpp
# dequantize_row_iq*), one loop iteration per slice ---------------------------

IQ2NL = np.array([-31, -13, 1, 17, -26, -8, 6, 22], dtype=np.int32)
IQ3NL = np.array([-63, -40, -23, -10, 1, 13, 28, 47, -59, -36, -19, -6, 5, 17, 32, 51], dtype=np.int32)
IQ5NL = np.array([
    -126, -114, -103, -92, -83, -74, -65, -57, -50, -43, -36, -30, -24, -18, -12, -6,
    -1, 5, 11, 17, 23, 29, 36, 43, 51, 59, 68, 77, 87, 97, 109, 121,
    -124, -112, -101, -90, -81, -72, -63, -55, -48, -41, -34, -28, -22, -16, -10, -4,
    1, 7, 13, 19, 25, 31, 38, 45, 53, 61, 70, 79, 89, 99, 111, 123], dtype=np.int32)
IQ2KL = np.array([
    0xe9c1, 0x0dc1, 0xc1d8, 0xf6d8, 0x0dd8, 0x2fd8, 0xd8e9, 0xe9e9, 0x01e9, 0x0de9, 0x1ce9,
    0xc1f6, 0x01f6, 0x0df6, 0x2ff6, 0xe901, 0xf601, 0x0101, 0x0d01, 0x1c01, 0xd80d, 0xe90d,
    0xf60d, 0x010d, 0x0d0d, 0xc11c, 0xe91c, 0x011c, 0x1c1c, 0x2f1c, 0xe92f, 0x0d2f], dtype=np.uint16)
IQ2KL_LO = IQ2KL.view(np.uint8)[0::2].view(np.int8).astype(np.int32)
IQ2KL_HI = IQ2KL.view(np.uint8)[1::2].view(np.int8).astype(np.int32)


def u16(b, off):
    return b[:, off:off + 2].copy().view("<u2").astype(np.int32)[:, 0]


def col(v):
    return v.astype(F32)[:, None]


def dq_q6_0(b):
    d = f16(b, 0)
    qh = b[:, 2:10].astype(np.int32)
    qs = b[:, 10:26].astype(np.int32)
    j = np.arange(16)
    h = qh[:, j % 8] >> (4 * (j // 8))
    x0 = ((qs & 0x0F) | ((h << 4) & 0x30)) - 32
    x1 = ((qs >> 4) | ((h << 2) & 0x30)) - 32
    return np.concatenate([x0.astype(F32) * d, x1.astype(F32) * d], axis=1)


def dq_iq2_k(b):
    d = f16(b, 0)[:, 0]
    extra = u16(b, 2)
    sc = b[:, 4:12].astype(np.int32)
    qs = b[:, 12:76].astype(np.int32)
    out = np.empty((b.shape[0], 256), F32)
    for ib32 in range(8):
        dl1 = d * ((sc[:, ib32] & 0xf) - 8).astype(F32)
        dl2 = d * ((sc[:, ib32] >> 4) - 8).astype(F32)
        v1 = 4 * ((extra >> (2 * ib32)) & 1)
        v2 = 4 * ((extra >> (2 * ib32 + 1)) & 1)
        shift = 2 * (ib32 % 4)
        q = qs[:, 32 * (ib32 // 4):32 * (ib32 // 4) + 32]
        out[:, 32 * ib32:32 * ib32 + 16] = col(dl1) * IQ2NL[v1[:, None] + ((q[:, 0:16] >> shift) & 3)].astype(F32)
        out[:, 32 * ib32 + 16:32 * ib32 + 32] = col(dl2) * IQ2NL[v2[:, None] + ((q[:, 16:32] >> shift) & 3)].astype(F32)
    return out


def dq_iq3_k(b):
    d = f16(b, 0)[:, 0]
    extra = u16(b, 2)
    sh = u16(b, 4)
    sl = b[:, 6:14].astype(np.int32)
    qs = b[:, 14:78].astype(np.int32)
    qh = b[:, 78:110].astype(np.int32)
    out = np.empty((b.shape[0], 256), F32)
    for ib32 in range(8):
        for half in range(2):
            s = 2 * ib32 + half
            mag = 2 * ((sl[:, ib32] >> (4 * half)) & 0xf) + 1
            dl = d * (mag * np.where(((sh >> s) & 1) == 1, -1, 1)).astype(F32)
            v = 8 * ((extra >> s) & 1)
            lo, hi = 32 * (ib32 // 4) + 16 * half, 16 * half
            idx = ((qs[:, lo:lo + 16] >> (2 * (ib32 % 4))) & 3) | (((qh[:, hi:hi + 16] >> (ib32 % 8)) & 1) << 2)
            out[:, 16 * s:16 * s + 16] = col(dl) * IQ3NL[v[:, None] + idx].astype(F32)
    return out


def iqk_scales_16(b):
    """IQ4_K / IQ5_K 6-bit scales of the 16 groups (before the -32): [nb, 16],
    written the way dequantize_row_iq5_k reads them."""
    sh = b[:, 4:8].astype(np.int32)
    sl = b[:, 8:16].astype(np.int32)
    out = np.empty((b.shape[0], 16), np.int32)
    for ib64 in range(4):
        out[:, 4 * ib64 + 0] = (sl[:, 2 * ib64] & 0xf) | ((sh[:, ib64] << 4) & 0x30)
        out[:, 4 * ib64 + 1] = (sl[:, 2 * ib64] >> 4) | ((sh[:, ib64] << 2) & 0x30)
        out[:, 4 * ib64 + 2] = (sl[:, 2 * ib64 + 1] & 0xf) | (sh[:, ib64] & 0x30)
        out[:, 4 * ib64 + 3] = (sl[:, 2 * ib64 + 1] >> 4) | ((sh[:, ib64] >> 2) & 0x30)
    return out


def dq_iq5_k(b):
    d = f16(b, 0)[:, 0]
    extra = u16(b, 2)
    ls = iqk_scales_16(b)
    qs = b[:, 16:144].astype(np.int32)
    qh = b[:, 144:176].astype(np.int32)
    out = np.empty((b.shape[0], 256), F32)
    for ib64 in range(4):
        q = qs[:, 32 * ib64:32 * ib64 + 32]
        shift = 2 * ib64
        for g, (nib, lo) in enumerate([(0, 0), (0, 16), (1, 0), (1, 16)]):
            dl = d * (ls[:, 4 * ib64 + g] - 32).astype(F32)
            v = 32 * ((extra >> (4 * ib64 + g)) & 1)
            n = (q[:, lo:lo + 16] >> (4 * nib)) & 0xf
            hb = (qh[:, lo:lo + 16] >> (shift + nib)) & 1
            out[:, 64 * ib64 + 16 * g:64 * ib64 + 16 * g + 16] = col(dl) * IQ5NL[v[:, None] + (n | (hb << 4))].astype(F32)
    return out


def f32_round(x):
    """Exact rational -> nearest float32 (ties to even)."""
    from fractions import Fraction
    c = np.float32(float(x))
    cands = [np.nextafter(c, np.float32(-np.inf)), c, np.nextafter(c, np.float32(np.inf))]
    best = min(abs(Fraction(float(v)) - x) for v in cands)
    ties = [v for v in cands if abs(Fraction(float(v)) - x) == best]
    return min(ties, key=lambda v: int(np.array(v, np.float32).view(np.uint32)) & 1)


def fma32(a, b, c):
    from fractions import Fraction
    return f32_round(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))


def iq6k_cubic():
    """The reference's IQ6_K row decoder: A + q*(B + q*(-C + q*D)) + m in f32,
    its three multiply-adds contracted into FMAs by the compiler (checked in
    the reference binary), m = 1 for the shifted codebook. [128]: q + 64*m."""
    A, B, C, D = np.float32(-127.0), np.float32(6.2568), np.float32(0.11218), np.float32(0.0011972)
    t = np.empty(128, F32)
    for m in range(2):
        for qi in range(64):
            q = np.float32(qi)
            p = fma32(q, fma32(q, fma32(q, D, -C), B), A)
            t[64 * m + qi] = np.float32(p + np.float32(m))
    return t


def dq_iq6_k(b):
    d = f16(b, 0)[:, 0]
    extra = u16(b, 2)
    sc = b[:, 4:20].view(np.int8).astype(np.int32)
    qs = b[:, 20:148].astype(np.int32)
    qh = b[:, 148:212].astype(np.int32)
    cubic = iq6k_cubic()
    out = np.empty((b.shape[0], 256), F32)
    for ib64 in range(4):
        q = qs[:, 32 * ib64:32 * ib64 + 32]
        h = qh[:, 32 * (ib64 // 2):32 * (ib64 // 2) + 32]
        shift = 4 * (ib64 % 2)
        for g, (nib, lo) in enumerate([(0, 0), (0, 16), (1, 0), (1, 16)]):
            dl = d * sc[:, 4 * ib64 + g].astype(F32)
            m = (extra >> (4 * ib64 + g)) & 1
            n = (q[:, lo:lo + 16] >> (4 * nib)) & 0xf
            hb = (h[:, lo:lo + 16] >> (shift + 2 * nib)) & 3
            out[:, 64 * ib64 + 16 * g:64 * ib64 + 16 * g + 16] = col(dl) * cubic[64 * m[:, None] + (n | (hb << 4))]
    return out


def dq_iq5_ks(b, D):
    sc = b[:, 0:8].astype(np.int32)
    qs = b[:, 8:136].astype(np.int32)
    qh = b[:, 136:168].astype(np.int32)
    out = np.empty((b.shape[0], 256), F32)
    for ib64 in range(4):
        q = qs[:, 32 * ib64:32 * ib64 + 32]
        for h in range(2):
            s = sc[:, 2 * ib64 + h:2 * ib64 + h + 1]
            dl = D * ((s & 254) - 127).astype(F32)
            idx = ((q >> (4 * h)) & 0xf) | (((qh >> (2 * ib64 + h)) & 1) << 4)
            out[:, 64 * ib64 + 32 * h:64 * ib64 + 32 * h + 32] = dl * IQ5NL[32 * (s & 1) + idx].astype(F32)
    return out


def dq_iq4_kss(b, D):
    w = b.copy().view("<u2").astype(np.int32)  # [nb, 128]
    out = np.empty((b.shape[0], 256), F32)
    for ib in range(8):
        q = w[:, 8 * ib:8 * ib + 8]
        a = q & 0xfffe
        a ^= a >> 1
        ls = np.zeros((b.shape[0], 1), np.int32)
        for k in range(8):
            ls |= (q[:, k:k + 1] & 1) << k
        aux8 = np.stack([a & 0xff, a >> 8], axis=2).reshape(-1, 16)
        dl = D * ((ls & 254) - 127).astype(F32)
        n = np.concatenate([aux8 & 0xf, aux8 >> 4], axis=1)
        out[:, 32 * ib:32 * ib + 32] = dl * IQ4K[16 * (ls & 1) + n].astype(F32)
    return out


def dq_iq2_ks(b, D):
    extra = u16(b, 0)
    sc = b[:, 2:6].astype(np.int32)
    qs = b[:, 6:70].astype(np.int32)
    out = np.empty((b.shape[0], 256), F32)
    for ib64 in range(4):
        e = extra >> (2 * ib64)
        dl1 = D[:, 0] * (((sc[:, ib64] & 0xf) | ((e >> 4) & 0x10)) - 16).astype(F32)
        dl2 = D[:, 0] * (((sc[:, ib64] >> 4) | ((e >> 5) & 0x10)) - 16).astype(F32)
        q = qs[:, 32 * (ib64 // 2):32 * (ib64 // 2) + 32]
        shift = 4 * (ib64 % 2)
        out[:, 64 * ib64:64 * ib64 + 32] = col(dl1) * IQ2NL[4 * (e[:, None] & 1) + ((q >> shift) & 3)].astype(F32)
        out[:, 64 * ib64 + 32:64 * ib64 + 64] = (
            col(dl2) * IQ2NL[4 * ((e[:, None] >> 1) & 1) + ((q >> (shift + 2)) & 3)].astype(F32))
    return out


def dq_iq3_ks(b, D):
    extra = u16(b, 0)
    sc = b[:, 2:6].astype(np.int32)
    qs = b[:, 6:70].astype(np.int32)
    qh = b[:, 70:102].astype(np.int32)
    dl = np.empty((b.shape[0], 8), F32)
    for j in range(4):
        ls1 = (sc[:, j] & 0xf) | (((extra >> j) & 1) << 4)
        ls2 = (sc[:, j] >> 4) | (((extra >> (j + 4)) & 1) << 4)
        dl[:, j] = D[:, 0] * (ls1 - 16).astype(F32)
        dl[:, j + 4] = D[:, 0] * (ls2 - 16).astype(F32)
    out = np.empty((b.shape[0], 256), F32)
    for i128 in range(2):
        q = qs[:, 32 * i128:32 * i128 + 32]
        for ib in range(4):
            v = 8 * ((extra >> (8 + 4 * i128 + ib)) & 1)
            idx = ((q >> (2 * ib)) & 3) | (((qh >> (4 * i128 + ib)) & 1) << 2)
            out[:, 128 * i128 + 32 * ib:128 * i128 + 32 * ib + 32] = (
                dl[:, 4 * i128 + ib:4 * i128 + ib + 1] * IQ3NL[v[:, None] + idx].astype(F32))
    return out


def dq_iq2_kl(b, D):
    sh = u16(b, 0)
    sl = b[:, 2:6].astype(np.int32)
    qs = b[:, 6:70].astype(np.int32)
    qh = b[:, 70:86].astype(np.int32)
    out = np.empty((b.shape[0], 256), F32)
    for ib64 in range(4):
        ls1 = ((sl[:, (2 * ib64) % 4] >> (4 * (ib64 // 2))) & 0xf) | (((sh >> (4 * ib64)) & 3) << 4)
        ls2 = ((sl[:, (2 * ib64 + 1) % 4] >> (4 * (ib64 // 2))) & 0xf) | (((sh >> (4 * ib64 + 2)) & 3) << 4)
        dl1 = col(D[:, 0] * (ls1 - 32).astype(F32))
        dl2 = col(D[:, 0] * (ls2 - 32).astype(F32))
        q = qs[:, 16 * ib64:16 * ib64 + 16]
        i1 = (q & 0xf) | (((qh >> (2 * ib64)) & 1) << 4)
        i2 = (q >> 4) | (((qh >> (2 * ib64 + 1)) & 1) << 4)
        base = 64 * ib64
        out[:, base + 0:base + 32:2] = dl1 * IQ2KL_LO[i1].astype(F32)
        out[:, base + 1:base + 32:2] = dl1 * IQ2KL_HI[i1].astype(F32)
        out[:, base + 32:base + 64:2] = dl2 * IQ2KL_LO[i2].astype(F32)
        out[:, base + 33:base + 64:2] = dl2 * IQ2KL_HI[i2].astype(F32)
    return out


ROW_DECODERS = {144: dq_iq4_ks, 146: dq_iq4_kss, 152: dq_iq5_ks, 145: dq_iq2_ks, 156: dq_iq3_ks,
                157: dq_iq2_kl}

BLOCK_DECODERS = {2: dq_q4_0, 3: dq_q4_1, 6: dq_q5_0, 7: dq_q5_1, 8: dq_q8_0, 20: dq_iq4_nl,
                  10: dq_q2_k, 11: dq_q3_k, 12: dq_q4_k, 13: dq_q5_k, 14: dq_q6_k,
                  23: dq_iq4_xs, 139: dq_iq4_k, 133: dq_q6_0, 137: dq_iq2_k, 138: dq_iq3_k,
                  140: dq_iq5_k, 141: dq_iq6_k}


def dequantize(buf, data, ne, typ, off):
    n = int(np.prod(ne))
    _, be, bb = TYPES[typ]
    if typ in ROW_META:
        rows, nb = n // ne[0], ne[0] // be
        meta = np.dtype(ROW_META[typ]).itemsize
        rb = meta + nb * bb
        raw = np.frombuffer(buf, np.uint8, rows * rb, data + off).reshape(rows, rb)
        D = raw[:, :meta].copy().view(ROW_META[typ]).astype(F32)  # [rows, 1]
        blocks = raw[:, meta:].reshape(rows * nb, bb)
        out = ROW_DECODERS[typ](blocks, np.repeat(D, nb, axis=0))
        assert out.dtype == F32, (typ, out.dtype)
        return out.reshape(-1)
    nbytes = n // be * bb
    raw = np.frombuffer(buf, np.uint8, nbytes, data + off)
    if typ == 0:
        return raw.view("<f4").astype(F32)
    if typ == 1:
        return raw.view("<f2").astype(F32)
    if typ == 30:
        return (raw.view("<u2").astype(np.uint32) << 16).view(F32)
    out = BLOCK_DECODERS[typ](raw.reshape(-1, bb))
    assert out.dtype == F32, (typ, out.dtype)
    return out.reshape(-1)


def checksum(x):
    bits = x.view(np.uint32).astype(np.uint64)
    w = (np.arange(bits.size, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
    with np.errstate(over="ignore"):
        return int(np.sum(bits * w, dtype=np.uint64))


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    if len(args) == 4 and args[1] == "--dump":
        buf, data, tensors = read_gguf(args[0])
        for name, ne, typ, off in tensors:
            if name == args[2]:
                dequantize(buf, data, ne, typ, off).tofile(args[3])
                return
        raise SystemExit(f"no tensor {args[2]}")
    out = []
    for path in args:
        if len(args) > 1:
            out.append(f"== {path}")
        buf, data, tensors = read_gguf(path)
        for name, ne, typ, off in tensors:
            n = int(np.prod(ne))
            if typ in TYPES:
                s = checksum(dequantize(buf, data, ne, typ, off))
                out.append(f"{name}\t{TYPES[typ][0]}\t{n}\t{s:016x}")
            else:
                out.append(f"{name}\t#{typ}\t{n}\t-")
    print("\n".join(out))


if __name__ == "__main__":
    main()
