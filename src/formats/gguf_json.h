// A GGUF file as JSON (the document `deltallm gguf FILE --json` prints):
//
//   {"version": 3, "alignment": 32, "data_offset": N,
//    "metadata": {KEY: {"type": "UINT32", "value": 7},
//                 KEY: {"type": "ARRAY", "elem_type": "STRING", "value": ["a", "b"]}, ...},
//    "tensors": [{"name": ..., "type": "Q4_K", "ne": [ne0, ne1, ...], "offset": N, "bytes": N}, ...],
//    "summary": {"architecture": "qwen35" | null, "n_params": N, "bytes_by_type": {"F32": N, ...}}}
//
// Choices:
// - Metadata keys and tensors keep file order; `offset` is relative to the
//   data section, as in the file; `ne` has n_dims entries.
// - Arrays carry their element type; an array of arrays has elem_type
//   "ARRAY" and nested JSON arrays as value (the inner element types are not
//   repeated).
// - Floats are printed so that they read back to the same double (FLOAT32
//   values widened exactly); NaN and infinities, which JSON lacks, become the
//   strings "NaN", "Infinity", "-Infinity".
// - Strings, keys and names that are not valid UTF-8 have each maximal
//   invalid subsequence replaced by U+FFFD (Unicode's "substitution of
//   maximal subparts", the same as Python's errors="replace").
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "formats/gguf.h"

namespace dllm {

// Valid UTF-8 copy of `s` (see the policy above).
std::string utf8_sanitize(std::string_view s);

nlohmann::ordered_json gguf_value_json(const GgufValue& v);
nlohmann::ordered_json gguf_to_json(const GgufFile& f);

}  // namespace dllm
