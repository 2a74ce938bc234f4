// One benchmark case (a row of the table) and the case lists: the one the flags describe, or
// the seed's sweep.
#pragma once

#include <string>
#include <vector>

#include "bench/bench_flags.h"

namespace tile::bench {

struct BenchCase {
  AttnFunc func = AttnFunc::qkvpacked;
  ElemType dtype = ElemType::bf16;
  int batch_size = 2, seq_len = 4096, nheads = 16, nheads_k = 16, head_size = 128;
  int head_size_v = 0;  // 0: head_size
  bool causal = false, fwd_only = false, deterministic = false;
  std::string variant;  // empty: plain attention
  bool block_mask = false;  // the variant's block-sparse kernels, with a block mask built once

  double flops() const;  // attention_flops of the case
  int dv() const { return head_size_v ? head_size_v : head_size; }
  // "bs 2 seq 4096 heads 16 d 128 causal fwd_only True" (progress lines, errors).
  std::string describe() const;
};

// The seed's H100 table: causal, bf16, H=16, D=128, the nine B x S shapes; the forward rows
// first, then forward+backward (only the forward rows when `fwd_only_rows`).
std::vector<BenchCase> seed_sweep_cases(AttnFunc func, bool fwd_only_rows);

// What the parsed flags ask for: the sweep, or the one case.
std::vector<BenchCase> cases_from_flags(const BenchFlags& flags);

}  // namespace tile::bench
