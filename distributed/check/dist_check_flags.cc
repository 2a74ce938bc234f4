#include "distributed/check/dist_check_flags.h"

#include <stdexcept>

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

}  // namespace

const char* dist_check_usage() {
  return "usage: qkvpacked_dist_check (--nproc_per_node N | --virtual_ranks N --backend gpu|interp|reference)\n"
         "         [--mode ring|zigzag] [--batch_size B] [--seq_len S] [--nheads H] [--nheads_k HK]\n"
         "         [--head_size D] [--causal] [--dtype bf16|fp16] [--seed N]\n"
         "Runs ring attention forward and backward with the sequence split over N ranks and compares each\n"
         "rank's out, dq, dk, dv against the non-distributed result. Defaults: --mode ring --batch_size 1\n"
         "--seq_len 3816 --nheads 5 --nheads_k = nheads --head_size 128 --dtype bf16 --seed 0; with\n"
         "--nproc_per_node the backend is gpu. The last line is PASS (exit 0) or FAIL (exit 1).\n";
}

DistCheckConfig parse_dist_check_flags(const std::vector<std::string>& args) {
  DistCheckConfig c;
  bool backend_given = false;
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
      if (v != "ring" && v != "zigzag") throw UsageError("--mode: expected ring or zigzag, got '" + v + "'");
      c.mode = parse_ring_mode(v);
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
    } else {
      throw UsageError(flag + ": unknown flag");
    }
  }

  if ((c.nproc_per_node > 0) == (c.virtual_ranks > 0))
    throw UsageError("--nproc_per_node / --virtual_ranks: give exactly one of them");
  if (c.nproc_per_node > 0) {
    if (backend_given && c.backend != "gpu")
      throw UsageError("--backend: --nproc_per_node runs one GPU per rank, so only gpu, got '" + c.backend + "'");
    c.backend = "gpu";
  } else if (!backend_given) {
    throw UsageError("--backend: required with --virtual_ranks (gpu, interp or reference)");
  }
  if (c.nheads % c.kv_heads() != 0)
    throw UsageError("--nheads_k: nheads (" + std::to_string(c.nheads) + ") must be a multiple of nheads_k (" +
                     std::to_string(c.kv_heads()) + ")");
  try {
    check_sequence_split(c.mode, c.seq_len, c.world_size());
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--") + e.what());
  }
  return c;
}

}  // namespace dist
}  // namespace tile
