// Probe of the int8 prefill tile's shape (pnl::tile16 in src/ops/matmul/panels_avx2.h):
// 16 weight rows per zmm (4 bytes per lane), MT activation rows broadcast 4 bytes
// at a time, K = 1024 from L1/L2, one thread. Variants add the float work the
// canonical order does per 32-block and activation row, to show what it costs:
//   int       the integer dots alone (the int8 peak)
//   f1-stack  convert, multiply, fma into accumulator b % 8 (8 x MT on the stack)
//   f1-reg    the same into one accumulator per row (registers)
//   f2-stack / f2-reg  a second fma per block (Q4_K's mins)
// Needs AVX-512 VNNI.
//
//   c++ -O3 -march=native -std=c++20 bench/tile_probe.cpp -o /tmp/tile_probe && /tmp/tile_probe
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr int kK = 1024, kBlocks = kK / 32, kM = 512;

enum Float { kInt, kF1Stack, kF1Reg, kF2Stack, kF2Reg };

template <int MT, Float F>
__attribute__((noinline)) void tile(const uint8_t* qp, const int8_t* const* a, const float* dw,
                                    const float* const* da, __m512* stack_accs, __m512i* out) {
  constexpr bool kStack = F == kF1Stack || F == kF2Stack;
  constexpr bool kMins = F == kF2Stack || F == kF2Reg;
  __m512i isum[MT];
  __m512 reg_acc[MT];
  for (int j = 0; j < MT; ++j) isum[j] = _mm512_setzero_si512(), reg_acc[j] = _mm512_setzero_ps();
  for (int b = 0; b < kBlocks; ++b) {
    __m512i t[MT];
    for (int j = 0; j < MT; ++j) t[j] = _mm512_setzero_si512();
    for (int i = 0; i < 8; ++i) {
      const __m512i w = _mm512_load_si512(qp + 512 * b + 64 * i);
      for (int j = 0; j < MT; ++j) {
        int32_t v;
        std::memcpy(&v, a[j] + 32 * b + 4 * i, 4);
        t[j] = _mm512_dpbusd_epi32(t[j], w, _mm512_set1_epi32(v));
      }
    }
    if constexpr (F == kInt) {
      for (int j = 0; j < MT; ++j) isum[j] = _mm512_add_epi32(isum[j], t[j]);
    } else {
      __m512* acc = kStack ? stack_accs + (b % 8) * MT : reg_acc;
      const __m512 d = _mm512_loadu_ps(dw + 16 * b);
      for (int j = 0; j < MT; ++j) {
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t[j]), _mm512_mul_ps(d, _mm512_set1_ps(da[j][b])), acc[j]);
        if constexpr (kMins) acc[j] = _mm512_fmadd_ps(d, _mm512_set1_ps(da[j][b + 1]), acc[j]);
      }
    }
  }
  for (int j = 0; j < MT; ++j) out[j] = _mm512_add_epi32(isum[j], _mm512_castps_si512(reg_acc[j]));
}

template <int MT, Float F>
void run(const char* name) {
  alignas(64) static uint8_t qp[16 * kK];
  alignas(64) static __m512 stack_accs[8 * MT];
  alignas(64) __m512i out[MT];
  for (auto& x : qp) x = uint8_t(std::rand() & 15);
  std::vector<int8_t> act(size_t(kM) * kK);
  for (auto& x : act) x = int8_t(std::rand());
  std::vector<float> dw(16 * kBlocks, 1.0f), dav(size_t(kM) * (kBlocks + 1), 0.5f);
  double best = 1e9;
  for (int rep = 0; rep < 20; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int it = 0; it < 10; ++it)
      for (int m = 0; m + MT <= kM; m += MT) {
        const int8_t* a[MT];
        const float* da[MT];
        for (int j = 0; j < MT; ++j) {
          a[j] = act.data() + size_t(m + j) * kK;
          da[j] = dav.data() + size_t(m + j) * (kBlocks + 1);
        }
        tile<MT, F>(qp, a, dw.data(), da, stack_accs, out);
      }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double macs = 10.0 * (kM / MT * MT) * 16.0 * kK;
  std::printf("%-9s MT=%d: %6.1f G multiply-adds/s\n", name, MT, macs / best / 1e9);
}

}  // namespace

int main() {
  run<8, kInt>("int");
  run<8, kF1Stack>("f1-stack");
  run<8, kF1Reg>("f1-reg");
  run<8, kF2Stack>("f2-stack");
  run<8, kF2Reg>("f2-reg");
  return 0;
}
