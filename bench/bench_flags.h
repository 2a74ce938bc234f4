// The flags of //bench:flash_attn (flash-attn's benchmark_qkvpacked_func.py flags plus a few of
// our own) and their parsing. Pure logic: nothing here touches the GPU, so every flag error is
// reported (exit 2, naming the flag) before a device is opened.
#pragma once

#include "distributed/launch_env.h"
#include "distributed/sequence_split.h"

#include <string>
#include <vector>

namespace tile::bench {

enum class AttnFunc { qkvpacked, func, varlen_qkvpacked };
enum class ElemType { bf16, fp16 };

// "flash_attn_qkvpacked_func", "flash_attn_func", "flash_attn_varlen_qkvpacked_func".
const char* func_name(AttnFunc f);
const char* elem_type_name(ElemType t);  // "bf16", "fp16"

struct BenchFlags {
  int batch_size = 2, seq_len = 4096, nheads = 16, head_size = 128;
  int nheads_k = 0;  // 0: same as nheads (resolved by parse_bench_flags)
  int head_size_v = 0;  // v/out head dim; 0: same as head_size (resolved by parse_bench_flags)
  bool fwd_only = false, causal = false, profile = false;  // booleans default off
  bool deterministic = false;  // the backward's deterministic dQ (flash-attn's deterministic=True)
  ElemType dtype = ElemType::bf16;
  AttnFunc func = AttnFunc::qkvpacked;
  int warmup = 5, iters = 30;
  std::string json_path;   // empty: no JSON
  std::string out_dir = ".";  // profile traces and the sweep chart
  std::string sweep;       // empty or "seed"
  std::string variant;     // a registered attention variant (attention/variants); empty: plain
  bool block_mask = false; // with a variant that has a mask: its block-sparse kernels
  // Distributed mode: 0 = single GPU. N = one process per GPU; without `mode` each rank runs the
  // whole case on its own GPU (the seed's benchmark under torchrun), with it the ring over seq_len
  // (each rank holds seq_len / N tokens).
  int nproc_per_node = 0;
  // N > 0: N virtual ranks (threads) on GPU 0 with the in-process transport, each on its own
  // streams, their blocks moved by copies on each rank's copy stream; needs a --mode.
  int virtual_ranks = 0;
  // empty, "ring", "zigzag", "stripe", "ulysses" or "usp"; needs nproc_per_node (or
  // virtual_ranks). ulysses: the all-to-all over all N ranks; usp: Ulysses in groups of
  // ulysses_degree, zigzag across.
  std::string mode;
  int ulysses_degree = 0;  // ulysses: N; usp: --ulysses_degree U (N % U == 0); else 1
  // > 0: this process is one rank of a torchrun / srun launch of that many ranks (no
  // --nproc_per_node; distributed/launch_env.h), on GPU LOCAL_RANK.
  int launched_world = 0;
  int world() const {
    return nproc_per_node > 0 ? nproc_per_node : virtual_ranks > 0 ? virtual_ranks : launched_world;
  }
  bool help = false;
};

struct ParseResult {
  bool ok = false;
  BenchFlags flags;
  std::string error;  // starts with the offending flag, e.g. "--seq_len: expected ..."
};

// The sequence split of a distributed --mode (ring degree N / U; usp: zigzag across).
dist::SequenceLayout sequence_layout(const BenchFlags& flags);

// Parses argv[1..] ("--flag value" or "--flag=value"). Checks every value and the combinations
// (GQA needs nheads % nheads_k == 0; the packed functions need nheads_k == nheads; --sweep fixes
// the shapes, so shape flags next to it are an error).
// `launch`: the torchrun / srun environment, if any; without --nproc_per_node the run is then
// distributed over its ranks.
ParseResult parse_bench_flags(const std::vector<std::string>& args, const dist::LaunchEnv* launch = nullptr);

// The --help text: every flag, its default, and how TFLOPS are counted.
std::string usage_text();

}  // namespace tile::bench
