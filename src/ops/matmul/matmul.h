// Matrix multiplication of a weight matrix in its file format with f32
// activations: Y[m][n] = sum_k W[n][k] * X[m][k].
//
// Activations are prepared the way the reference (ik_llama.cpp, kernels.md
// §3.3) prepares them, so that results track its logits:
//   F32                 : f32 x f32
//   F16                 : f32 activations (the reference's difference is < 1e-3 rel)
//   BF16                : activations rounded to bf16
//   Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 IQ4_NL Q4_K Q5_K Q6_K
//                       : per-32 int8 blocks, scale d = bf16(amax/127), q = RNE(x / d)
//                         (ik's Q8_2_X4), exact int32 block dots, f32 accumulation
//   Q2_K Q3_K IQ4_XS    : per-256 int8 blocks, d = amax/127, q = RNE(x*127/amax) (ik Q8_K)
// Weights stay in GGUF order; no repacking here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "formats/ggml_type.h"

namespace dllm {

class ThreadPool;

// A 2-D weight matrix in file format: `rows` rows of `cols` elements each,
// row r at data + r * row_stride bytes.
struct WeightView {
  GgmlType type = GgmlType::F32;
  int64_t cols = 0;        // K (GGUF ne0)
  int64_t rows = 0;        // N (GGUF ne1)
  const uint8_t* data = nullptr;
  size_t row_stride = 0;   // bytes between rows
};

// Reusable scratch for quantized activations; grows to the largest size asked
// and is then reused, so the token loop does not allocate.
struct MatmulScratch {
  std::vector<uint8_t> buf;
};

// True when matmul() can compute with this weight type.
bool matmul_supported(GgmlType type);

// Y[m * ldy + n] = sum_k W[n][k] * X[m * ldx + k] for m < M, n < W.rows.
// Splits the work over the pool. Throws dllm::Error for a weight type without
// kernels ("type IQ2_XXS (16) is not supported yet").
// Deterministic: each output depends only on its weight row and activation
// row, not on M, the thread count or how the work is split, so a batch of
// rows gives bit for bit what the rows give one at a time (tested for every
// type and kernel set). Allocates only when `scratch` must grow.
void matmul(const WeightView& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
            ThreadPool& pool, MatmulScratch& scratch);

// One product of a group that shares its activations (matmul_shared).
struct MatmulOut {
  const WeightView* W;
  float* Y;      // Y[m * ldy + n]
  int64_t ldy;   // >= W->rows
};

// Every product of `outs` (all with X's K columns) at once: each activation
// kind the weights want is prepared once for the group, and the products run
// in one pass over the threads (one wake-up, no barrier between them). The
// same bits as separate matmul() calls. At most kMatmulSharedMax products.
constexpr int kMatmulSharedMax = 4;
void matmul_shared(const MatmulOut* outs, int n_outs, const float* X, int64_t M, int64_t ldx,
                   ThreadPool& pool, MatmulScratch& scratch);

// Convenience for contiguous X [M][W.cols] and Y [M][W.rows].
inline void matmul(const WeightView& W, const float* X, int64_t M, float* Y, ThreadPool& pool,
                   MatmulScratch& scratch) {
  matmul(W, X, M, W.cols, Y, W.rows, pool, scratch);
}

// Plain reference: dequantize each weight row to f32 and dot in double-free f32
// with the same activation rounding as matmul(). The oracle for SIMD kernels.
void matmul_reference(const WeightView& W, const float* X, int64_t M, int64_t ldx, float* Y,
                      int64_t ldy);

// Dequantizes row r of W into out[W.cols] (embedding lookups).
void weight_row_f32(const WeightView& W, int64_t r, float* out);

// Kernel sets, best first. matmul() uses the best one the CPU has (capped by
// DELTALLM_ISA=portable|avx2); tests and benchmarks may ask for one.
enum class MatmulIsa { Auto, Portable, Avx2, Avx512 };
bool matmul_isa_available(MatmulIsa isa);
const char* matmul_isa_name(MatmulIsa isa);
// matmul() with the kernels of `isa` (types that set has no kernel for fall
// back to the next set down). Throws dllm::Error if the CPU lacks `isa`.
void matmul_isa(MatmulIsa isa, const WeightView& W, const float* X, int64_t M, int64_t ldx,
                float* Y, int64_t ldy, ThreadPool& pool, MatmulScratch& scratch);

}  // namespace dllm
