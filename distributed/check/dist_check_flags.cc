#include "distributed/check/dist_check_flags.h"

#include <stdexcept>

#include "attention/variants/variant_spec.h"
#include "common/cli/flag_reader.h"
#include "distributed/backend_factory.h"
#include "distributed/sequence_split.h"

namespace tile {
namespace dist {
namespace {

// The range error has its own wording here ("expected >= 1, got 0"), so only the integer syntax
// is left to the library.
int64_t parse_at_least(cli::FlagReader& r, int64_t min) {
  const std::string text = r.value();
  const int64_t v = cli::parse_integer(r.name(), text);
  if (v < min) throw UsageError(r.name() + ": expected >= " + std::to_string(min) + ", got " + text);
  return v;
}

// --mode's degrees: ulysses uses every rank, usp needs --ulysses_degree dividing the world; the
// heads must split over the Ulysses degree (k/v heads may be fewer, then replicated).
void check_parallel_flags(DistCheckConfig& c, int ulysses_degree, const std::string& ring_split) {
  const int world = c.world_size();
  if (!ring_split.empty() && c.parallel != ParallelMode::usp)
    throw UsageError("--ring_split: only with --mode usp (the other modes name their split in --mode)");
  switch (c.parallel) {
    case ParallelMode::ring:
      if (ulysses_degree > 1) throw UsageError("--ulysses_degree: only with --mode ulysses or usp");
      c.ulysses_degree = 1;
      return;
    case ParallelMode::ulysses:
      if (ulysses_degree > 0 && ulysses_degree != world)
        throw UsageError("--ulysses_degree: --mode ulysses uses all " + std::to_string(world) + " ranks, got " +
                         std::to_string(ulysses_degree) + " (a smaller degree is --mode usp)");
      c.ulysses_degree = world;
      break;
    case ParallelMode::usp:
      if (ulysses_degree == 0) throw UsageError("--ulysses_degree: required with --mode usp");
      if (world % ulysses_degree != 0)
        throw UsageError("--ulysses_degree: expected a divisor of the world size " + std::to_string(world) + ", got " +
                         std::to_string(ulysses_degree));
      c.ulysses_degree = ulysses_degree;
      c.mode = ring_split.empty() ? RingMode::zigzag : parse_ring_mode(ring_split);
      break;
  }
  const int u = c.ulysses_degree;
  const std::string degree = c.parallel == ParallelMode::ulysses ? "the Ulysses degree (the world, " + std::to_string(u) + ")"
                                                                 : "--ulysses_degree " + std::to_string(u);
  if (c.nheads % u != 0)
    throw UsageError("--nheads: " + std::to_string(c.nheads) + " heads do not split over " + degree +
                     " (each rank gets nheads / U heads)");
  const int64_t hk = c.kv_heads();
  if (hk % u != 0 && u % hk != 0)
    throw UsageError("--nheads_k: " + std::to_string(hk) + " k/v heads do not split over " + degree +
                     " (nheads_k % U or U % nheads_k must be 0)");
}

// --variant: a registered name (its arguments come from its generator), on a backend and in a
// mode that can run it: the fp64 reference backend has no variant hooks, and a ring step sees
// keys at offsets its call does not know, so the ring (and USP's ring across groups) runs only
// variants that read no positions.
void check_variant_flags(const DistCheckConfig& c) {
  if (c.variant.empty()) return;
  attention::VariantChain chain;
  try {
    chain = attention::parse_variant(c.variant, "--variant");
  } catch (const std::invalid_argument& e) {  // names the registered ones
    throw UsageError(e.what());
  }
  if (c.backend == "reference")
    throw UsageError("--variant: the reference backend runs plain attention only; use --backend interp or gpu");
  if (c.ring_degree() == 1) return;
  for (const attention::VariantSpec* part : chain.parts)
    if (part->reads_positions)
      throw UsageError("--variant: '" + part->name + "' reads token positions, which a ring step does not know: " +
                       "--mode ulysses (or usp with --ulysses_degree equal to the world) only");
}

}  // namespace

std::string DistCheckConfig::mode_name() const {
  switch (parallel) {
    case ParallelMode::ring:
      return ring_mode_name(mode);
    case ParallelMode::ulysses:
      return "ulysses";
    case ParallelMode::usp:
      return "usp";
  }
  return "?";
}

const char* dist_check_usage() {
  return "usage: qkvpacked_dist_check (--nproc_per_node N | --virtual_ranks N --backend gpu|interp|reference)\n"
         "         [--mode ring|zigzag|stripe|ulysses|usp] [--ulysses_degree U] [--ring_split ring|zigzag|stripe]\n"
         "         [--batch_size B] [--seq_len S] [--nheads H] [--nheads_k HK]\n"
         "         [--head_size D] [--causal] [--dtype bf16|fp16] [--seed N] [--variant NAME]\n"
         "Runs sequence-parallel attention forward and backward with the sequence split over N ranks and\n"
         "compares each rank's out, dq, dk, dv against the non-distributed result. --mode ring|zigzag|stripe:\n"
         "the ring with that split; ulysses: all-to-all over heads on all N ranks (nheads % N == 0);\n"
         "usp: Ulysses in groups of --ulysses_degree U consecutive ranks, the ring (--ring_split, default\n"
         "zigzag) across the N / U groups. Defaults: --mode ring --batch_size 1 --seq_len 3816 --nheads 5\n"
         "--nheads_k = nheads --head_size 128 --dtype bf16 --seed 0; with --nproc_per_node the backend is\n"
         "gpu. The last line is PASS (exit 0) or FAIL (exit 1); bad flags exit 2. Without --nproc_per_node\n"
         "and --virtual_ranks under torchrun / srun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)\n"
         "the process is one rank on GPU LOCAL_RANK: torchrun --nproc_per_node=8 qkvpacked_dist_check_gpu ...\n"
         "--variant NAME: a registered attention variant (or a chain \"a+b\"), its arguments drawn by its\n"
         "generator from --seed, its trainable arguments' gradients checked too; Ulysses runs any, the\n"
         "ring and USP's ring only those that read no token positions.\n";
}

DistCheckConfig parse_dist_check_flags(const std::vector<std::string>& args, const LaunchEnv* launch) {
  DistCheckConfig c;
  bool backend_given = false;
  int ulysses_degree = 0;  // 0: not given
  std::string ring_split;  // empty: not given
  cli::FlagReader r(args);
  while (r.next()) {
    if (!r.has_double_dash()) throw UsageError("unexpected argument '" + r.arg() + "' (flags start with --)");
    const std::string& flag = r.name();
    if (flag == "--causal") {
      c.causal = r.boolean("a boolean flag takes no value, got '" + r.arg() + "'");
    } else if (flag == "--nproc_per_node") {
      c.nproc_per_node = static_cast<int>(parse_at_least(r, 1));
    } else if (flag == "--virtual_ranks") {
      c.virtual_ranks = static_cast<int>(parse_at_least(r, 1));
    } else if (flag == "--backend") {
      const std::string v = r.value();
      if (!is_step_backend_name(v)) throw UsageError("--backend: expected gpu, interp or reference, got '" + v + "'");
      c.backend = v;
      backend_given = true;
    } else if (flag == "--mode") {
      const std::string v = r.value();
      if (v == "ring" || v == "zigzag" || v == "stripe") {
        c.parallel = ParallelMode::ring;
        c.mode = parse_ring_mode(v);
      } else if (v == "ulysses") {
        c.parallel = ParallelMode::ulysses;
        c.mode = RingMode::ring;
      } else if (v == "usp") {
        c.parallel = ParallelMode::usp;
      } else {
        throw UsageError("--mode: expected ring, zigzag, stripe, ulysses or usp, got '" + v + "'");
      }
    } else if (flag == "--ulysses_degree") {
      ulysses_degree = static_cast<int>(parse_at_least(r, 1));
    } else if (flag == "--ring_split") {
      ring_split = r.value();
      if (ring_split != "ring" && ring_split != "zigzag" && ring_split != "stripe")
        throw UsageError("--ring_split: expected ring, zigzag or stripe, got '" + ring_split + "'");
    } else if (flag == "--batch_size") {
      c.batch_size = parse_at_least(r, 1);
    } else if (flag == "--seq_len") {
      c.seq_len = parse_at_least(r, 1);
    } else if (flag == "--nheads") {
      c.nheads = parse_at_least(r, 1);
    } else if (flag == "--nheads_k") {
      c.nheads_k = parse_at_least(r, 1);
    } else if (flag == "--head_size") {
      c.head_size = parse_at_least(r, 1);
    } else if (flag == "--dtype") {
      const std::string v = r.value();
      if (v == "bf16" || v == "bfloat16") c.dtype = DType::bf16;
      else if (v == "fp16" || v == "float16" || v == "f16") c.dtype = DType::f16;
      else throw UsageError("--dtype: expected bf16 or fp16, got '" + v + "'");
    } else if (flag == "--seed") {
      c.seed = static_cast<uint64_t>(parse_at_least(r, 0));
    } else if (flag == "--variant") {
      c.variant = r.value();
    } else {
      throw UsageError(flag + ": unknown flag");
    }
  }

  if (c.nproc_per_node > 0 && c.virtual_ranks > 0)
    throw UsageError("--nproc_per_node / --virtual_ranks: give exactly one of them");
  if (c.nproc_per_node == 0 && c.virtual_ranks == 0) {
    if (launch == nullptr)
      throw UsageError("--nproc_per_node / --virtual_ranks: give exactly one of them (or start under torchrun / srun)");
    c.launched_world = launch->world_size;
  }
  if (c.nproc_per_node > 0 || c.launched_world > 0) {
    if (backend_given && c.backend != "gpu")
      throw UsageError("--backend: " + std::string(c.launched_world > 0 ? "a torchrun / srun launch" : "--nproc_per_node") +
                       " runs one GPU per rank, so only gpu, got '" + c.backend + "'");
    c.backend = "gpu";
  } else if (!backend_given) {
    throw UsageError("--backend: required with --virtual_ranks (gpu, interp or reference)");
  }
  if (c.nheads % c.kv_heads() != 0)
    throw UsageError("--nheads_k: nheads (" + std::to_string(c.nheads) + ") must be a multiple of nheads_k (" +
                     std::to_string(c.kv_heads()) + ")");
  check_parallel_flags(c, ulysses_degree, ring_split);
  check_variant_flags(c);
  try {
    check_sequence_split(c.layout(), c.seq_len);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--") + e.what());
  }
  return c;
}

}  // namespace dist
}  // namespace tile
