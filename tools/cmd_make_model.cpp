// deltallm make-model: writes a random-weight model of one of the three
// architectures (src/gen/model_generator.h).
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli_util.h"
#include "command.h"
#include "gen/model_generator.h"
#include "text/vocab_import.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace {

int cmd_make_model(int argc, char** argv) {
  CLI::App app{"Write a random-weight GGUF model of the qwen35, qwen35moe or qwen3next architecture.", "make-model"};
  dllm::gen::GenOptions opt;
  std::string dtype = "f32", out, input;
  app.add_option("--arch", opt.arch, "qwen35 | qwen35moe | qwen3next")->required();
  app.add_option("--preset", opt.preset, "tiny | small | qwen35-0.8b (qwen35 only) | qwen35moe-2b (qwen35moe only)")->required();
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
  std::string tokenizer_json, pre;
  app.add_option("--tokenizer", tokenizer_json,
                 "use this Hugging Face tokenizer.json (and the tokenizer_config.json beside it) instead of the "
                 "built-in vocabulary; the vocabulary is rounded up to a multiple of 256 with [PADn] UNUSED tokens");
  app.add_option("--pre", pre, "with --tokenizer: the pre-tokenizer type when its Split pattern is not recognised");
  if (!dllm::cli::parse_args(app, argc, argv)) return 0;

  if (!dllm::type_from_name(dtype, &opt.dtype)) dllm::fail("unknown --dtype '", dtype, "' (expected f32, f16, bf16 or q8_0)");
  opt.qwen3next_input = input;

  const auto t0 = std::chrono::steady_clock::now();
  if (tokenizer_json.empty()) {
    dllm::gen::generate_model(opt, out);
  } else {
    // Size the embedding from the tokenizer, then replace the built-in
    // tokenizer keys by the imported ones.
    const std::string config = dllm::hf_config_beside(tokenizer_json);
    dllm::GgufWriter probe;
    const int64_t n_vocab = dllm::apply_hf_tokenizer(probe, tokenizer_json, config, 256, pre);
    opt.custom_shape = dllm::gen::preset_shape(dllm::gen::parse_arch(opt.arch), opt.preset);
    opt.custom_shape.n_vocab = uint32_t(n_vocab);
    opt.use_custom_shape = true;
    dllm::gen::ModelPlan plan = dllm::gen::plan_model(opt);
    std::vector<dllm::GgufKV> kept;
    for (auto& kv : plan.metadata)
      if (kv.key.rfind("tokenizer.", 0) != 0) kept.push_back(std::move(kv));
    plan.metadata = std::move(kept);
    dllm::ThreadPool pool(opt.n_threads);
    dllm::GgufWriter w;
    dllm::gen::fill_writer(plan, opt.seed, w, &pool);
    std::vector<std::string> warnings;
    dllm::apply_hf_tokenizer(w, tokenizer_json, config, 256, pre, &warnings);
    for (const auto& msg : warnings) std::fprintf(stderr, "warning: %s\n", msg.c_str());
    w.write(out);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "wrote %s (%s %s, %s, seed %llu): %.1f MiB in %.2f s\n", out.c_str(), opt.arch.c_str(),
               opt.preset.c_str(), dllm::type_traits(opt.dtype)->name, static_cast<unsigned long long>(opt.seed),
               double(std::filesystem::file_size(out)) / (1024.0 * 1024.0), secs);
  return 0;
}

const dllm::cli::Command reg("make-model", "write a random-weight model (--arch, --preset, --dtype, --seed)",
                             &cmd_make_model);

}  // namespace
