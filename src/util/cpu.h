// CPU features found at run time (CPUID); kernels pick their variant once.
#pragma once

namespace dllm {

struct CpuFeatures {
  bool avx2 = false;     // AVX2 + FMA + F16C
  bool avx512 = false;   // AVX-512 F/BW/VL/DQ
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
};

// Detected once. DELTALLM_ISA=portable|avx2 in the environment caps the level
// (to test the fallbacks on a machine that has more).
const CpuFeatures& cpu_features();
const char* cpu_isa_name();  // "avx512_vnni", "avx2", "portable"

}  // namespace dllm
