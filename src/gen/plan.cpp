// Lays out a generated model: the metadata keys with the GGUF types of the
// test data files (../shared/testdata/*-f32.gguf) and the tensors of
// models.md §1–2, in the order the test data writes them.
#include <cmath>

#include "gen/model_generator.h"
#include "gen/vocab.h"
#include "util/error.h"

namespace dllm::gen {

namespace {

constexpr float kNormStd = 0.05f;  // norm weights ~ 1 + N(0, 0.05): the converter baked the +1 in

struct Builder {
  const GenOptions& opt;
  const ModelShape& s;
  Arch arch;
  ModelPlan& plan;

  void add(std::string name, bool quantizable, std::vector<int64_t> ne, Init init, float a, float b,
           std::vector<TensorPlan::Segment> segments = {}) {
    TensorPlan t;
    t.name = std::move(name);
    t.type = quantizable ? opt.dtype : GgmlType::F32;
    t.ne = std::move(ne);
    t.init = init;
    t.a = a;
    t.b = b;
    t.segments = std::move(segments);
    plan.tensors.push_back(std::move(t));
  }
  // An input projection {in, out}.
  void proj(const std::string& name, int64_t in, int64_t out) { add(name, true, {in, out}, Init::Normal, 0, opt.weight_std); }
  // A projection that writes into the residual stream: small scale.
  void residual(const std::string& name, int64_t in, int64_t out) {
    add(name, true, {in, out}, Init::Normal, 0, opt.residual_std);
  }
  void norm(const std::string& name, int64_t n) { add(name, false, {n}, Init::Normal, 1.0f, kNormStd); }

  static std::string blk(uint32_t il, const char* what) { return "blk." + std::to_string(il) + "." + what; }

  void attention(uint32_t il) {
    const int64_t E = s.n_embd, D = s.head_dim;
    norm(blk(il, "attn_norm.weight"), E);
    norm(blk(il, "post_attention_norm.weight"), E);
    proj(blk(il, "attn_q.weight"), E, 2 * s.n_head * D);  // query and gate, interleaved per head
    proj(blk(il, "attn_k.weight"), E, s.n_head_kv * D);
    proj(blk(il, "attn_v.weight"), E, s.n_head_kv * D);
    residual(blk(il, "attn_output.weight"), s.n_head * D, E);
    norm(blk(il, "attn_q_norm.weight"), D);
    norm(blk(il, "attn_k_norm.weight"), D);
  }

  void delta_net(uint32_t il, bool fused_input) {
    const int64_t E = s.n_embd, dk = s.ssm_d_state, dv = s.ssm_head_v_dim;
    const int64_t Hk = s.ssm_n_group, Hv = s.ssm_dt_rank, r = Hv / Hk;
    const int64_t KD = Hk * dk, VD = Hv * dv, CD = 2 * KD + VD;
    norm(blk(il, "attn_norm.weight"), E);
    norm(blk(il, "post_attention_norm.weight"), E);
    const std::string qkv = blk(il, "attn_qkv.weight"), gate = blk(il, "attn_gate.weight");
    if (fused_input) {
      // ssm_in = per key head g: [q_g | k_g | v_g (r value heads) | z_g], made
      // of the very rows the split form would have (models.md §2.4.1).
      std::vector<TensorPlan::Segment> seg;
      for (int64_t g = 0; g < Hk; ++g) {
        seg.push_back({qkv, g * dk, dk});
        seg.push_back({qkv, KD + g * dk, dk});
        seg.push_back({qkv, 2 * KD + g * r * dv, r * dv});
        seg.push_back({gate, g * r * dv, r * dv});
      }
      add(blk(il, "ssm_in.weight"), true, {E, 2 * KD + 2 * VD}, Init::Normal, 0, opt.weight_std, std::move(seg));
    } else {
      proj(qkv, E, CD);
      proj(gate, E, VD);
    }
    if (arch == Arch::Qwen3Next) {
      proj(blk(il, "ssm_ba.weight"), E, 2 * Hv);
    } else {
      proj(blk(il, "ssm_beta.weight"), E, Hv);
      proj(blk(il, "ssm_alpha.weight"), E, Hv);
    }
    add(blk(il, "ssm_conv1d.weight"), false, {int64_t(s.ssm_conv_kernel), CD}, Init::Uniform, -0.5f, 0.5f);
    // dt_bias in [-6, -2.5) and A in [1, 16): decays between ~0.99 and ~0.5 per token.
    add(blk(il, "ssm_dt.bias"), false, {Hv}, Init::Uniform, -6.0f, -2.5f);
    add(blk(il, "ssm_a"), false, {Hv}, Init::NegExp, 0.0f, std::log(16.0f));  // -exp(A_log) < 0
    norm(blk(il, "ssm_norm.weight"), dv);
    residual(blk(il, "ssm_out.weight"), VD, E);
  }

  void ffn(uint32_t il) {
    const int64_t E = s.n_embd;
    if (arch == Arch::Qwen35) {
      proj(blk(il, "ffn_gate.weight"), E, s.n_ff);
      proj(blk(il, "ffn_up.weight"), E, s.n_ff);
      residual(blk(il, "ffn_down.weight"), s.n_ff, E);
      return;
    }
    const int64_t X = s.n_expert, Fe = s.n_ff_exp, Fs = s.n_ff_shexp;
    add(blk(il, "ffn_gate_inp.weight"), false, {E, X}, Init::Normal, 0, opt.weight_std);  // router stays F32
    const std::string gate = blk(il, "ffn_gate_exps.weight"), up = blk(il, "ffn_up_exps.weight");
    if (opt.fused_gate_up) {
      // Per expert: Fe gate rows, then Fe up rows (models.md §2.5).
      std::vector<TensorPlan::Segment> seg;
      for (int64_t e = 0; e < X; ++e) {
        seg.push_back({gate, e * Fe, Fe});
        seg.push_back({up, e * Fe, Fe});
      }
      add(blk(il, "ffn_gate_up_exps.weight"), true, {E, 2 * Fe, X}, Init::Normal, 0, opt.weight_std, std::move(seg));
    } else {
      add(gate, true, {E, Fe, X}, Init::Normal, 0, opt.weight_std);
      add(up, true, {E, Fe, X}, Init::Normal, 0, opt.weight_std);
    }
    add(blk(il, "ffn_down_exps.weight"), true, {Fe, E, X}, Init::Normal, 0, opt.residual_std);
    add(blk(il, "ffn_gate_inp_shexp.weight"), false, {E}, Init::Normal, 0, opt.weight_std);
    proj(blk(il, "ffn_gate_shexp.weight"), E, Fs);
    proj(blk(il, "ffn_up_shexp.weight"), E, Fs);
    residual(blk(il, "ffn_down_shexp.weight"), Fs, E);
  }

  void mtp(uint32_t il) {
    const int64_t E = s.n_embd;
    attention(il);
    ffn(il);
    proj(blk(il, "nextn.eh_proj.weight"), 2 * E, E);
    norm(blk(il, "nextn.enorm.weight"), E);
    norm(blk(il, "nextn.hnorm.weight"), E);
    norm(blk(il, "nextn.shared_head_norm.weight"), E);
  }
};

void check_shape(const ModelShape& s) {
  auto need = [](bool ok, const char* what) {
    if (!ok) fail("invalid model shape: ", what);
  };
  need(s.n_embd > 0 && s.n_layer > 0 && s.n_ff > 0 && s.n_head > 0 && s.n_head_kv > 0 && s.head_dim > 0,
       "a dimension is zero");
  need(s.n_head % s.n_head_kv == 0, "head_count is not a multiple of head_count_kv");
  need(s.n_rot > 0 && s.n_rot <= s.head_dim && s.n_rot % 2 == 0, "rope dimension count must be even and <= key_length");
  need(s.full_attn_interval > 0, "full_attention_interval is 0");
  need(s.ssm_conv_kernel > 0 && s.ssm_d_state > 0 && s.ssm_head_v_dim > 0 && s.ssm_n_group > 0 && s.ssm_dt_rank > 0,
       "an ssm dimension is zero");
  need(s.ssm_dt_rank % s.ssm_n_group == 0, "ssm time_step_rank is not a multiple of group_count");
  need(s.n_expert > 0 && s.n_expert_used > 0 && s.n_expert_used <= s.n_expert && s.n_ff_exp > 0 && s.n_ff_shexp > 0,
       "bad expert counts");
  need(s.context_length > 0, "context_length is 0");
}

}  // namespace

int64_t TensorPlan::n_rows() const {
  int64_t n = 1;
  for (size_t i = 1; i < ne.size(); ++i) n *= ne[i];
  return n;
}

size_t TensorPlan::nbytes() const { return row_bytes(type, ne[0]) * size_t(n_rows()); }

ModelPlan plan_model(const GenOptions& opt) {
  const Arch arch = parse_arch(opt.arch);
  const bool moe = arch != Arch::Qwen35;
  ModelShape s = opt.use_custom_shape ? opt.custom_shape : preset_shape(arch, opt.preset);
  check_shape(s);

  // Only what real converters write (models.md §2.6–2.7).
  if (opt.mtp < 0 || opt.mtp > 16) fail("--mtp must be between 0 and 16, got ", opt.mtp);
  if (opt.mtp > 0 && arch == Arch::Qwen3Next)
    fail("qwen3next files have no MTP layers (the converter drops them); --mtp needs --arch qwen35 or qwen35moe");
  if (opt.fused_gate_up && !moe)
    fail("--fused-gate-up needs a MoE architecture (qwen35moe or qwen3next), not ", arch_name(arch));
  bool fused_input = false;
  if (!opt.qwen3next_input.empty()) {
    if (arch != Arch::Qwen3Next)
      fail("--qwen3next-input is only for --arch qwen3next (", arch_name(arch), " files always have attn_qkv + attn_gate)");
    if (opt.qwen3next_input == "fused") fused_input = true;
    else if (opt.qwen3next_input != "split")
      fail("unknown --qwen3next-input '", opt.qwen3next_input, "' (expected fused or split)");
  }
  const TypeTraits* tt = type_traits(opt.dtype);
  if (!tt) fail("unknown tensor type id ", static_cast<uint32_t>(opt.dtype));
  if (opt.dtype != GgmlType::F32 && !can_quantize(opt.dtype))
    fail("type ", type_label(static_cast<uint32_t>(opt.dtype)), " is not supported yet");
  if (opt.tied) s.tied = true;

  ModelPlan plan;
  plan.arch = arch;
  plan.shape = s;
  plan.n_mtp = opt.mtp;

  // ---- metadata (key order and GGUF types of the test data files)
  const std::string A = arch_name(arch);
  auto kv = [&](const std::string& key, GgufValue v) { plan.metadata.push_back({key, std::move(v)}); };
  kv("general.architecture", GgufValue::str(A));
  kv("general.type", GgufValue::str("model"));
  kv("general.name", GgufValue::str("synthetic-" + A + "-" + (opt.use_custom_shape ? "custom" : opt.preset)));
  kv("general.file_type", GgufValue::u32(file_type_for(opt.dtype)));
  kv("general.quantization_version", GgufValue::u32(2));
  kv(A + ".block_count", GgufValue::u32(s.n_layer + uint32_t(opt.mtp)));  // includes the MTP layers
  kv(A + ".context_length", GgufValue::u32(s.context_length));
  kv(A + ".embedding_length", GgufValue::u32(s.n_embd));
  kv(A + ".feed_forward_length", GgufValue::u32(s.n_ff));
  kv(A + ".attention.head_count", GgufValue::u32(s.n_head));
  kv(A + ".attention.head_count_kv", GgufValue::u32(s.n_head_kv));
  kv(A + ".rope.freq_base", GgufValue::f32(s.rope_freq_base));
  kv(A + ".attention.layer_norm_rms_epsilon", GgufValue::f32(s.rms_eps));
  kv(A + ".attention.key_length", GgufValue::u32(s.head_dim));
  kv(A + ".attention.value_length", GgufValue::u32(s.head_dim));
  if (moe) {
    kv(A + ".expert_count", GgufValue::u32(s.n_expert));
    kv(A + ".expert_used_count", GgufValue::u32(s.n_expert_used));
    kv(A + ".expert_feed_forward_length", GgufValue::u32(s.n_ff_exp));
    kv(A + ".expert_shared_feed_forward_length", GgufValue::u32(s.n_ff_shexp));
  }
  kv(A + ".ssm.conv_kernel", GgufValue::u32(s.ssm_conv_kernel));
  kv(A + ".ssm.state_size", GgufValue::u32(s.ssm_d_state));
  kv(A + ".ssm.group_count", GgufValue::u32(s.ssm_n_group));
  kv(A + ".ssm.time_step_rank", GgufValue::u32(s.ssm_dt_rank));
  kv(A + ".ssm.inner_size", GgufValue::u32(s.ssm_inner()));
  kv(A + ".full_attention_interval", GgufValue::u32(s.full_attn_interval));
  kv(A + ".rope.dimension_count", GgufValue::u32(s.n_rot));
  if (arch != Arch::Qwen3Next)
    kv(A + ".rope.dimension_sections",
       GgufValue::i32_array({s.rope_sections[0], s.rope_sections[1], s.rope_sections[2], s.rope_sections[3]}));
  if (opt.mtp > 0) kv(A + ".nextn_predict_layers", GgufValue::u32(uint32_t(opt.mtp)));

  const Vocab voc = build_vocab(s.n_vocab);
  kv("tokenizer.ggml.model", GgufValue::str("gpt2"));
  kv("tokenizer.ggml.pre", GgufValue::str(arch == Arch::Qwen3Next ? "qwen2" : "qwen35"));
  kv("tokenizer.ggml.tokens", GgufValue::str_array(voc.tokens));
  kv("tokenizer.ggml.token_type", GgufValue::i32_array(voc.types));
  kv("tokenizer.ggml.merges", GgufValue::str_array(voc.merges));
  kv("tokenizer.ggml.eos_token_id", GgufValue::u32(voc.eos_id));
  kv("tokenizer.ggml.padding_token_id", GgufValue::u32(voc.eos_id));
  kv("tokenizer.ggml.bos_token_id", GgufValue::u32(voc.eos_id));
  kv("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));
  kv("tokenizer.chat_template", GgufValue::str(kChatTemplate));

  // ---- tensors
  Builder b{opt, s, arch, plan};
  const int64_t E = s.n_embd, V = s.n_vocab;
  b.proj("token_embd.weight", E, V);
  b.norm("output_norm.weight", E);
  if (!s.tied) b.proj("output.weight", E, V);
  for (uint32_t il = 0; il < s.n_layer; ++il) {
    if (s.is_recurrent(il)) b.delta_net(il, fused_input);
    else b.attention(il);
    b.ffn(il);
  }
  for (int i = 0; i < opt.mtp; ++i) b.mtp(s.n_layer + uint32_t(i));

  for (const TensorPlan& t : plan.tensors)
    if (t.ne[0] % type_traits(t.type)->block_elems != 0)
      fail("--dtype ", tt->name, " needs rows that are a multiple of ", tt->block_elems, " elements; tensor ", t.name,
           " has rows of ", t.ne[0]);
  return plan;
}

}  // namespace dllm::gen
