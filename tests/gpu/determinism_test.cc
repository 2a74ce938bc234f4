// deterministic=True must give bit-identical results: 50 forward + backward runs on the same
// inputs, every output compared byte for byte with the first run. Outputs are re-poisoned (NaN)
// before every run so a run that skips an element cannot inherit the previous run's value.
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "attention/gpu/gpu_backend.h"
#include "attention/host/api.h"
#include "tests/gpu/device_tensor.h"
#include "attention/reference/random_inputs.h"
#include "catch2/catch.hpp"

namespace tile::gpu_tests {
namespace {

using attention::GpuBackend;

HostTensor nan_tensor(DType t, const std::vector<int64_t>& shape) {
  HostTensor h(t, shape);
  h.fill(std::nan(""));
  return h;
}

size_t count_nan(const HostTensor& h) {
  size_t n = 0;
  for (int64_t i = 0; i < h.numel(); ++i) n += std::isnan(h.at(i));
  return n;
}

void check_bit_exact(const reference::AttnShape& shape, bool causal, const char* label) {
  constexpr int kRuns = 50;
  GpuBackend be(0);
  const uint64_t seed = 20;
  reference::OwnedInputs in = reference::make_random_inputs(shape, seed);
  DeviceTensor q(be, in.q), k(be, in.k), v(be, in.v), dout(be, in.dout);
  const std::vector<int64_t> lse_shape = {shape.batch, shape.nheads_q, shape.seqlen_q};
  HostTensor out_h = nan_tensor(shape.dtype, in.q.shape()), lse_h = nan_tensor(DType::f32, lse_shape);
  HostTensor dq_h = nan_tensor(shape.dtype, in.q.shape()), dk_h = nan_tensor(shape.dtype, in.k.shape()),
             dv_h = nan_tensor(shape.dtype, in.v.shape());
  const HostTensor poison[5] = {out_h, lse_h, dq_h, dk_h, dv_h};
  DeviceTensor out(be, out_h), lse(be, lse_h), dq(be, dq_h), dk(be, dk_h), dv(be, dv_h);
  DeviceTensor* results[5] = {&out, &lse, &dq, &dk, &dv};
  const char* names[5] = {"out", "lse", "dQ", "dK", "dV"};

  attention::FlashAttnOptions o;
  o.causal = causal;
  o.deterministic = true;
  std::vector<std::vector<char>> first(5);
  int identical_runs = 0;
  for (int run = 0; run < kRuns; ++run) {
    for (int t = 0; t < 5; ++t) be.write(results[t]->buffer.get(), poison[t].data(), results[t]->bytes);
    attention::flash_attn_func(be, q.view, k.view, v.view, out.view, lse.view, o);
    attention::flash_attn_backward(be, dout.view, q.view, k.view, v.view, out.view, lse.view,
                                   {dq.view, dk.view, dv.view}, o);
    bool same = true;
    for (int t = 0; t < 5; ++t) {
      std::vector<char> bytes(results[t]->bytes);
      be.read(bytes.data(), results[t]->buffer.get(), bytes.size());
      if (run == 0) {
        HostTensor h = poison[t];
        std::memcpy(h.data(), bytes.data(), bytes.size());
        INFO(label << ": " << names[t]);
        REQUIRE(count_nan(h) == 0);  // every element written, no NaN
        first[t] = std::move(bytes);
      } else if (bytes != first[t]) {
        same = false;
        UNSCOPED_INFO(label << ": run " << run << " differs from run 0 in " << names[t]);
      }
    }
    identical_runs += same;
  }
  std::cout << "determinism " << label << ": " << identical_runs << "/" << kRuns
            << " runs bit-identical to run 0 (out, lse, dQ, dK, dV)\n";
  CHECK(identical_runs == kRuns);
}

TEST_CASE("deterministic=True is bit-exact over 50 runs", "[gpu]") {
  reference::AttnShape gqa;
  gqa.batch = 2, gqa.seqlen_q = gqa.seqlen_k = 1023, gqa.nheads_q = 8, gqa.nheads_k = 2, gqa.headdim = 128;
  gqa.dtype = DType::bf16;
  check_bit_exact(gqa, /*causal=*/true, "B=2 S=1023 H=8 Hk=2 D=128 bf16 causal");

  reference::AttnShape mqa;
  mqa.batch = 1, mqa.seqlen_q = 2048, mqa.seqlen_k = 3816, mqa.nheads_q = 4, mqa.nheads_k = 1, mqa.headdim = 64;
  mqa.dtype = DType::f16;
  check_bit_exact(mqa, /*causal=*/false, "B=1 Sq=2048 Sk=3816 H=4 Hk=1 D=64 fp16");
}

}  // namespace
}  // namespace tile::gpu_tests
