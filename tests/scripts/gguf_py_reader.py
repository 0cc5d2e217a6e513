#!/usr/bin/env python3
"""Independent GGUF reader used as a test oracle for `deltallm gguf --json`.

Written from the GGUF description in ../shared/spec/kernels.md §1 (plain
python3 standard library, no numpy), not from the C++ reader. It prints the
same JSON document as `deltallm gguf FILE --json`:

  {version, alignment, data_offset,
   metadata: {key: {type, value}}              (arrays: {type: "ARRAY", elem_type, value: [...]})
   tensors: [{name, type, ne, offset, bytes}],
   summary: {architecture, n_params, bytes_by_type}}

Conventions shared with the C++ tool (both documented there too):
  * strings that are not valid UTF-8 are decoded with U+FFFD replacement
    (Python's errors="replace": one U+FFFD per maximal invalid subpart);
  * non-finite floats are the strings "NaN", "Infinity", "-Infinity";
  * an array of arrays has elem_type "ARRAY" and nested JSON arrays as value.

usage: gguf_py_reader.py FILE...   (one JSON document per line on stdout, in
argument order; exit 1 with a message on the first error)
"""

import json
import math
import mmap
import os
import struct
import sys

# Metadata value types (kernels.md §1.2): id -> (name, struct format or None).
VALUE_TYPES = {
    0: ("UINT8", "<B"),
    1: ("INT8", "<b"),
    2: ("UINT16", "<H"),
    3: ("INT16", "<h"),
    4: ("UINT32", "<I"),
    5: ("INT32", "<i"),
    6: ("FLOAT32", "<f"),
    7: ("BOOL", "<B"),
    8: ("STRING", None),
    9: ("ARRAY", None),
    10: ("UINT64", "<Q"),
    11: ("INT64", "<q"),
    12: ("FLOAT64", "<d"),
}

# ggml tensor types (kernels.md §1.8): id -> (name, block elements, block bytes).
TENSOR_TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    39: ("MXFP4", 32, 17),
}


class GGUFError(Exception):
    pass


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise GGUFError("truncated at offset %d (need %d bytes)" % (self.pos, n))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def string(self):
        n = self.unpack("<Q")
        return self.take(n).decode("utf-8", errors="replace")


def json_float(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def read_scalar(r, type_id):
    name, fmt = VALUE_TYPES[type_id]
    if name == "STRING":
        return r.string()
    v = r.unpack(fmt)
    if name == "BOOL":
        if v not in (0, 1):
            raise GGUFError("bad BOOL value %d" % v)
        return v == 1
    if name in ("FLOAT32", "FLOAT64"):
        return json_float(v)
    return v


def read_array(r, depth):
    """Returns (elem_type_name, list of python values)."""
    if depth > 64:
        raise GGUFError("arrays nested too deeply")
    elem = r.unpack("<I")
    if elem not in VALUE_TYPES:
        raise GGUFError("unknown array element type %d" % elem)
    count = r.unpack("<Q")
    if count > len(r.data) - r.pos:  # every element takes at least one byte
        raise GGUFError("array count %d beyond the file" % count)
    items = []
    for _ in range(count):
        if elem == 9:
            items.append(read_array(r, depth + 1)[1])
        else:
            items.append(read_scalar(r, elem))
    return VALUE_TYPES[elem][0], items


def read_file(path):
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise GGUFError("empty file")
        # Map rather than read: only the header and metadata are touched.
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    r = Reader(data)
    if r.take(4) != b"GGUF":
        raise GGUFError("bad magic")
    version = r.unpack("<I")
    if version not in (2, 3):
        raise GGUFError("unsupported version %d" % version)
    n_tensors = r.unpack("<Q")
    n_kv = r.unpack("<Q")

    metadata = {}
    alignment = 32
    for _ in range(n_kv):
        key = r.string()
        vtype = r.unpack("<I")
        if vtype not in VALUE_TYPES:
            raise GGUFError("unknown value type %d for key %s" % (vtype, key))
        if vtype == 9:
            elem_name, items = read_array(r, 1)
            entry = {"type": "ARRAY", "elem_type": elem_name, "value": items}
        else:
            entry = {"type": VALUE_TYPES[vtype][0], "value": read_scalar(r, vtype)}
        if key in metadata:
            raise GGUFError("duplicate key %s" % key)
        metadata[key] = entry
        if key == "general.alignment":
            if entry["type"] != "UINT32":
                raise GGUFError("general.alignment is not UINT32")
            alignment = entry["value"]
            if alignment == 0 or alignment & (alignment - 1):
                raise GGUFError("bad alignment %d" % alignment)

    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.unpack("<I")
        if not 1 <= n_dims <= 4:
            raise GGUFError("tensor %s has %d dims" % (name, n_dims))
        ne = [r.unpack("<Q") for _ in range(n_dims)]
        type_id = r.unpack("<I")
        offset = r.unpack("<Q")
        if type_id not in TENSOR_TYPES:
            raise GGUFError("tensor %s has unknown type %d" % (name, type_id))
        tname, block_elems, block_bytes = TENSOR_TYPES[type_id]
        if ne[0] % block_elems:
            raise GGUFError("tensor %s: ne0 not a multiple of the block size" % name)
        rows = 1
        for d in ne[1:]:
            rows *= d
        nbytes = ne[0] // block_elems * block_bytes * rows
        tensors.append({"name": name, "type": tname, "ne": ne, "offset": offset, "bytes": nbytes})

    data_offset = (r.pos + alignment - 1) // alignment * alignment
    for t in tensors:
        if data_offset + t["offset"] + t["bytes"] > len(data):
            raise GGUFError("tensor %s data beyond the file" % t["name"])

    arch = metadata.get("general.architecture", {}).get("value")
    n_params = 0
    bytes_by_type = {}
    for t in tensors:
        n = 1
        for d in t["ne"]:
            n *= d
        n_params += n
        bytes_by_type[t["type"]] = bytes_by_type.get(t["type"], 0) + t["bytes"]

    return {
        "version": version,
        "alignment": alignment,
        "data_offset": data_offset,
        "metadata": metadata,
        "tensors": tensors,
        "summary": {"architecture": arch, "n_params": n_params, "bytes_by_type": bytes_by_type},
    }


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: gguf_py_reader.py FILE...\n")
        return 2
    for path in sys.argv[1:]:
        try:
            doc = read_file(path)
        except (GGUFError, OSError, ValueError) as e:
            sys.stderr.write("gguf_py_reader: %s: %s\n" % (path, e))
            return 1
        # One document per line; ASCII-only output (\u escapes) so the result
        # does not depend on the locale.
        json.dump(doc, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
