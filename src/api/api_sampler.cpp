// Sampler calls: the standard chain of kernels.md §7.1 or a chain built stage
// by stage, over the model's vocabulary with UNUSED tokens blocked.
#include <cmath>

#include "api/api_internal.h"

using namespace dllm;
using namespace dllm::api;

namespace {

Sampler& sampler_ref(deltallm_sampler* s) {
  require(s, "sampler");
  return *s->s;
}

const deltallm_model& sampling_model(const deltallm_model* model) {
  const deltallm_model& m = model_ref(model);
  if (!m.model) raise(DELTALLM_ERR_NOT_AVAILABLE, "the model was loaded vocab-only: nothing to sample");
  return m;
}

std::vector<LogitBias> biases(const deltallm_logit_bias* b, size_t n) {
  if (!b && n) raise(DELTALLM_ERR_INVALID_ARGUMENT, "logit_bias is NULL but its count is ", n);
  std::vector<LogitBias> v;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i) v.push_back({b[i].token, b[i].bias});
  return v;
}

}  // namespace

extern "C" {

deltallm_sampler_params deltallm_sampler_default_params(void) {
  deltallm_sampler_params p;
  std::memset(&p, 0, sizeof p);
  const SamplingParams d;
  p.size = sizeof p;
  p.seed = DELTALLM_SEED_RANDOM;
  p.temp = d.temp;
  p.top_k = d.top_k;
  p.top_p = d.top_p;
  p.min_p = d.min_p;
  p.min_keep = d.min_keep;
  p.penalty_last_n = d.penalties.last_n;
  p.penalty_repeat = d.penalties.repeat;
  p.penalty_freq = d.penalties.freq;
  p.penalty_present = d.penalties.present;
  p.penalize_nl = d.penalties.penalize_nl;
  p.logit_bias = nullptr;
  p.n_logit_bias = 0;
  return p;
}

deltallm_status deltallm_sampler_create(const deltallm_model* model, const deltallm_sampler_params* params,
                                        deltallm_sampler** out) {
  return guard("deltallm_sampler_create", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const deltallm_model& m = sampling_model(model);
    require(out, "out");
    const deltallm_sampler_params p = read_params(params, deltallm_sampler_default_params(), "params");
    SamplingParams sp;
    sp.seed = p.seed;
    sp.temp = p.temp;
    sp.top_k = p.top_k;
    sp.top_p = p.top_p;
    sp.min_p = p.min_p;
    sp.min_keep = p.min_keep;
    sp.penalties.last_n = p.penalty_last_n;
    sp.penalties.repeat = p.penalty_repeat;
    sp.penalties.freq = p.penalty_freq;
    sp.penalties.present = p.penalty_present;
    sp.penalties.penalize_nl = p.penalize_nl;
    sp.logit_bias = biases(p.logit_bias, p.n_logit_bias);
    auto s = std::make_unique<deltallm_sampler>();
    s->model = &m;
    s->s.emplace(Sampler::standard(m.n_vocab, m.blocked, sp, m.nl_token));
    *out = s.release();
  });
}

deltallm_status deltallm_sampler_chain_create(const deltallm_model* model, uint32_t seed, deltallm_sampler** out) {
  return guard("deltallm_sampler_chain_create", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const deltallm_model& m = sampling_model(model);
    require(out, "out");
    auto s = std::make_unique<deltallm_sampler>();
    s->model = &m;
    s->s.emplace(m.n_vocab, m.blocked, seed, m.nl_token);
    *out = s.release();
  });
}

deltallm_status deltallm_sampler_add_logit_bias(deltallm_sampler* s, const deltallm_logit_bias* bias, size_t n_bias) {
  return guard("deltallm_sampler_add_logit_bias", DELTALLM_ERR_INVALID_ARGUMENT,
               [&] { sampler_ref(s).add_logit_bias(biases(bias, n_bias)); });
}

deltallm_status deltallm_sampler_add_penalties(deltallm_sampler* s, int32_t last_n, float repeat, float freq,
                                               float present, bool penalize_nl) {
  return guard("deltallm_sampler_add_penalties", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    PenaltyParams p;
    p.last_n = last_n;
    p.repeat = repeat;
    p.freq = freq;
    p.present = present;
    p.penalize_nl = penalize_nl;
    sampler_ref(s).add_penalties(p);
  });
}

deltallm_status deltallm_sampler_add_top_k(deltallm_sampler* s, int32_t k) {
  return guard("deltallm_sampler_add_top_k", DELTALLM_ERR_INVALID_ARGUMENT, [&] { sampler_ref(s).add_top_k(k); });
}

deltallm_status deltallm_sampler_add_top_p(deltallm_sampler* s, float p) {
  return guard("deltallm_sampler_add_top_p", DELTALLM_ERR_INVALID_ARGUMENT, [&] { sampler_ref(s).add_top_p(p); });
}

deltallm_status deltallm_sampler_add_min_p(deltallm_sampler* s, float p) {
  return guard("deltallm_sampler_add_min_p", DELTALLM_ERR_INVALID_ARGUMENT, [&] { sampler_ref(s).add_min_p(p); });
}

deltallm_status deltallm_sampler_add_temperature(deltallm_sampler* s, float temp) {
  return guard("deltallm_sampler_add_temperature", DELTALLM_ERR_INVALID_ARGUMENT,
               [&] { sampler_ref(s).add_temperature(temp); });
}

deltallm_status deltallm_sampler_add_greedy(deltallm_sampler* s) {
  return guard("deltallm_sampler_add_greedy", DELTALLM_ERR_INVALID_ARGUMENT, [&] { sampler_ref(s).add_greedy(); });
}

deltallm_status deltallm_sampler_add_dist(deltallm_sampler* s) {
  return guard("deltallm_sampler_add_dist", DELTALLM_ERR_INVALID_ARGUMENT, [&] { sampler_ref(s).add_dist(); });
}

deltallm_status deltallm_sampler_set_min_keep(deltallm_sampler* s, int32_t min_keep) {
  return guard("deltallm_sampler_set_min_keep", DELTALLM_ERR_INVALID_ARGUMENT,
               [&] { sampler_ref(s).set_min_keep(min_keep); });
}

deltallm_status deltallm_sampler_sample(deltallm_sampler* s, const deltallm_context* ctx, int32_t i, int32_t* token) {
  return guard("deltallm_sampler_sample", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    Sampler& smp = sampler_ref(s);
    require(ctx, "ctx");
    require(token, "token");
    if (ctx->model->n_vocab != smp.n_vocab())
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "the context's vocabulary (", ctx->model->n_vocab,
            ") is not the sampler's (", smp.n_vocab(), ")");
    const float* row = nullptr;
    if (const deltallm_status st = deltallm_get_logits(ctx, i, &row); st != DELTALLM_OK)
      raise(st, last_error());
    *token = smp.sample(row);
  });
}

deltallm_status deltallm_sampler_sample_logits(deltallm_sampler* s, const float* logits, size_t n_logits,
                                               int32_t* token) {
  return guard("deltallm_sampler_sample_logits", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    Sampler& smp = sampler_ref(s);
    require(logits, "logits");
    require(token, "token");
    if (n_logits != size_t(smp.n_vocab()))
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "n_logits is ", n_logits, ", the vocabulary has ", smp.n_vocab());
    *token = smp.sample(logits);
  });
}

deltallm_status deltallm_sampler_sample_accept(deltallm_sampler* s, const deltallm_context* ctx, int32_t i,
                                               int32_t* token) {
  const deltallm_status st = deltallm_sampler_sample(s, ctx, i, token);
  return st != DELTALLM_OK ? st : deltallm_sampler_accept(s, *token);
}

deltallm_status deltallm_sampler_accept_tokens(deltallm_sampler* s, const int32_t* tokens, size_t n) {
  return guard("deltallm_sampler_accept_tokens", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    Sampler& smp = sampler_ref(s);
    if (n > 0) require(tokens, "tokens");
    for (size_t k = 0; k < n; ++k)
      if (tokens[k] < 0 || tokens[k] >= smp.n_vocab())
        raise(DELTALLM_ERR_INVALID_ARGUMENT, "tokens[", k, "] = ", tokens[k], " is not in [0, ", smp.n_vocab(), ")");
    for (size_t k = 0; k < n; ++k) smp.accept(tokens[k]);
  });
}

deltallm_status deltallm_sampler_accept(deltallm_sampler* s, int32_t token) {
  return guard("deltallm_sampler_accept", DELTALLM_ERR_INVALID_ARGUMENT, [&] { sampler_ref(s).accept(token); });
}

deltallm_status deltallm_sampler_reset(deltallm_sampler* s) {
  return guard("deltallm_sampler_reset", DELTALLM_ERR_INVALID_ARGUMENT, [&] { sampler_ref(s).reset(); });
}

deltallm_status deltallm_sampler_get_seed(const deltallm_sampler* s, uint32_t* seed) {
  return guard("deltallm_sampler_get_seed", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    require(s, "sampler");
    require(seed, "seed");
    *seed = s->s->seed();
  });
}

void deltallm_sampler_free(deltallm_sampler* s) { delete s; }

}  // extern "C"
