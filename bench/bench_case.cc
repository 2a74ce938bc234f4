#include "bench/bench_case.h"

#include <utility>

#include "bench/flops.h"

namespace tile::bench {

double BenchCase::flops() const {
  return attention_flops(batch_size, seq_len, nheads, head_size, dv(), causal, fwd_only);
}

std::string BenchCase::describe() const {
  std::string s = "bs " + std::to_string(batch_size) + " seq " + std::to_string(seq_len) + " heads " +
                  std::to_string(nheads);
  if (nheads_k != nheads) s += " heads_k " + std::to_string(nheads_k);
  s += " d " + std::to_string(head_size) + (dv() != head_size ? " dv " + std::to_string(dv()) : "") + " " + elem_type_name(dtype) + (causal ? " causal" : "") + (variant.empty() ? "" : " " + variant + (block_mask ? " block_mask" : "")) +
       (deterministic ? " deterministic" : "") +
       " fwd_only " + (fwd_only ? "True" : "False");
  return s;
}

std::vector<BenchCase> seed_sweep_cases(AttnFunc func, bool fwd_only_rows) {
  static const std::pair<int, int> kShapes[] = {{2, 4096},  {8, 4096},   {16, 4096},  {64, 4096}, {128, 4096},
                                                {2, 8192},  {2, 16384},  {2, 32768},  {2, 65536}};
  std::vector<BenchCase> cases;
  for (bool fwd_only : {true, false}) {
    if (fwd_only_rows && !fwd_only) continue;
    for (auto [b, s] : kShapes) {
      BenchCase c;
      c.func = func;
      c.dtype = ElemType::bf16;
      c.batch_size = b;
      c.seq_len = s;
      c.nheads = c.nheads_k = 16;
      c.head_size = 128;
      c.causal = true;
      c.fwd_only = fwd_only;
      cases.push_back(c);
    }
  }
  return cases;
}

std::vector<BenchCase> cases_from_flags(const BenchFlags& f) {
  if (f.sweep == "seed") return seed_sweep_cases(f.func, f.fwd_only);
  BenchCase c;
  c.func = f.func;
  c.dtype = f.dtype;
  c.batch_size = f.batch_size;
  c.seq_len = f.seq_len;
  c.nheads = f.nheads;
  c.nheads_k = f.nheads_k ? f.nheads_k : f.nheads;
  c.head_size = f.head_size;
  c.head_size_v = f.head_size_v == f.head_size ? 0 : f.head_size_v;
  c.causal = f.causal;
  c.fwd_only = f.fwd_only;
  c.deterministic = f.deterministic;
  c.variant = f.variant;
  c.block_mask = f.block_mask;
  return {c};
}

}  // namespace tile::bench
