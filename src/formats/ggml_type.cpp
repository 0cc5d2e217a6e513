// The ggml type table (kernels.md §1.8). Types whose block layout the spec
// does not give are listed by name with block_elems == 0, so that a file
// using them is rejected with "type I2_S (36) has an unknown layout" instead
// of being read with a guessed size.
#include "formats/ggml_type.h"

#include <cctype>
#include <limits>

#include "formats/quant_rows.h"
#include "util/error.h"

namespace dllm {

namespace {

using namespace quant;

// Kernels of the types that have them; everything else nullptr.
constexpr TypeTraits kTable[] = {
    // id, name, block elems, block bytes, row meta, dequantize, quantize
    {0, "F32", 1, 4, 0, dequant_f32, quant_f32},
    {1, "F16", 1, 2, 0, dequant_f16, quant_f16},
    {2, "Q4_0", 32, 18, 0, dequant_q4_0, nullptr},
    {3, "Q4_1", 32, 20, 0, dequant_q4_1, nullptr},
    {6, "Q5_0", 32, 22, 0, dequant_q5_0, nullptr},
    {7, "Q5_1", 32, 24, 0, dequant_q5_1, nullptr},
    {8, "Q8_0", 32, 34, 0, dequant_q8_0, quant_q8_0},
    {9, "Q8_1", 32, 36, 0, nullptr, nullptr},
    {10, "Q2_K", 256, 84, 0, dequant_q2_k, nullptr},
    {11, "Q3_K", 256, 110, 0, dequant_q3_k, nullptr},
    {12, "Q4_K", 256, 144, 0, dequant_q4_k, nullptr},
    {13, "Q5_K", 256, 176, 0, dequant_q5_k, nullptr},
    {14, "Q6_K", 256, 210, 0, dequant_q6_k, nullptr},
    {15, "Q8_K", 256, 292, 0, nullptr, nullptr},  // mainline layout
    {16, "IQ2_XXS", 256, 66, 0, dequant_iq2_xxs, nullptr},
    {17, "IQ2_XS", 256, 74, 0, dequant_iq2_xs, nullptr},
    {18, "IQ3_XXS", 256, 98, 0, dequant_iq3_xxs, nullptr},
    {19, "IQ1_S", 256, 50, 0, dequant_iq1_s, nullptr},
    {20, "IQ4_NL", 32, 18, 0, dequant_iq4_nl, nullptr},
    {21, "IQ3_S", 256, 110, 0, dequant_iq3_s, nullptr},
    {22, "IQ2_S", 256, 82, 0, dequant_iq2_s, nullptr},
    {23, "IQ4_XS", 256, 136, 0, dequant_iq4_xs, nullptr},
    {24, "I8", 1, 1, 0, nullptr, nullptr},
    {25, "I16", 1, 2, 0, nullptr, nullptr},
    {26, "I32", 1, 4, 0, nullptr, nullptr},
    {27, "I64", 1, 8, 0, nullptr, nullptr},
    {28, "F64", 1, 8, 0, nullptr, nullptr},
    {29, "IQ1_M", 256, 56, 0, dequant_iq1_m, nullptr},
    {30, "BF16", 1, 2, 0, dequant_bf16, quant_bf16},
    {31, "Q4_0_4_4", 32, 18, 0, nullptr, nullptr},
    {32, "Q4_0_4_8", 32, 18, 0, nullptr, nullptr},
    {33, "Q4_0_8_8", 32, 18, 0, nullptr, nullptr},
    {34, "TQ1_0", 256, 54, 0, nullptr, nullptr},
    {35, "TQ2_0", 256, 66, 0, nullptr, nullptr},
    {36, "I2_S", 0, 0, 0, nullptr, nullptr},  // id conflict mainline/ik
    {39, "MXFP4", 32, 17, 0, dequant_mxfp4, nullptr},
    {40, "NVFP4", 0, 0, 0, nullptr, nullptr},
    {41, "Q1_0_G128", 0, 0, 0, nullptr, nullptr},  // id conflict mainline Q1_0 / ik Q1_0_G128
    // ik-only activation / internal types: layouts not specified.
    {97, "Q8_0_X4", 0, 0, 0, nullptr, nullptr},
    {98, "Q8_1_X4", 0, 0, 0, nullptr, nullptr},
    {99, "Q8_2_X4", 0, 0, 0, nullptr, nullptr},
    {133, "Q6_0", 32, 26, 0, dequant_q6_0, nullptr},
    {136, "Q8_K64", 0, 0, 0, nullptr, nullptr},
    {137, "IQ2_K", 256, 76, 0, dequant_iq2_k, nullptr},
    {138, "IQ3_K", 256, 110, 0, dequant_iq3_k, nullptr},
    {139, "IQ4_K", 256, 144, 0, dequant_iq4_k, nullptr},
    {140, "IQ5_K", 256, 176, 0, dequant_iq5_k, nullptr},
    {141, "IQ6_K", 256, 212, 0, dequant_iq6_k, nullptr},
    {144, "IQ4_KS", 256, 136, 4, dequant_iq4_ks, nullptr},
    {145, "IQ2_KS", 256, 70, 2, dequant_iq2_ks, nullptr},
    {146, "IQ4_KSS", 256, 128, 4, dequant_iq4_kss, nullptr},
    {147, "Q8_K16", 0, 0, 0, nullptr, nullptr},
    {148, "Q8_K32", 0, 0, 0, nullptr, nullptr},
    {149, "Q8_KR8", 0, 0, 0, nullptr, nullptr},
    {150, "Q8_K128", 0, 0, 0, nullptr, nullptr},
    {151, "Q8_KV", 0, 0, 8, nullptr, nullptr},
    {152, "IQ5_KS", 256, 168, 4, dequant_iq5_ks, nullptr},
    {153, "IQ2_KT", 256, 68, 4, nullptr, nullptr},
    {154, "IQ3_KT", 256, 100, 4, nullptr, nullptr},
    {155, "IQ4_KT", 256, 128, 4, nullptr, nullptr},
    {156, "IQ3_KS", 256, 102, 2, dequant_iq3_ks, nullptr},
    {157, "IQ2_KL", 256, 86, 2, dequant_iq2_kl, nullptr},
    {158, "IQ1_KT", 256, 56, 4, nullptr, nullptr},
    // ik row-interleaved types: per row the same bytes as the base type where
    // the spec says so; the others are not specified.
    {202, "Q4_0_R8", 32, 18, 0, nullptr, nullptr},
    {206, "Q5_0_R4", 32, 22, 0, nullptr, nullptr},
    {208, "Q8_0_R8", 32, 34, 0, nullptr, nullptr},
    {210, "Q2_K_R4", 256, 84, 0, nullptr, nullptr},
    {211, "Q3_K_R4", 256, 110, 0, nullptr, nullptr},
    {212, "Q4_K_R4", 256, 144, 0, nullptr, nullptr},
    {213, "Q5_K_R4", 256, 176, 0, nullptr, nullptr},
    {214, "Q6_K_R4", 256, 210, 0, nullptr, nullptr},
    {216, "IQ2_XXS_R4", 0, 0, 0, nullptr, nullptr},
    {217, "IQ2_XS_R4", 0, 0, 0, nullptr, nullptr},
    {218, "IQ3_XXS_R4", 0, 0, 0, nullptr, nullptr},
    {219, "IQ1_S_R4", 0, 0, 2, nullptr, nullptr},
    {220, "IQ4_NL_R4", 0, 0, 0, nullptr, nullptr},
    {221, "IQ3_S_R4", 0, 0, 0, nullptr, nullptr},
    {222, "IQ2_S_R4", 0, 0, 0, nullptr, nullptr},
    {223, "IQ4_XS_R8", 0, 0, 0, nullptr, nullptr},
    {229, "IQ1_M_R4", 0, 0, 2, nullptr, nullptr},
    {230, "BF16_R16", 1, 2, 0, nullptr, nullptr},
    {233, "Q6_0_R4", 0, 0, 0, nullptr, nullptr},
    {335, "IQ2_BN_R4", 0, 0, 0, nullptr, nullptr},
    {337, "IQ2_K_R4", 0, 0, 0, nullptr, nullptr},
    {338, "IQ3_K_R4", 0, 0, 0, nullptr, nullptr},
    {339, "IQ4_K_R4", 0, 0, 0, nullptr, nullptr},
    {340, "IQ5_K_R4", 0, 0, 0, nullptr, nullptr},
    {344, "IQ4_KS_R4", 0, 0, 4, nullptr, nullptr},
    {352, "IQ5_KS_R4", 0, 0, 4, nullptr, nullptr},
    {353, "MXFP4_R8", 0, 0, 0, nullptr, nullptr},
    {397, "Q8_K_R16", 0, 0, 0, nullptr, nullptr},
    {398, "Q8_KV_R8", 0, 0, 4, nullptr, nullptr},
    {399, "Q8_K_R8", 0, 0, 0, nullptr, nullptr},
};

std::string upper(const std::string& s) {
  std::string r = s;
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

[[noreturn]] void not_supported(uint32_t id) { fail("type ", type_label(id), " is not supported yet"); }

}  // namespace

const TypeTraits* type_traits(uint32_t id) {
  for (const TypeTraits& t : kTable)
    if (t.id == id) return &t;
  return nullptr;
}

const TypeTraits& type_traits_or_throw(uint32_t id) {
  const TypeTraits* t = type_traits(id);
  if (!t) fail("unknown tensor type id ", id);
  return *t;
}

std::string type_label(uint32_t id) {
  const TypeTraits* t = type_traits(id);
  return str_cat(t ? t->name : "unknown", " (", id, ")");
}

bool type_from_name(const std::string& name, GgmlType* out) {
  const std::string u = upper(name);
  for (const TypeTraits& t : kTable) {
    if (u == t.name) {
      *out = static_cast<GgmlType>(t.id);
      return true;
    }
  }
  return false;
}

bool type_layout_known(uint32_t id) {
  const TypeTraits* t = type_traits(id);
  return t && t->block_elems > 0;
}

const TypeTraits& require_type_layout(uint32_t id) {
  // Two ids name different types in the two ecosystems, and a file does not
  // say which quantizer wrote it: reading one as the other would be garbage.
  if (id == 36)
    fail("type id 36 is ambiguous: ik_llama.cpp writes I2_S with it, llama.cpp used it for the removed "
         "IQ4_NL_4_4; the file does not say which, so it is refused");
  if (id == 41)
    fail("type id 41 is ambiguous: ik_llama.cpp writes Q1_0_G128 (128-element blocks) with it, llama.cpp "
         "Q1_0; the file does not say which, so it is refused");
  const TypeTraits& t = type_traits_or_throw(id);
  if (t.block_elems <= 0) fail("type ", type_label(id), " has an unknown layout");
  return t;
}

size_t row_bytes(GgmlType type, int64_t ne0) {
  const uint32_t id = static_cast<uint32_t>(type);
  const TypeTraits& t = require_type_layout(id);
  if (ne0 < 0) fail("negative row length ", ne0, " for type ", type_label(id));
  if (ne0 % t.block_elems != 0)
    fail("row length ", ne0, " is not a multiple of the block size ", t.block_elems, " of type ",
         type_label(id));
  const uint64_t blocks = uint64_t(ne0 / t.block_elems);
  const uint64_t bb = uint64_t(t.block_bytes);
  const uint64_t max = std::numeric_limits<size_t>::max();
  if (blocks > (max - uint64_t(t.row_meta_bytes)) / bb)
    fail("row of ", ne0, " elements of type ", type_label(id), " is too large");
  return size_t(uint64_t(t.row_meta_bytes) + blocks * bb);
}

bool can_dequantize(GgmlType type) {
  const TypeTraits* t = type_traits(type);
  return t && t->dequantize_row;
}

bool can_quantize(GgmlType type) {
  const TypeTraits* t = type_traits(type);
  return t && t->quantize_row;
}

namespace {
const TypeTraits& kernel_traits(GgmlType type, int64_t n) {
  const uint32_t id = static_cast<uint32_t>(type);
  const TypeTraits& t = type_traits_or_throw(id);
  if (t.block_elems > 0 && n % t.block_elems != 0)
    fail("row length ", n, " is not a multiple of the block size ", t.block_elems, " of type ",
         type_label(id));
  return t;
}
}  // namespace

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  const TypeTraits& t = kernel_traits(type, n);
  if (!t.dequantize_row) not_supported(t.id);
  t.dequantize_row(src, dst, n);
}

void quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  const TypeTraits& t = kernel_traits(type, n);
  if (!t.quantize_row) not_supported(t.id);
  t.quantize_row(src, dst, n);
}

}  // namespace dllm
