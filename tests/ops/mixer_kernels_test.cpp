// The token-mixing kernel sets (AVX-512, AVX2, whichever this CPU runs)
// against the plain references: the gated delta rule (outputs, final state,
// per-step checkpoints, value-column tails, batch == one token at a time bit
// for bit, NaN kept), the causal conv1d (kernel width 4 and others, channel
// tails, sub-ranges), one-query attention (f16 / f32 cache, GQA, head sizes
// with and without a vector tail) and the vectorised activations (exp_fast
// against libm; every set gives the scalar functions' bits).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/attention.h"
#include "ops/deltanet.h"
#include "ops/elementwise.h"
#include "ops/mixer_kernels.h"
#include "util/fp16.h"

namespace dllm {
namespace {

std::vector<const MixerKernels*> simd_sets() {
  std::vector<const MixerKernels*> v;
  if (const MixerKernels* k = mixer_kernels_avx512()) v.push_back(k);
  if (const MixerKernels* k = mixer_kernels_avx2()) v.push_back(k);
  return v;
}

std::vector<float> random_vec(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// max |a - b| / max(max |b|, 1e-3): relative to the size of the values.
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 1e-3;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, double(std::fabs(a[i] - b[i])));
    den = std::max(den, double(std::fabs(b[i])));
  }
  return num / den;
}

// One head's inputs laid out as in the layer: q, k, v interleaved per token
// in a wider row (qk_stride / v_stride), gates strided.
struct DeltaCase {
  int dk, dv, n;
  std::vector<float> qkv, g, b, state0;
  int64_t row;  // floats per token row: q | k | v | padding
  DeltaCase(int dk_, int dv_, int n_, uint32_t seed) : dk(dk_), dv(dv_), n(n_) {
    std::mt19937 rng(seed);
    row = 2 * dk + dv + 3;
    qkv = random_vec(rng, size_t(row) * n, -1, 1);
    for (int t = 0; t < n; ++t)
      for (int part = 0; part < 2; ++part) {  // L2-normalise q and k
        float* x = qkv.data() + t * row + part * dk;
        double ss = 0;
        for (int i = 0; i < dk; ++i) ss += double(x[i]) * x[i];
        for (int i = 0; i < dk; ++i) x[i] = float(x[i] / std::sqrt(ss));
      }
    g = random_vec(rng, size_t(n) * 2, -4, 0);
    b = random_vec(rng, size_t(n) * 2, -3, 3);
    state0 = random_vec(rng, size_t(dk) * dv, -0.5f, 0.5f);
  }
  // Arguments for tokens [t0, t0 + len), writing out/state/checkpoints.
  DeltaNetHeadArgs args(int t0, int len, float* state, float* out, float* ck) const {
    DeltaNetHeadArgs a;
    a.state = state;
    a.q = qkv.data() + t0 * row;
    a.k = qkv.data() + t0 * row + dk;
    a.qk_stride = row;
    a.v = qkv.data() + t0 * row + 2 * dk;
    a.v_stride = row;
    a.g = g.data() + t0 * 2;
    a.b = b.data() + t0 * 2;
    a.gb_stride = 2;
    a.out = out + int64_t(t0) * (dv + 1);
    a.out_stride = dv + 1;
    a.n_tokens = len;
    a.dk = dk;
    a.dv = dv;
    a.scale = 1.0f / std::sqrt(float(dk));
    a.checkpoints = ck;
    a.checkpoint_stride = ck ? int64_t(dk) * dv : 0;
    return a;
  }
};

struct DeltaResult {
  std::vector<float> out, state, ck;
};

DeltaResult run_delta(const MixerKernels& k, const DeltaCase& c, bool one_by_one, bool checkpoints) {
  DeltaResult r;
  r.out.assign(size_t(c.n) * (c.dv + 1), -7.0f);  // the padding column must stay untouched
  r.state = c.state0;
  if (checkpoints) r.ck.assign(size_t(c.n) * c.dk * c.dv, 0.0f);
  if (one_by_one) {
    for (int t = 0; t < c.n; ++t)
      k.delta_net(c.args(t, 1, r.state.data(), r.out.data(), checkpoints ? r.ck.data() + size_t(t) * c.dk * c.dv : nullptr));
  } else {
    k.delta_net(c.args(0, c.n, r.state.data(), r.out.data(), checkpoints ? r.ck.data() : nullptr));
  }
  return r;
}

TEST(MixerKernels, BestSetIsNamed) {
  const std::string name = mixer_kernels().name;
  EXPECT_TRUE(name == "avx512" || name == "avx2" || name == "portable") << name;
  if (simd_sets().empty()) GTEST_SKIP() << "no SIMD kernel set on this CPU";
}

TEST(MixerKernels, DeltaNetMatchesReference) {
  const MixerKernels& ref = mixer_kernels_portable();
  int seed = 1;
  for (const MixerKernels* k : simd_sets())
    for (int dk : {16, 128, 13})
      for (int dv : {128, 16, 40, 7})
        for (int n : {1, 2, 37}) {
          SCOPED_TRACE(std::string(k->name) + " dk=" + std::to_string(dk) + " dv=" + std::to_string(dv) +
                       " n=" + std::to_string(n));
          const DeltaCase c(dk, dv, n, uint32_t(seed++));
          const DeltaResult want = run_delta(ref, c, false, true);
          const DeltaResult got = run_delta(*k, c, false, true);
          EXPECT_LT(rel_diff(got.out, want.out), 2e-6);
          EXPECT_LT(rel_diff(got.state, want.state), 2e-6);
          EXPECT_LT(rel_diff(got.ck, want.ck), 2e-6);
          for (int t = 0; t < n; ++t) EXPECT_EQ(got.out[size_t(t) * (dv + 1) + dv], -7.0f);
          // The last checkpoint is the final state, bit for bit.
          EXPECT_EQ(std::memcmp(got.ck.data() + size_t(n - 1) * dk * dv, got.state.data(), sizeof(float) * dk * dv), 0);
        }
}

TEST(MixerKernels, DeltaNetBatchEqualsOneByOne) {
  std::vector<const MixerKernels*> sets = simd_sets();
  sets.push_back(&mixer_kernels_portable());
  for (const MixerKernels* k : sets)
    for (int dv : {128, 40}) {
      SCOPED_TRACE(std::string(k->name) + " dv=" + std::to_string(dv));
      const DeltaCase c(128, dv, 19, 99);
      const DeltaResult batch = run_delta(*k, c, false, true);
      const DeltaResult single = run_delta(*k, c, true, true);
      EXPECT_EQ(batch.out, single.out);
      EXPECT_EQ(batch.state, single.state);
      EXPECT_EQ(batch.ck, single.ck);
    }
}

TEST(MixerKernels, DeltaNetClampsAndKeepsNaN) {
  for (const MixerKernels* k : simd_sets()) {
    SCOPED_TRACE(k->name);
    DeltaCase c(16, 32, 3, 5);
    for (float& s : c.state0) s = 9e5f;  // alpha*S + k u crosses 1e6 somewhere
    c.state0[3] = NAN;
    c.g.assign(c.g.size(), 0.0f);  // no decay
    const DeltaResult want = run_delta(mixer_kernels_portable(), c, false, false);
    const DeltaResult got = run_delta(*k, c, false, false);
    for (size_t i = 0; i < got.state.size(); ++i) {
      EXPECT_EQ(std::isnan(got.state[i]), std::isnan(want.state[i])) << i;
      if (!std::isnan(want.state[i])) {
        EXPECT_LE(std::fabs(got.state[i]), 1e6f) << i;
        EXPECT_NEAR(got.state[i], want.state[i], 1.0f) << i;
      }
    }
    EXPECT_TRUE(std::isnan(got.state[3]));
  }
}

TEST(MixerKernels, Conv1dMatchesReference) {
  std::mt19937 rng(7);
  for (const MixerKernels* k : simd_sets())
    for (int kc : {4, 3, 2})
      // 300: more channels than one SIMD block (256 with AVX-512) and a tail;
      // 2 tokens: fewer than the window, the state only partly shifted out
      for (int64_t channels : {64, 37, 300})
        for (int n : {1, 2, 9}) {
          SCOPED_TRACE(std::string(k->name) + " kc=" + std::to_string(kc) + " channels=" + std::to_string(channels));
          const int64_t xs = channels + 5;
          const std::vector<float> x = random_vec(rng, size_t(xs) * n, -2, 2);
          const std::vector<float> w = random_vec(rng, size_t(channels) * kc, -1, 1);
          const std::vector<float> st0 = random_vec(rng, size_t(channels) * (kc - 1), -2, 2);
          // in_place: y starts as a copy of x and is also the input (as the layer runs it)
          auto run = [&](const MixerKernels& ks, int64_t c0, int64_t c1, std::vector<float>& st, std::vector<float>& y,
                         bool in_place = false) {
            st = st0;
            if (in_place)
              y = x;
            else
              y.assign(size_t(xs) * n, 0.5f);
            Conv1dArgs a;
            a.state = st.data();
            a.weight = w.data();
            a.x = in_place ? y.data() : x.data();
            a.x_stride = xs;
            a.y = y.data();
            a.y_stride = xs;
            a.n_tokens = n;
            a.channels = channels;
            a.kc = kc;
            ks.conv1d(a, c0, c1);
          };
          for (auto [c0, c1] : {std::pair<int64_t, int64_t>{0, channels}, {3, channels - 2}}) {
            std::vector<float> st_ref, y_ref, st, y;
            run(mixer_kernels_portable(), c0, c1, st_ref, y_ref);
            run(*k, c0, c1, st, y);
            EXPECT_EQ(st, st_ref);  // the state is only shifted
            EXPECT_LT(rel_diff(y, y_ref), 1e-6);
            // In place (y == x, as the layer runs it): the same outputs and state.
            std::vector<float> st_in, io;
            run(*k, c0, c1, st_in, io, true);
            EXPECT_EQ(st_in, st);
            for (int t = 0; t < n; ++t)
              for (int64_t ch = c0; ch < c1; ++ch) EXPECT_EQ(io[size_t(t * xs + ch)], y[size_t(t * xs + ch)]);
            for (int t = 0; t < n; ++t)
              for (int64_t ch = 0; ch < xs; ++ch) {
                if (ch < c0 || ch >= c1) {
                  EXPECT_EQ(y[size_t(t * xs + ch)], 0.5f);
                }
              }
          }
        }
}

TEST(MixerKernels, AttentionMatchesReference) {
  std::mt19937 rng(11);
  for (const MixerKernels* k : simd_sets())
    for (bool f16 : {true, false})
      for (int head_dim : {256, 32, 24})
        for (int64_t n_kv : {1, 3, 63, 64, 65, 130, 1000, 5000}) {
          SCOPED_TRACE(std::string(k->name) + (f16 ? " f16" : " f32") + " D=" + std::to_string(head_dim) +
                       " n_kv=" + std::to_string(n_kv));
          // 6 query heads on 2 KV heads: groups of 3, heads 1..5 give a group
          // cut by the range (1..2) and a whole one (3..5)
          const int n_heads = 6, n_kv_heads = 2;
          const int64_t row = int64_t(n_kv_heads) * head_dim;
          const std::vector<float> q = random_vec(rng, size_t(n_heads) * head_dim, -1, 1);
          std::vector<float> kf = random_vec(rng, size_t(n_kv * row), -1, 1), vf = random_vec(rng, size_t(n_kv * row), -1, 1);
          std::vector<uint16_t> kh(kf.size()), vh(vf.size());
          for (size_t i = 0; i < kf.size(); ++i) {
            kh[i] = f32_to_f16(kf[i]);
            vh[i] = f32_to_f16(vf[i]);
          }
          KvRows kv;
          kv.f16 = f16;
          kv.k = f16 ? static_cast<const void*>(kh.data()) : kf.data();
          kv.v = f16 ? static_cast<const void*>(vh.data()) : vf.data();
          const float scale = 1.0f / std::sqrt(float(head_dim));
          std::vector<float> want(q.size(), 0.0f), got(q.size(), 0.0f), scores{};
          scores.resize(size_t(n_kv));
          mixer_kernels_portable().attention(q.data(), n_heads, n_kv_heads, head_dim, kv, n_kv, scale, want.data(),
                                             scores.data(), 0, n_heads);
          // Heads 1..3 only: head 0 must stay as it was.
          k->attention(q.data(), n_heads, n_kv_heads, head_dim, kv, n_kv, scale, got.data(), scores.data(), 1, n_heads);
          for (int d = 0; d < head_dim; ++d) EXPECT_EQ(got[size_t(d)], 0.0f);
          std::copy(want.begin(), want.begin() + head_dim, got.begin());
          // Both sides sum thousands of float terms in different orders
          // (flash: online softmax, key blocks): the 1e-5 from 1000 keys on.
          EXPECT_LT(rel_diff(got, want), n_kv >= 1000 ? 1e-5 : 2e-6);
        }
}

TEST(MixerKernels, ExpFastWithinTwoUlpOfLibm) {
  // Over the normal range (below ln(FLT_MIN) the result is held at FLT_MIN
  // instead of going subnormal).
  double worst = 0;
  for (float x = -87.3f; x <= 88.72f; x += 0.0137f) {
    const double want = std::exp(double(x)), got = exp_fast(x);
    worst = std::max(worst, std::abs(got - want) / want);
  }
  EXPECT_LT(worst, 2.5e-7);  // 2 ulp of float is 2.4e-7 relative at worst
  EXPECT_EQ(exp_fast(0.0f), 1.0f);
  EXPECT_GT(exp_fast(-1000.0f), 0.0f);
  EXPECT_LT(exp_fast(-1000.0f), 1.2e-38f);
  EXPECT_TRUE(std::isfinite(exp_fast(88.72f)));
  EXPECT_EQ(exp_fast(88.73f), INFINITY);
  EXPECT_TRUE(std::isnan(exp_fast(NAN)));
  EXPECT_EQ(silu(-1000.0f), -0.0f);
  EXPECT_EQ(sigmoid(1000.0f), 1.0f);
}

TEST(MixerKernels, ActivationsGiveTheScalarBits) {
  std::mt19937 rng(77);
  std::vector<const MixerKernels*> sets = simd_sets();
  sets.push_back(&mixer_kernels_portable());
  for (const MixerKernels* k : sets)
    for (int64_t n : {1, 7, 8, 9, 31, 64, 1000}) {
      std::vector<float> a = random_vec(rng, size_t(n), -30.0f, 30.0f);
      if (n > 3) a[1] = -200.0f, a[2] = 200.0f, a[3] = 0.0f;  // both clamps and zero
      const std::vector<float> b = random_vec(rng, size_t(n), -3.0f, 3.0f);
      std::vector<float> x = a;
      k->silu_mul(x.data(), b.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(x[i], silu(a[i]) * b[i]) << k->name << " silu_mul n=" << n;
      x = a;
      k->silu_inplace(x.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(x[i], silu(a[i])) << k->name << " silu n=" << n;
      x = b;
      k->mul_silu(x.data(), a.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(x[i], b[i] * silu(a[i])) << k->name << " mul_silu n=" << n;
      x = b;
      k->mul_sigmoid(x.data(), a.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(x[i], b[i] * sigmoid(a[i])) << k->name << " mul_sigmoid n=" << n;
      x = a;
      k->exp_shifted(x.data(), n, 4.5f);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(x[i], exp_fast(a[i] - 4.5f)) << k->name << " exp n=" << n;
    }
}

}  // namespace
}  // namespace dllm
