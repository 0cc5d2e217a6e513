// deltallm serve: an OpenAI-compatible HTTP server (cpp-httplib) over the C
// API, with parallel slots on one context and a prompt cache that works for
// recurrent state. The parts live in tools/serve/: request parsing, prompt
// building, the engine (inference thread, slots, cache), the routes.
//
// stdout stays empty; the memory plan, "listening on ..." and one line per
// request go to stderr. SIGINT/SIGTERM end in-flight requests with an error,
// close the listener and exit 0.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "api_util.h"
#include "cli_util.h"
#include "command.h"
#include "sampling_flags.h"
#include "serve/engine.h"
#include "serve/http_routes.h"
#include "serve/request.h"

namespace dllm::cli {
namespace {

uint64_t default_cache_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const uint64_t ram = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
  const uint64_t two_gib = uint64_t(2) << 30;
  return ram ? std::min(two_gib, ram / 10) : two_gib;
}

int serve_main(int argc, char** argv) {
  // CLI11 takes no multi-letter short flags: llama-server's -np becomes --parallel.
  std::vector<std::string> args(argv, argv + argc);
  for (auto& a : args)
    if (a == "-np") a = "--parallel";
  std::vector<char*> av;
  for (auto& a : args) av.push_back(a.data());

  CLI::App app{"OpenAI-compatible HTTP server: /v1/chat/completions, /v1/completions, /v1/models, /health,\n"
               "/metrics, /tokenize, /detokenize, /apply-template, /slots. Parallel slots share one context\n"
               "(continuous batching); a prompt cache of recurrent-state checkpoints lets a conversation's next\n"
               "turn evaluate only its new tokens. Logs go to stderr.",
               "deltallm serve"};
  std::string model_path, host = "127.0.0.1", alias, api_key, api_key_file, template_file, kwargs_text, cors;
  std::string log_format = "text", kv_type = "f16";
  int port = 8080, n_parallel = 1, threads = 0, n_batch = 512;
  int64_t reasoning_budget = -1;
  int64_t n_ctx = 0, n_predict = -1, max_queue = 64, max_body = 16 << 20, checkpoint_every = 2048;
  double timeout = 0, slot_similarity = 0.5;
  int64_t cache_mib = -1;
  bool verbose = false;
  SamplingFlags sf;
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--port", port, "port to listen on (0: any free port, printed on stderr)")
      ->check(CLI::Range(0, 65535))->capture_default_str();
  app.add_option("-c,--ctx-size", n_ctx,
                 "context positions in total, shared out over the slots (0: min(trained context, 4096) per slot)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  app.add_option("--reasoning-budget", reasoning_budget,
                 "thinking tokens a reply may spend before the server closes its <think> block itself and the "
                 "answer follows (-1: no limit; a request's thinking_budget_tokens overrides it)")
      ->check(CLI::Range(int64_t(-1), int64_t(1) << 30))->capture_default_str();
  app.add_option("-n,--n-predict", n_predict,
                 "default max_tokens of a request (-1: until the end of the slot's context)")
      ->check(CLI::Range(int64_t(-1), int64_t(1) << 30))->capture_default_str();
  app.add_option("--parallel", n_parallel, "slots: requests served at once (also -np)")
      ->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("-b,--batch-size", n_batch, "tokens evaluated per step (micro-batch)")
      ->check(CLI::Range(1, 1 << 16))->capture_default_str();
  app.add_option("--kv-type", kv_type, "KV cache type")->check(CLI::IsMember({"f16", "f32"}))->capture_default_str();
  app.add_option("--alias", alias, "the model id in responses and /v1/models (default: the file name)");
  app.add_option("--api-key", api_key, "require this key (Authorization: Bearer KEY) on every path but /health and /");
  app.add_option("--api-key-file", api_key_file, "read the API key from this file (first line)");
  app.add_option("--timeout", timeout, "seconds a request may run; then it ends with finish_reason \"length\" (0: none)")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--max-queue", max_queue, "requests that may wait for a slot; more get 503 with Retry-After")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 20))->capture_default_str();
  app.add_option("--max-body", max_body, "largest request body in bytes; larger ones get 413")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40))->capture_default_str();
  app.add_option("--cache-ram", cache_mib, "MiB of prompt-cache checkpoints (default: min(2 GiB, 10% of RAM); 0: no cache)")
      ->check(CLI::Range(int64_t(-1), int64_t(1) << 30));
  app.add_option("--checkpoint-every", checkpoint_every, "also checkpoint every N tokens of a long prompt (0: off)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 30))->capture_default_str();
  app.add_option("--slot-similarity", slot_similarity,
                 "a request goes to the idle slot with the longest reusable prefix if it covers at least this share "
                 "of the prompt, else to the least recently used idle slot")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--chat-template-file", template_file, "Jinja chat template to use instead of the model's");
  app.add_option("--chat-template-kwargs", kwargs_text,
                 "JSON object of template variables requests start from, e.g. '{\"enable_thinking\": false}'; "
                 "a request's chat_template_kwargs are merged over it and reach the template as variables");
  app.add_option("--cors-origin", cors, "send CORS headers allowing this origin (default: none)");
  app.add_option("--log-format", log_format, "format of the per-request log lines")
      ->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "log every HTTP request and the library's debug messages");
  WeightMemoryFlags wm;
  wm.add(app);
  sf.add_to(app);
  if (!parse_args(app, int(av.size()), av.data())) return 0;

  serve::ServerState st;
  if (!api_key_file.empty()) {
    std::string k = read_text_file(api_key_file, "the API key file");
    k = k.substr(0, k.find_first_of("\r\n"));
    if (k.empty()) fail("the API key file '", api_key_file, "' is empty");
    api_key = k;
  }
  st.api_key = api_key;
  st.cors_origin = cors;
  st.verbose = verbose;
  if (!kwargs_text.empty()) {
    st.kwargs_defaults = nlohmann::json::parse(kwargs_text, nullptr, false);
    if (!st.kwargs_defaults.is_object()) fail("--chat-template-kwargs must be a JSON object");
    auto it = st.kwargs_defaults.find("enable_thinking");
    if (it != st.kwargs_defaults.end() && !it->is_boolean()) fail("--chat-template-kwargs: enable_thinking must be true or false");
    if (const char* reserved = serve::reserved_template_kwarg(st.kwargs_defaults))
      fail("--chat-template-kwargs may not set '", reserved, "' (the server sets it)");
  }
  if (!template_file.empty()) st.tmpl.template_text = read_text_file(template_file, "the chat template");
  st.defaults.temp = sf.temp.value_or(0.8f);
  st.defaults.top_k = sf.top_k;
  st.defaults.top_p = sf.top_p;
  st.defaults.min_p = sf.min_p;
  st.defaults.repeat_last_n = sf.repeat_last_n;
  st.defaults.repeat_penalty = sf.repeat_penalty;
  st.defaults.presence_penalty = sf.presence_penalty;
  st.defaults.frequency_penalty = sf.frequency_penalty;
  st.defaults.seed = sf.seed;
  st.defaults.max_tokens = n_predict;
  st.defaults.reasoning_budget = reasoning_budget;
  st.alias = alias.empty() ? model_path.substr(model_path.find_last_of('/') + 1) : alias;
  st.created = int64_t(std::time(nullptr));
  if (verbose) deltallm_set_log_level(DELTALLM_LOG_DEBUG);

  // Signals are taken by one thread (sigwait), never by the others.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  httplib::Server svr;
  const size_t http_threads = size_t(std::min<int64_t>(n_parallel + max_queue + 4, 512));
  svr.new_task_queue = [http_threads] { return new httplib::ThreadPool(http_threads); };
  svr.set_payload_max_length(size_t(max_body));
  svr.set_read_timeout(600);
  svr.set_write_timeout(600);
  serve::install_routes(svr, st);
  int bound = port;
  if (port == 0) bound = svr.bind_to_any_port(host);
  else if (!svr.bind_to_port(host, port)) bound = -1;
  if (bound <= 0) fail("cannot listen on ", host, ":", port, " (in use, or not an address of this machine)");
  std::atomic<bool> listener_done{false};
  std::thread listener([&] {
    svr.listen_after_bind();
    listener_done.store(true);
  });
  // svr.stop() does nothing before the listener thread is running: repeat until it returned.
  auto stop_listener = [&] {
    while (!listener_done.load()) {
      svr.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };

  std::atomic<bool> stop_signals{false};
  std::atomic<int> got_signal{0};
  serve::Engine* engine_ptr = nullptr;
  std::mutex engine_mu;
  std::thread signal_thread([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!stop_signals.load()) {
      const int sig = sigtimedwait(&sigs, nullptr, &tick);
      if (sig <= 0) continue;
      got_signal.store(sig);
      std::fprintf(stderr, "deltallm serve: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      {
        std::lock_guard<std::mutex> lock(engine_mu);
        if (engine_ptr) engine_ptr->shutdown();  // in-flight requests end with an error event
      }
      // Let the HTTP threads deliver those events before the listener and connections close.
      for (int i = 0; i < 100 && st.in_flight.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      stop_listener();
      return;
    }
  });
  auto stop_all = [&] {
    stop_signals.store(true);
    stop_listener();
    if (listener.joinable()) listener.join();
    if (signal_thread.joinable()) signal_thread.join();
  };
  std::fprintf(stderr, "listening on http://%s:%d\n", host.c_str(), bound);

  ModelPtr model;
  ContextPtr ctx;
  std::unique_ptr<serve::Engine> engine;
  try {
    model = load_model(model_path, false, wm.value());
    const deltallm_model_info mi = model_info(model.get());
    if (mi.vocab_only) fail(model_path, ": the file has no weights (a vocab-only file)");
    deltallm_context_params cp = deltallm_context_default_params();
    const int64_t per_slot = n_ctx > 0 ? n_ctx / n_parallel : std::min<int64_t>(mi.n_ctx_train, 4096);
    if (per_slot < 2) fail("--ctx-size ", n_ctx, " leaves fewer than 2 positions per slot for ", n_parallel, " slots");
    cp.n_ctx = per_slot;
    cp.n_seq = n_parallel;
    cp.n_batch = n_batch;
    cp.n_threads = threads;
    cp.kv_type = kv_type == "f16" ? DELTALLM_KV_F16 : DELTALLM_KV_F32;
    deltallm_context* raw = nullptr;
    check(deltallm_context_create(model.get(), &cp, &raw));
    ctx.reset(raw);
    deltallm_context_info ci{};
    ci.size = sizeof ci;
    check(deltallm_context_get_info(ctx.get(), &ci));
    serve::EngineOptions eo;
    eo.n_slots = n_parallel;
    eo.n_ctx = ci.n_ctx;
    eo.n_batch = n_batch;
    eo.max_queue = size_t(max_queue);
    eo.cache_bytes = cache_mib < 0 ? default_cache_bytes() : uint64_t(cache_mib) << 20;
    eo.checkpoint_every = checkpoint_every;
    eo.slot_similarity = slot_similarity;
    eo.timeout_s = timeout;
    eo.log_json = log_format == "json";
    size_t ckpt = 0;
    check(deltallm_seq_checkpoint_size(ctx.get(), &ckpt));
    std::fprintf(stderr, "%s\n", memory_plan(ctx.get()).c_str());
    std::fprintf(stderr, "  prompt cache        up to %.1f MiB of checkpoints (%.2f MiB each)\n",
                 double(eo.cache_bytes) / 1048576.0, double(ckpt) / 1048576.0);
    std::fprintf(stderr, "%d slot%s of %lld positions; model id '%s'\n", n_parallel, n_parallel == 1 ? "" : "s",
                 static_cast<long long>(ci.n_ctx), st.alias.c_str());
    st.model = model.get();
    st.n_vocab = mi.n_vocab;
    st.n_ctx = ci.n_ctx;
    engine = std::make_unique<serve::Engine>(model.get(), ctx.get(), eo, st.metrics);
    st.engine = engine.get();
    {
      std::lock_guard<std::mutex> lock(engine_mu);
      engine_ptr = engine.get();
    }
    if (got_signal.load()) engine->shutdown();
    st.ready.store(true);
    std::fprintf(stderr, "ready\n");
  } catch (...) {
    stop_all();
    throw;
  }
  listener.join();  // returns once svr.stop() ran (signal)
  stop_all();
  {
    std::lock_guard<std::mutex> lock(engine_mu);
    engine_ptr = nullptr;
  }
  st.ready.store(false);
  engine->shutdown();
  engine.reset();
  std::fprintf(stderr, "deltallm serve: stopped\n");
  return 0;
}

const Command reg("serve", "OpenAI-compatible HTTP server with parallel slots and a prompt cache", &serve_main);

}  // namespace
}  // namespace dllm::cli
