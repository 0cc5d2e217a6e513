// The chunked (WY / UT) form of the gated delta rule (kernels.md §5), plain
// version: one chunk at a time, the state-independent matrices first, then
// the three state GEMMs with contiguous inner loops over value columns. The
// SIMD version (deltanet_chunked_simd.h) does the same arithmetic in
// register-blocked GEMMs.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/deltanet.h"
#include "ops/elementwise.h"
#include "ops/mixer_kernels.h"
#include "util/error.h"

namespace dllm {

namespace {

// Grows once per thread; the hot path never allocates after that.
float* scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

}  // namespace

void delta_net_chunked(const DeltaNetHeadArgs& a, int chunk) { mixer_kernels().delta_net_chunked(a, chunk); }

void delta_net_chunked_ref(const DeltaNetHeadArgs& a, int chunk, int v_begin, int v_end) {
  if (a.checkpoints) fail("delta_net_chunked: per-step checkpoints need delta_net_recurrent");
  if (chunk < 1) fail("delta_net_chunked: chunk ", chunk, " < 1");
  if (v_begin >= v_end || a.n_tokens <= 0) return;
  for (int t = 0; t < a.n_tokens; ++t)
    if (!(a.g[t * a.gb_stride] <= 0.0f)) return delta_net_recurrent_ref(a, v_begin, v_end);

  const int dk = a.dk, nv = v_end - v_begin, C = std::min(chunk, a.n_tokens);
  // [C][C] T and P, then [C][nv] YQ, R, U, then the per-token scalars.
  float* T = scratch(size_t(2) * C * C + size_t(3) * C * nv + size_t(4) * C);
  float* P = T + size_t(C) * C;
  float* YQ = P + size_t(C) * C;
  float* R = YQ + size_t(C) * nv;
  float* U = R + size_t(C) * nv;
  float* beta = U + size_t(C) * nv;
  float* Gam = beta + C;  // exp(gamma_r): decay from the chunk start through token r
  float* dec = Gam + C;   // exp(gamma_last - gamma_r): decay from after token r to the chunk end
  float* E = dec + C;     // one row of exp(gamma_r - gamma_s)
  // gamma in double: differences of large cumulative sums keep their digits.
  std::vector<double> gam_buf;
  double gam_small[256];
  double* gam = gam_small;
  if (C > 256) {
    gam_buf.resize(size_t(C));
    gam = gam_buf.data();
  }
  float* H = a.state;
  const int64_t dv = a.dv;

  for (int t0 = 0; t0 < a.n_tokens; t0 += C) {
    const int L = std::min(C, a.n_tokens - t0);
    auto kr = [&](int r) { return a.k + int64_t(t0 + r) * a.qk_stride; };
    auto qr = [&](int r) { return a.q + int64_t(t0 + r) * a.qk_stride; };
    double acc = 0.0;
    for (int r = 0; r < L; ++r) {
      acc += double(a.g[int64_t(t0 + r) * a.gb_stride]);
      gam[r] = acc;
      beta[r] = sigmoid(a.b[int64_t(t0 + r) * a.gb_stride]);
      Gam[r] = chunk_decay(acc);
    }
    for (int r = 0; r < L; ++r) dec[r] = chunk_decay(gam[L - 1] - gam[r]);

    // T = (I + A)^-1 row by row (T_r = e_r - sum_{m<r} A[r][m] T_m), with
    // A[r][s] = beta_r exp(gamma_r - gamma_s) (k_r . k_s); P = scale * M.QK^T.
    for (int r = 0; r < L; ++r) {
      for (int s = 0; s <= r; ++s) E[s] = chunk_decay(gam[r] - gam[s]);
      float* Tr = T + size_t(r) * L;
      float* Pr = P + size_t(r) * L;
      std::fill(Tr, Tr + L, 0.0f);
      std::fill(Pr, Pr + L, 0.0f);
      Tr[r] = 1.0f;
      for (int s = 0; s <= r; ++s) {
        float kk = 0.0f, qk = 0.0f;
        for (int c = 0; c < dk; ++c) {
          kk += kr(r)[c] * kr(s)[c];
          qk += qr(r)[c] * kr(s)[c];
        }
        Pr[s] = a.scale * E[s] * qk;
        if (s < r) {
          const float Ars = beta[r] * E[s] * kk;
          const float* Ts = T + size_t(s) * L;
          for (int m = 0; m <= s; ++m) Tr[m] -= Ars * Ts[m];
        }
      }
    }

    // K*H and Q*H with the old state: R = beta*(V - Gamma*K*H), YQ = scale*Gamma*Q*H.
    for (int r = 0; r < L; ++r) {
      float* Rr = R + size_t(r) * nv;
      float* Yr = YQ + size_t(r) * nv;
      std::fill(Rr, Rr + nv, 0.0f);
      std::fill(Yr, Yr + nv, 0.0f);
      for (int c = 0; c < dk; ++c) {
        const float kc = kr(r)[c], qc = qr(r)[c];
        const float* row = H + c * dv + v_begin;
        for (int j = 0; j < nv; ++j) {
          Rr[j] += kc * row[j];
          Yr[j] += qc * row[j];
        }
      }
      const float* v = a.v + int64_t(t0 + r) * a.v_stride + v_begin;
      const float bg = beta[r] * Gam[r], sg = a.scale * Gam[r];
      for (int j = 0; j < nv; ++j) {
        Rr[j] = beta[r] * v[j] - bg * Rr[j];
        Yr[j] *= sg;
      }
    }
    // U = T*R, then O = YQ + P*U.
    for (int r = 0; r < L; ++r) {
      float* Ur = U + size_t(r) * nv;
      std::fill(Ur, Ur + nv, 0.0f);
      for (int s = 0; s <= r; ++s) {
        const float t = T[size_t(r) * L + s];
        const float* Rs = R + size_t(s) * nv;
        for (int j = 0; j < nv; ++j) Ur[j] += t * Rs[j];
      }
    }
    for (int r = 0; r < L; ++r) {
      float* o = a.out + int64_t(t0 + r) * a.out_stride + v_begin;
      const float* Yr = YQ + size_t(r) * nv;
      for (int j = 0; j < nv; ++j) o[j] = Yr[j];
      for (int s = 0; s <= r; ++s) {
        const float p = P[size_t(r) * L + s];
        const float* Us = U + size_t(s) * nv;
        for (int j = 0; j < nv; ++j) o[j] += p * Us[j];
      }
    }
    // H = clamp(Gamma_last*H + sum_r dec_r k_r U_r^T).
    const float gl = Gam[L - 1];
    for (int c = 0; c < dk; ++c) {
      float* row = H + c * dv + v_begin;
      for (int j = 0; j < nv; ++j) row[j] *= gl;
      for (int r = 0; r < L; ++r) {
        const float w = dec[r] * kr(r)[c];
        const float* Ur = U + size_t(r) * nv;
        for (int j = 0; j < nv; ++j) row[j] += w * Ur[j];
      }
      for (int j = 0; j < nv; ++j) row[j] = std::clamp(row[j], -1e6f, 1e6f);
    }
  }
}

}  // namespace dllm
