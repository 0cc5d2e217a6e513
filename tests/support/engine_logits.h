// The engine's logits for every position of a token list, in the two paths
// the reference's dumps use: the prompt as one batch, or one token per batch
// (2 threads, like the reference's runs). Header-only: only the runtime tests
// that compare with ../shared/testdata include it.
#pragma once
#include <algorithm>
#include <vector>

#include "model/model.h"
#include "runtime/context.h"

namespace dllm::test {

inline std::vector<float> engine_logits(const Model& model, const std::vector<int>& tokens, bool batch_mode,
                                        int64_t n_ctx) {
  ContextParams cp;
  cp.n_ctx = n_ctx;
  cp.n_batch = batch_mode ? int(tokens.size()) : 1;
  cp.n_threads = 2;
  Context ctx(model, cp);
  const int64_t V = model.hparams().n_vocab;
  std::vector<float> out(tokens.size() * V);
  if (batch_mode) {
    std::vector<BatchEntry> b;
    for (size_t i = 0; i < tokens.size(); ++i) b.push_back({tokens[i], int64_t(i), 0, true});
    ctx.decode(b);
    for (size_t i = 0; i < tokens.size(); ++i) std::copy_n(ctx.logits(int(i)), V, out.data() + i * V);
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      ctx.decode({{tokens[i], int64_t(i), 0, true}});
      std::copy_n(ctx.logits(0), V, out.data() + i * V);
    }
  }
  return out;
}

}  // namespace dllm::test
