// The chunked gated delta rule (delta_net_chunked, every kernel set) against
// the recurrent reference: outputs and final state within 1e-5 relative for
// chunk sizes 64 / 32 / 16, token counts around the chunk boundaries, a
// non-zero initial state, strong (-10..-20 per token), weak (-0.01) and mixed
// decays, head sizes 128, 64, 32 and odd ones (vector tails). Also: output
// padding untouched, checkpoints and chunk < 1 refused, a growing gate takes
// the recurrent kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/deltanet.h"
#include "ops/mixer_kernels.h"
#include "util/error.h"

namespace dllm {
namespace {

// A chunked kernel and the recurrent kernel of the same set.
struct NamedSet {
  std::string name;
  void (*run)(const DeltaNetHeadArgs&, int);
  void (*recurrent)(const DeltaNetHeadArgs&);
};

std::vector<NamedSet> chunked_sets() {
  std::vector<NamedSet> v;
  auto add = [&](const MixerKernels* k) {
    if (k) v.push_back({k->name, k->delta_net_chunked, k->delta_net});
  };
  add(&mixer_kernels_portable());
  add(mixer_kernels_avx2());
  add(mixer_kernels_avx512());
  v.push_back({"dispatch", &delta_net_chunked, &delta_net_recurrent});
  return v;
}

enum class Decay { kStrong, kWeak, kMixed };

// One head's inputs laid out as in the layer: q | k | v | padding per token
// row, gates strided, out rows one float wider than dv (a sentinel column).
struct Case {
  int dk, dv, n;
  int64_t row;
  std::vector<float> qkv, g, b, state0;
  Case(int dk_, int dv_, int n_, Decay decay, uint32_t seed) : dk(dk_), dv(dv_), n(n_) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1, 1);
    row = 2 * dk + dv + 3;
    qkv.resize(size_t(row) * n);
    for (float& x : qkv) x = u(rng);
    for (int t = 0; t < n; ++t)
      for (int part = 0; part < 2; ++part) {  // L2-normalise q and k
        float* x = qkv.data() + t * row + part * dk;
        double ss = 0;
        for (int i = 0; i < dk; ++i) ss += double(x[i]) * x[i];
        for (int i = 0; i < dk; ++i) x[i] = float(x[i] / std::sqrt(ss));
      }
    g.resize(size_t(n) * 2);
    b.resize(size_t(n) * 2);
    for (size_t i = 0; i < g.size(); ++i) {
      const float x = 0.5f * (u(rng) + 1);  // [0, 1)
      switch (decay) {
        case Decay::kStrong: g[i] = -10 - 10 * x; break;
        case Decay::kWeak: g[i] = -0.01f * (0.5f + x); break;
        case Decay::kMixed: g[i] = x < 0.2f ? -15 * x : -0.05f * x; break;  // occasional strong resets
      }
      b[i] = 3 * u(rng);
    }
    state0.resize(size_t(dk) * dv);
    for (float& x : state0) x = 0.5f * u(rng);
  }
  DeltaNetHeadArgs args(float* state, float* out) const {
    DeltaNetHeadArgs a;
    a.state = state;
    a.q = qkv.data();
    a.k = qkv.data() + dk;
    a.qk_stride = row;
    a.v = qkv.data() + 2 * dk;
    a.v_stride = row;
    a.g = g.data();
    a.b = b.data();
    a.gb_stride = 2;
    a.out = out;
    a.out_stride = dv + 1;
    a.n_tokens = n;
    a.dk = dk;
    a.dv = dv;
    a.scale = 1.0f / std::sqrt(float(dk));
    return a;
  }
};

struct Result {
  std::vector<float> out, state;
};

Result run_ref(const Case& c) {
  Result r{std::vector<float>(size_t(c.n) * (c.dv + 1), -7.0f), c.state0};
  delta_net_recurrent_ref(c.args(r.state.data(), r.out.data()), 0, c.dv);
  return r;
}
Result run_chunked(const NamedSet& s, const Case& c, int chunk) {
  Result r{std::vector<float>(size_t(c.n) * (c.dv + 1), -7.0f), c.state0};
  s.run(c.args(r.state.data(), r.out.data()), chunk);
  return r;
}

// max |a - b| / max(max |b|, 1e-3).
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 1e-3;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, double(std::fabs(a[i] - b[i])));
    den = std::max(den, double(std::fabs(b[i])));
  }
  return num / den;
}

void expect_match(const NamedSet& s, const Case& c, int chunk) {
  const Result want = run_ref(c);
  const Result got = run_chunked(s, c, chunk);
  EXPECT_LT(rel_diff(got.out, want.out), 1e-5);
  EXPECT_LT(rel_diff(got.state, want.state), 1e-5);
  for (int t = 0; t < c.n; ++t) ASSERT_EQ(got.out[size_t(t) * (c.dv + 1) + c.dv], -7.0f) << "token " << t;
}

const char* decay_name(Decay d) { return d == Decay::kStrong ? "strong" : d == Decay::kWeak ? "weak" : "mixed"; }

TEST(DeltaNetChunked, MatchesRecurrentHead128) {
  uint32_t seed = 1;
  for (const NamedSet& s : chunked_sets())
    for (Decay d : {Decay::kStrong, Decay::kWeak, Decay::kMixed})
      for (int n : {1, 63, 64, 65, 200}) {
        SCOPED_TRACE(s.name + " " + decay_name(d) + " n=" + std::to_string(n));
        expect_match(s, Case(128, 128, n, d, seed++), 64);
      }
}

TEST(DeltaNetChunked, MatchesRecurrentSmallerChunks) {
  uint32_t seed = 100;
  for (const NamedSet& s : chunked_sets())
    for (int chunk : {16, 32, 7})
      for (Decay d : {Decay::kStrong, Decay::kWeak})
        for (int n : {1, chunk - 1, chunk + 1, 200}) {
          SCOPED_TRACE(s.name + " chunk=" + std::to_string(chunk) + " " + decay_name(d) + " n=" + std::to_string(n));
          expect_match(s, Case(128, 128, n, d, seed++), chunk);
        }
}

TEST(DeltaNetChunked, MatchesRecurrentOtherHeadSizes) {
  uint32_t seed = 200;
  const int sizes[][2] = {{64, 64}, {32, 32}, {32, 48}, {13, 40}, {24, 44}, {128, 7}, {200, 256}};
  for (const NamedSet& s : chunked_sets())
    for (const auto& dkdv : sizes)
      for (int n : {1, 65, 130}) {
        SCOPED_TRACE(s.name + " dk=" + std::to_string(dkdv[0]) + " dv=" + std::to_string(dkdv[1]) +
                     " n=" + std::to_string(n));
        expect_match(s, Case(dkdv[0], dkdv[1], n, Decay::kMixed, seed++), 64);
      }
}

TEST(DeltaNetChunked, RefusesCheckpointsAndBadChunk) {
  const Case c(32, 32, 5, Decay::kWeak, 7);
  std::vector<float> state = c.state0, out(size_t(c.n) * (c.dv + 1)), ck(size_t(c.n) * 32 * 32);
  for (const NamedSet& s : chunked_sets()) {
    SCOPED_TRACE(s.name);
    DeltaNetHeadArgs a = c.args(state.data(), out.data());
    EXPECT_THROW(s.run(a, 0), Error);
    a.checkpoints = ck.data();
    a.checkpoint_stride = 32 * 32;
    EXPECT_THROW(s.run(a, 64), Error);
  }
}

TEST(DeltaNetChunked, GrowingGateTakesTheRecurrentKernel) {
  Case c(64, 64, 70, Decay::kWeak, 9);
  c.g[2 * 40] = 0.5f;  // g > 0: exp(gamma_r - gamma_s) is no longer bounded by 1
  for (const NamedSet& s : chunked_sets()) {
    SCOPED_TRACE(s.name);
    Result want{std::vector<float>(size_t(c.n) * (c.dv + 1), -7.0f), c.state0};
    s.recurrent(c.args(want.state.data(), want.out.data()));
    const Result got = run_chunked(s, c, 64);
    EXPECT_EQ(got.out, want.out);
    EXPECT_EQ(got.state, want.state);
  }
}

}  // namespace
}  // namespace dllm
