// matmul(): activation preparation, kernel choice and the split over threads.
#include "ops/matmul/matmul.h"

#include <algorithm>
#include <vector>

#include "ops/matmul/kernels.h"
#include "util/cpu.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace dllm {

namespace {

uint8_t* align64(uint8_t* p) {
  return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
}
size_t round64(size_t n) { return (n + 63) & ~size_t(63); }

MatmulIsa best_isa() {
  const CpuFeatures& f = cpu_features();
  if (f.avx512_vnni) return MatmulIsa::Avx512;
  if (f.avx2) return MatmulIsa::Avx2;
  return MatmulIsa::Portable;
}

mm::RowsFn pick(MatmulIsa isa, GgmlType t) {
  mm::RowsFn fn = nullptr;
  if (isa == MatmulIsa::Avx512) fn = mm::avx512_rows(t);
  if (!fn && (isa == MatmulIsa::Avx512 || isa == MatmulIsa::Avx2)) fn = mm::avx2_rows(t);
  if (!fn) fn = mm::portable_rows(t);
  return fn;
}

void check_weight(const WeightView& W) {
  const TypeTraits& tt = type_traits_or_throw(static_cast<uint32_t>(W.type));
  if (!mm::portable_rows(W.type)) fail("type ", type_label(tt.id), " is not supported yet");
  if (W.cols <= 0 || W.rows < 0 || tt.block_elems <= 0 || W.cols % tt.block_elems != 0)
    fail("matmul: bad weight shape {", W.cols, ", ", W.rows, "} for type ", type_label(tt.id));
  if (W.row_stride < row_bytes(W.type, W.cols))
    fail("matmul: row stride ", W.row_stride, " is shorter than a row of type ", type_label(tt.id));
}

// Everything a worker needs; captured by one pointer so that the pool's
// std::function holds it without allocating.
struct Job {
  mm::RowsFn fn;
  mm::Task task;
  const float* X;
  int64_t ldx;
  ActKind kind;
  uint8_t* act_buf;
  uint8_t* tmp;        // thread i: tmp + i * tmp_stride
  size_t tmp_stride;
  int64_t N, M;
  bool split_m;        // few weight rows: split the activation rows instead
};

// Contiguous share [b, e) of `n` items for thread ith of nth, in units of `grain`.
void share(int64_t n, int64_t grain, int ith, int nth, int64_t* b, int64_t* e) {
  const int64_t units = (n + grain - 1) / grain;
  *b = std::min(n, units * ith / nth * grain);
  *e = std::min(n, units * (ith + 1) / nth * grain);
}

void run_share(const Job& j, int ith, int nth) {
  int64_t b, e;
  if (j.split_m) {
    share(j.M, 1, ith, nth, &b, &e);
    if (b < e) j.fn(j.task, 0, j.N, b, e, j.tmp + size_t(ith) * j.tmp_stride);
  } else {
    share(j.N, 16, ith, nth, &b, &e);
    if (b < e) j.fn(j.task, b, e, 0, j.M, j.tmp + size_t(ith) * j.tmp_stride);
  }
}

void matmul_impl(MatmulIsa isa, const WeightView& W, const float* X, int64_t M, int64_t ldx,
                 float* Y, int64_t ldy, ThreadPool& pool, MatmulScratch& scratch) {
  check_weight(W);
  if (M <= 0 || W.rows == 0) return;
  if (ldx < W.cols || ldy < W.rows) fail("matmul: leading dimensions ", ldx, "/", ldy, " too small");
  const int64_t K = W.cols, N = W.rows;
  const ActKind kind = act_kind(W.type);
  const int nth_pool = pool.size();
  // Small products are not worth waking the workers.
  const double work = double(N) * double(K) * double(M);
  const int nth = work < 65536.0 ? 1 : nth_pool;

  const size_t act_bytes = round64(act_scratch_bytes(kind, M, K));
  const size_t tmp_stride = round64(mm::thread_tmp_bytes(K));
  const size_t need = act_bytes + tmp_stride * size_t(nth) + 64;
  if (scratch.buf.size() < need) scratch.buf.resize(need);
  uint8_t* base = align64(scratch.buf.data());

  Job j;
  j.fn = pick(isa, W.type);
  j.X = X;
  j.ldx = ldx;
  j.kind = kind;
  j.act_buf = base;
  j.tmp = base + act_bytes;
  j.tmp_stride = tmp_stride;
  j.N = N;
  j.M = M;
  j.split_m = N < 32 * int64_t(nth) && M >= 4 * int64_t(nth);

  // Activations: the view first (no rows), then the rows, split over the
  // threads when there are many.
  const ActRows A = prepare_activations(kind, X, M, K, ldx, base, 0, 0);
  j.task = mm::Task{&W, &A, Y, ldy};
  if (kind != ActKind::F32) {
    if (nth == 1 || M < 4) {
      prepare_activations(kind, X, M, K, ldx, base, 0, M);
    } else {
      pool.run([&j](int ith, int n) {
        int64_t b, e;
        share(j.M, 1, ith, n, &b, &e);
        if (b < e) prepare_activations(j.kind, j.X, j.M, j.task.A->K, j.ldx, j.act_buf, b, e);
      });
    }
  }
  if (nth == 1) {
    j.fn(j.task, 0, N, 0, M, j.tmp);
  } else {
    pool.run([&j](int ith, int n) { run_share(j, ith, n); });
  }
}

}  // namespace

bool matmul_supported(GgmlType type) { return mm::portable_rows(type) != nullptr; }

bool matmul_isa_available(MatmulIsa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case MatmulIsa::Auto:
    case MatmulIsa::Portable: return true;
    case MatmulIsa::Avx2: return f.avx2;
    case MatmulIsa::Avx512: return f.avx512_vnni;
  }
  return false;
}

const char* matmul_isa_name(MatmulIsa isa) {
  switch (isa) {
    case MatmulIsa::Auto: return matmul_isa_name(best_isa());
    case MatmulIsa::Portable: return "portable";
    case MatmulIsa::Avx2: return "avx2";
    case MatmulIsa::Avx512: return "avx512_vnni";
  }
  return "?";
}

void matmul(const WeightView& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
            ThreadPool& pool, MatmulScratch& scratch) {
  matmul_impl(best_isa(), W, X, M, ldx, Y, ldy, pool, scratch);
}

void matmul_isa(MatmulIsa isa, const WeightView& W, const float* X, int64_t M, int64_t ldx,
                float* Y, int64_t ldy, ThreadPool& pool, MatmulScratch& scratch) {
  if (!matmul_isa_available(isa)) fail("matmul: this CPU has no ", matmul_isa_name(isa));
  matmul_impl(isa == MatmulIsa::Auto ? best_isa() : isa, W, X, M, ldx, Y, ldy, pool, scratch);
}

void matmul_reference(const WeightView& W, const float* X, int64_t M, int64_t ldx, float* Y,
                      int64_t ldy) {
  check_weight(W);
  const int64_t K = W.cols;
  const ActKind kind = act_kind(W.type);
  // Activations exactly as matmul() rounds them, turned back into f32 values
  // (d * q is exact), so that only the f32 dot differs from the int kernels.
  std::vector<uint8_t> buf(act_scratch_bytes(kind, M, K));
  const ActRows A = prepare_activations(kind, X, M, K, ldx, buf.data(), 0, M);
  std::vector<float> xa(size_t(M * K));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k)
      xa[size_t(m * K + k)] = (kind == ActKind::F32 || kind == ActKind::BF16)
                                  ? A.x_row(m)[k]
                                  : A.d_row(m)[k / 32] * float(A.qs_row(m)[k]);
  std::vector<float> w(static_cast<size_t>(K));
  for (int64_t n = 0; n < W.rows; ++n) {
    dequantize_row(W.type, W.data + size_t(n) * W.row_stride, w.data(), K);
    for (int64_t m = 0; m < M; ++m) {
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k) s += w[size_t(k)] * xa[size_t(m * K + k)];
      Y[m * ldy + n] = s;
    }
  }
}

void weight_row_f32(const WeightView& W, int64_t r, float* out) {
  if (r < 0 || r >= W.rows) fail("row ", r, " is out of range [0, ", W.rows, ")");
  dequantize_row(W.type, W.data + size_t(r) * W.row_stride, out, W.cols);
}

}  // namespace dllm
