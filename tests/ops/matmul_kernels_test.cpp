// matmul(): every kernel set against the portable one and the dequantize-and-
// dot oracle (matmul_reference), on random weights of every supported type
// and odd shapes; activation rounding; threads; scratch reuse; errors.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <cstring>
#include <random>
#include <vector>

#include "formats/ggml_type.h"
#include "formats/quant_blocks.h"
#include "ops/matmul/kernels.h"
#include "ops/matmul/matmul.h"
#include "ops/matmul/unpack.h"
#include "ops/quant_act.h"
#include "ops/quant_act_simd.h"
#include "util/cpu.h"
#include "util/error.h"
#include "util/fp16.h"
#include "util/thread_pool.h"

// Counts heap allocations (on any thread) while g_count_allocs is set. GCC
// cannot see that this operator new is malloc underneath, hence the pragma.
static std::atomic<long> g_allocs{0};
static std::atomic<bool> g_count_allocs{false};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  if (g_count_allocs.load(std::memory_order_relaxed)) g_allocs.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace dllm {
namespace {

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16,   GgmlType::Q8_0,
                           GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,   GgmlType::Q5_1,
                           GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,   GgmlType::Q5_K,
                           GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS, GgmlType::IQ4_K,
                           GgmlType::IQ4_KS, GgmlType::Q6_0, GgmlType::IQ2_K, GgmlType::IQ3_K,
                           GgmlType::IQ5_K, GgmlType::IQ6_K, GgmlType::IQ2_KS, GgmlType::IQ3_KS,
                           GgmlType::IQ5_KS, GgmlType::IQ4_KSS, GgmlType::IQ2_KL, GgmlType::MXFP4,
                           GgmlType::IQ3_S, GgmlType::IQ3_XXS, GgmlType::IQ2_XXS, GgmlType::IQ2_XS,
                           GgmlType::IQ2_S, GgmlType::IQ1_S, GgmlType::IQ1_M};

// Byte offsets of the fp16 scale fields in a block (kernels.md §2): random
// bytes everywhere else exercise every quant and sub-scale bit pattern.
std::vector<int> scale_offsets(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::Q8_0: case GgmlType::IQ4_NL:
    case GgmlType::IQ4_XS: case GgmlType::IQ4_K: case GgmlType::Q6_0: case GgmlType::IQ2_K:
    case GgmlType::IQ3_K: case GgmlType::IQ5_K: case GgmlType::IQ6_K: case GgmlType::IQ2_XXS:
    case GgmlType::IQ2_XS: case GgmlType::IQ2_S: case GgmlType::IQ3_XXS: case GgmlType::IQ3_S:
    case GgmlType::IQ1_S: return {0};
    case GgmlType::Q4_1: case GgmlType::Q5_1: case GgmlType::Q4_K: case GgmlType::Q5_K: return {0, 2};
    case GgmlType::Q2_K: return {80, 82};
    case GgmlType::Q3_K: return {108};
    case GgmlType::Q6_K: return {208};
    default: return {};
  }
}

// IQ1_M has no d field: its fp16 d is spread over the top nibbles of the
// four u16 scale words at byte 48 (nibble i of d in word i).
void set_iq1m_d(uint8_t* blk, uint16_t h) {
  for (int i = 0; i < 4; ++i) {
    uint16_t w;
    std::memcpy(&w, blk + 48 + 2 * i, 2);
    w = uint16_t((w & 0x0fff) | ((h >> (4 * i)) & 15) << 12);
    std::memcpy(blk + 48 + 2 * i, &w, 2);
  }
}

struct Weights {
  std::vector<uint8_t> bytes;
  WeightView view;
};

// Random weights: float types from N(0, 1); quantized types as random bytes
// with sane fp16 scales (|d| in [2^-18, 2^-6], either sign for mins), and a
// sane f32 or fp16 scale at the start of each row of the types that have one.
// fill >= 0: that byte instead of random ones (all indices and sign bits 0,
// or all 1, ...), the scales still sane.
Weights random_weights(GgmlType t, int64_t K, int64_t N, std::mt19937& rng, size_t pad = 0, int fill = -1) {
  Weights w;
  const size_t rb = row_bytes(t, K), stride = rb + pad;
  w.bytes.resize(stride * size_t(N));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> ex(-18.0f, -6.0f);  // includes fp16 subnormals (< 2^-14)
  for (int64_t n = 0; n < N; ++n) {
    uint8_t* row = w.bytes.data() + size_t(n) * stride;
    if (t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16) {
      std::vector<float> f(static_cast<size_t>(K));
      for (float& v : f) v = nd(rng);
      quantize_row(t, f.data(), row, K);
      continue;
    }
    for (size_t i = 0; i < rb; ++i) row[i] = uint8_t(fill >= 0 ? fill : byte(rng));
    const TypeTraits& tt = *type_traits(t);
    for (int64_t b = 0; b < K / tt.block_elems; ++b)
      for (int off : scale_offsets(t)) {
        const float d = std::exp2(ex(rng)) * (byte(rng) & 1 ? 1.0f : -1.0f);
        const uint16_t h = f32_to_f16(d);
        std::memcpy(row + tt.row_meta_bytes + b * tt.block_bytes + off, &h, 2);
      }
    // Scales that are not an fp16 at a fixed offset. Every grid index and
    // sign bit pattern of the codebook types is valid (full-size tables).
    for (int64_t b = 0; t == GgmlType::IQ1_M && b < K / 256; ++b)
      set_iq1m_d(row + b * 56, f32_to_f16(std::exp2(ex(rng)) * (byte(rng) & 1 ? 1.0f : -1.0f)));
    for (int64_t b = 0; t == GgmlType::MXFP4 && b < K / 32; ++b)
      row[b * 17] = uint8_t(110 + byte(rng) % 13);  // E8M0 scale / 2 = 2^(e - 128): 2^-18 .. 2^-6
    const float d = std::exp2(ex(rng)) * (byte(rng) & 1 ? 1.0f : -1.0f);
    if (tt.row_meta_bytes == 4) {
      std::memcpy(row, &d, 4);
    } else if (tt.row_meta_bytes == 2) {
      const uint16_t h = f32_to_f16(d);
      std::memcpy(row, &h, 2);
    }
  }
  w.view.type = t;
  w.view.cols = K;
  w.view.rows = N;
  w.view.data = w.bytes.data();
  w.view.row_stride = stride;
  return w;
}

std::vector<float> random_x(int64_t M, int64_t ldx, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(size_t(M * ldx));
  for (float& v : x) v = nd(rng);
  // A few outliers and an all-zero block, as real activations have.
  if (!x.empty()) x[0] = 40.0f;
  if (M > 1 && ldx >= 64)
    for (int i = 32; i < 64; ++i) x[size_t(ldx) + i] = 0.0f;
  return x;
}

// The weights a matmul multiplies: what the row decoder gives, except for
// IQ6_K, whose row decoder (the reference's cubic, for get_rows) is up to half
// a unit off the int8 codebook that the reference's matmul, and ours,
// multiplies. Decoded here from the block fields (quant_blocks.h).
void matmul_weight_row(const WeightView& W, int64_t n, float* out) {
  const uint8_t* b = W.data + size_t(n) * W.row_stride;
  if (W.type != GgmlType::IQ6_K) {
    dequantize_row(W.type, b, out, W.cols);
    return;
  }
  for (int64_t sb = 0; sb < W.cols / 256; ++sb, b += qb::kIQ6_KBytes, out += 256) {
    const float d = f16_to_f32(qb::load_u16(b));
    for (int s = 0; s < 16; ++s) {
      const float dl = d * float(qb::iq6k_scale(b, s));
      const int8_t* cb = qb::kIQ6NLValues + 64 * qb::extra_bit(b + 2, s);
      for (int i = 16 * (s % 2); i < 16 * (s % 2) + 16; ++i)
        out[32 * (s / 2) + i] = dl * float(cb[qb::iq6_index(b + 20, b + 148, s / 2, i)]);
    }
  }
}

// matmul_reference (dequantize, then an f32 dot with the activations as
// matmul rounds them), with matmul_weight_row's weights.
void oracle(const WeightView& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy) {
  if (W.type != GgmlType::IQ6_K) {
    matmul_reference(W, X, M, ldx, Y, ldy);
    return;
  }
  const int64_t K = W.cols;
  std::vector<uint8_t> buf(act_scratch_bytes(ActKind::Q8_K, M, K));
  const ActRows A = prepare_activations(ActKind::Q8_K, X, M, K, ldx, buf.data(), 0, M);
  std::vector<float> w(static_cast<size_t>(K));
  for (int64_t n = 0; n < W.rows; ++n) {
    matmul_weight_row(W, n, w.data());
    for (int64_t m = 0; m < M; ++m) {
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k) s += w[size_t(k)] * (A.d_row(m)[k / 32] * float(A.qs_row(m)[k]));
      Y[m * ldy + n] = s;
    }
  }
}

// sum_k |w_k| |x_k| for each output: the scale that f32 rounding errors are measured against.
std::vector<double> abs_dot(const WeightView& W, const float* X, int64_t M, int64_t ldx) {
  std::vector<double> r(size_t(M * W.rows));
  std::vector<float> w(static_cast<size_t>(W.cols));
  for (int64_t n = 0; n < W.rows; ++n) {
    matmul_weight_row(W, n, w.data());
    for (int64_t m = 0; m < M; ++m) {
      double s = 0;
      for (int64_t k = 0; k < W.cols; ++k) s += std::fabs(double(w[k]) * X[m * ldx + k]);
      r[size_t(m * W.rows + n)] = s;
    }
  }
  return r;
}

int64_t k_for(GgmlType t, int which) {
  const int64_t be = type_traits(t)->block_elems;
  if (be == 256) return which == 0 ? 256 : which == 1 ? 768 : 2304;  // 9 chunks: the super-block order's groups of 8
  if (be == 1) return which == 0 ? 37 : which == 1 ? 160 : 1061;  // SIMD tails
  return which == 0 ? 32 : which == 1 ? 160 : 1056;  // odd numbers of blocks
}

const MatmulIsa kIsas[] = {MatmulIsa::Portable, MatmulIsa::Avx2, MatmulIsa::Avx512};

TEST(Matmul, EverySetMatchesReference) {
  std::mt19937 rng(1234);
  ThreadPool pool(2);
  MatmulScratch scratch;
  int compared = 0;
  for (GgmlType t : kTypes) {
    for (int which = 0; which < 3; ++which) {
      const int64_t K = k_for(t, which);
      for (auto [M, N] : {std::pair<int64_t, int64_t>{1, 67}, {3, 33}, {5, 7}, {17, 40}, {8, 1}}) {
        const Weights w = random_weights(t, K, N, rng, which == 2 ? 6 : 0);
        const int64_t ldx = K + (M % 2);
        const std::vector<float> x = random_x(M, ldx, rng);
        std::vector<float> ref(size_t(M * N));
        oracle(w.view, x.data(), M, ldx, ref.data(), N);
        const std::vector<double> scale = abs_dot(w.view, x.data(), M, ldx);
        for (MatmulIsa isa : kIsas) {
          if (!matmul_isa_available(isa)) continue;
          std::vector<float> y(size_t(M * N), NAN);
          matmul_isa(isa, w.view, x.data(), M, ldx, y.data(), N, pool, scratch);
          for (size_t i = 0; i < y.size(); ++i) {
            const double tol = 4e-6 * scale[i] + 1e-30;
            ASSERT_NEAR(y[i], ref[i], tol) << type_label(uint32_t(t)) << " " << matmul_isa_name(isa)
                                           << " K=" << K << " M=" << M << " N=" << N << " i=" << i;
          }
          ++compared;
        }
      }
    }
  }
  std::printf("compared %d (type, shape, isa) cases; best set here: %s\n", compared,
              matmul_isa_name(MatmulIsa::Auto));
}

// A row computed in a batch (prefill kernels) and the same row computed alone
// (decode kernels) agree to the bit, for every type and kernel set: a batch
// of N tokens gives what N single steps give.
TEST(Matmul, BatchRowsEqualSingleRows) {
  std::mt19937 rng(2468);
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (GgmlType t : kTypes) {
    for (int which = 0; which < 6; ++which) {
      // 11 rows: the decode-style kernels; 40: the prefill ones (repacking,
      // several column chunks with a partial last one at the largest K)
      const int64_t K = k_for(t, which % 3), N = 45, M = which >= 3 ? 40 : 11;
      const Weights w = random_weights(t, K, N, rng);
      const std::vector<float> x = random_x(M, K, rng);
      for (MatmulIsa isa : kIsas) {
        if (!matmul_isa_available(isa)) continue;
        std::vector<float> batch(size_t(M * N)), single(batch.size());
        matmul_isa(isa, w.view, x.data(), M, K, batch.data(), N, pool, scratch);
        for (int64_t m = 0; m < M; ++m)
          matmul_isa(isa, w.view, x.data() + m * K, 1, K, single.data() + m * N, N, pool, scratch);
        ASSERT_EQ(std::memcmp(batch.data(), single.data(), batch.size() * 4), 0)
            << type_label(uint32_t(t)) << " " << matmul_isa_name(isa) << " K=" << K;
      }
    }
  }
}

// Weights whose every product and partial sum is exact in f32: power-of-two
// block scales, small integer sub-scales and quants (kernels.md §2 fields).
Weights exact_weights(GgmlType t, int64_t K, int64_t N, std::mt19937& rng) {
  Weights w = random_weights(t, K, N, rng);
  if (t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16) {
    std::uniform_int_distribution<int> small(-8, 8);
    std::vector<float> f(static_cast<size_t>(K));
    for (int64_t n = 0; n < N; ++n) {
      for (float& v : f) v = float(small(rng));
      quantize_row(t, f.data(), w.bytes.data() + size_t(n) * w.view.row_stride, K);
    }
    return w;
  }
  const TypeTraits& tt = *type_traits(t);
  auto h = [](uint8_t* p, float v) {
    const uint16_t x = f32_to_f16(v);
    std::memcpy(p, &x, 2);
  };
  for (int64_t n = 0; n < N; ++n) {
    uint8_t* row = w.bytes.data() + size_t(n) * w.view.row_stride;
    if (tt.row_meta_bytes == 4) {  // row scale 1
      const float one = 1.0f;
      std::memcpy(row, &one, 4);
    } else if (tt.row_meta_bytes == 2) {
      h(row, 1.0f);
    }
    for (int64_t b = 0; b < K / tt.block_elems; ++b) {
      uint8_t* blk = w.bytes.data() + size_t(n) * w.view.row_stride + tt.row_meta_bytes + b * tt.block_bytes;
      switch (t) {
        case GgmlType::Q8_0:
          h(blk, 1.0f);
          for (int i = 2; i < 34; ++i) blk[i] = uint8_t(int8_t(blk[i] % 17 - 8));
          break;
        case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::IQ4_NL: h(blk, 0.5f); break;
        case GgmlType::Q4_1: case GgmlType::Q5_1: h(blk, 0.5f); h(blk + 2, -0.25f); break;
        case GgmlType::Q2_K:
          for (int i = 0; i < 16; ++i) blk[i] &= 0x33;
          h(blk + 80, 0.5f);
          h(blk + 82, 0.25f);
          break;
        case GgmlType::Q3_K:
          for (int i = 96; i < 104; ++i) blk[i] &= 0x33;
          for (int i = 104; i < 108; ++i) blk[i] = 0xAA;  // high bits 2: scales 0..3
          h(blk + 108, 0.5f);
          break;
        case GgmlType::Q4_K: case GgmlType::Q5_K:
          for (int i = 4; i < 16; ++i) blk[i] &= 0x03;
          h(blk, 0.5f);
          h(blk + 2, 0.25f);
          break;
        case GgmlType::Q6_K:
          for (int i = 192; i < 208; ++i) blk[i] = uint8_t(int8_t(blk[i] % 7 - 3));
          h(blk + 208, 0.5f);
          break;
        case GgmlType::IQ4_XS:
          h(blk, 1.0f);
          blk[2] = blk[3] = 0xAA;  // high bits 2: scales 0..3
          for (int i = 4; i < 8; ++i) blk[i] &= 0x33;
          break;
        case GgmlType::IQ4_K:
          h(blk, 1.0f);
          for (int i = 4; i < 8; ++i) blk[i] = 0xAA;    // high bits 2: scales 0..3
          for (int i = 8; i < 16; ++i) blk[i] &= 0x33;  // (extra, both codebooks, stays random)
          break;
        case GgmlType::IQ4_KS: case GgmlType::IQ5_KS:
          // multipliers (sc & 254) - 127 in {-1, 1, 3}, low bit (codebook) varied
          for (int i = 0; i < 8; ++i) blk[i] = uint8_t(126 + blk[i] % 6);
          break;
        case GgmlType::IQ4_KSS:
          // the same scale bytes, bit k of block ib's in bit 0 of its word k
          for (int ib = 0; ib < 8; ++ib) {
            const int sc = 126 + blk[16 * ib + 1] % 6;
            for (int k = 0; k < 8; ++k) blk[16 * ib + 2 * k] = uint8_t((blk[16 * ib + 2 * k] & 0xfe) | ((sc >> k) & 1));
          }
          break;
        case GgmlType::Q6_0: h(blk, 0.5f); break;
        case GgmlType::IQ2_K:  // scales -8..-5
          h(blk, 1.0f);
          for (int i = 4; i < 12; ++i) blk[i] &= 0x33;
          break;
        case GgmlType::IQ3_K:  // scales +-1, +-3
          h(blk, 1.0f);
          for (int i = 6; i < 14; ++i) blk[i] &= 0x11;
          break;
        case GgmlType::IQ5_K:
          h(blk, 1.0f);
          for (int i = 4; i < 8; ++i) blk[i] = 0xAA;    // high bits 2: scales 0..3
          for (int i = 8; i < 16; ++i) blk[i] &= 0x33;
          break;
        case GgmlType::IQ6_K:
          h(blk, 1.0f);
          for (int i = 4; i < 20; ++i) blk[i] = uint8_t(int8_t(blk[i] % 7 - 3));
          break;
        case GgmlType::IQ2_KS:  // fifth scale bits set: scales 0..3
          blk[1] = 0xff;
          for (int i = 2; i < 6; ++i) blk[i] &= 0x33;
          break;
        case GgmlType::IQ3_KS:  // fifth scale bits set: scales 0..3
          blk[0] = 0xff;
          for (int i = 2; i < 6; ++i) blk[i] &= 0x33;
          break;
        case GgmlType::IQ2_KL:  // high scale bits 2: scales 0..3
          blk[0] = blk[1] = 0xAA;
          for (int i = 2; i < 6; ++i) blk[i] &= 0x33;
          break;
        // Codebook types: d = 1 and the 4-bit (3-bit) scales cut to 0..1, so
        // that sums stay within f32's exact range (in units of 1/8).
        case GgmlType::IQ2_XXS:
          h(blk, 1.0f);
          for (int ib = 0; ib < 8; ++ib) blk[2 + 8 * ib + 7] &= 0x1f;  // scale = top nibble of the u32
          break;
        case GgmlType::IQ2_XS:
          h(blk, 1.0f);
          for (int i = 66; i < 74; ++i) blk[i] &= 0x11;
          break;
        case GgmlType::IQ2_S:
          h(blk, 1.0f);
          for (int i = 74; i < 82; ++i) blk[i] &= 0x11;
          break;
        case GgmlType::IQ3_XXS:
          h(blk, 1.0f);
          for (int ib = 0; ib < 8; ++ib) blk[66 + 4 * ib + 3] &= 0x1f;
          break;
        case GgmlType::IQ3_S:
          h(blk, 1.0f);
          for (int i = 106; i < 110; ++i) blk[i] &= 0x11;
          break;
        case GgmlType::IQ1_S:
          h(blk, 1.0f);
          for (int ib = 0; ib < 8; ++ib) blk[35 + 2 * ib] &= 0x9f;  // scale bits 12..14 of qh: 0..1
          break;
        case GgmlType::IQ1_M:
          for (int i = 0; i < 4; ++i) {  // every 3-bit scale 0..1
            blk[48 + 2 * i] &= 0x49;
            blk[49 + 2 * i] &= 0x02;
          }
          set_iq1m_d(blk, f32_to_f16(1.0f));
          break;
        case GgmlType::MXFP4: blk[0] = 127; break;  // scale 1/2 (values doubled)
        default: break;
      }
    }
  }
  return w;
}

// Where every operation is exact (above, with integer activations whose
// block maximum is 127, so that activation scales are 1), every kernel set
// must give exactly what the dequantize-and-dot oracle gives.
TEST(Matmul, ExactWhenTheMathIsExact) {
  std::mt19937 rng(1357);
  ThreadPool pool(2);
  MatmulScratch scratch;
  std::uniform_int_distribution<int> xi(-127, 127);
  for (GgmlType t : kTypes) {
    const int64_t K = type_traits(t)->block_elems == 1 ? 1061 : 256, N = 23;
    const Weights w = exact_weights(t, K, N, rng);
    for (int64_t M : {1, 6}) {
      std::vector<float> x(size_t(M * K));
      for (size_t i = 0; i < x.size(); ++i) x[i] = i % 32 == 5 ? 127.0f : float(xi(rng));
      std::vector<float> ref(size_t(M * N));
      oracle(w.view, x.data(), M, K, ref.data(), N);
      for (MatmulIsa isa : kIsas) {
        if (!matmul_isa_available(isa)) continue;
        std::vector<float> y(ref.size());
        matmul_isa(isa, w.view, x.data(), M, K, y.data(), N, pool, scratch);
        for (size_t i = 0; i < y.size(); ++i)
          ASSERT_EQ(y[i], ref[i]) << type_label(uint32_t(t)) << " " << matmul_isa_name(isa) << " M=" << M << " i=" << i;
      }
    }
  }
}

// Each output is computed by the same code whoever computes it: the result
// does not depend on the number of threads or on how rows are split.
TEST(Matmul, ThreadCountDoesNotChangeBits) {
  std::mt19937 rng(77);
  ThreadPool one(1), two(2), three(3);
  MatmulScratch s1, s2, s3;
  for (GgmlType t : kTypes) {
    for (auto [M, N] : {std::pair<int64_t, int64_t>{1, 300}, {9, 300}, {64, 20}}) {
      const int64_t K = k_for(t, 1);
      const Weights w = random_weights(t, K, N, rng);
      const std::vector<float> x = random_x(M, K, rng);
      std::vector<float> y1(size_t(M * N)), y2(y1.size()), y3(y1.size());
      matmul(w.view, x.data(), M, y1.data(), one, s1);
      matmul(w.view, x.data(), M, y2.data(), two, s2);
      matmul(w.view, x.data(), M, y3.data(), three, s3);
      ASSERT_EQ(std::memcmp(y1.data(), y2.data(), y1.size() * 4), 0) << type_label(uint32_t(t)) << " M=" << M;
      ASSERT_EQ(std::memcmp(y1.data(), y3.data(), y1.size() * 4), 0) << type_label(uint32_t(t)) << " M=" << M;
    }
  }
}

// Against the unrounded activations, the error is bounded by the activation
// rounding alone: |dx_k| <= d_block/2 for the int8 kinds (d = the scale of
// x_k's block), |x_k| * 2^-9 for BF16, 0 for F32/F16 (plus f32 noise).
TEST(Matmul, ErrorWithinActivationRounding) {
  std::mt19937 rng(99);
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (GgmlType t : kTypes) {
    const int64_t K = k_for(t, 1), N = 24, M = 3;
    const Weights w = random_weights(t, K, N, rng);
    const std::vector<float> x = random_x(M, K, rng);
    std::vector<float> y(size_t(M * N));
    matmul(w.view, x.data(), M, y.data(), pool, scratch);
    const ActKind kind = act_kind(t);
    const int64_t blk = kind == ActKind::Q8_K ? 256 : 32;
    std::vector<float> wr(static_cast<size_t>(K));
    double worst = 0;
    for (int64_t n = 0; n < N; ++n) {
      matmul_weight_row(w.view, n, wr.data());
      for (int64_t m = 0; m < M; ++m) {
        const float* xm = x.data() + m * K;
        double exact = 0, bound = 0, mag = 0;
        for (int64_t b = 0; b < K / blk; ++b) {
          double amax = 0;
          for (int64_t k = b * blk; k < (b + 1) * blk; ++k) amax = std::max(amax, std::fabs(double(xm[k])));
          for (int64_t k = b * blk; k < (b + 1) * blk; ++k) {
            exact += double(wr[k]) * xm[k];
            mag += std::fabs(double(wr[k]) * xm[k]);
            if (kind == ActKind::Q8_32 || kind == ActKind::Q8_K)
              bound += std::fabs(double(wr[k])) * amax / 127.0 * 0.5 * 1.01;
            else if (kind == ActKind::BF16)
              bound += std::fabs(double(wr[k]) * xm[k]) * std::exp2(-9.0);
          }
        }
        bound += 1e-5 * mag;
        const double err = std::fabs(y[size_t(m * N + n)] - exact);
        ASSERT_LE(err, bound) << type_label(uint32_t(t)) << " n=" << n << " m=" << m;
        worst = std::max(worst, err / bound);
      }
    }
    // The bound is not vacuous: int8 activations do use a good part of it.
    if (kind == ActKind::Q8_32 || kind == ActKind::Q8_K) {
      EXPECT_GT(worst, 0.02) << type_label(uint32_t(t));
    }
  }
}

TEST(QuantAct, Q8_32RoundsScaleToBf16ThenHalfToEven) {
  // amax = 127: d = 1 exactly, id = 1, and x*id lands on halves.
  std::vector<float> x(64, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = 3.5f;
  x[3] = -2.5f;
  x[4] = -0.5f;
  x[5] = 0.5f;
  x[6] = 1.5f;
  // Block 1: amax = 1 -> d = bf16(1/127), quants use 1/d of the rounded d.
  for (int i = 0; i < 32; ++i) x[32 + i] = (i - 16) / 16.0f;
  int8_t qs[64];
  float d[2], ds[4];
  int16_t s16[4];
  quantize_act_q8_32(x.data(), 64, qs, d, s16, ds);
  EXPECT_EQ(d[0], 1.0f);
  EXPECT_EQ(qs[0], 127);
  EXPECT_EQ(qs[1], 2);
  EXPECT_EQ(qs[2], 4);
  EXPECT_EQ(qs[3], -2);
  EXPECT_EQ(qs[4], 0);
  EXPECT_EQ(qs[5], 0);
  EXPECT_EQ(qs[6], 2);
  const float db = round_bf16(1.0f / 127.0f);
  EXPECT_NE(db, 1.0f / 127.0f);  // the rounding matters here
  EXPECT_EQ(d[1], db);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(qs[32 + i], int8_t(std::nearbyint(x[32 + i] * (1.0f / db)))) << i;
  int s = 0;
  for (int i = 0; i < 16; ++i) s += qs[i];
  EXPECT_EQ(s16[0], s);
  EXPECT_EQ(ds[0], d[0] * float(s));
}

TEST(QuantAct, Q8_KUsesUnroundedScale) {
  std::vector<float> x(256);
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (float& v : x) v = nd(rng);
  x[7] = -5.0f;  // the largest magnitude, negative: d stays positive
  int8_t qs[256];
  float d[8], ds[16];
  int16_t s16[16];
  quantize_act_q8_k(x.data(), 256, qs, d, s16, ds);
  const float iscale = 127.0f / 5.0f;
  for (int j = 0; j < 8; ++j) EXPECT_EQ(d[j], 5.0f / 127.0f);
  EXPECT_EQ(qs[7], -127);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(qs[i], int8_t(std::nearbyint(x[i] * iscale))) << i;
  // All zero: d = 0, quants 0.
  std::vector<float> z(256, 0.0f);
  quantize_act_q8_k(z.data(), 256, qs, d, s16, ds);
  EXPECT_EQ(d[0], 0.0f);
  for (int8_t q : qs) EXPECT_EQ(q, 0);
}

// The AVX2 quantizers give the scalar ones' bytes and scales exactly: random
// rows with outliers, zero blocks, ties at .5 and a NaN block.
TEST(QuantAct, Avx2EqualsScalar) {
  if (!cpu_features().avx2) GTEST_SKIP() << "no AVX2";
  std::mt19937 rng(99);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  const int64_t K = 1024;
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<float> x(K);
    for (float& v : x) v = nd(rng);
    if (rep % 2) x[7] = 1e6f;
    for (int i = 64; i < 96; ++i) x[i] = 0.0f;
    for (int i = 96; i < 128; ++i) x[i] = float(i % 5) - 2.5f;  // halves
    if (rep == 3) x[300] = std::nanf("");
    for (int kind = 0; kind < 2; ++kind) {
      std::vector<int8_t> q1(K), q2(K);
      std::vector<float> d1(K / 32), d2(K / 32), s1(K / 16), s2(K / 16);
      std::vector<int16_t> h1(K / 16), h2(K / 16);
      if (kind == 0) {
        quantize_act_q8_32(x.data(), K, q1.data(), d1.data(), h1.data(), s1.data());
        simd::quantize_act_q8_32_avx2(x.data(), K, q2.data(), d2.data(), h2.data(), s2.data());
      } else {
        quantize_act_q8_k(x.data(), K, q1.data(), d1.data(), h1.data(), s1.data());
        simd::quantize_act_q8_k_avx2(x.data(), K, q2.data(), d2.data(), h2.data(), s2.data());
      }
      ASSERT_EQ(q1, q2) << kind << " " << rep;
      ASSERT_EQ(std::memcmp(d1.data(), d2.data(), d1.size() * 4), 0) << kind << " " << rep;
      ASSERT_EQ(h1, h2) << kind << " " << rep;
      ASSERT_EQ(std::memcmp(s1.data(), s2.data(), s1.size() * 4), 0) << kind << " " << rep;
    }
  }
}

// Every int8 type has one canonical order (an exact integer dot per 32-block,
// fmas into eight accumulators by block % 8, a fixed tree): the AVX2 and the
// AVX-512 VNNI kernels (in place for decode, interleaved panels for prefill)
// give the portable oracle's bits exactly, for any number of weight and
// activation rows. Q8_0's AVX-512 kernel sums its blocks in its own order (not
// held to it).
void expect_portable_bits(MatmulIsa isa) {
  std::mt19937 rng(4242);
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (GgmlType t : kTypes) {
    if (t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16) continue;
    if (isa == MatmulIsa::Avx512 && t == GgmlType::Q8_0) continue;
    for (int which = 0; which < 3; ++which) {
      for (int64_t N : {37, 16, 9}) {
        const int64_t K = k_for(t, which);
        const Weights w = random_weights(t, K, N, rng);
        for (int64_t M : {1, 2, 5, 8, 9, 21}) {
          const std::vector<float> x = random_x(M, K, rng);
          std::vector<float> a(size_t(M * N)), b(a.size());
          matmul_isa(MatmulIsa::Portable, w.view, x.data(), M, K, a.data(), N, pool, scratch);
          matmul_isa(isa, w.view, x.data(), M, K, b.data(), N, pool, scratch);
          ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0)
              << type_label(uint32_t(t)) << " K=" << K << " N=" << N << " M=" << M;
        }
      }
    }
  }
}

TEST(Matmul, Avx2Int8EqualsPortableBits) {
  if (!matmul_isa_available(MatmulIsa::Avx2)) GTEST_SKIP() << "no AVX2";
  expect_portable_bits(MatmulIsa::Avx2);
}

TEST(Matmul, Avx512Int8EqualsPortableBits) {
  if (!matmul_isa_available(MatmulIsa::Avx512)) GTEST_SKIP() << "no AVX-512 VNNI";
  expect_portable_bits(MatmulIsa::Avx512);
}

// The SIMD row unpackers of each kernel set (the decode and prefill kernels'
// first step) give the portable unpacker's bytes exactly: q, dw, s16 and
// mw16, and nothing written elsewhere. Random blocks and blocks of one byte
// repeated (every grid index and sign bit 0, 1 or alternating: the codebook
// tables' ends, all-negative signs), several row lengths. Each row is its own
// allocation, so the sanitizer build sees any read past the row's last block.
TEST(Matmul, SimdUnpackersEqualPortableBytes) {
  struct Set {
    MatmulIsa isa;
    mm::UnpackRowFn (*unpacker)(GgmlType);
  };
  const Set sets[] = {{MatmulIsa::Avx2, mm::avx2_unpacker}, {MatmulIsa::Avx512, mm::avx512_unpacker}};
  std::mt19937 rng(2718);
  int compared = 0;
  for (const Set& set : sets) {
    if (!matmul_isa_available(set.isa)) continue;
    for (GgmlType t : kTypes) {
      const unpack::Fn portable = unpack::entry(t).fn;
      const mm::UnpackRowFn simd = set.unpacker(t);
      if (!portable) {  // float types: no int8 unpacker anywhere
        EXPECT_EQ(simd, nullptr) << type_label(uint32_t(t));
        continue;
      }
      ASSERT_NE(simd, nullptr) << type_label(uint32_t(t));
      for (int which = 0; which < 3; ++which) {
        const int64_t K = k_for(t, which);
        const size_t n = unpack::row_bytes_unpacked(K);
        std::vector<uint8_t> buf_a(n + 64), buf_b(n + 64);  // 64-byte aligned inside
        auto align = [](std::vector<uint8_t>& v) {
          return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t(63));
        };
        uint8_t *a = align(buf_a), *b = align(buf_b);
        for (int fill : {-1, -1, -1, 0x00, 0xff, 0x55, 0xaa}) {
          const Weights w = random_weights(t, K, 1, rng, 0, fill);
          std::memset(a, 0x5a, n);
          std::memset(b, 0x5a, n);
          const unpack::Row ua = unpack::carve(a, K), ub = unpack::carve(b, K);
          portable(w.bytes.data(), K, ua.q, ua.dw, ua.s16, ua.mw16);
          simd(w.bytes.data(), K, ub.q, ub.dw, ub.s16, ub.mw16);
          size_t at = 0;
          while (at < n && a[at] == b[at]) ++at;
          const auto part = [&](size_t off) {
            const uint8_t* p = a + off;
            return p >= reinterpret_cast<uint8_t*>(ua.mw16) ? "mw16"
                   : p >= reinterpret_cast<uint8_t*>(ua.s16) ? "s16"
                   : p >= reinterpret_cast<uint8_t*>(ua.dw)  ? "dw"
                                                             : "q";
          };
          ASSERT_EQ(at, n) << type_label(uint32_t(t)) << " " << matmul_isa_name(set.isa) << " K=" << K
                           << " fill=" << fill << ": first difference in " << part(at) << " at byte " << at;
          ++compared;
        }
      }
    }
  }
  std::printf("compared %d (type, K, fill, isa) rows\n", compared);
  if (compared == 0) GTEST_SKIP() << "no SIMD kernel set on this CPU";
}

// A group sharing its activations gives each product's bits as a matmul()
// of its own: weights of different activation kinds (Q8_32, Q8_K, F32, BF16),
// split over N or over M, decode and prefill row counts, strided outputs.
TEST(Matmul, SharedGroupEqualsSeparateCalls) {
  std::mt19937 rng(97);
  ThreadPool pool(2);
  MatmulScratch scratch;
  const int64_t K = 512, ldx = 520;
  const GgmlType types[4] = {GgmlType::Q4_K, GgmlType::Q3_K, GgmlType::F16, GgmlType::BF16};
  const int64_t rows[4] = {96, 40, 16, 8};  // the last two: few rows, split over M
  std::vector<Weights> w;
  for (int i = 0; i < 4; ++i) w.push_back(random_weights(types[i], K, rows[i], rng));
  for (int64_t M : {1, 3, 9, 40}) {
    const std::vector<float> x = random_x(M, ldx, rng);
    for (int n_outs = 1; n_outs <= 4; ++n_outs) {
      std::vector<std::vector<float>> shared(4), alone(4);
      MatmulOut outs[4];
      for (int i = 0; i < n_outs; ++i) {
        const int64_t ldy = rows[i] + 3;
        shared[i].assign(size_t(M * ldy), -7.0f);
        alone[i].assign(size_t(M * ldy), -7.0f);
        outs[i] = MatmulOut{&w[size_t(i)].view, shared[i].data(), ldy};
        matmul(w[size_t(i)].view, x.data(), M, ldx, alone[i].data(), ldy, pool, scratch);
      }
      matmul_shared(outs, n_outs, x.data(), M, ldx, pool, scratch);
      for (int i = 0; i < n_outs; ++i)
        ASSERT_EQ(std::memcmp(shared[i].data(), alone[i].data(), shared[i].size() * 4), 0)
            << "product " << i << " of " << n_outs << ", M=" << M;
    }
  }
  // A group's weights must agree on K; 1..kMatmulSharedMax products.
  const Weights other = random_weights(GgmlType::Q8_0, 256, 16, rng);
  std::vector<float> x(size_t(2 * ldx)), y(size_t(2 * 96));
  const MatmulOut mixed[2] = {{&w[0].view, y.data(), 96}, {&other.view, y.data(), 16}};
  EXPECT_THROW(matmul_shared(mixed, 2, x.data(), 2, ldx, pool, scratch), Error);
  EXPECT_THROW(matmul_shared(mixed, 0, x.data(), 2, ldx, pool, scratch), Error);
  const MatmulOut five[5] = {mixed[0], mixed[0], mixed[0], mixed[0], mixed[0]};
  EXPECT_THROW(matmul_shared(five, 5, x.data(), 2, ldx, pool, scratch), Error);
}

TEST(Matmul, StridesAndScratchReuse) {
  std::mt19937 rng(3);
  ThreadPool pool(2);
  MatmulScratch scratch;
  const int64_t K = 512, N = 96, M = 6, ldx = 530, ldy = 101;
  const Weights w = random_weights(GgmlType::Q4_K, K, N, rng, 16);
  const std::vector<float> x = random_x(M, ldx, rng);
  std::vector<float> y(size_t(M * ldy), 12345.0f);
  matmul(w.view, x.data(), M, ldx, y.data(), ldy, pool, scratch);
  std::vector<float> ref(size_t(M * N));
  matmul_reference(w.view, x.data(), M, ldx, ref.data(), N);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) EXPECT_NEAR(y[m * ldy + n], ref[m * N + n], 1e-3f * std::fabs(ref[m * N + n]) + 1e-3f);
    for (int64_t n = N; n < ldy; ++n) EXPECT_EQ(y[m * ldy + n], 12345.0f);  // untouched
  }
  // Warmed up: the same or smaller shapes never reallocate.
  const uint8_t* p = scratch.buf.data();
  const size_t cap = scratch.buf.capacity();
  for (int rep = 0; rep < 3; ++rep) {
    matmul(w.view, x.data(), M, ldx, y.data(), ldy, pool, scratch);
    matmul(w.view, x.data(), 1, ldx, y.data(), ldy, pool, scratch);
  }
  EXPECT_EQ(scratch.buf.data(), p);
  EXPECT_EQ(scratch.buf.capacity(), cap);
}

// Once the scratch has grown to the largest shape, matmul allocates nothing
// (the token loop must not allocate), on the caller or on the workers.
TEST(Matmul, NoAllocationOnceWarm) {
  std::mt19937 rng(6);
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::BF16, GgmlType::F32,
                     GgmlType::IQ4_XS, GgmlType::Q5_0}) {
    const int64_t K = 512, N = 256;
    const Weights w = random_weights(t, K, N, rng);
    const std::vector<float> x = random_x(64, K, rng);
    std::vector<float> y(size_t(64 * N));
    matmul(w.view, x.data(), 64, y.data(), pool, scratch);  // warm up with the largest shape
    g_allocs = 0;
    g_count_allocs = true;
    for (int64_t M : {1, 3, 64, 17, 1}) matmul(w.view, x.data(), M, y.data(), pool, scratch);
    g_count_allocs = false;
    EXPECT_EQ(g_allocs.load(), 0) << type_label(uint32_t(t));
  }
}

TEST(Matmul, Errors) {
  ThreadPool pool(1);
  MatmulScratch scratch;
  std::vector<uint8_t> bytes(292 * 4);
  WeightView w{GgmlType::Q8_K, 256, 4, bytes.data(), 292};  // an activation type: never a weight
  std::vector<float> x(256), y(4);
  EXPECT_FALSE(matmul_supported(GgmlType::Q8_K));
  EXPECT_TRUE(matmul_supported(GgmlType::Q6_K));
  try {
    matmul(w, x.data(), 1, y.data(), pool, scratch);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "type Q8_K (15) is not supported yet");
  }
  WeightView q{GgmlType::Q8_0, 48, 1, bytes.data(), 34};
  EXPECT_THROW(matmul(q, x.data(), 1, y.data(), pool, scratch), Error);  // 48 not a multiple of 32
  WeightView f{GgmlType::F32, 8, 4, bytes.data(), 32};
  float out[8];
  EXPECT_THROW(weight_row_f32(f, 4, out), Error);
  EXPECT_NO_THROW(weight_row_f32(f, 3, out));
}

TEST(Matmul, WeightRowMatchesDequantize) {
  std::mt19937 rng(8);
  for (GgmlType t : kTypes) {
    const int64_t K = k_for(t, 1);
    const Weights w = random_weights(t, K, 3, rng, 2);
    std::vector<float> a(static_cast<size_t>(K)), b(static_cast<size_t>(K));
    weight_row_f32(w.view, 2, a.data());
    dequantize_row(t, w.bytes.data() + 2 * w.view.row_stride, b.data(), K);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
  }
}

}  // namespace
}  // namespace dllm
