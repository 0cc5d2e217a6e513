#include "gen/random_rows.h"

#include <cmath>

namespace dllm::gen {

namespace {
inline uint64_t next(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;
  return mix64(state);
}
}  // namespace

void fill_random_row(Init init, float a, float b, uint64_t state, float* out, int64_t n) {
  switch (init) {
    case Init::Normal: {
      // Irwin-Hall: the sum of four 16-bit uniforms, centred and scaled to
      // unit variance, is close to normal (bounded by ±3.46 sigma) and costs
      // one 64-bit draw, which keeps a 0.8B model fast to generate.
      const double sd_sum = std::sqrt(4.0 * (65536.0 * 65536.0 - 1.0) / 12.0);
      const float scale = static_cast<float>(b / sd_sum);
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t r = next(state);
        const int64_t s = int64_t(r & 0xFFFF) + int64_t((r >> 16) & 0xFFFF) + int64_t((r >> 32) & 0xFFFF) +
                          int64_t(r >> 48) - 2 * 65535;
        out[i] = a + scale * static_cast<float>(s);
      }
      break;
    }
    case Init::Uniform:
    case Init::NegExp:
      for (int64_t i = 0; i < n; ++i) {
        const float u = static_cast<float>(next(state) >> 40) * 0x1p-24f;  // [0, 1)
        const float x = a + (b - a) * u;
        out[i] = init == Init::Uniform ? x : -std::exp(x);
      }
      break;
  }
}

}  // namespace dllm::gen
