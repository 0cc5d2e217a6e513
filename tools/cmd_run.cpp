// deltallm run: evaluate a prompt (token ids or text) and generate.
//   --tokens 1,2,3 : ids in, generated ids out (one comma-separated line), greedy by default
//   -p TEXT        : a raw completion (no template), text streamed to stdout as produced
// Uses only the C API.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "api_util.h"
#include "cli_util.h"
#include "command.h"
#include "sampling_flags.h"

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

using Clock = std::chrono::steady_clock;

int run_main(int argc, char** argv) {
  CLI::App app{"Evaluate a prompt and generate.\n"
               "With --tokens the generated ids go to stdout as one comma-separated line (greedy unless --temp);\n"
               "with -p the generated text is streamed to stdout. Memory plan and timings go to stderr.",
               "deltallm run"};
  std::string model_path, tokens, prompt, logits_out, logits_mode = "batch", kv_type = "f16";
  int n_predict = 16, threads = 0;
  int64_t n_ctx = 0;
  bool ignore_eos = false, no_parse_special = false;
  SamplingFlags sf;
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  auto* opt_tokens = app.add_option("--tokens", tokens, "prompt as comma-separated token ids, e.g. 1,2,3");
  auto* opt_prompt = app.add_option("-p,--prompt", prompt, "prompt text (raw completion, no chat template)");
  opt_tokens->excludes(opt_prompt);
  app.add_option("-n,--n-predict", n_predict, "tokens to generate (0: only evaluate the prompt)")
      ->check(CLI::Range(0, 1 << 24))->capture_default_str();
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("-c,--ctx-size", n_ctx, "context size (0: min(trained context, 4096))")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  app.add_option("--logits-out", logits_out,
                 "write the raw logits of every prompt position as little-endian float32 [n_prompt][n_vocab]");
  app.add_option("--logits-mode", logits_mode, "batch: the prompt as one batch; seq: one token per batch")
      ->check(CLI::IsMember({"batch", "seq"}))->capture_default_str();
  app.add_option("--kv-type", kv_type, "KV cache type")->check(CLI::IsMember({"f16", "f32"}))->capture_default_str();
  app.add_flag("--ignore-eos", ignore_eos, "keep generating after an end-of-generation token");
  app.add_flag("--no-parse-special", no_parse_special, "with -p: treat special-token texts as plain text");
  WeightMemoryFlags wm;
  wm.add(app);
  sf.add_to(app);
  if (!parse_args(app, argc, argv)) return 0;
  const bool text_mode = opt_prompt->count() > 0;
  if (!text_mode && opt_tokens->count() == 0) fail("give a prompt with -p TEXT or --tokens IDS");

  ModelPtr model = load_model(model_path, false, wm.value());
  const deltallm_model_info mi = model_info(model.get());
  if (mi.vocab_only) fail(model_path, ": the file has no weights (a vocab-only file)");
  std::vector<int32_t> ids;
  if (text_mode) {
    uint32_t flags = DELTALLM_TOKENIZE_ADD_SPECIAL | (no_parse_special ? 0u : DELTALLM_TOKENIZE_PARSE_SPECIAL);
    ids = tokenize(model.get(), prompt, flags);
    if (ids.empty()) fail("the prompt is empty");
  } else {
    ids = parse_ids(tokens);
    for (size_t i = 0; i < ids.size(); ++i)
      if (ids[i] < 0 || ids[i] >= mi.n_vocab)
        fail("--tokens: token id ", ids[i], " at index ", i, " is out of range [0, ", mi.n_vocab, ")");
  }
  const int64_t ctx_size = n_ctx > 0 ? n_ctx : std::min<int64_t>(mi.n_ctx_train, 4096);
  if (int64_t(ids.size()) + n_predict > ctx_size)
    fail("the prompt (", ids.size(), " tokens) plus -n ", n_predict, " does not fit the context size ", ctx_size);

  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = n_ctx;
  cp.n_threads = threads;
  cp.kv_type = kv_type == "f16" ? DELTALLM_KV_F16 : DELTALLM_KV_F32;
  cp.n_batch = logits_mode == "seq" ? 1 : int32_t(std::max<size_t>(512, ids.size()));
  deltallm_context* raw = nullptr;
  check(deltallm_context_create(model.get(), &cp, &raw));
  ContextPtr ctx(raw);
  std::fprintf(stderr, "%s\n", memory_plan(ctx.get()).c_str());

  // Prompt: the logits of every position when asked for, else of the last one.
  const size_t V = size_t(mi.n_vocab);
  const bool want_all = !logits_out.empty();
  std::vector<float> all_logits(want_all ? ids.size() * V : 0);
  const auto t0 = Clock::now();
  if (logits_mode == "batch") {
    std::vector<int64_t> pos(ids.size());
    std::vector<int8_t> want(ids.size(), want_all ? 1 : 0);
    want.back() = 1;
    for (size_t i = 0; i < ids.size(); ++i) pos[i] = int64_t(i);
    deltallm_batch b = deltallm_batch_default_params();
    b.n_tokens = int32_t(ids.size());
    b.tokens = ids.data();
    b.pos = pos.data();
    b.logits = want.data();
    check(deltallm_decode(ctx.get(), &b));
    if (want_all)
      for (size_t i = 0; i < ids.size(); ++i) {
        const float* l = nullptr;
        check(deltallm_get_logits(ctx.get(), int32_t(i), &l));
        std::copy_n(l, V, all_logits.data() + i * V);
      }
  } else {
    for (size_t i = 0; i < ids.size(); ++i) {
      decode_run(ctx.get(), &ids[i], 1, int64_t(i));
      if (want_all) {
        const float* l = nullptr;
        check(deltallm_get_logits(ctx.get(), 0, &l));
        std::copy_n(l, V, all_logits.data() + i * V);
      }
    }
  }
  const auto t1 = Clock::now();
  if (want_all) {
    std::ofstream f(logits_out, std::ios::binary);
    f.write(reinterpret_cast<const char*>(all_logits.data()), std::streamsize(all_logits.size() * sizeof(float)));
    if (!f) fail("cannot write ", logits_out);
  }

  SamplerPtr sampler = sf.make(model.get(), text_mode ? 0.8f : 0.0f);
  for (int32_t id : ids) check(deltallm_sampler_accept(sampler.get(), id));
  DetokenizerPtr detok;
  if (text_mode) {
    deltallm_detokenizer* d = nullptr;
    check(deltallm_detokenizer_create(model.get(), 0, &d));
    detok.reset(d);
  }
  std::string id_line;
  int generated = 0;
  int64_t pos = int64_t(ids.size());
  for (int i = 0; i < n_predict; ++i) {
    int32_t tok = -1;
    check(deltallm_sampler_sample(sampler.get(), ctx.get(), -1, &tok));
    check(deltallm_sampler_accept(sampler.get(), tok));
    ++generated;
    bool eog = false;
    if (text_mode) check(deltallm_token_is_eog(model.get(), tok, &eog));
    else if (deltallm_token_is_eog(model.get(), tok, &eog) != DELTALLM_OK) eog = false;  // no tokenizer: never stop
    if (text_mode) {
      if (eog && !ignore_eos) break;
      const char* text = nullptr;
      size_t len = 0;
      check(deltallm_detokenizer_push(detok.get(), tok, &text, &len));
      std::fwrite(text, 1, len, stdout);
      std::fflush(stdout);
    } else {
      id_line += (i ? "," : "") + std::to_string(tok);
      if (eog && !ignore_eos) break;
    }
    if (i + 1 == n_predict) break;
    decode_run(ctx.get(), &tok, 1, pos++);
  }
  const auto t2 = Clock::now();
  if (text_mode) {
    const char* text = nullptr;
    size_t len = 0;
    check(deltallm_detokenizer_flush(detok.get(), &text, &len));
    std::fwrite(text, 1, len, stdout);
    std::fputc('\n', stdout);
  } else {
    std::printf("%s\n", id_line.c_str());
  }
  std::fflush(stdout);
  const double tp = std::chrono::duration<double>(t1 - t0).count(), tg = std::chrono::duration<double>(t2 - t1).count();
  std::fprintf(stderr, "prompt: %zu tokens in %.3f s (%.2f tok/s); generation: %d tokens in %.3f s (%.2f tok/s)\n",
               ids.size(), tp, double(ids.size()) / std::max(tp, 1e-9), generated, tg,
               double(generated) / std::max(tg, 1e-9));
  return 0;
}

const Command reg("run", "evaluate a prompt (ids or text) and generate", &run_main);

}  // namespace
}  // namespace dllm::cli
