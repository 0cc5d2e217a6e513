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
}
# Bytes at the start of every row (ik types): IQ4_KS has an f32 row scale.
ROW_META = {144: 4}


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


def dq_iq4_ks_row(row, nb):
    """One row: f32 scale D, then nb blocks of scales[8] + qs[128];
    sub-block ib: D * ((scales[ib] & 254) - 127), codebook by its low bit."""
    D = row[0:4].copy().view("<f4").astype(F32)[0]
    b = row[4:].reshape(nb, 136)
    sc = b[:, 0:8].astype(np.int32)
    out = np.empty((nb, 256), F32)
    for ib in range(8):
        dl = D * ((sc[:, ib] & 254) - 127).astype(F32)
        n = legacy_nibbles(b[:, 8 + 16 * ib:8 + 16 * ib + 16])
        out[:, 32 * ib:32 * ib + 32] = dl[:, None] * IQ4K[16 * (sc[:, ib:ib + 1] & 1) + n].astype(F32)
    return out.reshape(-1)


BLOCK_DECODERS = {2: dq_q4_0, 3: dq_q4_1, 6: dq_q5_0, 7: dq_q5_1, 8: dq_q8_0, 20: dq_iq4_nl,
                  10: dq_q2_k, 11: dq_q3_k, 12: dq_q4_k, 13: dq_q5_k, 14: dq_q6_k,
                  23: dq_iq4_xs, 139: dq_iq4_k}


def dequantize(buf, data, ne, typ, off):
    n = int(np.prod(ne))
    _, be, bb = TYPES[typ]
    if typ in ROW_META:
        rows, nb = n // ne[0], ne[0] // be
        rb = ROW_META[typ] + nb * bb
        raw = np.frombuffer(buf, np.uint8, rows * rb, data + off).reshape(rows, rb)
        return np.concatenate([dq_iq4_ks_row(raw[r], nb) for r in range(rows)])
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
