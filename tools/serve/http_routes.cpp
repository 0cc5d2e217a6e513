#include "serve/http_routes.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "api_util.h"
#include "serve/anthropic.h"
#include "serve/api_error.h"
#include "serve/connection_probe.h"
#include "serve/chat_reply.h"

// The chat page (tools/serve/chat_page.html, embedded by cmake/embed_file.cmake).
extern const char kChatPage[];
extern const unsigned long kChatPage_size;

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

// Ends a non-streamed request's count in flight when it is answered (a
// streamed one ends it in its content provider's release callback).
struct InFlightRelease {
  std::atomic<int>& n;
  ~InFlightRelease() { --n; }
};

// Checks the prompt against a slot's context and queues the job.
void admit(ServerState& st, const std::shared_ptr<Job>& job, const std::string& field) {
  if (job->prompt.tokens.empty()) throw ApiError(400, "the prompt is empty", field);
  const int64_t P = int64_t(job->prompt.tokens.size());
  if (P >= st.n_ctx)
    throw ApiError(400, "the prompt has " + std::to_string(P) + " tokens, the context of a slot holds " +
                            std::to_string(st.n_ctx) + " (the last position is kept for a reply)",
                   field);
  st.engine->submit(job);  // 503 when the queue is full
}

// Waits for the whole reply; 499 (and the job cancelled) if the client leaves.
Job::Update wait_all(Job& job, ConnectionProbe& probe, std::string* text, std::vector<TokenLogprob>* lps) {
  Job::Update u;
  do {
    u = job.take(std::chrono::milliseconds(200));
    if (!u.done && probe.closed()) {
      job.cancel();
      throw ApiError(499, "the client closed the connection");
    }
    *text += u.text;
    if (lps) lps->insert(lps->end(), u.logprobs.begin(), u.logprobs.end());
  } while (!u.done);
  if (!u.error.empty()) throw ApiError(503, u.error);
  return u;
}

// Runs a job to its end (non-streamed) or streams it as Server-Sent Events.
void run_job(ServerState& st, Kind kind, std::shared_ptr<Job> job, const Request& req, Response& res) {
  admit(st, job, kind == Kind::Chat ? "messages" : "prompt");
  ++st.in_flight;
  const std::string id = (kind == Kind::Chat ? "chatcmpl-" : "cmpl-") + std::to_string(++g_request_counter);
  const int64_t created = int64_t(std::time(nullptr));
  const bool want_lp = job->params.top_logprobs >= 0;
  // A client that goes away frees its slot: found by peeking at its socket while waiting.
  auto probe = std::make_shared<ConnectionProbe>(req.remote_addr, req.remote_port, req.local_port);

  if (!job->params.stream) {
    const InFlightRelease done{st.in_flight};
    std::string text;
    std::vector<TokenLogprob> lps;
    const Job::Update u = wait_all(*job, *probe, &text, &lps);
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

// POST /v1/messages: the reply as Anthropic content blocks (thinking, text,
// tool_use), whole or as Anthropic's stream events.
void run_messages(ServerState& st, std::shared_ptr<Job> job, const Request& req, Response& res) {
  admit(st, job, "messages");
  ++st.in_flight;
  const std::string id = "msg_" + std::to_string(++g_request_counter);
  auto probe = std::make_shared<ConnectionProbe>(req.remote_addr, req.remote_port, req.local_port);
  auto usage = [](const Usage& u) {
    return json{{"input_tokens", u.prompt_tokens},
                {"output_tokens", u.completion_tokens},
                {"cache_read_input_tokens", u.cached_tokens}};
  };
  auto stop_sequence = [](const Job::Update& u) {
    return u.stop_sequence.empty() ? json(nullptr) : json(u.stop_sequence);
  };

  if (!job->params.stream) {
    const InFlightRelease done{st.in_flight};
    std::string text;
    const Job::Update u = wait_all(*job, *probe, &text, nullptr);
    ChatReplySplitter split(job->prompt.starts_in_reasoning, job->prompt.tools_json);
    std::string reasoning, content;
    std::vector<ToolCall> calls;
    split.push(text, true, &reasoning, &content, &calls);
    json blocks = json::array();
    if (!reasoning.empty()) blocks.push_back({{"type", "thinking"}, {"thinking", reasoning}, {"signature", ""}});
    if (!content.empty()) blocks.push_back({{"type", "text"}, {"text", content}});
    for (size_t i = 0; i < calls.size(); ++i) blocks.push_back(anthropic_tool_use(id, i, calls[i]));
    send_json(res, {{"id", id},
                    {"type", "message"},
                    {"role", "assistant"},
                    {"model", st.alias},
                    {"content", blocks},
                    {"stop_reason", anthropic_stop_reason(u.finish_reason, !calls.empty(), !u.stop_sequence.empty())},
                    {"stop_sequence", stop_sequence(u)},
                    {"usage", usage(job->usage())}});
    return;
  }

  // Streamed: one content block at a time; a new kind of text closes the open block.
  struct State {
    State(bool in_reasoning, const std::string& tools) : split(in_reasoning, tools) {}
    ChatReplySplitter split;
    bool started = false;
    int index = -1;     // the open block (-1: none)
    std::string open;   // its type
    size_t n_calls = 0;
  };
  auto state = std::make_shared<State>(job->prompt.starts_in_reasoning, job->prompt.tools_json);
  const std::string alias = st.alias;
  auto event = [](httplib::DataSink& sink, const char* name, const json& data) {
    const std::string e = std::string("event: ") + name + "\ndata: " + dump(data) + "\n\n";
    return sink.write(e.data(), e.size());
  };
  res.set_chunked_content_provider(
      "text/event-stream",
      [=](size_t, httplib::DataSink& sink) {
        State& S = *state;
        bool ok = true;
        auto close_block = [&] {
          if (!S.open.empty())  // a block is open (a tool_use block closes itself at once)
            ok = ok && event(sink, "content_block_stop", {{"type", "content_block_stop"}, {"index", S.index}});
          S.open.clear();
        };
        auto open_block = [&](const std::string& type, const json& block) {
          close_block();
          ++S.index;
          S.open = type;
          ok = ok && event(sink, "content_block_start",
                           {{"type", "content_block_start"}, {"index", S.index}, {"content_block", block}});
        };
        if (!S.started) {
          S.started = true;
          json msg = {{"id", id},          {"type", "message"}, {"role", "assistant"},       {"model", alias},
                      {"content", json::array()}, {"stop_reason", nullptr}, {"stop_sequence", nullptr},
                      {"usage", {{"input_tokens", int64_t(job->prompt.tokens.size())}, {"output_tokens", 0}}}};
          if (!event(sink, "message_start", {{"type", "message_start"}, {"message", msg}})) return job->cancel(), false;
        }
        Job::Update u = job->take(std::chrono::milliseconds(200));
        if (!u.done && u.text.empty() && probe->closed()) return job->cancel(), false;
        std::string reasoning, content;
        std::vector<ToolCall> calls;
        S.split.push(u.text, u.done, &reasoning, &content, &calls);
        if (!reasoning.empty()) {
          if (S.open != "thinking") open_block("thinking", {{"type", "thinking"}, {"thinking", ""}});
          ok = ok && event(sink, "content_block_delta",
                           {{"type", "content_block_delta"}, {"index", S.index},
                            {"delta", {{"type", "thinking_delta"}, {"thinking", reasoning}}}});
        }
        if (!content.empty()) {
          if (S.open != "text") open_block("text", {{"type", "text"}, {"text", ""}});
          ok = ok && event(sink, "content_block_delta",
                           {{"type", "content_block_delta"}, {"index", S.index},
                            {"delta", {{"type", "text_delta"}, {"text", content}}}});
        }
        for (const ToolCall& c : calls) {
          json block = anthropic_tool_use(id, S.n_calls++, c);
          block["input"] = json::object();
          open_block("tool_use", block);
          ok = ok && event(sink, "content_block_delta",
                           {{"type", "content_block_delta"}, {"index", S.index},
                            {"delta", {{"type", "input_json_delta"}, {"partial_json", c.arguments}}}});
          close_block();
        }
        if (!ok) return job->cancel(), false;
        if (!u.done) return true;
        if (!u.error.empty()) {
          event(sink, "error", anthropic_error(503, u.error));
        } else {
          close_block();
          const std::string reason = anthropic_stop_reason(u.finish_reason, S.n_calls > 0, !u.stop_sequence.empty());
          event(sink, "message_delta",
                {{"type", "message_delta"},
                 {"delta", {{"stop_reason", reason}, {"stop_sequence", stop_sequence(u)}}},
                 {"usage", {{"output_tokens", job->usage().completion_tokens}}}});
          event(sink, "message_stop", {{"type", "message_stop"}});
        }
        sink.done();
        return true;
      },
      [job, &st](bool) {
        job->cancel();
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

// The same for the Anthropic endpoints, with Anthropic's error shape.
template <typename F>
httplib::Server::Handler anthropic_api(ServerState& st, F f) {
  return [&st, f](const Request& req, Response& res) {
    auto fail = [&res](int status, const std::string& msg) { send_json(res, anthropic_error(status, msg), status); };
    if (!st.ready.load()) return fail(503, "the model is loading");
    try {
      f(req, res);
    } catch (const ApiError& e) {
      if (e.status() == 503) res.set_header("Retry-After", "1");
      fail(e.status(), e.what());
    } catch (const std::exception& e) {
      fail(500, e.what());
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
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, x-api-key, anthropic-version");
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (st.api_key.empty() || req.path == "/health" || req.path == "/" || req.path == "/favicon.ico")
      return httplib::Server::HandlerResponse::Unhandled;
    std::string given = req.get_header_value("Authorization");
    if (given.rfind("Bearer ", 0) == 0) given = given.substr(7);
    else given = req.get_header_value("x-api-key");
    if (!same_key(given, st.api_key)) {
      const std::string msg = given.empty() ? "an API key is required (Authorization: Bearer KEY)" : "invalid API key";
      if (req.path.rfind("/v1/messages", 0) == 0) send_json(res, anthropic_error(401, msg), 401);
      else send_error(res, 401, msg);
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
    static const char* known[] = {"/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/messages/count_tokens",
                                  "/v1/models", "/health", "/metrics",
                                  "/tokenize", "/detokenize", "/apply-template", "/slots", "/"};
    std::string path = "other";
    for (const char* k : known)
      if (req.path == k) path = k;
    st.metrics.count_request(path, res.status);
    if (st.verbose) std::fprintf(stderr, "http: %s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });

  svr.Get("/", [](const Request&, Response& res) { res.set_content(kChatPage, kChatPage_size, "text/html; charset=utf-8"); });
  svr.Get("/favicon.ico", [](const Request&, Response& res) { res.status = 204; });  // browsers ask; none
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
  svr.Post("/v1/messages", anthropic_api(st, [&st](const Request& req, Response& res) {
             const ChatRequest r = parse_chat_request(anthropic_to_openai(parse_body(req.body)), st.defaults,
                                                      st.n_vocab, st.kwargs_defaults);
             Prompt p = build_chat_prompt(st.model, r, st.tmpl);
             run_messages(st, std::make_shared<Job>(std::move(p), r.gen), req, res);
           }));
  svr.Post("/v1/messages/count_tokens", anthropic_api(st, [&st](const Request& req, Response& res) {
             const ChatRequest r = parse_chat_request(anthropic_to_openai(parse_body(req.body), true), st.defaults,
                                                      st.n_vocab, st.kwargs_defaults);
             send_json(res, {{"input_tokens", int64_t(build_chat_prompt(st.model, r, st.tmpl).tokens.size())}});
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
