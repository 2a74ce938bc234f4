// Every --mode of the check on the CPU interpreter (the DSL attention kernels the GPU runs),
// forward and backward, for worlds 2..8 with virtual ranks, and the precision print for worlds 2,
// 4 and 8.
//
// Why fp16 for the sweep: the ring modes' step gradients come back from the flash-attn API in the
// input dtype, so a key's dV is a sum of W rounded block gradients (summed in fp32, rounded once
// more), where the single-device kernel rounds one fp32 sum once. In bf16 that can differ by one
// ulp, 0.0156 at |dV| in [2, 4), which at these small shapes sits right at the rule's bound
// (2.5 x single-device error + 2e-3); RESULTS.md lists the bf16 runs. In fp16 one ulp is below the
// 2e-3 slack, so the rule measures the algorithm. Ulysses has no partials and runs in bf16 too.
#include <catch2/catch.hpp>

#include <iostream>
#include <sstream>
#include <string>

#include "distributed/check/dist_check.h"
#include "distributed/interp_step_backend.h"

using namespace tile;
using namespace tile::dist;

namespace {

DistCheckConfig parse(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> args;
  for (std::string a; in >> a;) args.push_back(a);
  return parse_dist_check_flags(args);
}

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

std::string run(const std::string& flags, int* code) {
  std::ostringstream out;
  *code = run_virtual_rank_check(parse(flags), [](int) { return make_interp_step_backend(1); }, out);
  return out.str();
}

void check_passes(const std::string& flags) {
  int code = 0;
  const std::string out = run(flags, &code);
  INFO(flags << "\n" << out);
  CHECK(code == 0);
  CHECK(last_line(out) == "PASS");
}

// S = 32 per rank, nheads = world (Ulysses gives each rank one query head), GQA with half as
// many k/v heads on even worlds (replicated under Ulysses).
std::string flags(int world, const std::string& mode) {
  std::ostringstream f;
  f << "--virtual_ranks " << world << " --backend interp --mode " << mode << " --seq_len " << 32 * world
    << " --nheads " << world << " --nheads_k " << (world % 2 == 0 ? world / 2 : world) << " --head_size 64 --causal";
  return f.str();
}

}  // namespace

TEST_CASE("interp: ring, zigzag, stripe and ulysses for worlds 2..8, causal, GQA") {
  for (int world = 2; world <= 8; ++world)
    for (const char* mode : {"ring", "zigzag", "stripe", "ulysses"}) check_passes(flags(world, mode) + " --dtype fp16");
}

TEST_CASE("interp: usp grids for worlds 4, 6, 8 with every ring split") {
  check_passes(flags(4, "usp") + " --ulysses_degree 2 --dtype fp16");
  check_passes(flags(4, "usp") + " --ulysses_degree 2 --ring_split stripe --dtype fp16");
  check_passes(flags(6, "usp") + " --ulysses_degree 3 --ring_split ring --dtype fp16");
  check_passes(flags(8, "usp") + " --ulysses_degree 2 --dtype fp16");
  check_passes(flags(8, "usp") + " --ulysses_degree 4 --ring_split stripe --dtype fp16");
}

TEST_CASE("interp: bf16 and non-causal for the all-to-all modes") {
  for (int world : {2, 4, 8}) check_passes(flags(world, "ulysses"));
  check_passes("--virtual_ranks 4 --backend interp --mode ulysses --seq_len 128 --nheads 4 --head_size 64");
  check_passes("--virtual_ranks 4 --backend interp --mode usp --ulysses_degree 2 --seq_len 128 --nheads 2 --head_size 64");
}

TEST_CASE("interp: precision print, per-rank max diff of out and dv for worlds 2, 4, 8 (bf16)") {
  // Same problem for every world (S = 256, 8 heads, d = 64, causal): the per-rank error of the
  // merged output must not grow with the world (partials merge in fp32). Asserted for out; the
  // gradients are printed (RESULTS.md).
  for (const char* mode : {"ring", "zigzag", "stripe", "ulysses", "usp"})
    for (int world : {2, 4, 8}) {
      const std::string f = std::string("--virtual_ranks ") + std::to_string(world) +
                            " --backend interp --seq_len 256 --nheads 8 --head_size 64 --causal --mode " + mode +
                            (std::string(mode) == "usp" ? " --ulysses_degree 2" : "");
      int code = 0;
      const std::string out = run(f, &code);
      std::ostringstream outs, dvs;
      bool out_over = false;
      std::istringstream in(out);
      bool in_dv = false;
      for (std::string l; std::getline(in, l);) {
        if (l.rfind("rank ", 0) == 0 && l.find("out (distributed)") != std::string::npos)
          outs << " " << l.substr(l.rfind(' ') + 1);
        if (l.find(" out max diff ") != std::string::npos && l.find("exceeds") != std::string::npos) out_over = true;
        if (in_dv && l.rfind("Rank[", 0) == 0) dvs << " " << l.substr(l.find("max ") + 4, l.find(',') - l.find("max ") - 4);
        in_dv = l == "dv diff:";
      }
      std::cout << "precision " << mode << " world " << world << ": out" << outs.str() << " | dv" << dvs.str() << " | "
                << last_line(out) << "\n";
      INFO(f << "\n" << out);
      CHECK_FALSE(out_over);
    }
}
