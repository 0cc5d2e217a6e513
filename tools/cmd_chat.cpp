// deltallm chat: an interactive multi-turn chat through the model's own chat
// template. The conversation stays in the context between turns: each turn
// renders the whole conversation, and only the text past what was already
// evaluated is tokenized and evaluated. Uses only the C API.
//
// stdout carries the answers; the prompt marker, notes and counters go to
// stderr. Commands: /reset, /exit. Ctrl-C stops the current answer (or a long
// prompt evaluation) and keeps the program; at an empty prompt it exits.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api_util.h"
#include "cli_util.h"
#include "command.h"
#include "sampling_flags.h"

namespace dllm::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) { g_interrupted.store(true); }

bool abort_requested(void*) { return g_interrupted.load(); }

class Chat {
 public:
  Chat(deltallm_model* model, deltallm_context* ctx, deltallm_sampler* sampler, int n_predict, int64_t n_ctx,
       std::string system, bool no_think)
      : model_(model), ctx_(ctx), sampler_(sampler), n_predict_(n_predict), n_ctx_(n_ctx), system_(std::move(system)),
        no_think_(no_think) {
    reset();
  }

  void reset() {
    check(deltallm_seq_clear(ctx_, 0));
    check(deltallm_sampler_reset(sampler_));
    messages_ = nlohmann::ordered_json::array();
    if (!system_.empty()) messages_.push_back({{"role", "system"}, {"content", system_}});
    evaluated_.clear();
    n_past_ = 0;
  }

  // One user turn: evaluates the new part of the conversation and streams the answer.
  void turn(const std::string& user) {
    nlohmann::ordered_json next = messages_;
    next.push_back({{"role", "user"}, {"content", user}});
    const std::string full = render(next, true);
    if (full.compare(0, evaluated_.size(), evaluated_) != 0) {
      // The template rendered earlier turns differently (e.g. it drops old
      // reasoning): the recurrent state cannot be rewound, so start over.
      std::fprintf(stderr, "[the template changed earlier turns: re-evaluating the conversation]\n");
      check(deltallm_seq_clear(ctx_, 0));
      evaluated_.clear();
      n_past_ = 0;
    }
    const std::string delta = full.substr(evaluated_.size());
    const std::vector<int32_t> ids =
        tokenize(model_, delta, DELTALLM_TOKENIZE_PARSE_SPECIAL | (n_past_ == 0 ? DELTALLM_TOKENIZE_ADD_SPECIAL : 0u));
    if (n_past_ + int64_t(ids.size()) + 1 >= n_ctx_) {
      std::fprintf(stderr, "[the conversation does not fit the context (%lld tokens): /reset to start over]\n",
                   static_cast<long long>(n_ctx_));
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (!ids.empty() && !decode_run(ctx_, ids.data(), ids.size(), n_past_)) {
      std::fprintf(stderr, "\n[interrupted: prompt evaluation stopped, the conversation was reset]\n");
      reset();
      return;
    }
    n_past_ += int64_t(ids.size());
    for (int32_t id : ids) check(deltallm_sampler_accept(sampler_, id));
    const auto t1 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "[evaluated %zu new tokens, %lld in context]\n", ids.size(), static_cast<long long>(n_past_));

    deltallm_detokenizer* d = nullptr;
    check(deltallm_detokenizer_create(model_, 0, &d));
    DetokenizerPtr detok(d);
    std::string answer;
    int generated = 0;
    bool stopped = false;
    while (generated < n_predict_ && n_past_ + 1 < n_ctx_) {
      if (g_interrupted.load()) {
        stopped = true;
        break;
      }
      int32_t tok = -1;
      check(deltallm_sampler_sample(sampler_, ctx_, -1, &tok));
      check(deltallm_sampler_accept(sampler_, tok));
      bool eog = false;
      check(deltallm_token_is_eog(model_, tok, &eog));
      if (eog) break;
      const char* text = nullptr;
      size_t len = 0;
      check(deltallm_detokenizer_push(detok.get(), tok, &text, &len));
      std::fwrite(text, 1, len, stdout);
      std::fflush(stdout);
      answer.append(text, len);
      ++generated;
      if (!decode_run(ctx_, &tok, 1, n_past_)) {
        stopped = true;
        break;
      }
      ++n_past_;
    }
    const char* tail = nullptr;
    size_t tail_len = 0;
    check(deltallm_detokenizer_flush(detok.get(), &tail, &tail_len));
    std::fwrite(tail, 1, tail_len, stdout);
    answer.append(tail, tail_len);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    const double tg = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    const double tp = std::chrono::duration<double>(t1 - t0).count();
    std::fprintf(stderr, "[%s%d tokens generated; prompt %.2f tok/s, generation %.2f tok/s]\n",
                 stopped ? "interrupted: " : "", generated, double(ids.size()) / std::max(tp, 1e-9),
                 double(generated) / std::max(tg, 1e-9));
    messages_ = next;
    messages_.push_back({{"role", "assistant"}, {"content", answer}});
    // A decode stopped by Ctrl-C empties the sequence: evaluate it all again next turn.
    int64_t len = 0;
    check(deltallm_seq_length(ctx_, 0, &len));
    if (len != n_past_) {
      check(deltallm_seq_clear(ctx_, 0));
      evaluated_.clear();
      n_past_ = 0;
      return;
    }
    evaluated_ = full + answer;
  }

 private:
  std::string render(const nlohmann::ordered_json& messages, bool add_generation_prompt) const {
    deltallm_chat_params p = deltallm_chat_default_params();
    p.add_generation_prompt = add_generation_prompt;
    if (no_think_) p.enable_thinking = 0;
    return apply_chat_template(model_, messages.dump(), p);
  }

  deltallm_model* model_;
  deltallm_context* ctx_;
  deltallm_sampler* sampler_;
  int n_predict_;
  int64_t n_ctx_;
  std::string system_;
  bool no_think_;
  nlohmann::ordered_json messages_;
  std::string evaluated_;  // rendered conversation text already in the context
  int64_t n_past_ = 0;     // tokens in the context
};

int chat_main(int argc, char** argv) {
  CLI::App app{"Interactive chat through the model's chat template.\n"
               "Type a message and Enter; /reset starts over, /exit (or end of input) quits.\n"
               "Ctrl-C stops the current answer. Answers go to stdout, everything else to stderr.",
               "deltallm chat"};
  std::string model_path, system, kv_type = "f16";
  bool no_think = false;
  int n_predict = 1024, threads = 0;
  int64_t n_ctx = 0;
  SamplingFlags sf;
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  app.add_option("--system", system, "system message");
  app.add_flag("--no-think", no_think, "pass enable_thinking = false to the template");
  app.add_option("-n,--n-predict", n_predict, "most tokens per answer")->check(CLI::Range(1, 1 << 24))->capture_default_str();
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("-c,--ctx-size", n_ctx, "context size (0: min(trained context, 4096))")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  app.add_option("--kv-type", kv_type, "KV cache type")->check(CLI::IsMember({"f16", "f32"}))->capture_default_str();
  WeightMemoryFlags wm;
  wm.add(app);
  sf.add_to(app);
  if (!parse_args(app, argc, argv)) return 0;

  ModelPtr model = load_model(model_path, false, wm.value());
  const deltallm_model_info mi = model_info(model.get());
  if (mi.vocab_only) fail(model_path, ": the file has no weights (a vocab-only file)");
  const char* tmpl = nullptr;
  check(deltallm_model_chat_template(model.get(), nullptr, &tmpl));
  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = n_ctx;
  cp.n_threads = threads;
  cp.kv_type = kv_type == "f16" ? DELTALLM_KV_F16 : DELTALLM_KV_F32;
  cp.abort_callback = &abort_requested;
  deltallm_context* raw = nullptr;
  check(deltallm_context_create(model.get(), &cp, &raw));
  ContextPtr ctx(raw);
  std::fprintf(stderr, "%s\n", memory_plan(ctx.get()).c_str());
  deltallm_context_info ci{};
  ci.size = sizeof ci;
  check(deltallm_context_get_info(ctx.get(), &ci));
  SamplerPtr sampler = sf.make(model.get(), 0.8f);

  struct sigaction sa{};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: Ctrl-C at the prompt interrupts the read
  sigaction(SIGINT, &sa, nullptr);

  Chat chat(model.get(), ctx.get(), sampler.get(), n_predict, ci.n_ctx, system, no_think);
  const bool tty = isatty(STDIN_FILENO);
  std::fprintf(stderr, "chat with %s — /reset starts over, /exit quits, Ctrl-C stops an answer\n", mi.description);
  std::string line;
  for (;;) {
    g_interrupted.store(false);
    std::fprintf(stderr, "> ");
    std::fflush(stderr);
    if (!std::getline(std::cin, line)) {
      if (g_interrupted.load() && tty) {
        std::cin.clear();
        std::fprintf(stderr, "\n");
        break;
      }
      break;
    }
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      chat.reset();
      std::fprintf(stderr, "[conversation reset]\n");
      continue;
    }
    if (line.empty()) continue;
    try {
      chat.turn(line);
    } catch (const Error& e) {
      std::fprintf(stderr, "deltallm: error: %s\n", e.what());
    }
  }
  return 0;
}

const Command reg("chat", "interactive multi-turn chat through the model's chat template", &chat_main);

}  // namespace
}  // namespace dllm::cli
