// Preset shapes of generated models (testdata/README.md, models.md §6).
#include "gen/model_generator.h"
#include "util/error.h"

namespace dllm::gen {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::Qwen35: return "qwen35";
    case Arch::Qwen35Moe: return "qwen35moe";
    case Arch::Qwen3Next: return "qwen3next";
  }
  return "?";
}

Arch parse_arch(const std::string& name) {
  if (name == "qwen35") return Arch::Qwen35;
  if (name == "qwen35moe") return Arch::Qwen35Moe;
  if (name == "qwen3next") return Arch::Qwen3Next;
  fail("unknown architecture '", name, "' (expected qwen35, qwen35moe or qwen3next)");
}

ModelShape preset_shape(Arch arch, const std::string& preset) {
  ModelShape s;  // the defaults are the testdata "tiny" shape
  if (preset == "tiny") return s;
  if (preset == "small") {
    // Real head sizes: attention D 256 with RoPE on 64 dims, linear heads of
    // 128, 3 value heads per key head, tied head. MoE settings stay tiny's.
    s.n_vocab = 4096;
    s.n_head = 2;
    s.n_head_kv = 1;
    s.head_dim = 256;
    s.n_rot = 64;
    s.rope_sections[0] = 11, s.rope_sections[1] = 11, s.rope_sections[2] = 10, s.rope_sections[3] = 0;
    s.ssm_d_state = 128;
    s.ssm_n_group = 2;
    s.ssm_dt_rank = 6;
    s.ssm_head_v_dim = 128;
    s.tied = true;
    return s;
  }
  if (preset == "qwen35-0.8b") {
    if (arch != Arch::Qwen35)
      fail("preset qwen35-0.8b is a qwen35 model; it cannot be generated with --arch ", arch_name(arch));
    s.n_vocab = 248320;
    s.n_embd = 1024;
    s.n_layer = 24;
    s.n_ff = 3584;
    s.n_head = 8;
    s.n_head_kv = 2;
    s.head_dim = 256;
    s.n_rot = 64;
    s.rope_sections[0] = 11, s.rope_sections[1] = 11, s.rope_sections[2] = 10, s.rope_sections[3] = 0;
    s.rope_freq_base = 1e7f;
    s.context_length = 262144;
    s.ssm_d_state = 128;
    s.ssm_n_group = 16;
    s.ssm_dt_rank = 16;
    s.ssm_head_v_dim = 128;
    s.tied = true;
    return s;
  }
  if (preset == "qwen35moe-2b") {
    // The 0.8B's attention and Gated DeltaNet shapes with a MoE FFN: 64
    // experts of 512, 8 used, a shared expert of 512 (about 2.9 B parameters,
    // ~0.5 B active per token): the MoE speed benchmark's shape.
    if (arch != Arch::Qwen35Moe)
      fail("preset qwen35moe-2b is a qwen35moe model; it cannot be generated with --arch ", arch_name(arch));
    s = preset_shape(Arch::Qwen35, "qwen35-0.8b");
    s.n_ff = 512;
    s.n_expert = 64;
    s.n_expert_used = 8;
    s.n_ff_exp = 512;
    s.n_ff_shexp = 512;
    return s;
  }
  fail("unknown preset '", preset, "' (expected tiny, small, qwen35-0.8b or qwen35moe-2b)");
}

uint32_t file_type_for(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q4_1: return 3;
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q5_0: return 8;
    case GgmlType::Q5_1: return 9;
    case GgmlType::Q2_K: return 10;
    case GgmlType::Q3_K: return 12;
    case GgmlType::Q4_K: return 15;
    case GgmlType::Q5_K: return 17;
    case GgmlType::Q6_K: return 18;
    case GgmlType::IQ4_NL: return 25;
    case GgmlType::IQ4_XS: return 30;
    case GgmlType::BF16: return 32;
    default: break;
  }
  fail("type ", type_label(static_cast<uint32_t>(t)), " has no llama.cpp file type");
}

}  // namespace dllm::gen
