// matmul(): activation preparation, kernel choice and the split over threads.
#include "ops/matmul/matmul.h"

#include <algorithm>
#include <atomic>
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

// Activation rows up to which the kernels read the weights in place (decode,
// speculative verify); panels_avx2.h's kInplaceMax.
constexpr int64_t kDecodeRows = 8;

// One product of a group: its kernel, task and how its work is cut.
struct Job {
  mm::RowsFn fn;
  mm::Task task;
  int64_t N;
  bool split_m;       // few weight rows: cut the activation rows instead
  int64_t chunk;      // weight rows (split_m: activation rows) per piece
  int64_t first, n_pieces;  // the group's pieces [first, first + n_pieces)
};

// Everything the workers need for a group sharing its activations; captured
// by one pointer so that the pool's std::function holds it without allocating.
struct Group {
  Job jobs[kMatmulSharedMax];
  int n_jobs = 0;
  ActRows acts[kMatmulSharedMax];  // one per distinct activation kind
  uint8_t* act_buf[kMatmulSharedMax];
  int n_acts = 0;
  const float* X;
  int64_t ldx, M, K;
  uint8_t* tmp;  // thread i: tmp + i * tmp_stride
  size_t tmp_stride;
  int64_t n_pieces = 0;
  std::atomic<int64_t> next{0};  // the next piece to take
};

// Contiguous share [b, e) of `n` items for thread ith of nth.
void share(int64_t n, int ith, int nth, int64_t* b, int64_t* e) {
  *b = n * ith / nth;
  *e = n * (ith + 1) / nth;
}

// Cuts job j into pieces of whole 16-row panels, for prefill about 8 per
// thread: the threads take pieces until none is left, so that a thread slowed
// down (a busy core, an interrupt) does less of the work instead of holding
// up the other at the end (pp512 2 threads: the idle share of the profile
// halved). Decode reads the weights in place and is bound by memory: one
// contiguous piece per thread there (small pieces cost tg64 ~7%, the
// prefetchers' streams cut short). Each output depends on its rows only: any
// cut gives the same bits.
void cut(Job& j, int64_t M, int nth) {
  const int64_t want = (M > kDecodeRows ? 8 : 1) * int64_t(nth);
  if (j.split_m) {
    j.chunk = std::max<int64_t>(8, (M + want - 1) / want);
    j.n_pieces = (M + j.chunk - 1) / j.chunk;
  } else {
    j.chunk = std::max<int64_t>(16, (j.N + want - 1) / want + 15) / 16 * 16;
    j.n_pieces = (j.N + j.chunk - 1) / j.chunk;
  }
}

void run_piece(const Job& j, int64_t piece, int64_t M, uint8_t* tmp) {
  const int64_t b = piece * j.chunk;
  if (j.split_m)
    j.fn(j.task, 0, j.N, b, std::min(M, b + j.chunk), tmp);
  else
    j.fn(j.task, b, std::min(j.N, b + j.chunk), 0, M, tmp);
}

// Prefill: the next piece until none is left. Decode: piece ith of each
// product (a thread that comes first must not take the other's piece too: a
// worker waking a few microseconds late would then idle while this thread
// did twice the work).
void take_pieces(Group& g, uint8_t* tmp, int ith, int nth) {
  if (g.M <= kDecodeRows) {
    for (int i = 0; i < g.n_jobs; ++i)
      for (int64_t p = ith; p < g.jobs[i].n_pieces; p += nth) run_piece(g.jobs[i], p, g.M, tmp);
    return;
  }
  int i = 0;
  for (int64_t p; (p = g.next.fetch_add(1, std::memory_order_relaxed)) < g.n_pieces;) {
    while (p >= g.jobs[i].first + g.jobs[i].n_pieces) ++i;  // pieces are taken in increasing order
    run_piece(g.jobs[i], p - g.jobs[i].first, g.M, tmp);
  }
}

void matmul_impl(MatmulIsa isa, const MatmulOut* outs, int n_outs, const float* X, int64_t M, int64_t ldx,
                 ThreadPool& pool, MatmulScratch& scratch) {
  if (n_outs < 1 || n_outs > kMatmulSharedMax)
    fail("matmul: ", n_outs, " products in one group (1..", kMatmulSharedMax, ")");
  const int64_t K = outs[0].W->cols;
  double work = 0.0;
  for (int i = 0; i < n_outs; ++i) {
    const WeightView& W = *outs[i].W;
    check_weight(W);
    if (W.cols != K) fail("matmul: a group's weights have ", K, " and ", W.cols, " columns");
    if (M > 0 && W.rows > 0 && (ldx < K || outs[i].ldy < W.rows))
      fail("matmul: leading dimensions ", ldx, "/", outs[i].ldy, " too small");
    work += double(W.rows) * double(K) * double(M);
  }
  if (M <= 0 || work == 0.0) return;
  // Small products are not worth waking the workers.
  const int nth = work < 65536.0 ? 1 : pool.size();

  Group g;
  g.X = X;
  g.ldx = ldx;
  g.M = M;
  g.K = K;
  ActKind kinds[kMatmulSharedMax] = {};
  int act_of[kMatmulSharedMax];
  for (int i = 0; i < n_outs; ++i) {
    const ActKind kind = act_kind(outs[i].W->type);
    int a = 0;
    while (a < g.n_acts && kinds[a] != kind) ++a;
    if (a == g.n_acts) kinds[g.n_acts++] = kind;
    act_of[i] = a;
  }
  size_t act_bytes[kMatmulSharedMax];
  size_t need = 64;
  for (int a = 0; a < g.n_acts; ++a) need += act_bytes[a] = round64(act_scratch_bytes(kinds[a], M, K));
  g.tmp_stride = round64(mm::thread_tmp_bytes(K));
  need += g.tmp_stride * size_t(nth);
  if (scratch.buf.size() < need) scratch.buf.resize(need);
  uint8_t* p = align64(scratch.buf.data());
  for (int a = 0; a < g.n_acts; ++a) {
    g.act_buf[a] = p;
    p += act_bytes[a];
    // the view first (no rows); the rows below, split over the threads when there are many
    g.acts[a] = prepare_activations(kinds[a], X, M, K, ldx, g.act_buf[a], 0, 0);
  }
  g.tmp = p;
  for (int i = 0; i < n_outs; ++i) {
    const WeightView& W = *outs[i].W;
    Job& j = g.jobs[g.n_jobs++];
    j.fn = pick(isa, W.type);
    j.task = mm::Task{&W, &g.acts[act_of[i]], outs[i].Y, outs[i].ldy};
    j.N = W.rows;
    j.split_m = W.rows < 32 * int64_t(nth) && M >= 4 * int64_t(nth);
    cut(j, M, nth);
    j.first = g.n_pieces;
    g.n_pieces += j.n_pieces;
  }

  auto prepare = [](const Group& g, int64_t b, int64_t e) {
    for (int a = 0; a < g.n_acts; ++a)
      if (g.acts[a].kind != ActKind::F32)
        prepare_activations(g.acts[a].kind, g.X, g.M, g.K, g.ldx, g.act_buf[a], b, e);
  };
  bool any_prepared = false;
  for (int a = 0; a < g.n_acts; ++a) any_prepared |= kinds[a] != ActKind::F32;
  if (any_prepared) {
    if (nth == 1 || M < 4) {
      prepare(g, 0, M);
    } else {
      pool.run([&g, &prepare](int ith, int n) {
        int64_t b, e;
        share(g.M, ith, n, &b, &e);
        if (b < e) prepare(g, b, e);
      });
    }
  }
  if (nth == 1)
    take_pieces(g, g.tmp, 0, 1);
  else
    pool.run([&g](int ith, int n) { take_pieces(g, g.tmp + size_t(ith) * g.tmp_stride, ith, n); });
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
  const MatmulOut out{&W, Y, ldy};
  matmul_impl(best_isa(), &out, 1, X, M, ldx, pool, scratch);
}

void matmul_shared(const MatmulOut* outs, int n_outs, const float* X, int64_t M, int64_t ldx,
                   ThreadPool& pool, MatmulScratch& scratch) {
  matmul_impl(best_isa(), outs, n_outs, X, M, ldx, pool, scratch);
}

void matmul_isa(MatmulIsa isa, const WeightView& W, const float* X, int64_t M, int64_t ldx,
                float* Y, int64_t ldy, ThreadPool& pool, MatmulScratch& scratch) {
  if (!matmul_isa_available(isa)) fail("matmul: this CPU has no ", matmul_isa_name(isa));
  const MatmulOut out{&W, Y, ldy};
  matmul_impl(isa == MatmulIsa::Auto ? best_isa() : isa, &out, 1, X, M, ldx, pool, scratch);
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
