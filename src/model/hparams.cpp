#include "model/hparams.h"

#include "formats/gguf.h"
#include "util/error.h"

namespace dllm {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::Qwen35: return "qwen35";
    case Arch::Qwen35Moe: return "qwen35moe";
    case Arch::Qwen3Next: return "qwen3next";
  }
  return "?";
}

int HParams::n_recurrent_layers() const {
  int n = 0;
  for (int i = 0; i < n_layer_main; ++i) n += recurrent[i] ? 1 : 0;
  return n;
}
int HParams::n_attention_layers() const { return n_layer_main - n_recurrent_layers(); }

namespace {

// A per-layer array (Ollama-style) or a scalar; returns the value for main
// layers, requiring it to be the same on every layer that is not 0.
std::optional<uint32_t> scalar_or_layer_array(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::ARRAY) return f.get_u32(key);
  std::optional<uint32_t> out;
  for (const auto& it : v->items) {
    auto x = it.as_int();
    if (!x || *x < 0) fail(f.path(), ": key ", key, " must hold non-negative integers");
    if (*x == 0) continue;
    if (out && *out != uint32_t(*x)) fail(f.path(), ": key ", key, " varies per layer, which is not supported");
    out = uint32_t(*x);
  }
  return out;
}

}  // namespace

HParams load_hparams(const GgufFile& f) {
  HParams hp;
  auto arch = f.get_str("general.architecture");
  if (!arch) fail(f.path(), ": missing key general.architecture");
  hp.arch_str = *arch;
  if (*arch == "qwen35") hp.arch = Arch::Qwen35;
  else if (*arch == "qwen35moe") hp.arch = Arch::Qwen35Moe;
  else if (*arch == "qwen3next") hp.arch = Arch::Qwen3Next;
  else fail(f.path(), ": unsupported architecture '", *arch, "' (supported: qwen35, qwen35moe, qwen3next)");
  const std::string a = *arch + ".";
  auto req = [&](const std::string& k) { return f.require_u32(a + k); };
  auto opt = [&](const std::string& k) { return f.get_u32(a + k); };

  hp.n_layer = int(req("block_count"));
  hp.n_ctx_train = req("context_length");
  hp.n_embd = req("embedding_length");
  hp.n_ff = opt("feed_forward_length").value_or(0);
  auto hq = scalar_or_layer_array(f, a + "attention.head_count");
  if (!hq || *hq == 0) fail(f.path(), ": missing key ", a, "attention.head_count");
  hp.n_head = int(*hq);
  hp.n_head_kv = int(scalar_or_layer_array(f, a + "attention.head_count_kv").value_or(hp.n_head));
  hp.head_dim = int(opt("attention.key_length").value_or(uint32_t(hp.n_embd / hp.n_head)));
  const int vlen = int(opt("attention.value_length").value_or(uint32_t(hp.head_dim)));
  if (vlen != hp.head_dim)
    fail(f.path(), ": ", a, "attention.value_length (", vlen, ") differs from key_length (", hp.head_dim, ")");
  hp.n_rot = int(opt("rope.dimension_count").value_or(uint32_t(hp.head_dim)));
  hp.rope_freq_base = f.get_f32(a + "rope.freq_base").value_or(10000.0f);
  if (auto t = f.get_str(a + "rope.scaling.type"); t && *t != "none" && *t != "linear")
    fail(f.path(), ": rope scaling type '", *t, "' is not supported");
  float factor = f.get_f32(a + "rope.scaling.factor").value_or(f.get_f32(a + "rope.scale_linear").value_or(0.0f));
  hp.rope_freq_scale = factor > 0 ? 1.0f / factor : 1.0f;
  auto eps = f.get_f32(a + "attention.layer_norm_rms_epsilon");
  if (!eps) fail(f.path(), ": missing key ", a, "attention.layer_norm_rms_epsilon");
  hp.eps = *eps;
  hp.n_expert = int(opt("expert_count").value_or(0));
  hp.n_expert_used = int(opt("expert_used_count").value_or(0));
  hp.ssm_conv_kernel = int(req("ssm.conv_kernel"));
  hp.ssm_inner = req("ssm.inner_size");
  hp.ssm_dk = int(req("ssm.state_size"));
  hp.ssm_hv = int(req("ssm.time_step_rank"));
  hp.ssm_hk = int(req("ssm.group_count"));
  hp.full_attn_interval = int(opt("full_attention_interval").value_or(4));
  if (hp.arch == Arch::Qwen3Next) hp.full_attn_interval = 4;  // the reference ignores the key
  hp.n_layer_mtp = hp.arch == Arch::Qwen3Next ? 0 : int(opt("nextn_predict_layers").value_or(0));

  // Validation: each a clear error naming the key.
  auto bad = [&](const std::string& key, const std::string& why) { fail(f.path(), ": ", a, key, ": ", why); };
  if (hp.n_layer <= 0 || hp.n_layer > 4096) bad("block_count", "must be in 1..4096");
  if (hp.n_layer_mtp < 0 || hp.n_layer_mtp >= hp.n_layer) bad("nextn_predict_layers", "must be smaller than block_count");
  hp.n_layer_main = hp.n_layer - hp.n_layer_mtp;
  if (hp.n_embd <= 0 || hp.n_embd > (1 << 20)) bad("embedding_length", "must be in 1..1048576");
  if (hp.n_head <= 0 || hp.n_head > 4096) bad("attention.head_count", "must be in 1..4096");
  if (hp.n_head_kv <= 0 || hp.n_head % hp.n_head_kv != 0)
    bad("attention.head_count_kv", str_cat("must divide head_count (", hp.n_head, ")"));
  if (hp.head_dim <= 0 || hp.head_dim > 4096) bad("attention.key_length", "must be in 1..4096");
  if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2)
    bad("rope.dimension_count", str_cat("must be even and at most key_length (", hp.head_dim, ")"));
  if (!(hp.eps > 0.0f) || hp.eps > 1.0f) bad("attention.layer_norm_rms_epsilon", "must be in (0, 1]");
  if (!(hp.rope_freq_base > 0.0f)) bad("rope.freq_base", "must be positive");
  if (hp.ssm_conv_kernel < 1 || hp.ssm_conv_kernel > 16) bad("ssm.conv_kernel", "must be in 1..16");
  if (hp.ssm_dk <= 0 || hp.ssm_dk > 1024) bad("ssm.state_size", "must be in 1..1024");
  if (hp.ssm_hk <= 0 || hp.ssm_hk > 4096) bad("ssm.group_count", "must be in 1..4096");
  if (hp.ssm_hv <= 0 || hp.ssm_hv % hp.ssm_hk != 0)
    bad("ssm.time_step_rank", str_cat("must be a multiple of ssm.group_count (", hp.ssm_hk, ")"));
  if (hp.ssm_inner <= 0 || hp.ssm_inner % hp.ssm_hv != 0)
    bad("ssm.inner_size", str_cat("must be a multiple of ssm.time_step_rank (", hp.ssm_hv, ")"));
  if (hp.ssm_dv() > 1024) bad("ssm.inner_size", "value head dim above 1024");
  if (hp.full_attn_interval <= 0) bad("full_attention_interval", "must be positive");
  const bool moe = hp.arch != Arch::Qwen35;
  if (hp.arch == Arch::Qwen35Moe && hp.n_expert == 0) bad("expert_count", "missing or 0 for a MoE architecture");
  if (hp.n_expert > 0) {
    if (hp.n_expert > 4096) bad("expert_count", "must be at most 4096");
    if (hp.n_expert_used <= 0 || hp.n_expert_used > hp.n_expert)
      bad("expert_used_count", str_cat("must be in 1..expert_count (", hp.n_expert, ")"));
    hp.n_ff_exp = opt("expert_feed_forward_length").value_or(uint32_t(hp.n_ff / hp.n_expert_used));
    hp.n_ff_shexp = opt("expert_shared_feed_forward_length")
                        .value_or(uint32_t(hp.arch == Arch::Qwen3Next ? hp.n_ff_exp : hp.n_ff));
    if (hp.n_ff_exp <= 0) bad("expert_feed_forward_length", "missing or 0");
  }
  if (!moe && hp.n_ff <= 0) bad("feed_forward_length", "missing or 0 for a dense model");

  // Layer pattern (models.md §1.2): per-layer array if present, else the interval rule.
  hp.recurrent.assign(hp.n_layer_main, false);
  if (const GgufValue* rl = f.find(a + "attention.recurrent_layers"); rl && hp.arch != Arch::Qwen3Next) {
    if (rl->type != GgufType::ARRAY || rl->items.size() != size_t(hp.n_layer))
      bad("attention.recurrent_layers", str_cat("must be an array of block_count (", hp.n_layer, ") values"));
    for (int i = 0; i < hp.n_layer_main; ++i) {
      const auto& it = rl->items[i];
      hp.recurrent[i] = it.type == GgufType::BOOL ? it.u != 0 : it.as_int().value_or(0) != 0;
    }
  } else {
    for (int i = 0; i < hp.n_layer_main; ++i) hp.recurrent[i] = (i + 1) % hp.full_attn_interval != 0;
  }
  return hp;
}

}  // namespace dllm
