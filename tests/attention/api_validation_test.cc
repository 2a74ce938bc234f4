// Bad input to the flash-attn API throws std::invalid_argument naming the argument, and nothing
// is launched or written.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "attention/host/api.h"

using namespace tile;
using namespace tile::attention;

namespace {

class RecordingBackend : public Backend {
 public:
  int launches = 0;
  Device device() const override { return Device::cpu(); }
  std::string name() const override { return "recording"; }
  void* alloc_zeroed(size_t bytes) override { return std::calloc(bytes ? bytes : 1, 1); }
  void free(void* p) override { std::free(p); }
  void read(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void write(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void launch(const KernelCall&) override { ++launches; }
};

struct Case {
  HostTensor q{DType::bf16, {2, 16, 4, 64}}, k{DType::bf16, {2, 16, 2, 64}}, v{DType::bf16, {2, 16, 2, 64}};
  HostTensor out{DType::bf16, {2, 16, 4, 64}}, lse{DType::f32, {2, 4, 16}};
  Case() { out.fill(std::nan("")); }
};

void expect_error(const std::function<void(Backend&)>& call, const std::string& named) {
  RecordingBackend be;
  Case c;
  try {
    call(be);
    FAIL("no exception; expected one naming " << named);
  } catch (const std::invalid_argument& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(named) != std::string::npos);
    CHECK(std::string(e.what()).find("expected") != std::string::npos);
  }
  CHECK(be.launches == 0);
}

}  // namespace

TEST_CASE("valid input launches the forward kernel once", "[api]") {
  RecordingBackend be;
  Case c;
  flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view());
  CHECK(be.launches == 1);
}

TEST_CASE("bad shapes, dtypes, head dims and options name the argument", "[api]") {
  Case c;
  expect_error([&](Backend& be) {
    HostTensor k(DType::f16, {2, 16, 2, 64});
    flash_attn_func(be, c.q.view(), k.view(), c.v.view(), c.out.view(), c.lse.view());
  }, "k");
  expect_error([&](Backend& be) {
    HostTensor q(DType::f32, {2, 16, 4, 64});
    flash_attn_func(be, q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view());
  }, "q");
  expect_error([&](Backend& be) {
    HostTensor q(DType::bf16, {2, 16, 4, 48}), k(DType::bf16, {2, 16, 2, 48}), v(DType::bf16, {2, 16, 2, 48});
    flash_attn_func(be, q.view(), k.view(), v.view(), c.out.view(), c.lse.view());
  }, "head_dim");
  expect_error([&](Backend& be) {
    HostTensor k(DType::bf16, {2, 16, 3, 64}), v(DType::bf16, {2, 16, 3, 64});
    flash_attn_func(be, c.q.view(), k.view(), v.view(), c.out.view(), c.lse.view());
  }, "nheads_k");
  expect_error([&](Backend& be) {
    HostTensor out(DType::bf16, {2, 16, 4, 32});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), out.view(), c.lse.view());
  }, "out");
  expect_error([&](Backend& be) {
    HostTensor lse(DType::f32, {2, 16, 4});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), lse.view());
  }, "softmax_lse");
  expect_error([&](Backend& be) {
    FlashAttnOptions o;
    o.softcap = -1;
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), o);
  }, "softcap");
  expect_error([&](Backend& be) {
    FlashAttnOptions o;
    o.window_left = -3;
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), o);
  }, "window_size");
  expect_error([&](Backend& be) {
    FlashAttnOptions o;
    HostTensor slopes(DType::f32, {3});
    o.alibi_slopes = slopes.view();
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), o);
  }, "alibi_slopes");
  expect_error([&](Backend& be) {
    TensorView q = c.q.view();
    q.device = Device::cuda(0);
    flash_attn_func(be, q, c.k.view(), c.v.view(), c.out.view(), c.lse.view());
  }, "q");
  expect_error([&](Backend& be) {
    TensorView q = c.q.view();
    q.strides[3] = 2;  // head_dim not contiguous
    flash_attn_func(be, q, c.k.view(), c.v.view(), c.out.view(), c.lse.view());
  }, "q");
  expect_error([&](Backend& be) {
    HostTensor qkv(DType::bf16, {2, 16, 2, 4, 64});
    flash_attn_qkvpacked_func(be, qkv.view(), c.out.view(), c.lse.view());
  }, "qkv");
}

TEST_CASE("bad cu_seqlens name the argument", "[api]") {
  HostTensor qkv(DType::bf16, {10, 3, 2, 64}), out(DType::bf16, {10, 2, 64}), lse(DType::f32, {2, 10});
  auto with_cu = [&](std::vector<int32_t> cu, int max_len, const std::string& named) {
    HostTensor t(DType::i32, {int64_t(cu.size())});
    for (size_t i = 0; i < cu.size(); ++i) t.set_at(int64_t(i), cu[i]);
    expect_error([&](Backend& be) {
      flash_attn_varlen_qkvpacked_func(be, qkv.view(), t.view(), max_len, out.view(), lse.view());
    }, named);
  };
  with_cu({0, 6, 4, 10}, 10, "cu_seqlens_q");   // decreasing
  with_cu({0, 4, 9}, 10, "cu_seqlens_q");       // does not end at total tokens
  with_cu({1, 4, 10}, 10, "cu_seqlens_q");      // does not start at 0
  with_cu({0, 4, 10}, 5, "cu_seqlens_q");       // a sequence longer than max_seqlen
  with_cu({0, 4, 10}, 0, "max_seqlen_q");
}

TEST_CASE("backward: gradients must match their inputs", "[api]") {
  Case c;
  expect_error([&](Backend& be) {
    HostTensor dout(DType::bf16, {2, 16, 4, 64}), dq(DType::bf16, {2, 16, 4, 64}), dk(DType::bf16, {2, 16, 4, 64}),
        dv(DType::bf16, {2, 16, 2, 64});
    flash_attn_backward(be, dout.view(), c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                        {dq.view(), dk.view(), dv.view()});
  }, "dk");
  expect_error([&](Backend& be) {
    HostTensor dout(DType::f16, {2, 16, 4, 64}), dq(DType::bf16, {2, 16, 4, 64}), dk(DType::bf16, {2, 16, 2, 64}),
        dv(DType::bf16, {2, 16, 2, 64});
    flash_attn_backward(be, dout.view(), c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                        {dq.view(), dk.view(), dv.view()});
  }, "dout");
}
