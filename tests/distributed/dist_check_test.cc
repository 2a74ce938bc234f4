// The check CLI: flag errors (exit 2, naming the flag, before anything runs), unavailable
// backends, the seed's output format, PASS on the real ring and FAIL on a mutant merge.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "tests/distributed/dist_check_testing.h"
#include "distributed/backend_factory.h"
#include "distributed/check/dist_check.h"
#include "distributed/cpu_tensor_ops.h"
#include "distributed/lse_merge.h"
#include "distributed/reference_step_backend.h"

using namespace tile;
using namespace tile::dist;

using dist::testing::last_line;
using dist::testing::parse;

namespace {

struct Run {
  int code;
  std::string output;  // stdout and stderr
};

Run run_cli(const std::string& flags) {
  const std::string cmd = "distributed/qkvpacked_dist_check " + flags + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("flag errors name the flag") {
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend reference --bogus 1"), Catch::Contains("--bogus"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend reference --seq_len"), Catch::Contains("--seq_len") && Catch::Contains("missing"));
  CHECK_THROWS_WITH(parse("--virtual_ranks two --backend reference"), Catch::Contains("--virtual_ranks"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 0 --backend reference"), Catch::Contains("--virtual_ranks"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend cuda"), Catch::Contains("--backend"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2"), Catch::Contains("--backend"));
  CHECK_THROWS_WITH(parse("--seq_len 64"), Catch::Contains("--nproc_per_node / --virtual_ranks"));
  CHECK_THROWS_WITH(parse("--nproc_per_node 2 --virtual_ranks 2 --backend gpu"), Catch::Contains("exactly one"));
  CHECK_THROWS_WITH(parse("--nproc_per_node 2 --backend reference"), Catch::Contains("--backend"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend reference --mode stripes"), Catch::Contains("--mode"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend reference --dtype fp32"), Catch::Contains("--dtype"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend reference --causal=1"), Catch::Contains("--causal"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend reference --nheads 5 --nheads_k 2"), Catch::Contains("--nheads_k"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 3 --backend reference --seq_len 100"), Catch::Contains("--seq_len"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend reference --mode zigzag --seq_len 6"), Catch::Contains("--seq_len"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend reference extra"), Catch::Contains("extra"));
}

TEST_CASE("flags parse with defaults off") {
  const DistCheckConfig c = parse("--virtual_ranks 4 --backend reference --mode=zigzag --seq_len 64 --nheads 4 --nheads_k 2");
  CHECK(c.virtual_ranks == 4);
  CHECK(c.mode == RingMode::zigzag);
  CHECK(c.kv_heads() == 2);
  CHECK_FALSE(c.causal);
  CHECK(c.dtype == DType::bf16);
  CHECK(parse("--nproc_per_node 1").backend == "gpu");
  CHECK(parse("--virtual_ranks 1 --backend reference --causal").causal);
}

TEST_CASE("the CLI: usage errors and unavailable backends exit 2 before running") {
  Run r = run_cli("--virtual_ranks 2 --backend reference --bogus");
  CHECK(r.code == 2);
  CHECK(r.output.find("--bogus") != std::string::npos);
  CHECK(r.output.find("usage:") != std::string::npos);
  r = run_cli("--virtual_ranks 2 --backend gpu --seq_len 64");
  CHECK(r.code == 2);
  // This binary links the interpreter (MLIR); the GPU one is qkvpacked_dist_check_gpu.
  CHECK(r.output.rfind("error: --backend: backend 'gpu' is not built into this binary", 0) == 0);
  r = run_cli("--nproc_per_node 2 --seq_len 64");
  CHECK(r.code == 2);
  CHECK(r.output.rfind("error: --backend: backend 'gpu' is not built into this binary", 0) == 0);
  r = run_cli("--virtual_ranks 2 --backend interp --mode ulysses --seq_len 64 --nheads 2 --variant no_such_variant");
  CHECK(r.code == 2);
  CHECK(r.output.rfind("error: --variant: expected a registered variant", 0) == 0);
}

TEST_CASE("the CLI prints the seed's per-rank lines and PASS last") {
  const Run r = run_cli("--virtual_ranks 4 --backend reference --mode zigzag --causal --seq_len 128 --nheads 2 --head_size 16 --seed 3");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK(last_line(r.output) == "PASS");
  for (int rank = 0; rank < 4; ++rank) {
    const std::string R = std::to_string(rank);
    CHECK(r.output.find("rank " + R + " out (distributed) - out_ref (non-distributed) diff: ") != std::string::npos);
    CHECK(r.output.find("Rank[" + R + "] max ") != std::string::npos);
  }
  CHECK(r.output.find("dq diff:\n") != std::string::npos);
  CHECK(r.output.find("dk diff:\n") != std::string::npos);
  CHECK(r.output.find("dv diff:\n") != std::string::npos);
  CHECK(r.output.find("seed 3") != std::string::npos);
}

namespace {

// A broken merge: the sign of the correction flipped.
class WrongSignMergeOps : public CpuTensorOps {
 public:
  void merge_partial(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                     const TensorView& block_lse) override {
    float* o = static_cast<float*>(out.data);
    float* l = static_cast<float*>(lse.data);
    for (int64_t b = 0; b < out.size(0); ++b)
      for (int64_t s = 0; s < out.size(1); ++s)
        for (int64_t h = 0; h < out.size(2); ++h) {
          float& row_lse = l[lse.offset_of({b, h, s})];
          const float bl = load_as_double(DType::f32, block_lse.data, block_lse.offset_of({b, h, s}));
          for (int64_t d = 0; d < out.size(3); ++d) {
            float& x = o[out.offset_of({b, s, h, d})];
            const float y = load_as_double(block_out.dtype, block_out.data, block_out.offset_of({b, s, h, d}));
            x = std::isinf(row_lse) ? y : x + sigmoid(bl - row_lse) * (x - y);  // + instead of -
          }
          row_lse = merged_lse(row_lse, bl);
        }
  }
};

class MutantBackend : public ReferenceStepBackend {
 public:
  MutantBackend() : ReferenceStepBackend(1) {}
  TensorOps& ops() override { return mutant_; }

 private:
  WrongSignMergeOps mutant_;
};

}  // namespace

TEST_CASE("a wrong-sign merge makes the check FAIL; the real one PASSes") {
  const DistCheckConfig c = parse("--virtual_ranks 2 --backend reference --seq_len 64 --nheads 2 --head_size 16 --causal");
  std::ostringstream good, bad;
  CHECK(run_virtual_rank_check(c, [](int) { return make_step_backend("reference", {1}); }, good) == 0);
  CHECK(last_line(good.str()) == "PASS");
  CHECK(run_virtual_rank_check(c, [](int) { return std::unique_ptr<AttentionStepBackend>(new MutantBackend()); }, bad) == 1);
  CHECK(last_line(bad.str()) == "FAIL");
  CHECK(bad.str().find("exceeds the allowed") != std::string::npos);
}
