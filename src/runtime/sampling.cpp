#include "runtime/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/error.h"

namespace dllm {

namespace {

bool better(const TokenCandidate& a, const TokenCandidate& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

size_t keep_at_least(size_t min_keep) { return std::max<size_t>(1, min_keep); }

float max_logit(const Candidates& c) {
  if (c.sorted) return c.data.front().logit;
  float m = -std::numeric_limits<float>::infinity();
  for (const TokenCandidate& t : c.data) m = std::max(m, t.logit);
  return m;
}

}  // namespace

void sort_candidates(Candidates& c) {
  if (!c.sorted) std::sort(c.data.begin(), c.data.end(), better);
  c.sorted = true;
}

void softmax(Candidates& c) {
  if (c.data.empty()) return;
  sort_candidates(c);
  const float mx = c.data.front().logit;
  double sum = 0;
  for (TokenCandidate& t : c.data) {
    t.p = std::exp(t.logit - mx);
    sum += t.p;
  }
  for (TokenCandidate& t : c.data) t.p = float(t.p / sum);
}

void apply_logit_bias(Candidates& c, std::span<const LogitBias> bias) {
  if (bias.empty()) return;
  for (TokenCandidate& t : c.data)
    for (const LogitBias& b : bias)
      if (b.token == t.id) t.logit += b.bias;
  c.sorted = false;
}

void apply_penalties(Candidates& c, std::span<const int32_t> counts, const PenaltyParams& p, int32_t nl_token) {
  for (TokenCandidate& t : c.data) {
    if (t.id < 0 || size_t(t.id) >= counts.size()) continue;
    const int32_t n = counts[size_t(t.id)];
    if (n <= 0) continue;
    if (t.id == nl_token && !p.penalize_nl) continue;
    // Dividing a negative logit would raise it; multiply instead (ik, CTRL paper).
    t.logit = t.logit <= 0 ? t.logit * p.repeat : t.logit / p.repeat;
    t.logit -= float(n) * p.freq + p.present;
  }
  c.sorted = false;
}

void apply_top_k(Candidates& c, int32_t k, size_t min_keep) {
  if (c.data.empty()) return;
  size_t kk = k <= 0 ? c.data.size() : size_t(k);
  kk = std::min(std::max(kk, keep_at_least(min_keep)), c.data.size());
  if (!c.sorted) {
    std::partial_sort(c.data.begin(), c.data.begin() + ptrdiff_t(kk), c.data.end(), better);
    c.sorted = true;
  }
  c.data.resize(kk);
}

void apply_top_p(Candidates& c, float p, size_t min_keep) {
  if (p >= 1.0f || c.data.empty()) return;
  softmax(c);
  double cum = 0;
  size_t last = c.data.size();
  for (size_t i = 0; i < c.data.size(); ++i) {
    cum += c.data[i].p;
    // The smallest prefix reaching p, but never fewer than min_keep.
    if (cum >= p && i + 1 >= keep_at_least(min_keep)) {
      last = i + 1;
      break;
    }
  }
  c.data.resize(last);
}

void apply_min_p(Candidates& c, float p, size_t min_keep) {
  if (p <= 0.0f || c.data.empty()) return;
  const float threshold = max_logit(c) + std::log(p);
  std::vector<TokenCandidate> kept;
  kept.reserve(c.data.size());
  for (const TokenCandidate& t : c.data)
    if (t.logit >= threshold) kept.push_back(t);
  if (kept.size() >= keep_at_least(min_keep)) {
    c.data.swap(kept);  // order (and sortedness) preserved
    return;
  }
  // Too few pass: keep the best min_keep.
  sort_candidates(c);
  c.data.resize(std::min(keep_at_least(min_keep), c.data.size()));
}

void apply_temperature(Candidates& c, float temp) {
  for (TokenCandidate& t : c.data) t.logit /= temp;
}

int32_t select_greedy(const Candidates& c) {
  if (c.data.empty()) fail("sampling: no candidate token left");
  size_t best = 0;
  for (size_t i = 1; i < c.data.size(); ++i)
    if (c.data[i].logit > c.data[best].logit) best = i;
  return c.data[best].id;
}

int32_t select_dist(const Candidates& c, std::mt19937& rng) {
  if (c.data.empty()) fail("sampling: no candidate token left");
  const float mx = max_logit(c);
  // [n] cumulative unnormalised probabilities in list order
  std::vector<double> cum(c.data.size());
  double sum = 0;
  for (size_t i = 0; i < c.data.size(); ++i) {
    sum += std::exp(double(c.data[i].logit) - double(mx));
    cum[i] = sum;
  }
  const double r = double(rng());
  const double threshold = sum * r / double(std::mt19937::max());
  size_t idx = size_t(std::upper_bound(cum.begin(), cum.end(), threshold) - cum.begin());
  if (idx >= cum.size()) idx = cum.size() - 1;  // r == max lands on the total
  return c.data[idx].id;
}

// ---------------------------------------------------------------------------

Sampler::Sampler(int32_t n_vocab, std::vector<uint8_t> blocked, uint32_t seed, int32_t nl_token)
    : n_vocab_(n_vocab), blocked_(std::move(blocked)), nl_token_(nl_token) {
  if (n_vocab <= 0) fail("sampler: vocabulary size must be positive (got ", n_vocab, ")");
  if (!blocked_.empty() && blocked_.size() != size_t(n_vocab))
    fail("sampler: token mask has ", blocked_.size(), " entries, expected ", n_vocab);
  if (nl_token >= n_vocab) nl_token_ = -1;
  seed_ = seed == kRandomSeed ? uint32_t(std::random_device{}()) : seed;
  rng_.seed(seed_);
  counts_.assign(size_t(n_vocab), 0);
}

Sampler Sampler::standard(int32_t n_vocab, std::vector<uint8_t> blocked, const SamplingParams& p, int32_t nl_token) {
  Sampler s(n_vocab, std::move(blocked), p.seed, nl_token);
  s.set_min_keep(p.min_keep);
  if (!p.logit_bias.empty()) s.add_logit_bias(p.logit_bias);
  if (p.penalties.active()) s.add_penalties(p.penalties);
  if (std::isnan(p.temp)) fail("sampler: temperature is NaN");
  if (p.temp <= 0) {
    // temp < 0 is "softmax, then the top token": the same token as argmax.
    s.add_greedy();
    return s;
  }
  s.add_top_k(p.top_k);
  s.add_top_p(p.top_p);
  s.add_min_p(p.min_p);
  s.add_temperature(p.temp);
  s.add_dist();
  return s;
}

void Sampler::push(Stage s) {
  if (selected_) fail("sampler: no stage can follow a selecting stage (greedy or dist)");
  stages_.push_back(std::move(s));
}

void Sampler::set_min_keep(int32_t min_keep) {
  if (min_keep < 0) fail("sampler: min_keep must not be negative (got ", min_keep, ")");
  min_keep_ = size_t(std::max(1, min_keep));
}

void Sampler::add_logit_bias(std::vector<LogitBias> bias) {
  for (const LogitBias& b : bias) {
    if (b.token < 0 || b.token >= n_vocab_)
      fail("sampler: logit bias names token ", b.token, ", outside [0, ", n_vocab_, ")");
    if (std::isnan(b.bias)) fail("sampler: logit bias of token ", b.token, " is NaN");
  }
  Stage s(Kind::LogitBias);
  s.bias = std::move(bias);
  push(std::move(s));
}

void Sampler::add_penalties(const PenaltyParams& p) {
  if (p.last_n < -1) fail("sampler: penalty_last_n must be -1, 0 or positive (got ", p.last_n, ")");
  if (!(p.repeat > 0) || !std::isfinite(p.repeat)) fail("sampler: penalty_repeat must be positive (got ", p.repeat, ")");
  if (!std::isfinite(p.freq) || !std::isfinite(p.present)) fail("sampler: frequency/presence penalty is not finite");
  Stage s(Kind::Penalties);
  s.pen = p;
  push(std::move(s));
  if (p.last_n == -1 || window_ == -1)
    window_ = -1;
  else
    window_ = std::max<int64_t>(window_, p.last_n);
}

void Sampler::add_top_k(int32_t k) {
  Stage s(Kind::TopK);
  s.k = k;
  push(std::move(s));
}

void Sampler::add_top_p(float p) {
  if (std::isnan(p)) fail("sampler: top_p is NaN");
  Stage s(Kind::TopP);
  s.value = p;
  push(std::move(s));
}

void Sampler::add_min_p(float p) {
  if (std::isnan(p) || p > 1.0f) fail("sampler: min_p must be at most 1 (got ", p, ")");
  Stage s(Kind::MinP);
  s.value = p;
  push(std::move(s));
}

void Sampler::add_temperature(float t) {
  if (!(t > 0) || !std::isfinite(t)) fail("sampler: a temperature stage needs a positive temperature (got ", t, ")");
  Stage s(Kind::Temperature);
  s.value = t;
  push(std::move(s));
}

void Sampler::add_greedy() {
  push(Stage(Kind::Greedy));
  selected_ = true;
}

void Sampler::add_dist() {
  push(Stage(Kind::Dist));
  selected_ = true;
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_) fail("sampler: accepted token ", token, " is outside [0, ", n_vocab_, ")");
  history_.push_back(token);
  // Keep only what the longest window can see (trimmed in bulk).
  if (window_ >= 0 && history_.size() > 2 * size_t(window_) + 64)
    history_.erase(history_.begin(), history_.end() - window_);
}

void Sampler::reset() {
  history_.clear();
  rng_.seed(seed_);
}

int32_t Sampler::sample(const float* logits) {
  if (!logits) fail("sampler: no logits");
  // [n_usable] candidates in id order
  cand_.data.clear();
  cand_.data.reserve(size_t(n_vocab_));
  for (int32_t i = 0; i < n_vocab_; ++i)
    if (blocked_.empty() || !blocked_[size_t(i)]) cand_.data.push_back({i, logits[i], 0.0f});
  cand_.sorted = false;
  if (cand_.data.empty()) fail("sampler: every token of the vocabulary is blocked (type UNUSED)");

  for (const Stage& s : stages_) {
    switch (s.kind) {
      case Kind::LogitBias:
        apply_logit_bias(cand_, s.bias);
        break;
      case Kind::Penalties: {
        if (!s.pen.active()) break;
        const size_t n = s.pen.last_n < 0 ? history_.size() : std::min(history_.size(), size_t(s.pen.last_n));
        for (size_t i = history_.size() - n; i < history_.size(); ++i) {
          const int32_t id = history_[i];
          if (counts_[size_t(id)]++ == 0) touched_.push_back(id);
        }
        apply_penalties(cand_, counts_, s.pen, nl_token_);
        for (int32_t id : touched_) counts_[size_t(id)] = 0;
        touched_.clear();
        break;
      }
      case Kind::TopK:
        apply_top_k(cand_, s.k, min_keep_);
        break;
      case Kind::TopP:
        apply_top_p(cand_, s.value, min_keep_);
        break;
      case Kind::MinP:
        apply_min_p(cand_, s.value, min_keep_);
        break;
      case Kind::Temperature:
        apply_temperature(cand_, s.value);
        break;
      case Kind::Greedy:
        return select_greedy(cand_);
      case Kind::Dist:
        return select_dist(cand_, rng_);
    }
  }
  return select_dist(cand_, rng_);
}

}  // namespace dllm
