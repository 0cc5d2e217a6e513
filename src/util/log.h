// Logging to stderr (or to a callback installed by the C API). stdout is
// reserved for each command's product.
#pragma once
#include <string>

namespace dllm {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

using LogCallback = void (*)(int level, const char* text, void* user_data);

// Installs a callback (nullptr restores stderr). Thread-safe.
void set_log_callback(LogCallback cb, void* user_data);
// Messages below this level are dropped (default Info).
void set_log_level(LogLevel level);
void log_msg(LogLevel level, const std::string& text);
inline void log_info(const std::string& text) { log_msg(LogLevel::Info, text); }
inline void log_warn(const std::string& text) { log_msg(LogLevel::Warn, text); }

}  // namespace dllm
