// The deterministic dQ path is bit-identical across shuffled multithreaded runs, and a broken
// kernel (scores off by a constant factor, "wrong softmax scale") makes the CLI print FAIL.
#include <catch2/catch.hpp>

#include <cstring>

#include "attention/host/api.h"
#include "attention/kernels/attention_kernel.h"
#include "attention/reference/random_inputs.h"
#include "tests/attention/cli_runner.h"

using namespace tile;

namespace {

// A mutant forward: a score modification that rescales every score.
class WrongScale : public attention::ScoreMod {
 public:
  Tile apply(const Tile& s, const attention::ScoreContext&) override { return s * 1.5; }
};
void mutant_forward(KernelBuilder& k, const Params& p) {
  WrongScale mod;
  attention::attention_forward(k, p, &mod);
}
TILE_REGISTER_KERNEL(mutant_forward, "attn_fwd_mutant_wrong_scale",
                     {{"HEAD_DIM", 64}, {"BLOCK_M", 128}, {"BLOCK_N", 128}, {"DTYPE", DType::bf16},
                      {"SOFTCAP", false}, {"NUM_WARPS", 8}});

// Runs the mutant wherever the real forward kernel is asked for.
class MutantBackend : public attention::InterpBackend {
 public:
  using InterpBackend::InterpBackend;
  void launch(const attention::KernelCall& call) override {
    attention::KernelCall c = call;
    if (c.kernel == "attn_fwd") c.kernel = "attn_fwd_mutant_wrong_scale";
    InterpBackend::launch(c);
  }
};

}  // namespace

TEST_CASE("a kernel with a wrong scale makes the accuracy CLI print FAIL and exit 1", "[attention][mutant]") {
  const std::string flags = "--func flash_attn_qkvpacked_func --backend interp --batch_size 1 --seq_len 113 "
                            "--nheads 2 --head_size 64 --causal --dtype bf16 --seed 1";
  auto good = testing::run_cli(flags);
  REQUIRE(good.exit_code == 0);
  auto bad = testing::run_cli(flags, [](attention::InterpBackend::Options o) {
    return std::unique_ptr<attention::Backend>(new MutantBackend(o));
  });
  INFO(bad.out << bad.err);
  CHECK(bad.exit_code == 1);
  CHECK(bad.last_line() == "FAIL");
}

TEST_CASE("deterministic dQ is bit-identical across shuffled multithreaded runs", "[attention][determinism]") {
  reference::AttnShape shape;
  shape.batch = 2;
  shape.seqlen_q = 113;
  shape.seqlen_k = 97;
  shape.nheads_q = 4;
  shape.nheads_k = 2;
  shape.headdim = 64;
  shape.dtype = DType::bf16;
  auto in = reference::make_random_inputs(shape, 7);
  HostTensor out(DType::bf16, in.q.view().sizes()), lse(DType::f32, {2, 4, 113});
  attention::FlashAttnOptions o;
  o.causal = true;
  o.deterministic = true;
  {
    attention::InterpBackend be({1, 2});
    attention::flash_attn_func(be, in.q.view(), in.k.view(), in.v.view(), out.view(), lse.view(), o);
  }
  std::vector<HostTensor> dqs;
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    attention::InterpBackend be({seed * 7919, 2});
    HostTensor dq(DType::bf16, in.q.view().sizes()), dk(DType::bf16, in.k.view().sizes()), dv(DType::bf16, in.v.view().sizes());
    attention::flash_attn_backward(be, in.dout.view(), in.q.view(), in.k.view(), in.v.view(), out.view(), lse.view(),
                                   {dq.view(), dk.view(), dv.view()}, o);
    dqs.push_back(dq);
  }
  size_t bytes = size_t(dqs[0].view().numel()) * 2;
  for (size_t i = 1; i < dqs.size(); ++i) CHECK(std::memcmp(dqs[0].view().data, dqs[i].view().data, bytes) == 0);
}
