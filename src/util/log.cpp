#include "util/log.h"

#include <cstdio>
#include <mutex>

namespace dllm {

namespace {
// Recursive: a callback may call back into the library, which may log again
// on the same thread; another thread replacing the callback waits until the
// one in progress has returned.
std::recursive_mutex g_mu;
LogCallback g_cb = nullptr;
void* g_user = nullptr;
LogLevel g_level = LogLevel::Info;
}  // namespace

void set_log_callback(LogCallback cb, void* user_data) {
  std::lock_guard<std::recursive_mutex> lock(g_mu);
  g_cb = cb;
  g_user = user_data;
}

void set_log_level(LogLevel level) {
  std::lock_guard<std::recursive_mutex> lock(g_mu);
  g_level = level;
}

void log_msg(LogLevel level, const std::string& text) {
  std::lock_guard<std::recursive_mutex> lock(g_mu);
  if (level < g_level) return;
  if (g_cb) {
    g_cb(int(level), text.c_str(), g_user);
  } else {
    std::fputs(text.c_str(), stderr);
    if (text.empty() || text.back() != '\n') std::fputc('\n', stderr);
  }
}

}  // namespace dllm
