#include "serve/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "api_util.h"
#include "serve/api_error.h"

namespace dllm::serve {

using Clock = std::chrono::steady_clock;

struct Engine::Slot {
  int id = 0;
  std::vector<int32_t> tokens;    // what sequence `id` holds, position by position
  uint64_t last_used = 0;         // tick of the last request's end (LRU)
  // The running request (job == nullptr: idle).
  std::shared_ptr<Job> job;
  uint64_t request_id = 0;
  bool prefilling = false;
  int64_t reused = 0;             // prompt tokens taken from the cache
  std::string reuse_note;         // how (for the log line)
  std::vector<int64_t> targets;   // checkpoint positions of this prefill, ascending
  int32_t next_token = -1;        // sampled, decoded in the next step
  int64_t generated = 0;
  std::string held;               // text not yet sent: it may be the start of a stop string
  // Reasoning budget: whether the reply is inside its <think> block, the
  // thinking tokens so far, the last bytes of the reply (tags split over
  // tokens), and tokens to insert instead of sampling (the closing tag).
  bool thinking = false, thought = false;
  int64_t thinking_tokens = 0;
  std::string tail;
  std::vector<int32_t> forced;
  std::string matched_stop;       // the stop string that ended the reply
  cli::SamplerPtr sampler;
  cli::DetokenizerPtr detok;
  Clock::time_point first_token;
  bool has_first = false;
};

namespace {

// The longest suffix of `text` that is a proper prefix of a stop string
// (it must wait: the next token may complete the stop string).
size_t held_suffix(const std::string& text, const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const std::string& s : stops)
    for (size_t n = std::min(text.size(), s.size() - 1); n > keep; --n)
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
  return keep;
}

TokenLogprob logprob_of(const float* logits, int32_t n_vocab, int32_t token, int top_n) {
  TokenLogprob lp;
  lp.token = token;
  float mx = -INFINITY;
  for (int32_t i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i] - mx));
  const float lse = mx + float(std::log(sum));
  lp.logprob = logits[token] - lse;
  if (top_n > 0) {
    std::vector<int32_t> ids(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) ids[size_t(i)] = i;
    const size_t k = std::min<size_t>(size_t(top_n), ids.size());
    std::partial_sort(ids.begin(), ids.begin() + std::ptrdiff_t(k), ids.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    for (size_t i = 0; i < k; ++i) lp.top.emplace_back(ids[i], logits[ids[i]] - lse);
  }
  return lp;
}

}  // namespace

Engine::Engine(const deltallm_model* model, deltallm_context* ctx, const EngineOptions& opt, Metrics& metrics)
    : model_(model), ctx_(ctx), opt_(opt), metrics_(metrics), pool_(opt.cache_bytes) {
  n_vocab_ = cli::model_info(model).n_vocab;
  cli::check(deltallm_seq_checkpoint_size(ctx, &ckpt_size_));
  for (int i = 0; i < opt.n_slots; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->id = i;
  }
  publish();
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() { shutdown(); }

void Engine::submit(const std::shared_ptr<Job>& job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) throw ApiError(503, "the server is shutting down");
  // Requests beyond the idle slots wait; beyond --max-queue of those, 503.
  if (queue_.size() + size_t(busy_) >= size_t(opt_.n_slots) + opt_.max_queue)
    throw ApiError(503, "all " + std::to_string(opt_.n_slots) + " slots are busy and " +
                            std::to_string(queue_.size()) + " requests are waiting (--max-queue)");
  queue_.push_back(job);
  metrics_.queue_length.store(int64_t(queue_.size()));
  cv_.notify_all();
}

void Engine::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

nlohmann::json Engine::slots_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

void Engine::publish() {
  nlohmann::json a = nlohmann::json::array();
  int64_t busy = 0;
  for (const auto& s : slots_) {
    busy += s->job != nullptr;
    a.push_back({{"id", s->id},
                 {"state", !s->job ? "idle" : s->prefilling ? "prefill" : "generating"},
                 {"n_tokens", s->tokens.size()},
                 {"n_checkpoints", pool_.count(s->id)},
                 {"request_id", s->job ? nlohmann::json(s->request_id) : nlohmann::json(nullptr)}});
  }
  metrics_.slots_busy.store(busy);
  metrics_.checkpoint_bytes.store(pool_.bytes());
  metrics_.checkpoints.store(pool_.count());
  metrics_.checkpoint_evictions.store(pool_.evictions());
  std::lock_guard<std::mutex> lock(mu_);
  published_ = std::move(a);
  metrics_.queue_length.store(int64_t(queue_.size()));
}

void Engine::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        if (stopping_ || !queue_.empty()) return true;
        for (const auto& s : slots_)
          if (s->job) return true;
        return false;
      });
      if (stopping_) break;
      admit(lock);
    }
    // Cancelled (client gone) and timed-out requests free their slots here.
    const auto now = Clock::now();
    for (auto& s : slots_) {
      if (!s->job) continue;
      if (s->job->cancelled()) finish(*s, "cancelled");
      else if (opt_.timeout_s > 0 && std::chrono::duration<double>(now - s->job->created).count() > opt_.timeout_s)
        finish(*s, "length");
    }
    try {
      step();
    } catch (const std::exception& e) {
      // A failed library call: end the requests of this step, empty their sequences.
      std::fprintf(stderr, "deltallm serve: %s\n", e.what());
      for (auto& s : slots_) {
        if (!s->job) continue;
        deltallm_seq_clear(ctx_, s->id);
        s->tokens.clear();
        pool_.drop_after(s->id, -1);
        finish(*s, "", e.what());
      }
    }
    publish();
  }
  // Shutting down: every request ends with an error.
  for (auto& s : slots_)
    if (s->job) finish(*s, "", "the server is shutting down");
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& j : queue_) j->finish("", "the server is shutting down", Usage{});
  queue_.clear();
}

void Engine::admit(std::unique_lock<std::mutex>& lock) {
  while (!queue_.empty()) {
    std::shared_ptr<Job> job = queue_.front();
    if (job->cancelled()) {
      queue_.pop_front();
      job->finish("cancelled", "", Usage{});
      continue;
    }
    std::string why;
    lock.unlock();
    const int slot = choose_slot(*job, &why);
    lock.lock();
    if (slot < 0) break;
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    Slot& s = *slots_[size_t(slot)];
    try {
      start(s, job, why);
      publish();  // the slot is busy from now on, in /slots as in busy_
    } catch (const std::exception& e) {
      deltallm_seq_clear(ctx_, s.id);
      s.tokens.clear();
      pool_.drop_after(s.id, -1);
      if (s.job) {
        finish(s, "", e.what());
      } else {
        job->finish("", e.what(), Usage{});
        std::lock_guard<std::mutex> relock(mu_);
        --busy_;
      }
    }
    lock.lock();
  }
  metrics_.queue_length.store(int64_t(queue_.size()));
}

// How much of `prompt` slot s can serve without evaluating: its whole
// sequence when the prompt extends it, else the newest checkpoint at or
// before the common prefix. At most prompt.size() - 1: the last prompt
// token is always evaluated (its logits give the first token).
int64_t Engine::usable_prefix(Slot& s, const std::vector<int32_t>& prompt, int64_t* lcp_out) {
  const size_t cap = prompt.empty() ? 0 : prompt.size() - 1;
  size_t lcp = 0;
  while (lcp < cap && lcp < s.tokens.size() && s.tokens[lcp] == prompt[lcp]) ++lcp;
  if (lcp_out) *lcp_out = int64_t(lcp);
  if (lcp == 0) return 0;
  if (lcp == s.tokens.size()) return int64_t(lcp);
  const CheckpointPool::Entry* e = pool_.find(s.id, int64_t(lcp));
  return e ? e->pos : 0;
}

int Engine::choose_slot(const Job& job, std::string* why) {
  int best = -1, lru = -1;
  int64_t best_use = -1;
  for (auto& s : slots_) {
    if (s->job) continue;
    const int64_t u = usable_prefix(*s, job.prompt.tokens, nullptr);
    if (u > best_use) best = s->id, best_use = u;
    if (lru < 0 || s->last_used < slots_[size_t(lru)]->last_used) lru = s->id;
  }
  if (best < 0) return -1;  // every slot is busy
  const double need = opt_.slot_similarity * double(job.prompt.tokens.size());
  if (best_use > 0 && double(best_use) >= need) {
    *why = "longest cached prefix";
    return best;
  }
  *why = "least recently used";
  return lru;
}

void Engine::start(Slot& s, std::shared_ptr<Job> job, const std::string& why) {
  const std::vector<int32_t>& prompt = job->prompt.tokens;
  const int64_t P = int64_t(prompt.size());
  int64_t lcp = 0;
  const int64_t use = usable_prefix(s, prompt, &lcp);
  std::string note;
  if (use > 0 && use == int64_t(s.tokens.size())) {
    note = "reused " + std::to_string(use) + " tokens (the slot's whole sequence)";
  } else if (use > 0) {
    const CheckpointPool::Entry* e = pool_.find(s.id, use);
    cli::check(deltallm_seq_checkpoint_restore(ctx_, s.id, e->bytes.data(), e->bytes.size()));
    s.tokens.resize(size_t(use));
    note = "reused " + std::to_string(use) + " tokens (checkpoint at " + std::to_string(use) + ")";
  } else {
    cli::check(deltallm_seq_clear(ctx_, s.id));
    s.tokens.clear();
    bool evicted = false;
    for (int64_t p : pool_.evicted(s.id)) evicted |= p > 0 && p <= lcp;
    note = lcp == 0  ? "reused 0 tokens (no common prefix)"
           : evicted ? "reused 0 tokens (checkpoint evicted; common prefix " + std::to_string(lcp) + ")"
                     : "reused 0 tokens (no checkpoint within the common prefix of " + std::to_string(lcp) + ")";
  }
  pool_.drop_after(s.id, use);
  pool_.reset_evicted(s.id);
  s.reuse_note = note + ", slot chosen as " + why;
  s.reused = use;
  s.job = std::move(job);
  s.request_id = ++next_id_;
  s.prefilling = true;
  s.generated = 0;
  s.held.clear();
  s.has_first = false;
  s.next_token = -1;
  // Checkpoints of this prefill: the template's hints, every N tokens, the end of the prompt.
  s.targets.clear();
  for (int64_t h : s.job->prompt.checkpoint_hints) s.targets.push_back(h);
  if (opt_.checkpoint_every > 0)
    for (int64_t p = opt_.checkpoint_every; p < P; p += opt_.checkpoint_every) s.targets.push_back(p);
  s.targets.push_back(P);
  // One token short of the end too: the same prompt again (a regenerated
  // reply) must evaluate its last token for the logits, so it resumes here.
  s.targets.push_back(P - 1);
  std::sort(s.targets.begin(), s.targets.end());
  s.targets.erase(std::unique(s.targets.begin(), s.targets.end()), s.targets.end());
  s.targets.erase(std::remove_if(s.targets.begin(), s.targets.end(), [&](int64_t t) { return t <= use || t > P; }),
                  s.targets.end());
  // Sampler and detokenizer of this request.
  const GenParams& g = s.job->params;
  deltallm_sampler_params sp = deltallm_sampler_default_params();
  sp.temp = g.temp;
  sp.top_k = g.top_k;
  sp.top_p = g.top_p;
  sp.min_p = g.min_p;
  sp.penalty_last_n = g.repeat_last_n;
  sp.penalty_repeat = g.repeat_penalty;
  sp.penalty_present = g.presence_penalty;
  sp.penalty_freq = g.frequency_penalty;
  std::vector<deltallm_logit_bias> bias;
  for (const auto& [t, b] : g.logit_bias) bias.push_back({t, b});
  sp.logit_bias = bias.empty() ? nullptr : bias.data();
  sp.n_logit_bias = bias.size();
  if (g.seed) sp.seed = *g.seed;
  deltallm_sampler* smp = nullptr;
  cli::check(deltallm_sampler_create(model_, &sp, &smp));
  s.sampler.reset(smp);
  if (g.repeat_penalty != 1.0f || g.presence_penalty != 0 || g.frequency_penalty != 0)
    for (int32_t t : prompt) cli::check(deltallm_sampler_accept(smp, t));
  deltallm_detokenizer* d = nullptr;
  cli::check(deltallm_detokenizer_create(model_, 0, &d));
  s.detok.reset(d);
  s.thinking = s.job->prompt.starts_in_reasoning;
  s.thought = false;
  s.thinking_tokens = 0;
  s.tail.clear();
  s.forced.clear();
  s.matched_stop.clear();
  if (s.thinking && g.reasoning_budget == 0) close_thinking(s);
  metrics_.prompt_tokens_reused += uint64_t(use);
}

void Engine::step() {
  std::vector<int32_t> tokens, seqs;
  std::vector<int64_t> pos;
  std::vector<int8_t> want;
  struct Part {
    Slot* s;
    int64_t n;
    int row;  // logits row, -1: none
  };
  std::vector<Part> parts;
  int rows = 0;
  int budget = opt_.n_batch;
  for (auto& s : slots_) {
    if (!s->job || s->prefilling) continue;
    tokens.push_back(s->next_token);
    pos.push_back(int64_t(s->tokens.size()));
    seqs.push_back(s->id);
    want.push_back(1);
    parts.push_back({s.get(), 1, rows++});
    --budget;
  }
  budget = std::max(budget, 1);
  // Prefill chunks, oldest request first, each cut at its next checkpoint position.
  std::vector<Slot*> pre;
  for (auto& s : slots_)
    if (s->job && s->prefilling) pre.push_back(s.get());
  std::sort(pre.begin(), pre.end(), [](const Slot* a, const Slot* b) { return a->request_id < b->request_id; });
  for (Slot* s : pre) {
    if (budget <= 0) break;
    const auto& prompt = s->job->prompt.tokens;
    const int64_t at = int64_t(s->tokens.size()), P = int64_t(prompt.size());
    int64_t end = std::min<int64_t>(P, at + budget);
    for (int64_t t : s->targets)
      if (t > at) {
        end = std::min(end, t);
        break;
      }
    for (int64_t p = at; p < end; ++p) {
      tokens.push_back(prompt[size_t(p)]);
      pos.push_back(p);
      seqs.push_back(s->id);
      want.push_back(p == P - 1 ? 1 : 0);
    }
    parts.push_back({s, end - at, end == P ? rows++ : -1});
    budget -= int(end - at);
  }
  if (parts.empty()) return;
  deltallm_batch b = deltallm_batch_default_params();
  b.n_tokens = int32_t(tokens.size());
  b.tokens = tokens.data();
  b.pos = pos.data();
  b.seq_ids = seqs.data();
  b.logits = want.data();
  const deltallm_status st = deltallm_decode(ctx_, &b);
  if (st != DELTALLM_OK) {
    const std::string err = cli::api_error_text();
    std::fprintf(stderr, "deltallm serve: decode failed: %s\n", err.c_str());
    for (const Part& p : parts) {
      deltallm_seq_clear(ctx_, p.s->id);
      p.s->tokens.clear();
      pool_.drop_after(p.s->id, -1);
      finish(*p.s, "", "evaluation failed: " + err);
    }
    return;
  }
  // Sample first (the logits rows stay valid until the next call on the context) ...
  std::vector<Slot*> done_prefill;
  for (const Part& p : parts) {
    Slot& s = *p.s;
    if (s.prefilling) {
      const auto& prompt = s.job->prompt.tokens;
      const size_t at = s.tokens.size();
      s.tokens.insert(s.tokens.end(), prompt.begin() + std::ptrdiff_t(at), prompt.begin() + std::ptrdiff_t(at + size_t(p.n)));
      metrics_.prompt_tokens_evaluated += uint64_t(p.n);
      if (!s.targets.empty() && int64_t(s.tokens.size()) == s.targets.front()) done_prefill.push_back(&s);
      if (p.row >= 0) {
        s.prefilling = false;
        if (s.job->params.max_tokens == 0) finish(s, "length");
        else after_token(s, p.row);
      }
    } else {
      s.tokens.push_back(s.next_token);
      after_token(s, p.row);
    }
  }
  // ... then take the checkpoints that this step reached.
  for (Slot* s : done_prefill) take_checkpoint(*s);
}

void Engine::take_checkpoint(Slot& s) {
  const int64_t at = int64_t(s.tokens.size());
  while (!s.targets.empty() && s.targets.front() <= at) s.targets.erase(s.targets.begin());
  if (pool_.budget() == 0) return;  // --cache-ram 0: no prompt cache
  std::vector<uint8_t> bytes(ckpt_size_);
  size_t len = 0;
  cli::check(deltallm_seq_checkpoint_save(ctx_, s.id, bytes.data(), bytes.size(), &len));
  auto idle = [this](int slot) { return slots_[size_t(slot)]->job == nullptr; };
  if (!pool_.add(s.id, at, std::move(bytes), idle) && pool_.budget() > 0)
    std::fprintf(stderr, "deltallm serve: a checkpoint (%zu bytes) does not fit --cache-ram\n", ckpt_size_);
}

void Engine::after_token(Slot& s, int row) {
  Job& job = *s.job;
  int32_t tok = -1;
  if (!s.forced.empty()) {  // the server closes the think block: these tokens, not the model's choice
    tok = s.forced.front();
    s.forced.erase(s.forced.begin());
  } else {
    cli::check(deltallm_sampler_sample(s.sampler.get(), ctx_, row, &tok));
  }
  cli::check(deltallm_sampler_accept(s.sampler.get(), tok));
  if (!s.has_first) {
    s.has_first = true;
    s.first_token = Clock::now();
    metrics_.ttft.observe(std::chrono::duration<double>(s.first_token - job.created).count());
  }
  TokenLogprob lp;
  if (job.params.top_logprobs >= 0) {
    const float* logits = nullptr;
    cli::check(deltallm_get_logits(ctx_, row, &logits));
    lp = logprob_of(logits, n_vocab_, tok, job.params.top_logprobs);
  }
  bool eog = false;
  cli::check(deltallm_token_is_eog(model_, tok, &eog));
  if (eog) return finish(s, "stop");
  ++s.generated;
  metrics_.generated_tokens += 1;
  const char* text = nullptr;
  size_t len = 0;
  cli::check(deltallm_detokenizer_push(s.detok.get(), tok, &text, &len));
  s.held.append(text, len);
  track_thinking(s, std::string(text, len));
  // A stop string ends the reply; its text is not sent.
  size_t cut = std::string::npos;
  for (const std::string& stop : job.params.stop)
    if (const size_t at = s.held.find(stop); at < cut) {
      cut = at;
      s.matched_stop = stop;
    }
  if (cut != std::string::npos) {
    s.held.resize(cut);
    job.emit(s.held, job.params.top_logprobs >= 0 ? &lp : nullptr);
    s.held.clear();
    s.detok.reset();  // the rest of the text is dropped
    return finish(s, "stop");
  }
  const size_t keep = held_suffix(s.held, job.params.stop);
  job.emit(s.held.substr(0, s.held.size() - keep), job.params.top_logprobs >= 0 ? &lp : nullptr);
  s.held.erase(0, s.held.size() - keep);
  if (job.params.max_tokens >= 0 && s.generated >= job.params.max_tokens) return finish(s, "length");
  if (int64_t(s.tokens.size()) + 1 >= opt_.n_ctx) return finish(s, "length");
  s.next_token = tok;
}

void Engine::track_thinking(Slot& s, const std::string& piece) {
  if (s.thought) return;
  s.tail += piece;
  if (!s.thinking && s.generated <= 4 && s.tail.find("<think>") != std::string::npos) {
    s.thinking = true;  // the reply opened the block itself
    s.tail.clear();
    return;
  }
  if (s.tail.size() > 32) s.tail.erase(0, s.tail.size() - 32);
  if (!s.thinking) return;
  if (s.tail.find("</think>") != std::string::npos) {
    s.thinking = false;
    s.thought = true;
    return;
  }
  ++s.thinking_tokens;
  const int64_t budget = s.job->params.reasoning_budget;
  if (budget >= 0 && s.thinking_tokens >= budget) close_thinking(s);
}

void Engine::close_thinking(Slot& s) {
  // The form the Qwen templates give a finished block.
  std::vector<int32_t> ids;
  if (cli::try_tokenize(model_, "\n</think>\n\n", DELTALLM_TOKENIZE_PARSE_SPECIAL, &ids) == DELTALLM_OK)
    s.forced = ids;
  s.thinking = false;
  s.thought = true;
}

void Engine::finish(Slot& s, const std::string& reason, const std::string& error) {
  if (!s.job) return;
  if (s.detok) {
    const char* tail = nullptr;
    size_t len = 0;
    if (deltallm_detokenizer_flush(s.detok.get(), &tail, &len) == DELTALLM_OK) s.held.append(tail, len);
  }
  if (!s.held.empty() && error.empty()) s.job->emit(s.held, nullptr);
  s.held.clear();
  // A request stopped during its prefill leaves a sequence shorter than
  // planned: the tokens vector says what it holds, so the cache stays right.
  Usage u;
  u.prompt_tokens = int64_t(s.job->prompt.tokens.size());
  u.completion_tokens = s.generated;
  u.cached_tokens = s.reused;
  const double secs = std::chrono::duration<double>(Clock::now() - s.job->created).count();
  if (s.has_first && s.generated > 1) {
    const double gen = std::chrono::duration<double>(Clock::now() - s.first_token).count();
    if (gen > 0) metrics_.tokens_per_s.observe(double(s.generated - 1) / gen);
  }
  log_request(s, secs, error.empty() ? reason : "error");
  // The slot is free before the client hears the end: a client that sends its
  // next request as soon as this reply is complete must find it free (with
  // --max-queue 0 it would otherwise get a 503 now and then).
  const std::shared_ptr<Job> job = std::move(s.job);
  s.job.reset();
  s.sampler.reset();
  s.detok.reset();
  s.prefilling = false;
  s.last_used = ++tick_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --busy_;
  }
  // /slots too says idle before the client hears the end (a client that
  // polls it after its reply must not see the finished job still running).
  publish();
  job->finish(reason, error, u, s.matched_stop);
}

void Engine::log_request(const Slot& s, double seconds, const std::string& end) {
  const int64_t P = int64_t(s.job->prompt.tokens.size());
  if (opt_.log_json) {
    nlohmann::json j = {{"event", "request"},       {"id", s.request_id},      {"slot", s.id},
                        {"prompt_tokens", P},       {"reused", s.reused},      {"evaluated", P - s.reused},
                        {"generated", s.generated}, {"cache", s.reuse_note},   {"seconds", seconds},
                        {"finish", end}};
    std::fprintf(stderr, "%s\n", j.dump().c_str());
  } else {
    std::fprintf(stderr, "request %llu: slot %d, prompt %lld tokens, %s, evaluated %lld, generated %lld, %.3f s, %s\n",
                 (unsigned long long)s.request_id, s.id, (long long)P, s.reuse_note.c_str(), (long long)(P - s.reused),
                 (long long)s.generated, seconds, end.c_str());
  }
}

}  // namespace dllm::serve
