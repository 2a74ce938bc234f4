// Reference self-check: the fp64 reference's forward against a plain direct computation, and its
// gradients against central finite differences, on small configurations covering every feature.
// Prints one line per check, then PASS or FAIL; exits 0 or 1.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "attention/reference/direct_attention.h"
#include "attention/reference/gradient_check.h"
#include "attention/reference/random_inputs.h"
#include "attention/reference/reference_fp64.h"

using namespace tile;
using namespace tile::reference;

namespace {

struct Config {
  std::string name;
  AttnShape shape;
  AttnOptions options;
  std::vector<double> alibi;  // per (batch?) head slopes; 1-D unless alibi_per_batch
  bool alibi_per_batch = false;
};

AttnShape batched(int64_t b, int64_t sq, int64_t sk, int64_t hq, int64_t hk, int64_t d, int64_t dv = 0) {
  AttnShape s;
  s.batch = b, s.seqlen_q = sq, s.seqlen_k = sk, s.nheads_q = hq, s.nheads_k = hk, s.headdim = d, s.headdim_v = dv;
  return s;
}

AttnShape varlen(std::vector<int64_t> sq, std::vector<int64_t> sk, int64_t hq, int64_t hk, int64_t d) {
  AttnShape s = batched(1, 1, 1, hq, hk, d);
  s.varlen_seqlens_q = std::move(sq);
  s.varlen_seqlens_k = std::move(sk);
  return s;
}

double max_abs_diff(const HostTensor& a, const HostTensor& b) {
  double m = 0.0;
  for (int64_t e = 0; e < a.numel(); ++e) {
    const double x = a.at(e), y = b.at(e);
    if (x == y) continue;  // also equal infinities
    const double d = std::fabs(x - y);
    m = std::isnan(d) ? INFINITY : std::max(m, d);
  }
  return m;
}

bool run(const Config& c, uint64_t seed) {
  OwnedInputs owned = make_random_inputs(c.shape, seed);
  AttnInputs in = owned.inputs();
  AttnOptions opt = c.options;
  HostTensor slopes;
  if (!c.alibi.empty()) {
    const int64_t h = c.shape.nheads_q;
    slopes = c.alibi_per_batch ? HostTensor(DType::f32, {static_cast<int64_t>(c.alibi.size()) / h, h})
                               : HostTensor(DType::f32, {h});
    for (int64_t e = 0; e < slopes.numel(); ++e) slopes.set_at(e, c.alibi[static_cast<size_t>(e)]);
    opt.alibi_slopes = slopes.view();
  }
  const AttnForward ref = attention_forward(in, opt);
  const AttnForward direct = direct_attention_forward(in, opt);
  const double out_err = max_abs_diff(ref.out, direct.out), lse_err = max_abs_diff(ref.lse, direct.lse);
  const bool fwd_ok = out_err <= 1e-12 && lse_err <= 1e-12;
  std::printf("%-34s forward vs direct: out %.1e lse %.1e  %s\n", c.name.c_str(), out_err, lse_err, fwd_ok ? "ok" : "FAILED");

  const GradientCheck g = check_gradients_by_finite_differences(in, opt, owned.dout.view());
  const double tol = 1e-7 * std::max(1.0, g.max_abs_grad);
  const bool bwd_ok = g.max_abs_error <= tol;
  std::printf("%-34s gradients vs finite differences: max err %.1e (|grad| <= %.2f, %lld elements, worst %s)  %s\n",
              c.name.c_str(), g.max_abs_error, g.max_abs_grad, static_cast<long long>(g.elements), g.worst.c_str(),
              bwd_ok ? "ok" : "FAILED");
  return fwd_ok && bwd_ok;
}

}  // namespace

int main() {
  std::vector<Config> configs;
  auto add = [&](std::string name, AttnShape s, AttnOptions o = {}) {
    configs.push_back({std::move(name), std::move(s), std::move(o), {}, false});
    return &configs.back();
  };
  AttnOptions sharp;
  sharp.softmax_scale = 1.5;  // a peaked softmax exercises the gradients more than a flat one
  add("plain (headdim_v != headdim)", batched(2, 5, 7, 2, 2, 4, 3), sharp);
  AttnOptions causal = sharp;
  causal.causal = true;
  add("causal sq < sk", batched(1, 5, 7, 2, 2, 4), causal);
  add("causal sq > sk (masked rows)", batched(1, 7, 4, 1, 1, 4), causal);
  AttnOptions window = sharp;
  window.window_left = 2, window.window_right = 1;
  add("window (2, 1)", batched(1, 6, 6, 2, 2, 4), window);
  AttnOptions window_causal = sharp;
  window_causal.window_left = 1, window_causal.causal = true;
  add("window (1, 0) causal, sq != sk", batched(1, 4, 6, 1, 1, 3), window_causal);
  AttnOptions softcap;
  softcap.softmax_scale = 3.0, softcap.softcap = 1.2;
  add("softcap 1.2", batched(1, 5, 5, 2, 2, 4), softcap);
  Config* alibi = add("alibi (nheads)", batched(2, 4, 6, 2, 2, 4), causal);
  alibi->alibi = {0.5, 0.25};
  Config* alibi_b = add("alibi (batch, nheads), non-causal", batched(2, 5, 4, 2, 2, 3), sharp);
  alibi_b->alibi = {0.3, 0.6, 0.1, 0.9};
  alibi_b->alibi_per_batch = true;
  add("GQA 4 q heads / 2 kv heads", batched(1, 5, 6, 4, 2, 4), sharp);
  add("MQA 3 q heads / 1 kv head, causal", batched(2, 4, 4, 3, 1, 3), causal);
  add("varlen (3,2,4)/(5,0,3)", varlen({3, 2, 4}, {5, 0, 3}, 2, 1, 4), sharp);
  AttnOptions all = softcap;
  all.causal = true, all.window_left = 2;
  Config* everything = add("varlen+causal+window+softcap+alibi", varlen({4, 3}, {5, 2}, 4, 2, 3), all);
  everything->alibi = {0.2, 0.4, 0.6, 0.8};

  const uint64_t seed = 20251125;
  std::printf("reference self-check, seed %llu\n", static_cast<unsigned long long>(seed));
  bool ok = true;
  for (size_t i = 0; i < configs.size(); ++i) ok = run(configs[i], seed + i) && ok;
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
