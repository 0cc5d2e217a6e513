// Generated test models (random weights, real shapes), made once per test
// process in its temp dir and cached by their options.
#pragma once
#include <string>

#include "gen/model_generator.h"

namespace dllm::test {

// Path of a generated model for these options (generated on first use).
std::string generated_model(const gen::GenOptions& opt);
// Shorthand: arch with the tiny preset, f32.
std::string tiny_model(const std::string& arch, uint64_t seed = 1);

}  // namespace dllm::test
