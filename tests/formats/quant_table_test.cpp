// The type table (kernels.md §1.8) and the row kernels on hand-made blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "formats/ggml_type.h"
#include "util/error.h"
#include "util/fp16.h"

namespace dllm {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct Row {
  uint32_t id;
  const char* name;
  int64_t elems, bytes, meta;
};

// Straight from the table of kernels.md §1.8 (and §1.5 for row headers).
const Row kSpec[] = {
    {0, "F32", 1, 4, 0},        {1, "F16", 1, 2, 0},         {2, "Q4_0", 32, 18, 0},
    {3, "Q4_1", 32, 20, 0},     {6, "Q5_0", 32, 22, 0},      {7, "Q5_1", 32, 24, 0},
    {8, "Q8_0", 32, 34, 0},     {9, "Q8_1", 32, 36, 0},      {10, "Q2_K", 256, 84, 0},
    {11, "Q3_K", 256, 110, 0},  {12, "Q4_K", 256, 144, 0},   {13, "Q5_K", 256, 176, 0},
    {14, "Q6_K", 256, 210, 0},  {15, "Q8_K", 256, 292, 0},   {16, "IQ2_XXS", 256, 66, 0},
    {17, "IQ2_XS", 256, 74, 0}, {18, "IQ3_XXS", 256, 98, 0}, {19, "IQ1_S", 256, 50, 0},
    {20, "IQ4_NL", 32, 18, 0},  {21, "IQ3_S", 256, 110, 0},  {22, "IQ2_S", 256, 82, 0},
    {23, "IQ4_XS", 256, 136, 0}, {24, "I8", 1, 1, 0},        {25, "I16", 1, 2, 0},
    {26, "I32", 1, 4, 0},       {27, "I64", 1, 8, 0},        {28, "F64", 1, 8, 0},
    {29, "IQ1_M", 256, 56, 0},  {30, "BF16", 1, 2, 0},       {39, "MXFP4", 32, 17, 0},
    {133, "Q6_0", 32, 26, 0},   {137, "IQ2_K", 256, 76, 0},  {138, "IQ3_K", 256, 110, 0},
    {139, "IQ4_K", 256, 144, 0}, {140, "IQ5_K", 256, 176, 0}, {141, "IQ6_K", 256, 212, 0},
    {144, "IQ4_KS", 256, 136, 4}, {145, "IQ2_KS", 256, 70, 2}, {146, "IQ4_KSS", 256, 128, 4},
    {152, "IQ5_KS", 256, 168, 4}, {153, "IQ2_KT", 256, 68, 4}, {154, "IQ3_KT", 256, 100, 4},
    {155, "IQ4_KT", 256, 128, 4}, {156, "IQ3_KS", 256, 102, 2}, {157, "IQ2_KL", 256, 86, 2},
    {158, "IQ1_KT", 256, 56, 4}, {202, "Q4_0_R8", 32, 18, 0}, {206, "Q5_0_R4", 32, 22, 0},
    {208, "Q8_0_R8", 32, 34, 0}, {210, "Q2_K_R4", 256, 84, 0}, {214, "Q6_K_R4", 256, 210, 0},
    {230, "BF16_R16", 1, 2, 0},
};

TEST(TypeTable, MatchesSpec) {
  for (const Row& r : kSpec) {
    const TypeTraits* t = type_traits(r.id);
    ASSERT_NE(t, nullptr) << r.name;
    EXPECT_STREQ(t->name, r.name);
    EXPECT_EQ(t->block_elems, r.elems) << r.name;
    EXPECT_EQ(t->block_bytes, r.bytes) << r.name;
    EXPECT_EQ(t->row_meta_bytes, r.meta) << r.name;
    EXPECT_TRUE(type_layout_known(r.id)) << r.name;
    GgmlType parsed;
    ASSERT_TRUE(type_from_name(r.name, &parsed)) << r.name;
    EXPECT_EQ(static_cast<uint32_t>(parsed), r.id);
  }
}

TEST(TypeTable, RemovedAndUnknownIds) {
  for (uint32_t id : {4u, 5u, 37u, 38u, 42u, 100u, 1000u, 0xffffffffu}) {
    EXPECT_EQ(type_traits(id), nullptr) << id;
    EXPECT_FALSE(type_layout_known(id));
    EXPECT_EQ(error_of([&] { type_traits_or_throw(id); }), "unknown tensor type id " + std::to_string(id));
  }
  EXPECT_EQ(type_label(4), "unknown (4)");
}

TEST(TypeTable, ListedWithoutLayout) {
  // Listed by name, but the spec gives no block layout: rejected by name.
  for (uint32_t id : {36u, 40u, 41u, 99u, 151u, 220u, 223u, 353u, 399u}) {
    const TypeTraits* t = type_traits(id);
    ASSERT_NE(t, nullptr) << id;
    EXPECT_FALSE(type_layout_known(id)) << t->name;
  }
  EXPECT_EQ(error_of([] { require_type_layout(220); }), "type IQ4_NL_R4 (220) has an unknown layout");
  // Ids that mean different types to the two quantizers say so.
  EXPECT_EQ(error_of([] { require_type_layout(36); }),
            "type id 36 is ambiguous: ik_llama.cpp writes I2_S with it, llama.cpp used it for the removed "
            "IQ4_NL_4_4; the file does not say which, so it is refused");
  EXPECT_NE(error_of([] { row_bytes(static_cast<GgmlType>(41), 128); }).find("type id 41 is ambiguous"),
            std::string::npos);
  EXPECT_EQ(error_of([] { row_bytes(static_cast<GgmlType>(40), 64); }),
            "type NVFP4 (40) has an unknown layout");
}

TEST(TypeTable, LabelsAndNames) {
  EXPECT_EQ(type_label(12), "Q4_K (12)");
  EXPECT_EQ(type_label(0), "F32 (0)");
  GgmlType t;
  ASSERT_TRUE(type_from_name("q8_0", &t));
  EXPECT_EQ(t, GgmlType::Q8_0);
  ASSERT_TRUE(type_from_name("bf16", &t));
  EXPECT_EQ(t, GgmlType::BF16);
  ASSERT_TRUE(type_from_name("Iq4_Xs", &t));
  EXPECT_EQ(t, GgmlType::IQ4_XS);
  EXPECT_FALSE(type_from_name("Q4_2", &t));
  EXPECT_FALSE(type_from_name("", &t));
  EXPECT_FALSE(type_from_name("Q8_0 ", &t));
}

TEST(TypeTable, RowBytes) {
  EXPECT_EQ(row_bytes(GgmlType::F32, 7), 28u);
  EXPECT_EQ(row_bytes(GgmlType::Q8_0, 4096), 4096u / 32 * 34);
  EXPECT_EQ(row_bytes(GgmlType::Q4_K, 512), 288u);
  EXPECT_EQ(row_bytes(static_cast<GgmlType>(144), 512), 4u + 2 * 136);  // IQ4_KS row scale
  EXPECT_EQ(row_bytes(GgmlType::Q6_K, 0), 0u);
  EXPECT_EQ(error_of([] { row_bytes(GgmlType::Q4_K, 100); }),
            "row length 100 is not a multiple of the block size 256 of type Q4_K (12)");
  // ne0 = 2^62 F32 elements is 2^64 bytes: must be refused, not wrapped.
  EXPECT_NE(error_of([] { row_bytes(GgmlType::F32, int64_t{1} << 62); }).find("too large"),
            std::string::npos);
  EXPECT_NE(error_of([] { row_bytes(GgmlType::F64, std::numeric_limits<int64_t>::max()); })
                .find("too large"),
            std::string::npos);
  EXPECT_EQ(row_bytes(GgmlType::I8, std::numeric_limits<int64_t>::max()),
            size_t(std::numeric_limits<int64_t>::max()));
  EXPECT_NE(error_of([] { row_bytes(GgmlType::F32, -32); }), "(no error)");
}

TEST(TypeTable, KernelsPresent) {
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0,
                     GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q2_K, GgmlType::Q3_K,
                     GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_NL,
                     GgmlType::IQ4_XS, GgmlType::IQ4_K, GgmlType::IQ4_KS, GgmlType::Q6_0, GgmlType::IQ2_K,
                     GgmlType::IQ3_K, GgmlType::IQ5_K, GgmlType::IQ6_K, GgmlType::IQ2_KS, GgmlType::IQ3_KS,
                     GgmlType::IQ5_KS, GgmlType::IQ4_KSS, GgmlType::IQ2_KL, GgmlType::MXFP4, GgmlType::IQ3_S,
                     GgmlType::IQ3_XXS, GgmlType::IQ2_XXS, GgmlType::IQ2_XS, GgmlType::IQ2_S, GgmlType::IQ1_S,
                     GgmlType::IQ1_M})
    EXPECT_TRUE(can_dequantize(t)) << type_label(uint32_t(t));
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0})
    EXPECT_TRUE(can_quantize(t));
  EXPECT_FALSE(can_quantize(GgmlType::Q4_K));
  EXPECT_FALSE(can_dequantize(GgmlType::Q8_K));
}

TEST(TypeTable, NotSupportedErrors) {
  std::vector<uint8_t> buf(1024);
  std::vector<float> f(256);
  EXPECT_EQ(error_of([&] { quantize_row(GgmlType::Q4_K, f.data(), buf.data(), 256); }),
            "type Q4_K (12) is not supported yet");
  EXPECT_EQ(error_of([&] { dequantize_row(GgmlType::Q8_K, buf.data(), f.data(), 256); }),
            "type Q8_K (15) is not supported yet");
  EXPECT_EQ(error_of([&] { dequantize_row(GgmlType::Q8_0, buf.data(), f.data(), 33); }),
            "row length 33 is not a multiple of the block size 32 of type Q8_0 (8)");
}

// --- quantizers ---------------------------------------------------------------

TEST(Quantize, Q8_0Reference) {
  // amax = 127 -> d = 1, id = 1: x*id lands exactly on halves, which the
  // reference rounds away from zero.
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = -15.5f + float(i);
  x[31] = 127.0f;
  x[30] = -2.5f;
  uint8_t b[34];
  quantize_row(GgmlType::Q8_0, x, b, 32);
  uint16_t d;
  std::memcpy(&d, b, 2);
  EXPECT_EQ(d, f32_to_f16(1.0f));
  const int8_t* q = reinterpret_cast<const int8_t*>(b + 2);
  EXPECT_EQ(q[0], -16);  // -15.5
  EXPECT_EQ(q[15], -1);  // -0.5
  EXPECT_EQ(q[16], 1);   // 0.5
  EXPECT_EQ(q[17], 2);   // 1.5
  EXPECT_EQ(q[30], -3);  // -2.5
  EXPECT_EQ(q[31], 127);

  // All-zero block: d = 0 and quants 0 (id = 0, no division by zero).
  float z[32] = {};
  std::memset(b, 0xff, sizeof b);
  quantize_row(GgmlType::Q8_0, z, b, 32);
  for (uint8_t v : b) EXPECT_EQ(v, 0);

  // Quants use the unrounded f32 id = 1/d while d is stored as F16.
  float y[32];
  for (int i = 0; i < 32; ++i) y[i] = 0.013f * float(i - 11);
  quantize_row(GgmlType::Q8_0, y, b, 32);
  const float dd = 0.013f * 20 / 127.0f, id = 1.0f / dd;
  std::memcpy(&d, b, 2);
  EXPECT_EQ(d, f32_to_f16(dd));
  for (int i = 0; i < 32; ++i) EXPECT_EQ(q[i], int8_t(std::roundf(y[i] * id))) << i;
}

TEST(Quantize, FloatTypesRoundTrip) {
  const float x[4] = {1.0f, -2.5f, 3.14159265f, 1e-8f};
  uint16_t h[4];
  quantize_row(GgmlType::F16, x, h, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(h[i], f32_to_f16(x[i]));
  quantize_row(GgmlType::BF16, x, h, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(h[i], f32_to_bf16(x[i]));
  float back[4];
  dequantize_row(GgmlType::BF16, h, back, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], bf16_to_f32(h[i]));
  float f[4];
  quantize_row(GgmlType::F32, x, f, 4);
  EXPECT_EQ(std::memcmp(f, x, sizeof x), 0);
}

// --- decoders on hand-made blocks (values worked out from kernels.md §2) ---------

void put16(uint8_t* p, float v) {
  const uint16_t h = f32_to_f16(v);
  std::memcpy(p, &h, 2);
}

TEST(Dequantize, Q4_0NibbleOrder) {
  uint8_t b[18] = {};
  put16(b, 0.5f);
  b[2] = 0x9 | 0xF << 4;  // element 0 -> nibble 9, element 16 -> nibble 15
  b[17] = 0x0 | 0x3 << 4;  // element 15 -> 0, element 31 -> 3
  float y[32];
  dequantize_row(GgmlType::Q4_0, b, y, 32);
  EXPECT_EQ(y[0], 0.5f);
  EXPECT_EQ(y[16], 3.5f);
  EXPECT_EQ(y[15], -4.0f);
  EXPECT_EQ(y[31], -2.5f);
  EXPECT_EQ(y[1], -4.0f);
}

TEST(Dequantize, Q5_1HighBits) {
  uint8_t b[24] = {};
  put16(b, 0.25f);
  put16(b + 2, -1.0f);
  const uint32_t qh = 1u << 3 | 1u << 20;
  std::memcpy(b + 4, &qh, 4);
  b[8 + 3] = 0x07;       // element 3 low nibble 7 (+16 from qh)
  b[8 + 4] = 0x20;       // element 20 high nibble 2 (+16)
  float y[32];
  dequantize_row(GgmlType::Q5_1, b, y, 32);
  EXPECT_EQ(y[3], 23 * 0.25f - 1.0f);
  EXPECT_EQ(y[20], 18 * 0.25f - 1.0f);
  EXPECT_EQ(y[0], -1.0f);
}

TEST(Dequantize, Q4_KScalePacking) {
  uint8_t b[144] = {};
  put16(b, 1.0f);
  put16(b + 2, 0.5f);
  uint8_t* s = b + 4;
  // sub-block 1: sc = 5, m = 7 (j < 4: low 6 bits of bytes 1 and 5).
  s[1] = 5;
  s[5] = 7;
  // sub-block 6: sc = 0x25 (low 4 in s[10], high 2 in s[2] bits 6-7),
  //              m = 0x31 (high nibble of s[10], high 2 in s[6] bits 6-7).
  s[10] = 0x5 | 0x1 << 4;
  s[2] = 0x2 << 6;
  s[6] = 0x3 << 6;
  uint8_t* qs = b + 16;
  qs[0 * 32 + 4] = 0x90;   // g = 0, l = 4, half 1 -> sub-block 1, n = 9 (element 36)
  qs[3 * 32 + 2] = 0x0B;   // g = 3, l = 2, half 0 -> sub-block 6, n = 11 (element 194)
  float y[256];
  dequantize_row(GgmlType::Q4_K, b, y, 256);
  EXPECT_EQ(y[36], 5.0f * 9 - 0.5f * 7);
  EXPECT_EQ(y[194], 37.0f * 11 - 0.5f * 49);
  EXPECT_EQ(y[32], -0.5f * 7);  // n = 0 in sub-block 1
}

TEST(Dequantize, Q6_KQuarterLayout) {
  uint8_t b[210] = {};
  put16(b + 208, 0.125f);
  int8_t* sc = reinterpret_cast<int8_t*>(b + 192);
  for (int g = 0; g < 16; ++g) sc[g] = int8_t(g - 8);
  // element e = 128*1 + 32*3 + 5 = 229: h = 1, c = 3, l = 5.
  b[64 + 32 + 5] = 0xA0;               // ql[64h + 32 + l] high nibble = 10
  b[128 + 32 + 5] = 0x2 << 6;          // qh[32h + l] bits 6-7 = 2
  float y[256];
  dequantize_row(GgmlType::Q6_K, b, y, 256);
  EXPECT_EQ(y[229], 0.125f * float(229 / 16 - 8) * float((10 | 2 << 4) - 32));
  EXPECT_EQ(y[0], 0.125f * -8 * -32);
}

TEST(Dequantize, Q3_KSignedScales) {
  uint8_t b[110] = {};
  put16(b + 108, 2.0f);
  // group j = 13: low = scales[5] >> 4, high = (scales[8 + 1] >> 6) & 3.
  b[96 + 5] = 0xC0;
  b[96 + 9] = 0x1 << 6;
  // element e = 128 + 64 + 16 + 6 = 214 (group 13): h = 1, c = 2, l = 22.
  b[32 + 32 + 22] = 0x3 << 4;  // q = 3
  b[22] = 1 << 6;              // hmask bit 4h + c = 6 set: value q
  float y[256];
  dequantize_row(GgmlType::Q3_K, b, y, 256);
  EXPECT_EQ(y[214], 2.0f * float((12 | 1 << 4) - 32) * 3);
  // element 208 (same group, l = 16): q = 0, hmask bit clear -> -4.
  EXPECT_EQ(y[208], 2.0f * float((12 | 1 << 4) - 32) * -4);
}

TEST(Dequantize, IQ4_KSubBlocksAndCodebooks) {
  uint8_t b[144] = {};
  put16(b, 0.5f);
  b[2] = 1 << 5;         // extra bit 5: sub-block 5 (ib 2, high nibbles) uses the shifted codebook
  b[8 + 2] = 0x70;       // scales_l[2] high nibble: low 4 bits of sub-block 5's scale = 7
  b[4 + 1] = 0x3 << 2;   // scales_h[1] bits 2-3: its high 2 bits = 3 -> scale 55
  b[16 + 35] = 0xA0;     // qs[16*2 + 3]: high nibble 10 (element 83), low nibble 0 (element 67)
  float y[256];
  dequantize_row(GgmlType::IQ4_K, b, y, 256);
  EXPECT_EQ(y[83], 0.5f * float(55 - 32) * 29.0f);   // shifted codebook[10] = 25 + 4
  EXPECT_EQ(y[67], 0.5f * float(0 - 32) * -127.0f);  // sub-block 4: scale 0, plain codebook
}

TEST(Dequantize, IQ4_KSRowScale) {
  EXPECT_EQ(row_bytes(GgmlType::IQ4_KS, 512), size_t(4 + 2 * 136));
  uint8_t row[4 + 136] = {};
  const float D = 0.25f;
  std::memcpy(row, &D, 4);
  row[4 + 5] = 201;            // sub-block 5: multiplier (200 - 127) = 73, shifted codebook
  row[4 + 8 + 16 * 5 + 4] = 0x30;  // element 32*5 + 20: high nibble of qs[16*5 + 4] = 3
  float y[256];
  dequantize_row(GgmlType::IQ4_KS, row, y, 256);
  EXPECT_EQ(y[180], 0.25f * 73.0f * -61.0f);   // shifted codebook[3] = -65 + 4
  EXPECT_EQ(y[160], 0.25f * 73.0f * -123.0f);  // nibble 0
  EXPECT_EQ(y[0], 0.25f * -127.0f * -127.0f);  // scale byte 0: multiplier -127, plain codebook
}

TEST(Dequantize, Q6_0HighBitPairs) {
  uint8_t b[26] = {};
  put16(b, 0.5f);
  b[10 + 11] = 0x5A;      // qs[11]: low nibble 10 (element 11), high nibble 5 (element 27)
  b[2 + 3] = 0x9 << 4;    // qh[11 % 8] high nibble (11 / 8 = 1): bits 0-1 = 1 for element 11, bits 2-3 = 2 for 27
  float y[32];
  dequantize_row(GgmlType::Q6_0, b, y, 32);
  EXPECT_EQ(y[11], float((10 | 1 << 4) - 32) * 0.5f);
  EXPECT_EQ(y[27], float((5 | 2 << 4) - 32) * 0.5f);
  EXPECT_EQ(y[3], -32 * 0.5f);
}

// IQ6_K's row decoder is the reference's cubic (its FMA-contracted
// evaluation), not the int8 codebook its matmul uses.
TEST(Dequantize, IQ6_KCubic) {
  uint8_t b[212] = {};
  put16(b, 1.0f);
  b[4 + 2] = 2;      // 16-group 2 (32-block 1, first half): scale 2
  b[2] = 1 << 2;     // extra bit 2: shifted by 1
  b[20 + 3] = 0x40;  // element 32 + 3: high nibble of qs[3] = 4 (high bits 0)
  float y[256];
  dequantize_row(GgmlType::IQ6_K, b, y, 256);
  const float q = 4.0f;
  const float cubic = std::fma(q, std::fma(q, std::fma(q, 0.0011972f, -0.11218f), 6.2568f), -127.0f);
  EXPECT_EQ(y[35], 2.0f * (cubic + 1.0f));
  EXPECT_NE(y[35], 2.0f * -103.0f);  // the codebook's value (-104 + 1)
  EXPECT_NEAR(y[35], 2.0f * -103.0f, 1.0f);
}

TEST(Dequantize, IQ2_KSRowScaleAndFifthScaleBit) {
  uint8_t row[2 + 70] = {};
  put16(row, 0.25f);
  uint8_t* b = row + 2;
  b[1] = 1 << (8 + 5 - 8);  // extra bit 8 + 5: 32-block 5's fifth scale bit
  b[0] = 1 << 5;            // extra bit 5: its codebook shifted
  b[2 + 2] = 0x30;          // scales[5 / 2] high nibble = 3 -> (3 | 16) - 16 = 3
  b[6 + 32 + 7] = 2 << 2;   // element 32*5 + 7: bits 2..3 of qs[32 + 7] = 2
  float y[256];
  dequantize_row(GgmlType::IQ2_KS, row, y, 256);
  EXPECT_EQ(y[167], 0.25f * 3.0f * 6.0f);     // shifted codebook[2]
  EXPECT_EQ(y[160], 0.25f * 3.0f * -26.0f);   // shifted codebook[0]
  EXPECT_EQ(y[0], 0.25f * -16.0f * -31.0f);   // scale 0 - 16, plain codebook[0]
}

TEST(Dequantize, IQ2_KLValuePairs) {
  uint8_t row[2 + 86] = {};
  put16(row, 1.0f);
  uint8_t* b = row + 2;
  b[0] = 0x3 << 6;            // scales_h bits 6-7 (32-block 3): high bits 3
  b[2 + 3] = 0x05;            // scales_l[3] low nibble (32-block 3): 5 -> 53 - 32 = 21
  b[6 + 16 + 4] = 0x70;       // pair 4 of 32-block 3: high nibble of qs[16 + 4] = 7
  b[70 + 4] = 1 << 3;         // qh[4] bit 3: index 7 + 16 = 23 -> 0x010d
  float y[256];
  dequantize_row(GgmlType::IQ2_KL, row, y, 256);
  EXPECT_EQ(y[96 + 8], 21.0f * 13.0f);  // low byte 0x0d
  EXPECT_EQ(y[96 + 9], 21.0f * 1.0f);   // high byte 0x01
}

// --- mainline codebook types and MXFP4 (values from the reference's grids) ------------

TEST(Dequantize, MXFP4HalfScaleAndNibbleOrder) {
  uint8_t b[2 * 17] = {};
  b[0] = 130;       // 2^(130 - 127) times the FP4 value = 4 times the doubled value
  b[1 + 3] = 0xF7;  // element 3: code 7 (6.0 -> doubled 12); element 19: code 15 (-12)
  b[17] = 0;        // E8M0 0: 2^-127 -> half is the subnormal 2^-128
  b[18] = 0x01;     // element 32: code 1 (doubled 1)
  float y[64];
  dequantize_row(GgmlType::MXFP4, b, y, 64);
  EXPECT_EQ(y[3], 48.0f);
  EXPECT_EQ(y[19], -48.0f);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[32], std::ldexp(1.0f, -128));
}

TEST(Dequantize, IQ2_XXSSignsHaveEvenParity) {
  uint8_t b[66] = {};
  put16(b, 0.5f);
  b[2 + 8] = 1;                                   // sub-block 1, group 0: grid entry 1 (43, then 8 x7)
  const uint32_t aux = 1u | 5u << 28;             // group 0: sign index 1 -> signs 0x81; scale 5
  std::memcpy(b + 2 + 8 + 4, &aux, 4);
  float y[256];
  dequantize_row(GgmlType::IQ2_XXS, b, y, 256);
  const float db = 0.5f * 5.5f * 0.25f;
  EXPECT_EQ(y[32], -db * 43.0f);
  EXPECT_EQ(y[33], db * 8.0f);
  EXPECT_EQ(y[39], -db * 8.0f);  // the implied eighth sign
  EXPECT_EQ(y[40], db * 8.0f);   // group 1: entry 0, no signs
  EXPECT_EQ(y[0], 0.5f * 0.5f * 0.25f * 8.0f);
}

TEST(Dequantize, IQ3_SHighIndexBitSignsAndScale) {
  uint8_t b[110] = {};
  put16(b, 0.25f);
  b[66 + 1] = 1;       // qh of sub-block 1, bit 0: its first index becomes 256 (7, 5, 9, 5)
  b[74 + 4] = 0x02;    // sub-block 1, group 0: element 33 negative
  b[106] = 0x30;       // scales: sub-block 0 -> 0, sub-block 1 -> 3 (d * 7)
  float y[256];
  dequantize_row(GgmlType::IQ3_S, b, y, 256);
  EXPECT_EQ(y[32], 1.75f * 7.0f);
  EXPECT_EQ(y[33], -1.75f * 5.0f);
  EXPECT_EQ(y[34], 1.75f * 9.0f);
  EXPECT_EQ(y[36], 1.75f * 1.0f);  // second index of the group: qh bit 1 clear, entry 0
  EXPECT_EQ(y[0], 0.25f);
}

TEST(Dequantize, IQ1_MScatteredScaleAndDeltas) {
  uint8_t b[56] = {};
  b[48 + 5] = 0x80;  // d = 0.5 (fp16 0x3800): nibble 2 in word 2's top, nibble 3 in word 3's
  b[48 + 7] = 0x30;
  b[48] = 2;         // sub-block 0: first 16-half scale 2 (d * 5), second 0 (d * 1)
  b[0] = 1;          // group 0: grid entry 1 (1, then -1 x7)
  b[32] = 0x08;      // group 0: delta -1/8; group 1: +1/8
  float y[256];
  dequantize_row(GgmlType::IQ1_M, b, y, 256);
  EXPECT_EQ(y[0], 2.5f * 0.875f);
  EXPECT_EQ(y[1], 2.5f * -1.125f);
  EXPECT_EQ(y[8], 2.5f * -0.875f);
  EXPECT_EQ(y[16], 0.5f * -0.875f);
}

}  // namespace
}  // namespace dllm
