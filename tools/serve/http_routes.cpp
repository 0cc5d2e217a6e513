#include "serve/http_routes.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "api_util.h"
#include "serve/api_error.h"
#include "serve/connection_probe.h"
#include "serve/chat_reply.h"

namespace dllm::serve {
namespace {

using json = nlohmann::json;
using httplib::Request;
using httplib::Response;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_json(Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_content(dump(j), "application/json");
}

void send_error(Response& res, int status, const std::string& message, const std::string& param = {}) {
  send_json(res, error_body(status, message, param), status);
}

// Compares in time that depends only on the lengths, not on where they differ.
bool same_key(const std::string& given, const std::string& want) {
  unsigned char diff = given.size() == want.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ want[i % want.size()]);
  return diff == 0;
}

std::string piece(const deltallm_model* m, int32_t token) {
  return cli::token_piece(m, token, DELTALLM_DETOKENIZE_RENDER_SPECIAL);
}

json bytes_of(const std::string& s) {
  json a = json::array();
  for (unsigned char c : s) a.push_back(int(c));
  return a;
}

json chat_logprobs(const deltallm_model* m, const std::vector<TokenLogprob>& lps) {
  json content = json::array();
  for (const TokenLogprob& lp : lps) {
    const std::string t = piece(m, lp.token);
    json top = json::array();
    for (const auto& [id, v] : lp.top) {
      const std::string tt = piece(m, id);
      top.push_back({{"token", tt}, {"logprob", v}, {"bytes", bytes_of(tt)}});
    }
    content.push_back({{"token", t}, {"logprob", lp.logprob}, {"bytes", bytes_of(t)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

json completion_logprobs(const deltallm_model* m, const std::vector<TokenLogprob>& lps) {
  json tokens = json::array(), values = json::array(), top = json::array();
  for (const TokenLogprob& lp : lps) {
    tokens.push_back(piece(m, lp.token));
    values.push_back(lp.logprob);
    json t = json::object();
    for (const auto& [id, v] : lp.top) t[piece(m, id)] = v;
    top.push_back(t);
  }
  return {{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", top}};
}

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

std::atomic<uint64_t> g_request_counter{0};

enum class Kind { Chat, Completion };

// Runs a job to its end (non-streamed) or streams it as Server-Sent Events.
void run_job(ServerState& st, Kind kind, std::shared_ptr<Job> job, const Request& req, Response& res) {
  if (job->prompt.tokens.empty()) throw ApiError(400, "the prompt is empty", kind == Kind::Chat ? "messages" : "prompt");
  const int64_t P = int64_t(job->prompt.tokens.size());
  if (P >= st.n_ctx)
    throw ApiError(400, "the prompt has " + std::to_string(P) + " tokens, the context of a slot holds " +
                            std::to_string(st.n_ctx) + " (the last position is kept for a reply)",
                   kind == Kind::Chat ? "messages" : "prompt");
  st.engine->submit(job);  // 503 when the queue is full
  ++st.in_flight;
  const std::string id = (kind == Kind::Chat ? "chatcmpl-" : "cmpl-") + std::to_string(++g_request_counter);
  const int64_t created = int64_t(std::time(nullptr));
  const bool want_lp = job->params.top_logprobs >= 0;
  // A client that goes away frees its slot: found by peeking at its socket while waiting.
  auto probe = std::make_shared<ConnectionProbe>(req.remote_addr, req.remote_port, req.local_port);

  if (!job->params.stream) {
    struct Done {
      std::atomic<int>& n;
      ~Done() { --n; }
    } done{st.in_flight};
    std::string text;
    std::vector<TokenLogprob> lps;
    Job::Update u;
    do {
      u = job->take(std::chrono::milliseconds(200));
      if (!u.done && probe->closed()) {
        job->cancel();
        throw ApiError(499, "the client closed the connection");
      }
      text += u.text;
      lps.insert(lps.end(), u.logprobs.begin(), u.logprobs.end());
    } while (!u.done);
    if (!u.error.empty()) throw ApiError(503, u.error);
    json choice = {{"index", 0}, {"finish_reason", u.finish_reason}};
    if (kind == Kind::Chat) {
      ChatReplySplitter split(job->prompt.starts_in_reasoning, job->prompt.tools_json);
      std::string reasoning, content;
      std::vector<ToolCall> calls;
      split.push(text, true, &reasoning, &content, &calls);
      json msg = {{"role", "assistant"}, {"content", content}};
      if (!reasoning.empty()) msg["reasoning_content"] = reasoning;
      if (!calls.empty()) {
        json tc = json::array();
        for (size_t i = 0; i < calls.size(); ++i) tc.push_back(tool_call_json(id, i, calls[i], false));
        msg["tool_calls"] = tc;
        if (content.empty()) msg["content"] = nullptr;
        if (u.finish_reason == "stop") choice["finish_reason"] = "tool_calls";
      }
      choice["message"] = msg;
      choice["logprobs"] = want_lp ? chat_logprobs(st.model, lps) : json(nullptr);
    } else {
      choice["text"] = text;
      choice["logprobs"] = want_lp ? completion_logprobs(st.model, lps) : json(nullptr);
    }
    send_json(res, {{"id", id},
                    {"object", kind == Kind::Chat ? "chat.completion" : "text_completion"},
                    {"created", created},
                    {"model", st.alias},
                    {"choices", json::array({choice})},
                    {"usage", usage_json(job->usage())}});
    return;
  }

  // Streamed: one chunk per step's new text; [DONE] last.
  auto split = std::make_shared<ChatReplySplitter>(job->prompt.starts_in_reasoning, job->prompt.tools_json);
  auto n_calls = std::make_shared<size_t>(0);
  auto started = std::make_shared<bool>(false);
  const std::string alias = st.alias;
  const deltallm_model* model = st.model;
  auto chunk = [=](const json& choice) {
    json c = {{"id", id},
              {"object", kind == Kind::Chat ? "chat.completion.chunk" : "text_completion"},
              {"created", created},
              {"model", alias},
              {"choices", choice.is_null() ? json::array() : json::array({choice})}};
    return c;
  };
  auto sse = [](httplib::DataSink& sink, const json& j) {
    const std::string line = "data: " + dump(j) + "\n\n";
    return sink.write(line.data(), line.size());
  };
  res.set_chunked_content_provider(
      "text/event-stream",
      [=](size_t, httplib::DataSink& sink) {
        if (kind == Kind::Chat && !*started) {
          *started = true;
          json d = {{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr},
                    {"finish_reason", nullptr}};
          if (!sse(sink, chunk(d))) return job->cancel(), false;
        }
        Job::Update u = job->take(std::chrono::milliseconds(200));
        if (!u.done && u.text.empty() && probe->closed()) return job->cancel(), false;
        std::string reasoning, content;
        std::vector<ToolCall> calls;
        if (kind == Kind::Chat) {
          split->push(u.text, u.done, &reasoning, &content, &calls);
        } else {
          content = u.text;
        }
        if (!reasoning.empty() || !content.empty() || !calls.empty() || !u.logprobs.empty()) {
          json choice;
          if (kind == Kind::Chat) {
            json delta = json::object();
            if (!reasoning.empty()) delta["reasoning_content"] = reasoning;
            if (!content.empty()) delta["content"] = content;
            if (!calls.empty()) {
              json tc = json::array();
              for (const ToolCall& c : calls) tc.push_back(tool_call_json(id, (*n_calls)++, c, true));
              delta["tool_calls"] = tc;
            }
            choice = {{"index", 0}, {"delta", delta}, {"finish_reason", nullptr}};
            choice["logprobs"] = u.logprobs.empty() ? json(nullptr) : chat_logprobs(model, u.logprobs);
          } else {
            choice = {{"index", 0}, {"text", content}, {"finish_reason", nullptr}};
            choice["logprobs"] = u.logprobs.empty() ? json(nullptr) : completion_logprobs(model, u.logprobs);
          }
          if (!sse(sink, chunk(choice))) return job->cancel(), false;
        }
        if (!u.done) return true;
        if (!u.error.empty()) {
          sse(sink, error_body(503, u.error));
        } else {
          const std::string reason = *n_calls > 0 && u.finish_reason == "stop" ? "tool_calls" : u.finish_reason;
          json choice = kind == Kind::Chat
                            ? json{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr},
                                   {"finish_reason", reason}}
                            : json{{"index", 0}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", u.finish_reason}};
          sse(sink, chunk(choice));
          if (job->params.include_usage) {
            json last = chunk(json(nullptr));
            last["usage"] = usage_json(job->usage());
            sse(sink, last);
          }
        }
        const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
        sink.done();
        return true;
      },
      [job, &st](bool) {
        job->cancel();  // ends the job if the client went away (no-op when it finished)
        --st.in_flight;
      });
}

// Wraps a handler: ApiError -> its status, anything else -> 500; 503 while loading.
template <typename F>
httplib::Server::Handler api(ServerState& st, F f) {
  return [&st, f](const Request& req, Response& res) {
    if (!st.ready.load()) return send_error(res, 503, "the model is loading");
    try {
      f(req, res);
    } catch (const ApiError& e) {
      if (e.status() == 503) res.set_header("Retry-After", "1");
      send_error(res, e.status(), e.what(), e.param());
    } catch (const std::exception& e) {
      send_error(res, 500, e.what());
    }
  };
}

}  // namespace

void install_routes(httplib::Server& svr, ServerState& st) {
  // API key and CORS, before routing. /health and / are open to all.
  svr.set_pre_routing_handler([&st](const Request& req, Response& res) {
    if (!st.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", st.cors_origin);
      res.set_header("Vary", "Origin");
      if (req.method == "OPTIONS") {
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (st.api_key.empty() || req.path == "/health" || req.path == "/") return httplib::Server::HandlerResponse::Unhandled;
    std::string given = req.get_header_value("Authorization");
    if (given.rfind("Bearer ", 0) == 0) given = given.substr(7);
    else given = req.get_header_value("x-api-key");
    if (!same_key(given, st.api_key)) {
      send_error(res, 401, given.empty() ? "an API key is required (Authorization: Bearer KEY)" : "invalid API key");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib makes itself (404, 413, 400 for unreadable requests) in the OpenAI shape.
  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const Request& req, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string msg = res.status == 404   ? "no endpoint " + req.method + " " + req.path
                            : res.status == 413 ? "the request body is larger than --max-body"
                                                : "the request could not be handled (HTTP " + std::to_string(res.status) + ")";
    send_error(res, res.status, msg);
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_logger([&st](const Request& req, const Response& res) {
    static const char* known[] = {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics",
                                  "/tokenize", "/detokenize", "/apply-template", "/slots", "/"};
    std::string path = "other";
    for (const char* k : known)
      if (req.path == k) path = k;
    st.metrics.count_request(path, res.status);
    if (st.verbose) std::fprintf(stderr, "http: %s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });

  svr.Get("/", [](const Request&, Response& res) {
    res.set_content("deltallm server: OpenAI-compatible API at /v1 (chat/completions, completions, models)\n", "text/plain");
  });
  svr.Get("/health", [&st](const Request&, Response& res) {
    if (!st.ready.load()) return send_json(res, {{"status", "loading"}}, 503);
    send_json(res, {{"status", "ok"}});
  });
  svr.Get("/v1/models", api(st, [&st](const Request&, Response& res) {
            send_json(res, {{"object", "list"},
                            {"data", json::array({{{"id", st.alias},
                                                   {"object", "model"},
                                                   {"created", st.created},
                                                   {"owned_by", "deltallm"},
                                                   {"meta", {{"n_ctx_slot", st.n_ctx}, {"n_vocab", st.n_vocab}}}}})}});
          }));
  svr.Get("/metrics", api(st, [&st](const Request&, Response& res) {
            res.set_content(st.metrics.prometheus_text(st.engine->options().n_slots), "text/plain; version=0.0.4");
          }));
  svr.Get("/slots", api(st, [&st](const Request&, Response& res) { send_json(res, st.engine->slots_json()); }));
  svr.Post("/v1/chat/completions", api(st, [&st](const Request& req, Response& res) {
             const ChatRequest r = parse_chat_request(parse_body(req.body), st.defaults, st.n_vocab, st.kwargs_defaults);
             Prompt p = build_chat_prompt(st.model, r, st.tmpl);
             run_job(st, Kind::Chat, std::make_shared<Job>(std::move(p), r.gen), req, res);
           }));
  svr.Post("/v1/completions", api(st, [&st](const Request& req, Response& res) {
             const CompletionRequest r = parse_completion_request(parse_body(req.body), st.defaults, st.n_vocab);
             Prompt p = build_completion_prompt(st.model, r);
             run_job(st, Kind::Completion, std::make_shared<Job>(std::move(p), r.gen), req, res);
           }));
  svr.Post("/tokenize", api(st, [&st](const Request& req, Response& res) {
             const json b = parse_body(req.body);
             auto c = b.find("content");
             if (c == b.end() || !c->is_string()) throw ApiError(400, "'content' must be a string", "content");
             bool add_special = false, parse_special = true, with_pieces = false;
             for (auto [key, dst] : {std::pair{"add_special", &add_special}, std::pair{"parse_special", &parse_special},
                                     std::pair{"with_pieces", &with_pieces}}) {
               auto it = b.find(key);
               if (it == b.end() || it->is_null()) continue;
               if (!it->is_boolean()) throw ApiError(400, std::string("'") + key + "' must be true or false", key);
               *dst = it->get<bool>();
             }
             const std::vector<int32_t> ids =
                 tokenize_text(st.model, c->get<std::string>(),
                               (add_special ? DELTALLM_TOKENIZE_ADD_SPECIAL : 0u) |
                                   (parse_special ? DELTALLM_TOKENIZE_PARSE_SPECIAL : 0u));
             json toks = json::array();
             for (int32_t id : ids) {
               if (with_pieces) toks.push_back({{"id", id}, {"piece", piece(st.model, id)}});
               else toks.push_back(id);
             }
             send_json(res, {{"tokens", toks}});
           }));
  svr.Post("/detokenize", api(st, [&st](const Request& req, Response& res) {
             const json b = parse_body(req.body);
             auto t = b.find("tokens");
             if (t == b.end()) throw ApiError(400, "'tokens' is required", "tokens");
             const std::vector<int32_t> ids = parse_token_list(*t, "tokens", st.n_vocab);
             size_t len = 0;
             deltallm_status s = deltallm_detokenize(st.model, ids.data(), ids.size(), 0, nullptr, 0, &len);
             std::string text(len + 1, '\0');
             if (s == DELTALLM_ERR_BUFFER_TOO_SMALL || s == DELTALLM_OK)
               s = deltallm_detokenize(st.model, ids.data(), ids.size(), 0, text.data(), text.size(), &len);
             cli::check(s);
             text.resize(len);
             send_json(res, {{"content", text}});
           }));
  svr.Post("/apply-template", api(st, [&st](const Request& req, Response& res) {
             const ChatRequest r = parse_chat_request(parse_body(req.body), st.defaults, st.n_vocab, st.kwargs_defaults);
             send_json(res, {{"prompt", render_chat(st.model, r, st.tmpl, true)}});
           }));
}

}  // namespace dllm::serve
