// The float peaks of one core, for the issue's "80% of the machine's measured
// bf16 / fp32 FMA peak": 24 independent accumulators (enough to cover the
// latency), no memory traffic. Also the BF16 prefill tile's shape (6 weight
// rows x 4 activation rows of vdpbf16ps, K = 1024 from L1/L2) with its
// weight rows at a 64-byte-aligned and a 32-byte-offset address (GGUF
// aligns tensors to 32 bytes). Needs AVX-512 BF16.
//
//   c++ -O3 -march=native -std=c++20 bench/fma_peak.cpp -o /tmp/fma_peak && /tmp/fma_peak
#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// G multiply-adds/s of vdpbf16ps (32 per instruction) and of vfmadd231ps (16).
void peaks(double* bf16, double* fp32) {
  constexpr long kIters = 20000000;
  __m512 acc[24], f[24];
  for (int i = 0; i < 24; ++i) acc[i] = f[i] = _mm512_setzero_ps();
  __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80);
  __m512 b = _mm512_set1_ps(1e-9f);
  auto t0 = std::chrono::steady_clock::now();
  for (long it = 0; it < kIters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, a);
    asm("" : "+v"(a));  // keeps the loop from being folded
  }
  *bf16 = double(kIters) * 24 * 32 / seconds_since(t0) / 1e9;
  t0 = std::chrono::steady_clock::now();
  for (long it = 0; it < kIters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) f[i] = _mm512_fmadd_ps(f[i], b, f[i]);
    asm("" : "+v"(b));
  }
  *fp32 = double(kIters) * 24 * 16 / seconds_since(t0) / 1e9;
  float s = 0;
  for (int i = 0; i < 24; ++i) s += _mm512_reduce_add_ps(acc[i]) + _mm512_reduce_add_ps(f[i]);
  if (s == 1.2345f) std::puts("");  // keeps the results live
}

// The 6 x 4 tile over K elements, `reps` times, activation rows cycling
// through 32 groups of 4 (256 KiB at K = 1024: L2).
double bf16_tile(const uint16_t* w, const uint16_t* x, int K, long reps) {
  float sink = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long rep = 0; rep < reps; ++rep) {
    const uint16_t* xr = x + (rep % 32) * 4 * K;
    __m512 acc[6][4];
    for (auto& row : acc)
      for (auto& v : row) v = _mm512_setzero_ps();
    for (int k = 0; k < K; k += 32) {
      __m512bh xv[4];
      for (int j = 0; j < 4; ++j) xv[j] = (__m512bh)_mm512_loadu_si512(xr + j * K + k);
      for (int r = 0; r < 6; ++r) {
        const __m512bh wv = (__m512bh)_mm512_loadu_si512(w + r * K + k);
        for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], wv, xv[j]);
      }
    }
    for (auto& row : acc)
      for (auto& v : row) sink += _mm512_reduce_add_ps(v);
  }
  if (sink == 1.5f) std::puts("");
  return double(reps) * K * 24 / seconds_since(t0) / 1e9;
}

}  // namespace

int main() {
  constexpr int K = 1024;
  auto* wbuf = static_cast<uint16_t*>(std::aligned_alloc(64, 6 * K * 2 + 64));
  auto* xbuf = static_cast<uint16_t*>(std::aligned_alloc(64, 128 * K * 2));
  for (int i = 0; i < 6 * K + 32; ++i) wbuf[i] = 0x3f80;
  for (int i = 0; i < 128 * K; ++i) xbuf[i] = 0x3f80;
  for (int round = 0; round < 3; ++round) {
    double bf16, fp32;
    peaks(&bf16, &fp32);
    std::printf("peak bf16 dot %.1f, fp32 fma %.1f | bf16 6x4 tile: aligned %.1f, +32 bytes %.1f"
                "  (G multiply-adds/s)\n",
                bf16, fp32, bf16_tile(wbuf, xbuf, K, 400000), bf16_tile(wbuf + 16, xbuf, K, 400000));
  }
  std::free(wbuf);
  std::free(xbuf);
}
