// Microbenchmark of the gated delta rule for one head over a prefill
// segment, one thread: the recurrent kernel (delta_net_recurrent, this CPU's
// best set) against the chunked form (delta_net_chunked, chunk 64 / 32 / 16)
// and, for scale, the plain chunked form. Times are the best of 40 runs
// taken in turns (state reset before each, outside the timing).
//
//   cmake --build build --target dllm_ops   (the util, formats and ops objects)
//   c++ -O2 -std=c++20 -Isrc bench/deltanet_bench.cpp -lpthread -o build/deltanet_bench
//       $(find build/CMakeFiles/dllm_{ops,util,formats}.dir -name '*.o')
//   (one command line)
//   (or link build/lib/libdeltallm.a -lpthread -lpcre2-8 -lutf8proc after building deltallm_static)
//   build/deltanet_bench [n_tokens=512] [d=128]
//
// MAC counts per token (kernels.md §5.4): recurrent 3*d^2 (+ d^2 decay
// multiplies, not counted); chunked as this implementation does them:
// 3*d^2 (state GEMMs) + C*d (Gram k.k and q.k, lower halves) + C*d (T*R and
// P*U, lower halves) + ~C^2/6 (T).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "ops/deltanet.h"
#include "ops/mixer_kernels.h"

using namespace dllm;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 512;
  const int d = argc > 2 ? std::atoi(argv[2]) : 128;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  // The layer's layout: q | k | v per token row.
  const int64_t row = 3 * d;
  std::vector<float> qkv(size_t(row) * n), g(n), b(n), state0(size_t(d) * d), state, out(size_t(n) * d);
  for (float& x : qkv) x = u(rng);
  for (int t = 0; t < n; ++t)
    for (int part = 0; part < 2; ++part) {
      float* x = qkv.data() + t * row + part * d;
      double ss = 0;
      for (int i = 0; i < d; ++i) ss += double(x[i]) * x[i];
      for (int i = 0; i < d; ++i) x[i] = float(x[i] / std::sqrt(ss));
    }
  for (int t = 0; t < n; ++t) {
    g[t] = -0.5f * (u(rng) + 1.0f);
    b[t] = 2 * u(rng);
  }
  for (float& x : state0) x = 0.1f * u(rng);
  DeltaNetHeadArgs a;
  a.q = qkv.data();
  a.k = qkv.data() + d;
  a.v = qkv.data() + 2 * d;
  a.qk_stride = a.v_stride = row;
  a.g = g.data();
  a.b = b.data();
  a.gb_stride = 1;
  a.out = out.data();
  a.out_stride = d;
  a.n_tokens = n;
  a.dk = a.dv = d;
  a.scale = 1.0f / std::sqrt(float(d));

  // The variants take turns, rep after rep, so that a busy phase of the
  // machine hits all of them alike; each keeps its best time.
  struct Variant {
    const char* name;
    int chunk;  // 0: recurrent; < 0: plain chunked with -chunk
    double best = 1e30;
  };
  std::vector<Variant> vs{{"recurrent", 0}, {"chunked C=64", 64}, {"chunked C=32", 32}, {"chunked C=16", 16},
                          {"chunked plain C=64", -64}};
  for (int rep = 0; rep < 40; ++rep)
    for (Variant& v : vs) {
      if (v.chunk < 0 && rep >= 5) continue;  // slow; a few runs say enough
      state = state0;
      a.state = state.data();
      const double t0 = now();
      if (v.chunk == 0)
        delta_net_recurrent(a);
      else if (v.chunk > 0)
        delta_net_chunked(a, v.chunk);
      else
        delta_net_chunked_ref(a, -v.chunk, 0, d);
      v.best = std::min(v.best, now() - t0);
    }
  std::printf("one head, %d tokens, dk = dv = %d, 1 thread, kernel set %s, best of 40 interleaved runs\n", n, d,
              mixer_kernels().name);
  const double rec = vs[0].best * 1e6;
  for (const Variant& v : vs) {
    const double us = v.best * 1e6;
    const int C = v.chunk < 0 ? -v.chunk : v.chunk;
    const double macs = v.chunk == 0 ? 3.0 * d * d * n : (3.0 * d * d + 2.0 * C * d + C * C / 6.0) * n;
    std::printf("%-20s %9.1f us  %6.3f us/token  %6.2f GMAC/s  recurrent/this = %.2f\n", v.name, us, us / n,
                macs / us * 1e-3, rec / us);
  }
  return 0;
}
