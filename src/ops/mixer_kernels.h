// Internal: the kernel sets behind the token-mixing ops (delta_net_recurrent,
// delta_net_chunked, conv1d_causal, attention_one) and the vectorised activations of
// elementwise.h, one per ISA, chosen once from CPUID.
#pragma once
#include "ops/attention.h"
#include "ops/deltanet.h"

namespace dllm {

struct MixerKernels {
  const char* name;
  void (*delta_net)(const DeltaNetHeadArgs& a);
  void (*delta_net_chunked)(const DeltaNetHeadArgs& a, int chunk);
  void (*conv1d)(const Conv1dArgs& a, int64_t c_begin, int64_t c_end);
  void (*attention)(const float* q, int n_heads, int n_kv_heads, int head_dim, const KvRows& kv, int64_t n_kv,
                    float scale, float* out, float* scores, int h_begin, int h_end);
  void (*silu_mul)(float* gate, const float* up, int64_t n);
  void (*silu_inplace)(float* x, int64_t n);
  void (*mul_silu)(float* o, const float* z, int64_t n);
  void (*mul_sigmoid)(float* o, const float* g, int64_t n);
  void (*exp_shifted)(float* x, int64_t n, float shift);
};

const MixerKernels& mixer_kernels();          // the best set this CPU runs
const MixerKernels& mixer_kernels_portable();  // the references
// nullptr when the CPU lacks the ISA (AVX2 = AVX2 + FMA + F16C; AVX-512 as matmul picks it).
const MixerKernels* mixer_kernels_avx2();
const MixerKernels* mixer_kernels_avx512();

}  // namespace dllm
