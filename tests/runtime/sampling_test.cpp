// Sampler chain (kernels.md §7.1): each stage against a direct computation in
// double precision, the dist draw against the inverse CDF of the same
// mt19937 stream, frequencies against a known distribution, penalties on
// exactly the tokens in the window.
#include "runtime/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "util/error.h"

namespace dllm {
namespace {

std::vector<float> random_logits(int n, uint32_t seed, float scale = 3.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n), 0.0f);
  for (float& x : v) x = d(g);
  return v;
}

Candidates make(const std::vector<float>& logits) {
  Candidates c;
  for (size_t i = 0; i < logits.size(); ++i) c.data.push_back({int32_t(i), logits[i], 0});
  return c;
}

std::set<int32_t> ids(const Candidates& c) {
  std::set<int32_t> s;
  for (const TokenCandidate& t : c.data) s.insert(t.id);
  return s;
}

// Indices sorted by descending logit (ties by id), computed independently.
std::vector<int32_t> order_desc(const std::vector<float>& l) {
  std::vector<int32_t> idx(l.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  return idx;
}

std::vector<double> probs(const std::vector<float>& l) {
  double mx = *std::max_element(l.begin(), l.end()), sum = 0;
  std::vector<double> p(l.size());
  for (size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp(double(l[i]) - mx);
  for (double& x : p) x /= sum;
  return p;
}

TEST(Sampling, TopKKeepsTheKHighest) {
  const auto l = random_logits(1000, 1);
  const auto ord = order_desc(l);
  for (int k : {1, 7, 40, 999, 1000, 5000}) {
    Candidates c = make(l);
    apply_top_k(c, k, 0);
    const size_t kk = std::min<size_t>(size_t(k), l.size());
    ASSERT_EQ(c.data.size(), kk);
    for (size_t i = 0; i < kk; ++i) EXPECT_EQ(c.data[i].id, ord[i]) << "k=" << k << " rank " << i;
    EXPECT_TRUE(c.sorted);
  }
  Candidates c = make(l);
  apply_top_k(c, 0, 0);  // disabled: everything, sorted
  EXPECT_EQ(c.data.size(), l.size());
  EXPECT_EQ(c.data.front().id, ord.front());
  Candidates m = make(l);
  apply_top_k(m, 3, 10);  // min_keep wins
  EXPECT_EQ(m.data.size(), 10u);
}

TEST(Sampling, TopPIsTheSmallestPrefixReachingP) {
  const auto l = random_logits(500, 2, 2.0f);
  const auto p = probs(l);
  const auto ord = order_desc(l);
  for (float tp : {0.05f, 0.3f, 0.5f, 0.9f, 0.95f, 0.999f}) {
    size_t n = 0;
    double cum = 0;
    while (n < ord.size()) {
      cum += p[size_t(ord[n++])];
      if (cum >= tp) break;
    }
    Candidates c = make(l);
    apply_top_p(c, tp, 0);
    ASSERT_EQ(c.data.size(), n) << "top_p " << tp;
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(c.data[i].id, ord[i]);
  }
  Candidates off = make(l);
  apply_top_p(off, 1.0f, 0);
  EXPECT_EQ(off.data.size(), l.size());
  Candidates mk = make(l);
  apply_top_p(mk, 0.0001f, 5);
  EXPECT_EQ(mk.data.size(), 5u);
}

TEST(Sampling, MinPKeepsTokensWithinRatioOfTheBest) {
  const auto l = random_logits(800, 3, 2.0f);
  const auto p = probs(l);
  const double pmax = *std::max_element(p.begin(), p.end());
  for (float mp : {0.01f, 0.05f, 0.2f, 0.9f, 1.0f}) {
    std::set<int32_t> want;
    for (size_t i = 0; i < l.size(); ++i)
      if (p[i] >= mp * pmax * (1 - 1e-6)) want.insert(int32_t(i));
    Candidates c = make(l);
    apply_min_p(c, mp, 0);
    EXPECT_EQ(ids(c), want) << "min_p " << mp;
    // Order is preserved (unsorted input stays in id order).
    EXPECT_TRUE(std::is_sorted(c.data.begin(), c.data.end(), [](auto& a, auto& b) { return a.id < b.id; }));
  }
  Candidates mk = make(l);
  apply_min_p(mk, 1.0f, 4);  // only one passes; min_keep 4 keeps the best four
  const auto ord = order_desc(l);
  ASSERT_EQ(mk.data.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(mk.data[size_t(i)].id, ord[size_t(i)]);
}

TEST(Sampling, TemperatureAndSoftmax) {
  const auto l = random_logits(50, 4);
  Candidates c = make(l);
  apply_temperature(c, 0.5f);
  for (size_t i = 0; i < l.size(); ++i) EXPECT_FLOAT_EQ(c.data[i].logit, l[i] / 0.5f);
  Candidates s = make(l);
  softmax(s);
  const auto p = probs(l);
  double sum = 0;
  for (const TokenCandidate& t : s.data) {
    EXPECT_NEAR(t.p, p[size_t(t.id)], 1e-6);
    sum += t.p;
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST(Sampling, PenaltiesChangeExactlyTheTokensInTheWindow) {
  std::vector<float> l = {2.0f, -1.0f, 0.5f, 3.0f, -2.0f, 1.0f, 0.0f, 4.0f};
  PenaltyParams pp;
  pp.last_n = 4;
  pp.repeat = 1.5f;
  pp.freq = 0.25f;
  pp.present = 0.1f;
  Sampler s(8, {}, 1, /*nl_token=*/6);
  s.add_penalties(pp);
  s.add_greedy();
  // History 3 3 | 1 1 4 6: the window (4) holds 1, 1, 4, 6; token 3 is older.
  for (int t : {3, 3, 1, 1, 4, 6}) s.accept(t);
  s.sample(l.data());
  std::map<int32_t, float> got;
  for (const TokenCandidate& t : s.last_candidates().data) got[t.id] = t.logit;
  std::vector<float> want = l;
  want[1] = -1.0f * 1.5f - (2 * 0.25f + 0.1f);  // negative: multiplied
  want[4] = -2.0f * 1.5f - (1 * 0.25f + 0.1f);
  // 6 is the newline token: exempt (penalize_nl off); 3 is outside the window.
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], want[size_t(i)]) << "token " << i;

  // A positive logit is divided; penalize_nl includes the newline token.
  Sampler s2(8, {}, 1, 6);
  PenaltyParams p2 = pp;
  p2.penalize_nl = true;
  p2.last_n = -1;  // everything since reset
  s2.add_penalties(p2);
  s2.add_greedy();
  for (int t : {3, 3, 1, 1, 4, 6}) s2.accept(t);
  s2.sample(l.data());
  got.clear();
  for (const TokenCandidate& t : s2.last_candidates().data) got[t.id] = t.logit;
  EXPECT_EQ(got[3], 3.0f / 1.5f - (2 * 0.25f + 0.1f));
  EXPECT_EQ(got[6], 0.0f * 1.5f - (1 * 0.25f + 0.1f));
  for (int i : {0, 2, 5, 7}) EXPECT_EQ(got[i], l[size_t(i)]);

  // After reset nothing is penalised.
  s2.reset();
  s2.sample(l.data());
  for (const TokenCandidate& t : s2.last_candidates().data) EXPECT_EQ(t.logit, l[size_t(t.id)]);
}

TEST(Sampling, PenaltyTurnsGreedyAway) {
  std::vector<float> l = {0.0f, 5.0f, 4.9f};
  SamplingParams p;
  p.temp = 0;
  p.penalties.repeat = 1.1f;
  Sampler s = Sampler::standard(3, {}, p);
  EXPECT_EQ(s.sample(l.data()), 1);
  s.accept(1);
  EXPECT_EQ(s.sample(l.data()), 2);  // 5 / 1.1 < 4.9
}

TEST(Sampling, LogitBiasAddsToNamedTokens) {
  std::vector<float> l = {1.0f, 3.0f, 2.0f};
  Sampler s(3, {}, 1);
  s.add_logit_bias({{1, -INFINITY}, {0, 0.5f}, {0, 1.0f}});
  s.add_greedy();
  EXPECT_EQ(s.sample(l.data()), 0);  // 1 + 0.5 + 1.0 beats 2.0; token 1 is gone
  std::map<int32_t, float> got;
  for (const TokenCandidate& t : s.last_candidates().data) got[t.id] = t.logit;
  EXPECT_EQ(got[0], 2.5f);
  EXPECT_EQ(got[2], 2.0f);
  EXPECT_TRUE(std::isinf(got[1]));
}

TEST(Sampling, DistMatchesTheInverseCdfOfTheSameStream) {
  // Known distribution: p = 0.1, 0.2, 0.3, 0.4 (as log-probabilities).
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  std::vector<float> l;
  for (double x : p) l.push_back(float(std::log(x)));
  for (uint32_t seed : {0u, 1u, 42u, 123456u}) {
    Sampler s(4, {}, seed);
    s.add_dist();
    std::mt19937 ref(seed);
    for (int i = 0; i < 200; ++i) {
      const double u = double(ref()) / double(std::mt19937::max());
      int want = 0;
      double cum = p[0];
      while (want < 3 && cum <= u) cum += p[size_t(++want)];
      ASSERT_EQ(s.sample(l.data()), want) << "seed " << seed << " draw " << i;
    }
  }
}

TEST(Sampling, DistFrequenciesFollowTheDistribution) {
  const std::vector<double> p = {0.05, 0.15, 0.5, 0.3};
  std::vector<float> l;
  for (double x : p) l.push_back(float(std::log(x)) + 7.0f);  // shift: must not matter
  Sampler s(4, {}, 7);
  s.add_dist();
  std::vector<int> n(4, 0);
  const int N = 40000;
  for (int i = 0; i < N; ++i) n[size_t(s.sample(l.data()))]++;
  for (int i = 0; i < 4; ++i) {
    const double sd = std::sqrt(p[size_t(i)] * (1 - p[size_t(i)]) / N);
    EXPECT_NEAR(double(n[size_t(i)]) / N, p[size_t(i)], 5 * sd) << "token " << i;
  }
}

TEST(Sampling, SeedIsReproducibleAndResetRestarts) {
  const auto l = random_logits(300, 5, 1.5f);
  SamplingParams p;
  p.seed = 99;
  Sampler a = Sampler::standard(300, {}, p), b = Sampler::standard(300, {}, p);
  std::vector<int32_t> ra, rb;
  for (int i = 0; i < 100; ++i) {
    ra.push_back(a.sample(l.data()));
    rb.push_back(b.sample(l.data()));
  }
  EXPECT_EQ(ra, rb);
  a.reset();
  std::vector<int32_t> again;
  for (int i = 0; i < 100; ++i) again.push_back(a.sample(l.data()));
  EXPECT_EQ(again, ra);
  p.seed = 100;
  Sampler c = Sampler::standard(300, {}, p);
  std::vector<int32_t> rc;
  for (int i = 0; i < 100; ++i) rc.push_back(c.sample(l.data()));
  EXPECT_NE(rc, ra);
  EXPECT_EQ(c.seed(), 100u);
  SamplingParams r;  // random seed: drawn, reported
  Sampler d = Sampler::standard(300, {}, r);
  (void)d.seed();
}

TEST(Sampling, StandardChainTruncatesAtTemperatureOne) {
  // At temperature 1, min_p 0.05 keeps only tokens 0 and 1; a huge temperature
  // after truncation flattens them but cannot bring back the rest.
  std::vector<float> l(100, 0.0f);
  l[0] = 10.0f;
  l[1] = 9.0f;
  SamplingParams p;
  p.seed = 3;
  p.temp = 100.0f;
  Sampler s = Sampler::standard(100, {}, p);
  std::vector<int> n(100, 0);
  for (int i = 0; i < 2000; ++i) n[size_t(s.sample(l.data()))]++;
  EXPECT_EQ(n[0] + n[1], 2000);
  EXPECT_GT(n[1], 800);  // ~ half each at temperature 100
  // The order is top_k -> top_p -> min_p -> temp -> dist.
  const Candidates& c = s.last_candidates();
  EXPECT_EQ(c.data.size(), 2u);
}

TEST(Sampling, GreedyAndNegativeTemperatureTakeTheArgmax) {
  const auto l = random_logits(1000, 6);
  const int32_t best = order_desc(l).front();
  for (float t : {0.0f, -1.0f}) {
    SamplingParams p;
    p.temp = t;
    p.seed = 5;
    Sampler s = Sampler::standard(1000, {}, p);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(s.sample(l.data()), best);
  }
}

TEST(Sampling, BlockedTokensAreNeverSampled) {
  std::vector<float> l = {5.0f, 1.0f, 1.0f, 1.0f};
  std::vector<uint8_t> blocked = {1, 0, 0, 1};
  SamplingParams g;
  g.temp = 0;
  EXPECT_EQ(Sampler::standard(4, blocked, g).sample(l.data()), 1);
  SamplingParams p;
  p.seed = 11;
  p.top_k = 0;
  p.min_p = 0;
  p.top_p = 1;
  Sampler s = Sampler::standard(4, blocked, p);
  for (int i = 0; i < 500; ++i) {
    const int32_t t = s.sample(l.data());
    EXPECT_TRUE(t == 1 || t == 2) << t;
  }
  Sampler all(4, {1, 1, 1, 1}, 1);
  EXPECT_THROW(all.sample(l.data()), Error);
}

TEST(Sampling, BadArgumentsAreErrors) {
  EXPECT_THROW(Sampler(0, {}, 1), Error);
  EXPECT_THROW(Sampler(4, {0, 0}, 1), Error);
  Sampler s(4, {}, 1);
  EXPECT_THROW(s.accept(4), Error);
  EXPECT_THROW(s.accept(-1), Error);
  EXPECT_THROW(s.add_logit_bias({{9, 1.0f}}), Error);
  EXPECT_THROW(s.add_temperature(0.0f), Error);
  EXPECT_THROW(s.add_min_p(NAN), Error);
  PenaltyParams bad;
  bad.last_n = -2;
  EXPECT_THROW(s.add_penalties(bad), Error);
  EXPECT_THROW(s.set_min_keep(-1), Error);
  s.add_greedy();
  EXPECT_THROW(s.add_top_k(3), Error);  // nothing after a selecting stage
  EXPECT_THROW(s.sample(nullptr), Error);
}

}  // namespace
}  // namespace dllm
