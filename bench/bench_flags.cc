#include "bench/bench_flags.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "attention/variants/variant_spec.h"
#include "bench/flops.h"
#include "common/cli/flag_reader.h"

namespace tile::bench {

const char* func_name(AttnFunc f) {
  switch (f) {
    case AttnFunc::qkvpacked: return "flash_attn_qkvpacked_func";
    case AttnFunc::func: return "flash_attn_func";
    case AttnFunc::varlen_qkvpacked: return "flash_attn_varlen_qkvpacked_func";
  }
  return "?";
}

const char* elem_type_name(ElemType t) { return t == ElemType::bf16 ? "bf16" : "fp16"; }

namespace {

using cli::FlagError;
using cli::IntRange;

// Caps keep every product the planner forms far from overflow; real limits (memory, 32-bit
// kernel offsets) are checked by the API with its own messages.
constexpr long kMaxDim = 1 << 24;

int int_flag(cli::FlagReader& r, long lo, long hi) { return int(r.integer(IntRange::between(lo, hi))); }

// An empty path or name is never meant, so "--json=" reads as a missing value.
std::string text_flag(cli::FlagReader& r) {
  std::string v = r.value();
  if (v.empty()) throw FlagError(r.name() + ": missing value");
  return v;
}

void check_sequence_parallel_flags(BenchFlags& f);

// Fills `f` (partly, if a flag is bad); throws FlagError naming the flag.
void parse_into(const std::vector<std::string>& args, const dist::LaunchEnv* launch, BenchFlags& f) {
  const std::string no_value = "takes no value (booleans are off unless given)";
  std::set<std::string> seen;
  cli::FlagReader r(args);
  while (r.next()) {
    const std::string& flag = r.name();
    if (!r.has_double_dash()) throw FlagError(flag + ": unexpected argument (flags start with --)");
    if (!seen.insert(flag).second) throw FlagError(flag + ": given twice");

    if (flag == "--batch_size") f.batch_size = int_flag(r, 1, kMaxDim);
    else if (flag == "--seq_len") f.seq_len = int_flag(r, 1, kMaxDim);
    else if (flag == "--nheads") f.nheads = int_flag(r, 1, 4096);
    else if (flag == "--nheads_k") f.nheads_k = int_flag(r, 1, 4096);
    else if (flag == "--head_size") f.head_size = int_flag(r, 1, 1024);
    else if (flag == "--head_size_v") f.head_size_v = int_flag(r, 1, 1024);
    else if (flag == "--nproc_per_node") f.nproc_per_node = int_flag(r, 1, 64);
    else if (flag == "--virtual_ranks") f.virtual_ranks = int_flag(r, 1, 64);
    else if (flag == "--warmup") f.warmup = int_flag(r, 0, 100000);
    else if (flag == "--iters") f.iters = int_flag(r, 1, 100000);
    else if (flag == "--fwd_only") f.fwd_only = r.boolean(no_value);
    else if (flag == "--causal") f.causal = r.boolean(no_value);
    else if (flag == "--deterministic") f.deterministic = r.boolean(no_value);
    else if (flag == "--block_mask") f.block_mask = r.boolean(no_value);
    else if (flag == "--variant") {
      f.variant = text_flag(r);
      try {
        attention::parse_variant(f.variant, "--variant");
      } catch (const std::invalid_argument& e) {
        throw FlagError(e.what());
      }
    }
    else if (flag == "--profile") f.profile = r.boolean(no_value);
    else if (flag == "--help" || flag == "-h") f.help = r.boolean(no_value);
    else if (flag == "--json") f.json_path = text_flag(r);
    else if (flag == "--out_dir") f.out_dir = text_flag(r);
    else if (flag == "--dtype") {
      const std::string v = text_flag(r);
      if (v == "bf16" || v == "bfloat16") f.dtype = ElemType::bf16;
      else if (v == "fp16" || v == "float16") f.dtype = ElemType::fp16;
      else throw FlagError(flag + ": expected bf16 or fp16, got '" + v + "'");
    } else if (flag == "--func") {
      const std::string v = text_flag(r);
      if (v == func_name(AttnFunc::qkvpacked)) f.func = AttnFunc::qkvpacked;
      else if (v == func_name(AttnFunc::func)) f.func = AttnFunc::func;
      else if (v == func_name(AttnFunc::varlen_qkvpacked)) f.func = AttnFunc::varlen_qkvpacked;
      else
        throw FlagError(flag +
                        ": expected flash_attn_qkvpacked_func, flash_attn_func or flash_attn_varlen_qkvpacked_func, got '" +
                        v + "'");
    } else if (flag == "--mode") {
      f.mode = text_flag(r);
      if (f.mode != "ring" && f.mode != "zigzag" && f.mode != "stripe" && f.mode != "ulysses" && f.mode != "usp")
        throw FlagError(flag + ": expected ring or zigzag or stripe (the ring's splits), ulysses or usp (all-to-all), got '" +
                        f.mode + "'");
    } else if (flag == "--ulysses_degree") {
      f.ulysses_degree = int_flag(r, 1, 64);
    } else if (flag == "--sweep") {
      f.sweep = text_flag(r);
      if (f.sweep != "seed") throw FlagError(flag + ": expected 'seed' (the seed's H100 table), got '" + f.sweep + "'");
    } else {
      throw FlagError(flag + ": unknown flag (see --help)");
    }
  }

  if (f.help) return;
  if (f.block_mask && (f.variant.empty() || !attention::parse_variant(f.variant, "--variant").has_mask()))
    throw FlagError("--block_mask: needs a --variant with a mask (" + std::string(f.variant.empty() ? "none given" : f.variant) + ")");
  if (f.virtual_ranks > 0 && f.nproc_per_node > 0)
    throw FlagError("--virtual_ranks: not with --nproc_per_node (threads on one GPU, or one process per GPU)");
  if (f.virtual_ranks > 0 && f.mode.empty())
    throw FlagError("--virtual_ranks: needs --mode (virtual ranks share one GPU: each timing the whole case alone "
                    "would measure nothing)");
  if (!f.variant.empty() && (f.nproc_per_node > 0 || f.virtual_ranks > 0 || f.launched_world > 0))
    throw FlagError("--variant: single-GPU runs only (the distributed benchmark runs plain attention)");
  if (!f.sweep.empty()) {
    // The sweep fixes the shapes, dtype and masking; --fwd_only keeps only its forward rows.
    for (const char* fixed : {"--batch_size", "--seq_len", "--nheads", "--nheads_k", "--head_size", "--head_size_v", "--dtype", "--causal"})
      if (seen.count(fixed))
        throw FlagError(std::string(fixed) +
                        ": not allowed with --sweep seed (the sweep fixes causal, bf16, H=16, D=128 and B x S)");
  }
  if (f.nproc_per_node == 0 && f.virtual_ranks == 0 && launch != nullptr) f.launched_world = launch->world_size;
  if (!f.mode.empty() && f.world() == 0)
    throw FlagError("--mode: needs --nproc_per_node N (the ring runs over N ranks, one per GPU) or --virtual_ranks N");
  if (f.world() > 0 && !f.sweep.empty())
    throw FlagError("--sweep: not allowed with --nproc_per_node or --virtual_ranks (one case per distributed run)");
  if (f.nheads_k == 0) f.nheads_k = f.nheads;
  if (f.head_size_v == 0) f.head_size_v = f.head_size;
  if (f.func != AttnFunc::func && f.head_size_v != f.head_size)
    throw FlagError("--head_size_v: " + std::string(func_name(f.func)) +
                    " packs q, k and v with one head_dim: needs head_size_v == head_size (" + std::to_string(f.head_size) +
                    "); use --func flash_attn_func");
  if (!f.mode.empty() && f.head_size_v != f.head_size)
    throw FlagError("--head_size_v: the sequence-parallel modes need head_size_v == head_size");
  if (!f.mode.empty()) {
    if (f.func == AttnFunc::varlen_qkvpacked)
      throw FlagError("--func: the ring has no varlen form; use flash_attn_qkvpacked_func or flash_attn_func with --mode");
    check_sequence_parallel_flags(f);
  } else if (f.ulysses_degree > 0) {
    throw FlagError("--ulysses_degree: only with --mode ulysses or usp");
  }
  if (f.func != AttnFunc::func && f.nheads_k != f.nheads)
    throw FlagError("--nheads_k: " + std::string(func_name(f.func)) +
                    " packs q, k and v with the same heads: needs nheads_k == nheads (" + std::to_string(f.nheads) +
                    "), got " + std::to_string(f.nheads_k) + "; use --func flash_attn_func for GQA/MQA");
  if (f.nheads % f.nheads_k != 0)
    throw FlagError("--nheads_k: nheads (" + std::to_string(f.nheads) + ") must be a multiple of nheads_k (" +
                    std::to_string(f.nheads_k) + ")");
}

// --mode's degrees and splits (distributed/sequence_split.h): Ulysses needs the heads to split
// over its degree (k/v heads may be fewer and are then replicated), every mode an even split of
// seq_len. Errors name the flag.
void check_sequence_parallel_flags(BenchFlags& f) {
  const int n = f.world();
  if (f.mode == "ulysses") {
    if (f.ulysses_degree > 0 && f.ulysses_degree != n)
      throw FlagError("--ulysses_degree: --mode ulysses uses all " + std::to_string(n) + " ranks, got " +
                      std::to_string(f.ulysses_degree) + " (a smaller degree is --mode usp)");
    f.ulysses_degree = n;
  } else if (f.mode == "usp") {
    if (f.ulysses_degree == 0) throw FlagError("--ulysses_degree: required with --mode usp");
    if (n % f.ulysses_degree != 0)
      throw FlagError("--ulysses_degree: expected a divisor of the " + std::to_string(n) + " ranks, got " +
                      std::to_string(f.ulysses_degree));
  } else {
    if (f.ulysses_degree > 1) throw FlagError("--ulysses_degree: only with --mode ulysses or usp");
    f.ulysses_degree = 1;
  }
  const int u = f.ulysses_degree;
  if (f.nheads % u != 0)
    throw FlagError("--nheads: " + std::to_string(f.nheads) + " heads do not split over the Ulysses degree " +
                    std::to_string(u));
  if (f.nheads_k % u != 0 && u % f.nheads_k != 0)
    throw FlagError("--nheads_k: " + std::to_string(f.nheads_k) + " k/v heads do not split over the Ulysses degree " +
                    std::to_string(u) + " (nheads_k % U or U % nheads_k must be 0)");
  if (f.mode == "ring" || f.mode == "zigzag") {
    // The ring shards the sequence evenly: W slices (ring) or 2W chunks (zigzag).
    const int parts = f.mode == "zigzag" ? 2 * n : n;
    if (f.seq_len % parts != 0)
      throw FlagError("--seq_len: " + std::to_string(f.seq_len) + " does not divide into " + std::to_string(parts) +
                      (f.mode == "zigzag" ? " chunks (zigzag needs seq_len % (2 * ranks) == 0)"
                                          : " shards (ring needs seq_len % ranks == 0)"));
  }
  try {
    dist::check_sequence_split(sequence_layout(f), f.seq_len);
  } catch (const std::invalid_argument& e) {
    throw FlagError(std::string("--") + e.what());
  }
}

}  // namespace

dist::SequenceLayout sequence_layout(const BenchFlags& f) {
  const int u = std::max(1, f.ulysses_degree);
  const dist::RingMode split = f.mode == "ring" || f.mode == "ulysses" ? dist::RingMode::ring
                               : f.mode == "stripe"                    ? dist::RingMode::stripe
                                                                       : dist::RingMode::zigzag;
  return {split, std::max(1, f.world()) / u, u};
}

ParseResult parse_bench_flags(const std::vector<std::string>& args, const dist::LaunchEnv* launch) {
  ParseResult r;
  try {
    parse_into(args, launch, r.flags);
    r.ok = true;
  } catch (const cli::FlagError& e) {
    r.error = e.what();
  }
  return r;
}

std::string usage_text() {
  std::string s;
  s += "usage: flash_attn [flags]   (bazel run //bench:flash_attn -- [flags]; needs an NVIDIA GPU)\n";
  s += "Times flash-attn's API on the GPU and prints flash-attn's benchmark table:\n";
  s += "  batch_size | seq_len | nheads | head_size | fwd_only | throughput(iters/s) | latency(ms/iter) |\n";
  s += "  peak memory(MB/device) | speed(TFLOPS)\n\n";
  s += "  --batch_size N      batch (default 2)\n";
  s += "  --seq_len N         sequence length of q and k (default 4096)\n";
  s += "  --nheads N          query heads (default 16)\n";
  s += "  --nheads_k N        key/value heads, GQA/MQA with --func flash_attn_func (default nheads)\n";
  s += "  --head_size N       head dimension (default 128)\n";
  s += "  --head_size_v N     head dimension of v and out (default: --head_size; --func flash_attn_func)\n";
  s += "  --dtype bf16|fp16   element type (default bf16)\n";
  s += "  --func NAME         flash_attn_qkvpacked_func (default) | flash_attn_func |\n";
  s += "                      flash_attn_varlen_qkvpacked_func (batch_size sequences of seq_len each)\n";
  s += "  --causal            causal mask (default off)\n";
  s += "  --variant NAME      an attention variant (--list in //tests:accuracy --list_variants), its\n";
  s += "                      arguments its bench_args (realistic ones); FLOPs count the dense (or causal) work\n";
  s += "  --block_mask        with a masked variant: build its block mask once, run the block-sparse kernels\n";
  s += "  --fwd_only          forward only (default off: forward + backward)\n";
  s += "  --deterministic     the backward without atomics (flash-attn's deterministic=True; default off)\n";
  s += "  --warmup N          untimed iterations first (default 5; one always runs: it loads the kernels)\n";
  s += "  --iters N           timed iterations; the median is reported (default 30)\n";
  s += "  --profile           also time each kernel of one more iteration (CUDA events around every\n";
  s += "                      launch); writes a Chrome-trace JSON (open in Perfetto) to --out_dir and\n";
  s += "                      prints one line per kernel\n";
  s += "  --sweep seed        the seed's H100 table: causal, bf16, H=16, D=128, B x S in 2x4096, 8x4096,\n";
  s += "                      16x4096, 64x4096, 128x4096, 2x8192, 2x16384, 2x32768, 2x65536, forward\n";
  s += "                      and forward+backward (only forward with --fwd_only); writes an SVG chart of\n";
  s += "                      TFLOPS against seq_len to --out_dir\n";
  s += "  --nproc_per_node N  distributed: one process per GPU (GPUs 0..N-1), NCCL between them. Without\n";
  s += "                      --mode each rank times the whole case on its own GPU (the seed's benchmark\n";
  s += "                      under torchrun); prints a row per rank with ideal(ms/iter) and ratio\n";
  s += "  --mode ring|zigzag|stripe|ulysses|usp\n";
  s += "                      with --nproc_per_node: sequence parallel over seq_len (each rank holds\n";
  s += "                      seq_len/N tokens; zigzag needs seq_len % 2N == 0; ulysses: all-to-all over\n";
  s += "                      heads, nheads % N == 0; usp: Ulysses in groups of --ulysses_degree U,\n";
  s += "                      zigzag across the N/U groups). ideal = the rank's GPU alone on\n";
  s += "                      the whole case / N (its share with free communication); ratio = time /\n";
  s += "                      ideal. Without --mode, ideal = the rank's GPU timing the case while the\n";
  s += "                      other ranks wait. --profile writes one trace per rank (rank_R in the name)\n";
  s += "                      with its compute and comm (NCCL) lanes\n";
  s += "  --virtual_ranks N   with --mode: N ranks as threads on GPU 0 (in-process transport), each with\n";
  s += "                      its own streams; blocks move as copies on each rank's copy stream, ordered\n";
  s += "                      by events. --profile writes one trace with a lane per rank and stream\n";
  s += "                      (compute, comm) and prints whether each rank's next-step copies overlapped\n";
  s += "                      its compute\n";
  s += "  --ulysses_degree U  with --mode usp: the Ulysses group size (N % U == 0)\n";
  s += "                      Under torchrun / srun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)\n";
  s += "                      without --nproc_per_node, this process is one of WORLD_SIZE ranks on GPU\n";
  s += "                      LOCAL_RANK: torchrun --nproc_per_node=8 flash_attn --mode usp --ulysses_degree 4 ...\n";
  s += "  --json FILE         also write the results as JSON (bench/compare_sdpa.py --ours reads it)\n";
  s += "  --out_dir DIR       where traces and charts go (default .; give absolute paths when running\n";
  s += "                      through gpu_bundle/run.sh, which runs in the runfiles tree)\n";
  s += "  --help              this text\n\n";
  s += "Timing: CUDA events around each iteration, L2 flushed before each (a 256 MiB memset outside the\n";
  s += "timed region), median of --iters after --warmup. Inputs are fresh uniform(-1, 1) values;\n";
  s += "outputs and gradients are poisoned with NaN first and checked afterwards.\n";
  s += std::string(kFlopsFormula) + " (flash-attn's count; H = query heads).\n";
  s += "Peak memory: the most bytes of device memory the case held at once, counted through the\n";
  s += "backend: inputs, outputs, gradients and the API's workspace; MB = 2^20 bytes.\n";
  s += "Exit status: 0 ok, 1 no GPU or a run failed (e.g. a kernel specialisation not compiled),\n";
  s += "2 bad flags.\n";
  return s;
}

}  // namespace tile::bench
