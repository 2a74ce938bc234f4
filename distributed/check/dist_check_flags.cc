#include "distributed/check/dist_check_flags.h"

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>

#include "distributed/backend_factory.h"
#include "distributed/sequence_split.h"

namespace tile {
namespace dist {
namespace {

int64_t parse_int(const std::string& flag, const std::string& text, int64_t min) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0)
    throw UsageError("--" + flag + ": expected an integer, got '" + text + "'");
  if (v < min) throw UsageError("--" + flag + ": expected >= " + std::to_string(min) + ", got " + text);
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
  const std::map<std::string, std::function<void(const std::string&)>> valued = {
      {"nproc_per_node", [&](const std::string& v) { c.nproc_per_node = static_cast<int>(parse_int("nproc_per_node", v, 1)); }},
      {"virtual_ranks", [&](const std::string& v) { c.virtual_ranks = static_cast<int>(parse_int("virtual_ranks", v, 1)); }},
      {"backend",
       [&](const std::string& v) {
         if (!is_step_backend_name(v)) throw UsageError("--backend: expected gpu, interp or reference, got '" + v + "'");
         c.backend = v;
         backend_given = true;
       }},
      {"mode",
       [&](const std::string& v) {
         if (v != "ring" && v != "zigzag") throw UsageError("--mode: expected ring or zigzag, got '" + v + "'");
         c.mode = parse_ring_mode(v);
       }},
      {"batch_size", [&](const std::string& v) { c.batch_size = parse_int("batch_size", v, 1); }},
      {"seq_len", [&](const std::string& v) { c.seq_len = parse_int("seq_len", v, 1); }},
      {"nheads", [&](const std::string& v) { c.nheads = parse_int("nheads", v, 1); }},
      {"nheads_k", [&](const std::string& v) { c.nheads_k = parse_int("nheads_k", v, 1); }},
      {"head_size", [&](const std::string& v) { c.head_size = parse_int("head_size", v, 1); }},
      {"dtype",
       [&](const std::string& v) {
         if (v == "bf16" || v == "bfloat16") c.dtype = DType::bf16;
         else if (v == "fp16" || v == "float16" || v == "f16") c.dtype = DType::f16;
         else throw UsageError("--dtype: expected bf16 or fp16, got '" + v + "'");
       }},
      {"seed", [&](const std::string& v) { c.seed = static_cast<uint64_t>(parse_int("seed", v, 0)); }},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + a + "' (flags start with --)");
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "causal") {  // the only boolean: present means on
      if (inline_value) throw UsageError("--causal: a boolean flag takes no value, got '" + a + "'");
      c.causal = true;
      continue;
    }
    auto it = valued.find(name);
    if (it == valued.end()) throw UsageError("--" + name + ": unknown flag");
    if (!inline_value) {
      if (i + 1 >= args.size()) throw UsageError("--" + name + ": missing value");
      value = args[++i];
    }
    it->second(value);
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
