// The table of ggml tensor types (kernels.md §1.8): id, name, block size and
// bytes per block of every type a GGUF file may carry, plus the row kernels
// (dequantize / quantize) of the types that have them. A known type without a
// kernel is reported by name: "type Q4_K (12) is not supported yet".
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dllm {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  MXFP4 = 39,
  // ik_llama.cpp types
  Q6_0 = 133, IQ2_K = 137, IQ3_K = 138, IQ4_K = 139, IQ5_K = 140, IQ6_K = 141, IQ4_KS = 144, IQ2_KS = 145,
  IQ4_KSS = 146, IQ5_KS = 152, IQ3_KS = 156, IQ2_KL = 157,
};

// Converts n (a multiple of block_elems) elements of one row.
using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);

struct TypeTraits {
  uint32_t id;
  const char* name;      // "Q4_K"
  int64_t block_elems;   // elements per block
  int64_t block_bytes;   // bytes per block
  int64_t row_meta_bytes;  // per-row header bytes (ik types); 0 otherwise
  DequantizeRowFn dequantize_row;  // nullptr: not supported yet
  QuantizeRowFn quantize_row;      // nullptr: not supported yet
};

// nullptr for an id not in the table.
const TypeTraits* type_traits(uint32_t id);
inline const TypeTraits* type_traits(GgmlType t) { return type_traits(static_cast<uint32_t>(t)); }
// Like type_traits but throws dllm::Error "unknown tensor type id N".
const TypeTraits& type_traits_or_throw(uint32_t id);

// "Q4_K (12)" — for error messages.
std::string type_label(uint32_t id);
// Name -> type; case-insensitive ("q8_0", "F16"). Returns false if unknown.
bool type_from_name(const std::string& name, GgmlType* out);

// False for an id not in the table and for a listed type whose block layout
// the spec does not give (block_elems == 0 in its traits).
bool type_layout_known(uint32_t id);
// The traits of a type with a known layout; throws dllm::Error "unknown
// tensor type id N" or "type I2_S (36) has an unknown layout".
const TypeTraits& require_type_layout(uint32_t id);

// Bytes of one row of ne0 elements (ne0 must be a multiple of block_elems).
// Throws dllm::Error for an unknown layout, a ragged ne0 or a size that does
// not fit size_t.
size_t row_bytes(GgmlType type, int64_t ne0);

// Row kernels by type; throw dllm::Error "type Q4_K (12) is not supported yet"
// when the type has no kernel.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);
void quantize_row(GgmlType type, const float* src, void* dst, int64_t n);
bool can_dequantize(GgmlType type);
bool can_quantize(GgmlType type);

}  // namespace dllm
