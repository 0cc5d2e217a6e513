// Token sampling (kernels.md §7.1, ik's order and defaults): a chain of stages
// applied to a candidate list built from one row of logits.
//
//   logit bias -> penalties over the last penalty_last_n accepted tokens
//   -> top_k -> top_p -> min_p -> temperature -> dist
//
// with temp == 0 meaning greedy argmax and temp < 0 "softmax, take the top
// token" (both after bias and penalties). Temperature comes AFTER the
// truncation stages, so top_p / min_p see the temperature-1 distribution.
// Tokens marked blocked (type UNUSED) never enter the candidate list.
//
// The stage functions are free functions so that tests can check each one
// against a direct computation. A Sampler is not thread-safe (one per stream
// of generation); its random numbers come from a seeded std::mt19937, so a
// seed gives the same tokens on every machine.
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace dllm {

// Seed value meaning "draw a random seed" (ik's LLAMA_DEFAULT_SEED).
inline constexpr uint32_t kRandomSeed = 0xFFFFFFFFu;

struct TokenCandidate {
  int32_t id = 0;
  float logit = 0;
  float p = 0;  // filled by softmax()
};

// The working set of a sampling step.
struct Candidates {
  std::vector<TokenCandidate> data;
  bool sorted = false;  // descending by logit (ties: lower id first)
};

struct LogitBias {
  int32_t token = 0;
  float bias = 0;
};

struct PenaltyParams {
  int32_t last_n = 64;   // window of accepted tokens; 0 = off, -1 = all since reset
  float repeat = 1.0f;   // 1 = off
  float freq = 0.0f;     // 0 = off
  float present = 0.0f;  // 0 = off
  bool penalize_nl = false;
  bool active() const { return last_n != 0 && (repeat != 1.0f || freq != 0.0f || present != 0.0f); }
};

// The parameters of the standard chain (defaults of kernels.md §7.1).
struct SamplingParams {
  uint32_t seed = kRandomSeed;
  float temp = 0.8f;     // 0: greedy; < 0: softmax + top token
  int32_t top_k = 40;    // <= 0: off
  float top_p = 0.95f;   // >= 1: off
  float min_p = 0.05f;   // <= 0: off
  int32_t min_keep = 0;  // effective max(1, min_keep)
  PenaltyParams penalties;  // off by default
  std::vector<LogitBias> logit_bias;
};

// ---- stages (each keeps at least max(1, min_keep) candidates) ----

// Sorts descending by logit, ties by ascending id (so results do not depend
// on the sort algorithm), and marks the list sorted.
void sort_candidates(Candidates& c);
// p_i = exp(l_i - max) / sum over the candidates; sorts first.
void softmax(Candidates& c);
// logit += bias for every candidate named in `bias` (several entries for one
// token add up).
void apply_logit_bias(Candidates& c, std::span<const LogitBias> bias);
// counts[id] = occurrences of id in the window. For each candidate with
// c > 0: logit = logit <= 0 ? logit * repeat : logit / repeat, then
// logit -= c * freq + present. nl_token (if >= 0) is exempt unless
// penalize_nl.
void apply_penalties(Candidates& c, std::span<const int32_t> counts, const PenaltyParams& p, int32_t nl_token);
// Keeps the k highest (k <= 0: all), sorted.
void apply_top_k(Candidates& c, int32_t k, size_t min_keep);
// Keeps the smallest sorted prefix whose probability mass reaches p.
void apply_top_p(Candidates& c, float p, size_t min_keep);
// Keeps tokens with logit >= max_logit + ln(p) (prob >= p * p_max).
void apply_min_p(Candidates& c, float p, size_t min_keep);
// logit /= temp (temp > 0).
void apply_temperature(Candidates& c, float temp);
// Highest logit (ties: the first candidate in list order).
int32_t select_greedy(const Candidates& c);
// ik's dist: p_i ∝ exp(l_i - max) in list order, cumulative sums, one
// mt19937 draw r, threshold = sum * r / rng.max(), first cumulative value
// above the threshold.
int32_t select_dist(const Candidates& c, std::mt19937& rng);

// ---- the chain ----

class Sampler {
 public:
  enum class Kind { LogitBias, Penalties, TopK, TopP, MinP, Temperature, Greedy, Dist };

  // n_vocab: row length of the logits; blocked[i] != 0 excludes token i
  // (empty: none); nl_token: the newline token for penalties (-1: none).
  // Throws dllm::Error for a bad vocabulary size or mask length.
  Sampler(int32_t n_vocab, std::vector<uint8_t> blocked, uint32_t seed, int32_t nl_token = -1);

  // The standard chain of kernels.md §7.1 from `p`.
  static Sampler standard(int32_t n_vocab, std::vector<uint8_t> blocked, const SamplingParams& p,
                          int32_t nl_token = -1);

  // Stages run in the order added. Each add throws dllm::Error for a bad
  // argument (token out of range, NaN, ...). Nothing can follow a selecting
  // stage (greedy, dist).
  void add_logit_bias(std::vector<LogitBias> bias);
  void add_penalties(const PenaltyParams& p);
  void add_top_k(int32_t k);
  void add_top_p(float p);
  void add_min_p(float p);
  void add_temperature(float t);
  void add_greedy();
  void add_dist();
  void set_min_keep(int32_t min_keep);

  // Runs the chain over logits[n_vocab]; without a selecting stage it ends
  // with dist. Throws dllm::Error when every token is blocked. Does not
  // record the token (call accept()).
  int32_t sample(const float* logits);
  // The candidates left before selection in the last sample() call (tests).
  const Candidates& last_candidates() const { return cand_; }
  // Records an accepted token for the penalty window (prompt tokens may be
  // accepted too). Throws for an id outside the vocabulary.
  void accept(int32_t token);
  // Forgets the accepted tokens and restarts the random stream from the seed.
  void reset();

  uint32_t seed() const { return seed_; }  // the effective seed (drawn when kRandomSeed)
  int32_t n_vocab() const { return n_vocab_; }
  size_t n_stages() const { return stages_.size(); }

 private:
  struct Stage {
    explicit Stage(Kind k) : kind(k) {}
    Kind kind;
    int32_t k = 0;
    float value = 0;
    PenaltyParams pen;
    std::vector<LogitBias> bias;
  };
  void push(Stage s);
  void count_window();

  int32_t n_vocab_;
  std::vector<uint8_t> blocked_;  // [n_vocab] or empty
  uint32_t seed_;
  int32_t nl_token_;
  size_t min_keep_ = 1;
  std::mt19937 rng_;
  std::vector<Stage> stages_;
  bool selected_ = false;  // a selecting stage was added
  int64_t window_ = 0;     // longest penalty window (-1: unbounded)
  std::vector<int32_t> history_;  // accepted tokens, oldest first
  std::vector<int32_t> counts_;   // [n_vocab], scratch for penalties
  std::vector<int32_t> touched_;  // ids with counts_ != 0
  Candidates cand_;
};

}  // namespace dllm
