"""Minimal, independent GGUF reader for the numpy reference (spec: kernels.md §1).

Reads the header, the metadata key/value pairs and the tensor infos, and gives
each tensor's raw bytes as a numpy uint8 view over a memory map of the file.
Only little-endian files of version 2 or 3 are accepted.
"""
import mmap
import struct

import numpy as np

# Metadata value type ids (kernels.md §1.2) -> struct format of a scalar.
_SCALAR_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
               7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_T_STRING = 8
_T_ARRAY = 9

# ggml type id -> (name, elements per block, bytes per block) (kernels.md §1.8).
GGML_TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 20: ("IQ4_NL", 32, 18),
    23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4),
    27: ("I64", 1, 8), 28: ("F64", 1, 8), 30: ("BF16", 1, 2),
}


class GGUFError(Exception):
    pass


class Tensor:
    """One tensor info: name, ne (fastest dim first), type name, raw bytes."""

    def __init__(self, name, ne, type_id, offset):
        self.name = name
        self.ne = tuple(ne)
        self.type_id = type_id
        if type_id not in GGML_TYPES:
            raise GGUFError(f"tensor {name}: unsupported ggml type id {type_id}")
        self.type_name, self.block_elems, self.block_bytes = GGML_TYPES[type_id]
        self.offset = offset
        self.data = None  # uint8 view, set by GGUFFile

    @property
    def n_elements(self):
        n = 1
        for d in self.ne:
            n *= d
        return n

    @property
    def n_bytes(self):
        if self.ne[0] % self.block_elems:
            raise GGUFError(f"tensor {self.name}: ne0={self.ne[0]} is not a multiple of "
                            f"the {self.type_name} block size {self.block_elems}")
        return self.n_elements // self.block_elems * self.block_bytes


class GGUFFile:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._buf = memoryview(self._mm)
        self._pos = 0
        self.metadata = {}
        self.metadata_types = {}  # key -> (value type, array element type or None)
        self.tensors = {}
        self._parse()

    # --- low-level readers -------------------------------------------------
    def _take(self, n):
        if self._pos + n > len(self._buf):
            raise GGUFError(f"{self.path}: truncated header at byte {self._pos}")
        b = self._buf[self._pos:self._pos + n]
        self._pos += n
        return b

    def _scalar(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self._take(size))[0]

    def _string(self):
        n = self._scalar("<Q")
        return bytes(self._take(n)).decode("utf-8", errors="replace")

    def _value(self, vtype):
        if vtype in _SCALAR_FMT:
            return self._scalar(_SCALAR_FMT[vtype])
        if vtype == _T_STRING:
            return self._string()
        if vtype == _T_ARRAY:
            etype = self._scalar("<I")
            count = self._scalar("<Q")
            if etype in _SCALAR_FMT:
                fmt = _SCALAR_FMT[etype]
                size = struct.calcsize(fmt)
                raw = self._take(size * count)
                return list(struct.unpack("<" + fmt[1:] * count, raw)) if count else []
            return [self._value(etype) for _ in range(count)]
        raise GGUFError(f"{self.path}: unknown metadata value type {vtype}")

    # --- structure ---------------------------------------------------------
    def _parse(self):
        magic = bytes(self._take(4))
        if magic != b"GGUF":
            raise GGUFError(f"{self.path}: not a GGUF file (magic {magic!r})")
        version = self._scalar("<I")
        if version not in (2, 3):
            raise GGUFError(f"{self.path}: unsupported GGUF version {version}")
        n_tensors = self._scalar("<Q")
        n_kv = self._scalar("<Q")
        for _ in range(n_kv):
            key = self._string()
            vtype = self._scalar("<I")
            etype = None
            if vtype == _T_ARRAY:
                etype = struct.unpack("<I", self._buf[self._pos:self._pos + 4])[0]
            val = self._value(vtype)
            if key not in self.metadata:  # first occurrence wins
                self.metadata[key] = val
                self.metadata_types[key] = (vtype, etype)
        infos = []
        for _ in range(n_tensors):
            name = self._string()
            n_dims = self._scalar("<I")
            if n_dims > 4:
                raise GGUFError(f"tensor {name}: {n_dims} dims")
            ne = [self._scalar("<Q") for _ in range(n_dims)]
            type_id = self._scalar("<I")
            offset = self._scalar("<Q")
            if name in self.tensors:
                raise GGUFError(f"{self.path}: duplicate tensor {name}")
            t = Tensor(name, ne, type_id, offset)
            self.tensors[name] = t
            infos.append(t)
        align = self.metadata.get("general.alignment", 32)
        if align <= 0 or align & (align - 1):
            raise GGUFError(f"{self.path}: bad general.alignment {align}")
        data_start = (self._pos + align - 1) // align * align
        whole = np.frombuffer(self._mm, dtype=np.uint8)
        for t in infos:
            start = data_start + t.offset
            end = start + t.n_bytes
            if end > len(whole):
                raise GGUFError(f"tensor {t.name}: data past end of file")
            t.data = whole[start:end]

    def get(self, key, default=None):
        return self.metadata.get(key, default)


# --- writer (used by the self-check to derive layout variants of test files) ---

def _pack_value(vtype, val, etype=None):
    if vtype in _SCALAR_FMT:
        return struct.pack(_SCALAR_FMT[vtype], val)
    if vtype == _T_STRING:
        b = val.encode("utf-8")
        return struct.pack("<Q", len(b)) + b
    if vtype == _T_ARRAY:
        out = [struct.pack("<IQ", etype, len(val))]
        out += [_pack_value(etype, v) for v in val]
        return b"".join(out)
    raise GGUFError(f"cannot write metadata value type {vtype}")


TYPE_ID = {name: tid for tid, (name, _, _) in GGML_TYPES.items()}


def write_gguf(path, metadata, tensors, alignment=32):
    """metadata: list of (key, vtype, value, etype); tensors: list of
    (name, ne, type_name, raw bytes). Writes a GGUF v3 file."""
    head = [b"GGUF", struct.pack("<IQQ", 3, len(tensors), len(metadata))]
    for key, vtype, val, etype in metadata:
        head.append(_pack_value(_T_STRING, key) + struct.pack("<I", vtype) + _pack_value(vtype, val, etype))
    offset = 0
    datas = []
    for name, ne, tname, raw in tensors:
        head.append(_pack_value(_T_STRING, name) + struct.pack("<I", len(ne)))
        head.append(struct.pack("<%dQ" % len(ne), *ne))
        head.append(struct.pack("<IQ", TYPE_ID[tname], offset))
        pad = (-len(raw)) % alignment
        datas.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    h = b"".join(head)
    h += b"\0" * ((-len(h)) % alignment)
    with open(path, "wb") as f:
        f.write(h)
        for d in datas:
            f.write(d)
