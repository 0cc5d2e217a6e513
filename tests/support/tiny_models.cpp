#include "support/tiny_models.h"

#include <filesystem>
#include <map>
#include <mutex>

#include "support/test_support.h"

namespace dllm::test {

std::string generated_model(const gen::GenOptions& opt) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;
  const std::string key = opt.arch + "-" + opt.preset + "-" + std::to_string(int(opt.dtype)) + "-s" +
                          std::to_string(opt.seed) + "-mtp" + std::to_string(opt.mtp) + (opt.tied ? "-tied" : "") +
                          (opt.fused_gate_up ? "-fgu" : "") + (opt.qwen3next_input.empty() ? "" : "-" + opt.qwen3next_input);
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const std::string path = temp_path(key + ".gguf");
  gen::generate_model(opt, path);
  cache[key] = path;
  return path;
}

std::string tiny_model(const std::string& arch, uint64_t seed) {
  gen::GenOptions o;
  o.arch = arch;
  o.preset = "tiny";
  o.seed = seed;
  return generated_model(o);
}

}  // namespace dllm::test
