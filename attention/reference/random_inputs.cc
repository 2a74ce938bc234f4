#include "attention/reference/random_inputs.h"

#include <random>
#include <stdexcept>

namespace tile {
namespace reference {
namespace {

HostTensor random_tensor(DType dtype, const std::vector<int64_t>& shape, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  HostTensor t(dtype, shape);
  for (int64_t e = 0; e < t.numel(); ++e) t.set_at(e, uniform(rng));  // set_at rounds to dtype
  return t;
}

HostTensor prefix_sums(const std::vector<int64_t>& lengths) {
  HostTensor cu(DType::i32, {static_cast<int64_t>(lengths.size()) + 1});
  int64_t total = 0;
  cu.set_at(0, 0);
  for (size_t b = 0; b < lengths.size(); ++b) cu.set_at(static_cast<int64_t>(b) + 1, static_cast<double>(total += lengths[b]));
  return cu;
}

int64_t sum(const std::vector<int64_t>& v) {
  int64_t s = 0;
  for (int64_t x : v) s += x;
  return s;
}

}  // namespace

AttnInputs OwnedInputs::inputs() const {
  AttnInputs in;
  in.q = q.view();
  in.k = k.view();
  in.v = v.view();
  if (cu_seqlens_q.numel() > 0) in.cu_seqlens_q = cu_seqlens_q.view();
  if (cu_seqlens_k.numel() > 0) in.cu_seqlens_k = cu_seqlens_k.view();
  return in;
}

OwnedInputs make_random_inputs(const AttnShape& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t dv = s.headdim_v > 0 ? s.headdim_v : s.headdim;
  OwnedInputs o;
  if (!s.varlen_seqlens_q.empty()) {
    if (s.varlen_seqlens_q.size() != s.varlen_seqlens_k.size())
      throw std::invalid_argument("varlen_seqlens_k: expected as many sequences as varlen_seqlens_q");
    const int64_t tq = sum(s.varlen_seqlens_q), tk = sum(s.varlen_seqlens_k);
    o.q = random_tensor(s.dtype, {tq, s.nheads_q, s.headdim}, rng);
    o.k = random_tensor(s.dtype, {tk, s.nheads_k, s.headdim}, rng);
    o.v = random_tensor(s.dtype, {tk, s.nheads_k, dv}, rng);
    o.dout = random_tensor(s.dtype, {tq, s.nheads_q, dv}, rng);
    o.cu_seqlens_q = prefix_sums(s.varlen_seqlens_q);
    o.cu_seqlens_k = prefix_sums(s.varlen_seqlens_k);
  } else {
    o.q = random_tensor(s.dtype, {s.batch, s.seqlen_q, s.nheads_q, s.headdim}, rng);
    o.k = random_tensor(s.dtype, {s.batch, s.seqlen_k, s.nheads_k, s.headdim}, rng);
    o.v = random_tensor(s.dtype, {s.batch, s.seqlen_k, s.nheads_k, dv}, rng);
    o.dout = random_tensor(s.dtype, {s.batch, s.seqlen_q, s.nheads_q, dv}, rng);
  }
  return o;
}

}  // namespace reference
}  // namespace tile
