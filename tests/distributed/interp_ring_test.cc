// Ring and zigzag attention with the flash-attn API on the CPU interpreter as the step backend
// (the DSL attention kernels the GPU runs, here interpreted): every rank's out, dq, dk, dv against
// the same API's non-distributed result, within the check's bound (2.5 x the single-device error
// against fp64 + 2e-3). Small shapes: S = 128 (S = 96 for world 3, which 128 does not divide),
// H = 2, D = 64. Every case runs the forward and the backward (out, dq, dk, dv per rank).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "tests/distributed/dist_check_testing.h"
#include "distributed/api_step_backend.h"
#include "distributed/check/dist_check.h"
#include "distributed/interp_step_backend.h"

using namespace tile;
using namespace tile::dist;

using dist::testing::last_line;

namespace {

DistCheckConfig config(RingMode mode, int world, bool causal, int64_t nheads_k, int64_t seq_len = 128) {
  DistCheckConfig c;
  c.virtual_ranks = world;
  c.backend = "interp";
  c.mode = mode;
  c.batch_size = 1;
  c.seq_len = seq_len;
  c.nheads = 2;
  c.nheads_k = nheads_k;
  c.head_size = 64;
  c.causal = causal;
  c.seed = 11;
  return c;
}

void check_passes(const DistCheckConfig& c) {
  std::ostringstream out;
  const int code = run_virtual_rank_check(c, [](int) { return make_interp_step_backend(2); }, out);
  INFO(out.str());
  CHECK(code == 0);
  CHECK(last_line(out.str()) == "PASS");
  for (int r = 0; r < c.virtual_ranks; ++r) {
    CHECK(out.str().find("rank " + std::to_string(r) + " out (distributed) - out_ref (non-distributed) diff: ") !=
          std::string::npos);
    // The backward's per-rank lines: the gradients were checked too, not only the output.
    CHECK(out.str().find("Rank[" + std::to_string(r) + "] max ") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("ring on the interpreter: 2 and 4 virtual ranks, causal and not") {
  for (int world : {2, 4})
    for (bool causal : {false, true}) {
      INFO("world " << world << " causal " << causal);
      check_passes(config(RingMode::ring, world, causal, 2));
    }
}

TEST_CASE("zigzag on the interpreter: 2 and 4 virtual ranks, causal and not") {
  for (int world : {2, 4})
    for (bool causal : {false, true}) {
      INFO("world " << world << " causal " << causal);
      check_passes(config(RingMode::zigzag, world, causal, 2));
    }
}

// An odd world: the ring's hop count, the zigzag chunk pairing (r, 2W-1-r) and the causal
// step plans all differ from the power-of-two worlds above. 96 divides by 3 (ring) and by
// 2*3 = 6 (zigzag), giving 32-token shards and 16-token zigzag chunks.
TEST_CASE("world 3 on the interpreter: ring and zigzag, causal and not, forward and backward") {
  for (RingMode mode : {RingMode::ring, RingMode::zigzag})
    for (bool causal : {false, true}) {
      INFO("mode " << (mode == RingMode::ring ? "ring" : "zigzag") << " causal " << causal);
      check_passes(config(mode, 3, causal, 2, 96));
    }
}

TEST_CASE("GQA (2 query heads per k/v head) on the interpreter, ring and zigzag, causal") {
  check_passes(config(RingMode::ring, 4, true, 1));
  check_passes(config(RingMode::zigzag, 2, true, 1));
}

TEST_CASE("the step backend is the flash-attn API over the interpreter") {
  auto backend = make_interp_step_backend(1);
  CHECK(backend->name() == "interp");
  CHECK(backend->ops().device() == Device::cpu());
  CHECK(dynamic_cast<ApiStepBackend*>(backend.get()) != nullptr);
  CHECK(backend->compute_stream() == nullptr);
}

TEST_CASE("the CLI runs --backend interp") {
  FILE* p = popen(
      "distributed/qkvpacked_dist_check --virtual_ranks 2 --backend interp --mode zigzag --causal --seq_len 128 "
      "--nheads 2 --head_size 64 2>&1",
      "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  INFO(out);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(last_line(out) == "PASS");
  CHECK(out.find("backend interp") != std::string::npos);
}
