// The HTTP endpoints (cpp-httplib): OpenAI-compatible chat and completions,
// models, health, metrics, tokenize/detokenize, apply-template, slots. Request
// threads parse, queue a Job on the Engine and stream its output.
#pragma once
#include <deltallm.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>

#include "serve/engine.h"
#include "serve/metrics.h"
#include "serve/prompt.h"
#include "serve/request.h"

namespace httplib {
class Server;
}

namespace dllm::serve {

struct ServerState {
  std::string alias;                 // the model id
  std::string api_key;               // "" : no key needed
  std::string cors_origin;           // "" : no CORS headers
  bool verbose = false;              // log every HTTP request to stderr
  std::atomic<bool> ready{false};    // false while loading: /health says 503
  std::atomic<int> in_flight{0};     // generation requests not yet answered (shutdown lets them end)
  const deltallm_model* model = nullptr;
  Engine* engine = nullptr;
  Metrics metrics;
  GenParams defaults;
  nlohmann::json kwargs_defaults = nlohmann::json::object();
  TemplateOptions tmpl;
  int32_t n_vocab = 0;
  int64_t n_ctx = 0;                 // positions per slot
  int64_t created = 0;               // unix time the server started
};

void install_routes(httplib::Server& svr, ServerState& st);

}  // namespace dllm::serve
