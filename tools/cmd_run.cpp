// deltallm run: evaluate a prompt of token ids and generate greedily.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_util.h"
#include "command.h"
#include "model/model.h"
#include "runtime/context.h"
#include "util/error.h"
#include "util/log.h"

namespace dllm::cli {
namespace {

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    if (a == std::string::npos) fail("--tokens: empty item in '", s, "'");
    item = item.substr(a, b - a + 1);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (...) {
      used = 0;
    }
    if (used != item.size() || v < INT32_MIN || v > INT32_MAX) fail("--tokens: '", item, "' is not a token id");
    ids.push_back(int32_t(v));
  }
  if (ids.empty()) fail("--tokens: no token ids given");
  return ids;
}

// Token types from the file (tokenizer.ggml.token_type); UNUSED (5) tokens are
// never generated.
std::vector<bool> unusable_tokens(const Model& m) {
  std::vector<bool> out(m.hparams().n_vocab, false);
  const GgufValue* tt = m.file().find("tokenizer.ggml.token_type");
  if (tt && tt->type == GgufType::ARRAY)
    for (size_t i = 0; i < tt->items.size() && i < out.size(); ++i) out[i] = tt->items[i].as_int().value_or(0) == 5;
  return out;
}

int greedy(const float* logits, const std::vector<bool>& unusable) {
  int best = -1;
  for (int i = 0; i < int(unusable.size()); ++i)
    if (!unusable[i] && (best < 0 || logits[i] > logits[best])) best = i;
  return best;
}

int run_main(int argc, char** argv) {
  CLI::App app{"Evaluate a prompt and generate tokens greedily.\nGenerated token ids go to stdout as one comma-separated line; timings to stderr.", "deltallm run"};
  std::string model_path, tokens, logits_out, logits_mode = "batch", kv_type = "f16";
  int n_predict = 16, threads = 0;
  int64_t n_ctx = 0;
  bool ignore_eos = false;
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  app.add_option("--tokens", tokens, "prompt as comma-separated token ids, e.g. 1,2,3")->required();
  app.add_option("-n,--n-predict", n_predict, "number of tokens to generate (0: only evaluate the prompt)")
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("-c,--ctx-size", n_ctx, "context size (0: min(trained context, 4096))")->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  app.add_option("--logits-out", logits_out, "write the prompt's logits as float32 [n_prompt][n_vocab] to this file");
  app.add_option("--logits-mode", logits_mode, "batch: the prompt as one batch; seq: one token per batch")
      ->check(CLI::IsMember({"batch", "seq"}));
  app.add_option("--kv-type", kv_type, "KV cache type")->check(CLI::IsMember({"f16", "f32"}));
  app.add_flag("--ignore-eos", ignore_eos, "keep generating after an end-of-generation token");
  if (!parse_args(app, argc, argv)) return 0;

  const std::vector<int32_t> prompt = parse_ids(tokens);
  auto model = Model::load(model_path);
  const HParams& hp = model->hparams();
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= hp.n_vocab)
      fail("--tokens: token id ", prompt[i], " at index ", i, " is out of range [0, ", hp.n_vocab, ")");
  ContextParams cp;
  cp.n_ctx = n_ctx;
  cp.n_threads = threads;
  cp.kv_type = kv_type == "f16" ? KvType::F16 : KvType::F32;
  const int64_t ctx_size = n_ctx > 0 ? n_ctx : std::min<int64_t>(hp.n_ctx_train, 4096);
  if (int64_t(prompt.size()) + n_predict > ctx_size)
    fail("prompt (", prompt.size(), " tokens) plus -n ", n_predict, " exceeds the context size ", ctx_size);
  cp.n_batch = logits_mode == "seq" ? 1 : int(std::max<size_t>(512, prompt.size()));
  Context ctx(*model, cp);
  log_info(ctx.memory_plan());

  const bool want_all = !logits_out.empty();
  std::vector<float> all_logits;
  const int64_t V = hp.n_vocab;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<BatchEntry> batch;
  std::vector<float> last(V);
  if (logits_mode == "batch") {
    for (size_t i = 0; i < prompt.size(); ++i)
      batch.push_back({prompt[i], int64_t(i), 0, want_all || i + 1 == prompt.size()});
    ctx.decode(batch);
    if (want_all) {
      all_logits.resize(prompt.size() * V);
      for (size_t i = 0; i < prompt.size(); ++i) std::copy_n(ctx.logits(int(i)), V, all_logits.data() + i * V);
    }
    std::copy_n(ctx.logits(ctx.n_logits() - 1), V, last.data());
  } else {
    if (want_all) all_logits.resize(prompt.size() * V);
    for (size_t i = 0; i < prompt.size(); ++i) {
      ctx.decode({{prompt[i], int64_t(i), 0, true}});
      if (want_all) std::copy_n(ctx.logits(0), V, all_logits.data() + i * V);
    }
    std::copy_n(ctx.logits(0), V, last.data());
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (want_all) {
    std::ofstream f(logits_out, std::ios::binary);
    f.write(reinterpret_cast<const char*>(all_logits.data()), std::streamsize(all_logits.size() * sizeof(float)));
    if (!f) fail("cannot write ", logits_out);
  }

  const std::vector<bool> unusable = unusable_tokens(*model);
  auto eos = model->file().get_u32("tokenizer.ggml.eos_token_id");
  std::string out;
  int64_t pos = int64_t(prompt.size());
  int generated = 0;
  for (int i = 0; i < n_predict; ++i) {
    const int tok = greedy(last.data(), unusable);
    if (tok < 0) fail("no token can be generated (every token is of type UNUSED)");
    out += (i ? "," : "") + std::to_string(tok);
    ++generated;
    if (!ignore_eos && eos && uint32_t(tok) == *eos) break;
    if (i + 1 == n_predict) break;
    ctx.decode({{tok, pos++, 0, true}});
    std::copy_n(ctx.logits(0), V, last.data());
  }
  const auto t2 = std::chrono::steady_clock::now();
  std::printf("%s\n", out.c_str());
  std::fflush(stdout);
  const double tp = std::chrono::duration<double>(t1 - t0).count(), tg = std::chrono::duration<double>(t2 - t1).count();
  char buf[256];
  std::snprintf(buf, sizeof buf, "prompt: %zu tokens in %.3f s (%.2f tok/s); generation: %d tokens in %.3f s (%.2f tok/s)",
                prompt.size(), tp, prompt.size() / std::max(tp, 1e-9), generated, tg,
                generated > 1 ? (generated - 1) / std::max(tg, 1e-9) : 0.0);
  log_info(buf);
  return 0;
}

const Command reg("run", "evaluate a prompt and generate tokens (greedy)", &run_main);

}  // namespace
}  // namespace dllm::cli
