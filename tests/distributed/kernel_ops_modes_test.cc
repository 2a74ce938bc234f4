// The GPU TensorOps' element-wise DSL kernels (distributed/kernels, launched exactly as on the
// GPU through elementwise_calls.h) under every new mode, run by the CPU interpreter: Ulysses'
// all-to-all packing (head slices of (b, s, h, d) and of (b, h, s) LSEs, blocks of a 5-D buffer),
// replicated k/v heads summed with the accumulate kernel, stripe's shifted parts and USP's ring
// merges. The attention steps are the flash-attn API on the interpreter; only allocation, host
// transfers and the transport's byte copies stay on the host. The check's per-rank rule decides.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "attention/interp_backend/interp_backend.h"
#include "tests/distributed/dist_check_testing.h"
#include "distributed/api_step_backend.h"
#include "distributed/check/dist_check.h"
#include "distributed/cpu_tensor_ops.h"
#include "distributed/elementwise_calls.h"

using namespace tile;
using namespace tile::dist;

using dist::testing::last_line;

namespace {

// TensorOps whose element-wise work runs the GPU kernels' calls on an interpreter.
class InterpKernelOps : public CpuTensorOps {
 public:
  explicit InterpKernelOps(std::shared_ptr<attention::InterpBackend> interp) : interp_(std::move(interp)) {}
  void fill(const TensorView& dst, double value) override {
    interp_->launch(fill_call(dst, static_cast<float>(value)));
    ++launches;
  }
  void copy(const TensorView& dst, const TensorView& src) override {
    if (!is_float(dst.dtype) || dst.dtype == DType::f64 || src.dtype == DType::f64) {
      CpuTensorOps::copy(dst, src);  // host-side conversions (f64 results of the check): no kernel for them
      return;
    }
    interp_->launch(copy_call(dst, src));
    ++launches;
  }
  void accumulate(const TensorView& acc, const TensorView& src) override {
    interp_->launch(accumulate_call(acc, src));
    ++launches;
  }
  void merge_partial(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                     const TensorView& block_lse) override {
    interp_->launch(merge_call(out, lse, block_out, block_lse));
    ++launches;
  }
  void upload(const TensorView& dst, const TensorView& host_src) override { CpuTensorOps::copy(dst, host_src); }
  void download(const TensorView& host_dst, const TensorView& src) override { CpuTensorOps::copy(host_dst, src); }

  int launches = 0;

 private:
  std::shared_ptr<attention::InterpBackend> interp_;
};

std::unique_ptr<AttentionStepBackend> make_kernel_ops_backend() {
  attention::InterpBackend::Options o;
  o.threads = 1;
  auto interp = std::make_shared<attention::InterpBackend>(o);
  return std::make_unique<ApiStepBackend>("interp", interp, std::make_unique<InterpKernelOps>(interp));
}

void check_passes(const std::string& flags) {
  std::istringstream in(flags);
  std::vector<std::string> args;
  for (std::string a; in >> a;) args.push_back(a);
  std::ostringstream out;
  const int code = run_virtual_rank_check(parse_dist_check_flags(args), [](int) { return make_kernel_ops_backend(); }, out);
  INFO(flags << "\n" << out.str());
  CHECK(code == 0);
  CHECK(last_line(out.str()) == "PASS");
}

}  // namespace

TEST_CASE("the GPU element-wise kernels carry ulysses, usp and stripe (interpreter)") {
  const std::string base = " --backend interp --seq_len 128 --head_size 64 --causal --dtype fp16";
  check_passes("--virtual_ranks 4 --mode ulysses --nheads 4 --nheads_k 2" + base);  // replicated k/v heads
  check_passes("--virtual_ranks 4 --mode usp --ulysses_degree 2 --nheads 2" + base);
  check_passes("--virtual_ranks 4 --mode usp --ulysses_degree 2 --ring_split stripe --nheads 4 --nheads_k 1" + base);
  check_passes("--virtual_ranks 4 --mode stripe --nheads 2" + base);
}

TEST_CASE("the kernel ops are really used") {
  auto backend = make_kernel_ops_backend();
  auto& ops = dynamic_cast<InterpKernelOps&>(backend->ops());
  DeviceTensor t = ops.zeros(DType::f32, {1, 4, 2, 8});
  CHECK(ops.launches == 1);
}
