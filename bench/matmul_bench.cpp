// Microbenchmark of matmul(): decode (M = 1, memory-bound: GB/s of weights
// read) and prefill (M = 64..512, compute-bound: GMAC/s) per weight type,
// kernel set and thread count. Weights span 256 MiB so that decode streams
// from memory as in a real model.
//
//   cmake --build build-quant --target deltallm   (builds lib/libdeltallm.a)
//   c++ -O2 -std=c++20 -Isrc bench/matmul_bench.cpp build-quant/lib/libdeltallm.a \
//       -lpthread -lpcre2-8 -lutf8proc -o build-quant/matmul_bench
//   build-quant/matmul_bench [--fast] [--prefill] [--rows M] [TYPE...]
//     --fast: no portable rows; --prefill: one thread, prefill only;
//     --rows M: decode with M (1..8) activation rows (a speculative verify step)
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "formats/ggml_type.h"
#include "ops/matmul/matmul.h"
#include "util/fp16.h"
#include "util/thread_pool.h"

using namespace dllm;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// CPU time of the whole process: on a busy machine it shows what the kernels
// cost when wall time is inflated by waiting for a core.
double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Random but valid blocks: quantize Gaussian rows where a quantizer exists,
// else random bytes with small fp16 scales written over every byte pair that
// could be a scale (harmless for speed).
std::vector<uint8_t> make_weights(GgmlType t, int64_t K, int64_t N) {
  const size_t rb = row_bytes(t, K);
  std::vector<uint8_t> w(rb * size_t(N));
  std::mt19937 rng(1);
  if (can_quantize(t)) {
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> f(static_cast<size_t>(K));
    for (int64_t n = 0; n < N; ++n) {
      for (float& v : f) v = nd(rng);
      quantize_row(t, f.data(), w.data() + size_t(n) * rb, K);
    }
  } else {
    for (auto& b : w) b = uint8_t(rng());
    const uint16_t h = f32_to_f16(0.01f);
    const TypeTraits& tt = *type_traits(t);
    for (size_t off = 0; off + tt.block_bytes <= w.size(); off += tt.block_bytes)
      for (int64_t i = 0; i + 1 < tt.block_bytes; i += 2)
        if (i == 0 || i == 2 || i == tt.block_bytes - 2 || i == tt.block_bytes - 4) std::memcpy(&w[off + i], &h, 2);
  }
  return w;
}

int g_rows = 1;  // --rows M: decode with M activation rows

void bench_type(GgmlType t, MatmulIsa isa, bool prefill_only) {
  const int64_t K = 1024, N = 3584;  // a Qwen3.5-0.8B FFN matrix
  const size_t rb = row_bytes(t, K), mat = rb * size_t(N);
  const int copies = int(std::max<size_t>(1, (256u << 20) / mat));
  std::vector<uint8_t> w = make_weights(t, K, N * copies);
  std::vector<float> x(512 * K), y(512 * N);
  std::mt19937 rng(2);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (float& v : x) v = nd(rng);
  for (int threads : {1, 2}) {
    if (prefill_only && threads == 2) break;
    ThreadPool pool(threads);
    MatmulScratch scratch;
    double gbs = 0, cpu_gbs = 0, cache_gbs = 0, t0 = 0, t1 = 0;
    int reps = 1;
    if (!prefill_only) {
    // decode: g_rows activation rows (1, or 2..8: a speculative verify
    // step), stream through all copies
    auto gemv = [&](int c) {
      WeightView W{t, K, N, w.data() + size_t(c) * mat, rb};
      matmul_isa(isa, W, x.data(), g_rows, K, y.data(), N, pool, scratch);
    };
    for (int c = 0; c < copies; ++c) gemv(c);
    reps = 0;
    const double c0 = cpu_now();
    t0 = now();
    do {
      for (int c = 0; c < copies; ++c) gemv(c);
      reps += copies;
      t1 = now();
    } while (t1 - t0 < 1.0);
    gbs = double(mat) * reps / (t1 - t0) / 1e9;
    cpu_gbs = double(mat) * reps / (cpu_now() - c0) / 1e9 * threads;
    // decode from cache: a 256-row slice (fits in L2) again and again,
    // which shows the kernel's own speed apart from memory.
    const int64_t Nc = 256;
    WeightView Wc{t, K, Nc, w.data(), rb};
    int creps = 0;
    const double h0 = cpu_now();
    double h1;
    do {
      for (int i = 0; i < 100; ++i) matmul_isa(isa, Wc, x.data(), 1, K, y.data(), Nc, pool, scratch);
      creps += 100;
      h1 = cpu_now();
    } while (h1 - h0 < 0.5 * threads);
    cache_gbs = double(rb) * Nc * creps / (h1 - h0) / 1e9 * threads;
    }
    // prefill: M = 512 on one copy; the best of 5 samples (a busy or
    // drifting host only ever makes a sample slower)
    WeightView W{t, K, N, w.data(), rb};
    matmul_isa(isa, W, x.data(), 512, K, y.data(), N, pool, scratch);
    double gmacs = 0, cpu_gmacs = 0;
    for (int sample = 0; sample < 5; ++sample) {
      int preps = 0;
      const double q0 = cpu_now();
      const double p0 = now();
      double p1;
      do {
        matmul_isa(isa, W, x.data(), 512, K, y.data(), N, pool, scratch);
        ++preps;
        p1 = now();
      } while (p1 - p0 < 0.3);
      gmacs = std::max(gmacs, double(K) * N * 512 * preps / (p1 - p0) / 1e9);
      cpu_gmacs = std::max(cpu_gmacs, double(K) * N * 512 * preps / (cpu_now() - q0) / 1e9 * threads);
    }
    std::printf("| %-7s | %-11s | %d | %7.2f GB/s (%6.1f us) | %7.2f | %7.2f | %7.1f GMAC/s | %7.1f |\n",
                type_traits(t)->name, matmul_isa_name(isa), threads, gbs, (t1 - t0) / reps * 1e6, cpu_gbs,
                cache_gbs, gmacs, cpu_gmacs);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<GgmlType> types;
  bool fast_only = false;     // --fast: skip the portable kernels (slow, not what is being tuned)
  bool prefill_only = false;  // --prefill: one thread, prefill only (kernel tuning)
  for (int i = 1; i < argc; ++i) {
    GgmlType t;
    if (std::string(argv[i]) == "--fast") fast_only = true;
    else if (std::string(argv[i]) == "--prefill") prefill_only = true;
    else if (std::string(argv[i]) == "--rows" && i + 1 < argc) g_rows = std::max(1, std::min(8, std::atoi(argv[++i])));
    else if (type_from_name(argv[i], &t)) types.push_back(t);
  }
  if (types.empty())
    types = {GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::F32, GgmlType::F16, GgmlType::BF16};
  std::printf(
      "| type | kernels | threads | decode K=1024 N=3584 | per CPU-s x threads | from L2, per CPU-s | prefill M=512 | per CPU-s x threads |\n"
      "|---|---|---|---|---|---|---|---|\n");
  for (GgmlType t : types)
    for (MatmulIsa isa : {MatmulIsa::Portable, MatmulIsa::Avx2, MatmulIsa::Avx512})
      if (matmul_isa_available(isa) && !(fast_only && isa == MatmulIsa::Portable)) bench_type(t, isa, prefill_only);
}
