// The fp64 CPU step backend: forward equals the reference; backward from the global out/LSE over
// the whole sequence equals the reference's gradients, and over split key blocks the block
// gradients add up to them (what the ring relies on).
#include <catch2/catch.hpp>

#include <cmath>

#include "attention/reference/reference.h"
#include "distributed/reference_step_backend.h"
#include "ring_test_util.h"

using namespace tile;
using namespace tile::dist;

TEST_CASE("block backward with the global LSE sums to the full gradients (GQA, causal and not)") {
  for (bool causal : {false, true}) {
    const int64_t B = 1, S = 16, Hq = 4, Hk = 2, D = 8;
    auto in = testing::random_inputs(B, S, Hq, Hk, D, DType::f64, causal ? 5 : 6);
    reference::AttnOptions opt;
    opt.causal = causal;
    const auto ref = reference::attention_forward_backward(in.inputs(), opt, in.dout.view());
    ReferenceStepBackend backend(2);
    TensorOps& ops = backend.ops();
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));

    // Forward over the whole sequence equals the reference.
    StepForwardArgs f;
    f.q = in.q.view();
    f.k = in.k.view();
    f.v = in.v.view();
    f.causal = causal;
    f.softmax_scale = scale;
    DeviceTensor out = ops.empty(DType::f64, {B, S, Hq, D}), lse = ops.empty(DType::f32, {B, Hq, S});
    f.out = out.view;
    f.lse = lse.view;
    backend.forward(f);
    CHECK(testing::max_abs_diff(out.view, ref.fwd.out.view()) < 1e-12);

    // Backward in two key blocks [0, 8) and [8, 16) with the global out/LSE; the causal mask
    // applies on the diagonal: for the first block the queries [8, 16) see it fully.
    DeviceTensor dq = ops.zeros(DType::f64, {B, S, Hq, D}), dk = ops.zeros(DType::f64, {B, S, Hk, D}),
                 dv = ops.zeros(DType::f64, {B, S, Hk, D});
    DeviceTensor bq = ops.empty(DType::f64, {B, S, Hq, D}), bk = ops.empty(DType::f64, {B, S, Hk, D}),
                 bv = ops.empty(DType::f64, {B, S, Hk, D});
    for (int blk = 0; blk < 2; ++blk) {
      // Query rows that see this key block: all rows for non-causal; for causal, block 0 is seen
      // causally by rows [0, 8) and fully by [8, 16), block 1 causally by rows [8, 16).
      struct Piece { int64_t q0, nq; bool causal; };
      std::vector<Piece> pieces;
      if (!causal) pieces = {{0, S, false}};
      else if (blk == 0) pieces = {{0, 8, true}, {8, 8, false}};
      else pieces = {{8, 8, true}};
      for (const Piece& pc : pieces) {
        StepBackwardArgs a;
        a.dout = slice(in.dout.view(), 1, pc.q0, pc.nq);
        a.q = slice(in.q.view(), 1, pc.q0, pc.nq);
        a.k = slice(in.k.view(), 1, blk * 8, 8);
        a.v = slice(in.v.view(), 1, blk * 8, 8);
        a.out = slice(out.view, 1, pc.q0, pc.nq);
        a.lse = slice(lse.view, 2, pc.q0, pc.nq);
        a.causal = pc.causal;
        a.softmax_scale = scale;
        a.dq = slice(bq.view, 1, pc.q0, pc.nq);
        a.dk = slice(bk.view, 1, blk * 8, 8);
        a.dv = slice(bv.view, 1, blk * 8, 8);
        backend.backward(a);
        // accumulate needs f32 accumulators; add in f64 here by hand.
        auto add = [](const TensorView& acc, const TensorView& x) {
          for (int64_t e = 0; e < acc.numel(); ++e)
            store_from_double(acc.dtype, acc.data, acc.offset_of_linear(e),
                              load_as_double(acc.dtype, acc.data, acc.offset_of_linear(e)) +
                                  load_as_double(x.dtype, x.data, x.offset_of_linear(e)));
        };
        add(slice(dq.view, 1, pc.q0, pc.nq), a.dq);
        add(slice(dk.view, 1, blk * 8, 8), a.dk);
        add(slice(dv.view, 1, blk * 8, 8), a.dv);
      }
    }
    // The LSE was stored in f32: the gradients carry its rounding (relative ~1e-7).
    CHECK(testing::max_abs_diff(dq.view, ref.grads.dq.view()) < 1e-5);
    CHECK(testing::max_abs_diff(dk.view, ref.grads.dk.view()) < 1e-5);
    CHECK(testing::max_abs_diff(dv.view, ref.grads.dv.view()) < 1e-5);
  }
}

TEST_CASE("backward rejects inconsistent shapes naming the argument") {
  ReferenceStepBackend backend(1);
  auto in = testing::random_inputs(1, 4, 2, 2, 4, DType::f32, 1);
  DeviceTensor lse = backend.ops().zeros(DType::f32, {1, 2, 4});
  DeviceTensor small = backend.ops().zeros(DType::f32, {1, 3, 2, 4});
  StepBackwardArgs a;
  a.dout = a.q = a.out = in.q.view();
  a.k = a.v = in.k.view();
  a.lse = lse.view;
  a.dq = small.view;
  a.dk = a.dv = in.k.view();
  CHECK_THROWS_WITH(backend.backward(a), Catch::Contains("dq"));
}
