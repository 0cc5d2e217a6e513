// deltallm make-model: writes a random-weight model of one of the three
// architectures (src/gen/model_generator.h).
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli_util.h"
#include "command.h"
#include "gen/model_generator.h"
#include "util/error.h"

namespace {

int cmd_make_model(int argc, char** argv) {
  CLI::App app{"Write a random-weight GGUF model of the qwen35, qwen35moe or qwen3next architecture.", "make-model"};
  dllm::gen::GenOptions opt;
  std::string dtype = "f32", out, input;
  app.add_option("--arch", opt.arch, "qwen35 | qwen35moe | qwen3next")->required();
  app.add_option("--preset", opt.preset, "tiny | small | qwen35-0.8b (qwen35 only)")->required();
  app.add_option("--dtype", dtype, "type of the 2-D/3-D weights, token_embd and output: f32 | f16 | bf16 | q8_0")
      ->capture_default_str();
  app.add_option("--seed", opt.seed, "random seed")->capture_default_str();
  app.add_option("--mtp", opt.mtp, "number of MTP (nextn) layers, qwen35/qwen35moe only")->capture_default_str();
  app.add_flag("--tied", opt.tied, "tied output head (no output.weight)");
  app.add_flag("--fused-gate-up", opt.fused_gate_up, "fused ffn_gate_up_exps (MoE archs only)");
  app.add_option("--qwen3next-input", input,
                 "qwen3next linear-attention input: split (attn_qkv + attn_gate, default) | fused (ssm_in)");
  app.add_option("--threads", opt.n_threads, "threads (default: all cores)");
  app.add_option("-o,--output", out, "output file")->required();
  if (!dllm::cli::parse_args(app, argc, argv)) return 0;

  if (!dllm::type_from_name(dtype, &opt.dtype)) dllm::fail("unknown --dtype '", dtype, "' (expected f32, f16, bf16 or q8_0)");
  opt.qwen3next_input = input;

  const auto t0 = std::chrono::steady_clock::now();
  dllm::gen::generate_model(opt, out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "wrote %s (%s %s, %s, seed %llu): %.1f MiB in %.2f s\n", out.c_str(), opt.arch.c_str(),
               opt.preset.c_str(), dllm::type_traits(opt.dtype)->name, static_cast<unsigned long long>(opt.seed),
               double(std::filesystem::file_size(out)) / (1024.0 * 1024.0), secs);
  return 0;
}

const dllm::cli::Command reg("make-model", "write a random-weight model (--arch, --preset, --dtype, --seed)",
                             &cmd_make_model);

}  // namespace
