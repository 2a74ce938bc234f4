// Bad input to the flash-attn API throws std::invalid_argument naming the argument, and nothing
// is launched or written.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <limits>
#include <array>
#include <deque>
#include <map>
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
  int persistent_programs() const override { return programs; }
  void launch(const KernelCall& call) override {
    ++launches;
    grids.push_back(call.grid);
    ragged.push_back(call.params.get_bool("RAGGED"));
    block_m.push_back(int(call.params.get_int("BLOCK_M")));
    row_strides.push_back(-1);
    for (const LaunchArg& a : call.args)
      if (a.name == "q_row_stride") row_strides.back() = a.i;
  }
  int programs = std::numeric_limits<int>::max();  // persistent_programs()
  std::vector<std::array<int, 3>> grids;  // each launch's grid
  std::vector<bool> ragged;        // each launch's RAGGED parameter
  std::vector<int> block_m;        // and its BLOCK_M
  std::vector<int64_t> row_strides;  // and the q_row_stride it was given (-1: none)
  bool all_ragged(bool want) const {
    for (bool r : ragged)
      if (r != want) return false;
    return !ragged.empty();
  }
};

// The tensors of one call. Every tensor a test creates comes from here, filled with a byte
// pattern, so a rejected call can be checked to have written nothing anywhere.
struct Case {
  std::deque<HostTensor> all;
  HostTensor& make(DType t, std::vector<int64_t> shape) {
    all.emplace_back(t, shape);
    std::memset(all.back().data(), kSentinel, size_t(all.back().numel()) * dtype_size(t));
    return all.back();
  }
  HostTensor &q = make(DType::bf16, {2, 16, 4, 64}), &k = make(DType::bf16, {2, 16, 2, 64}),
             &v = make(DType::bf16, {2, 16, 2, 64});
  HostTensor &out = make(DType::bf16, {2, 16, 4, 64}), &lse = make(DType::f32, {2, 4, 16});
  HostTensor &dout = make(DType::bf16, {2, 16, 4, 64}), &dq = make(DType::bf16, {2, 16, 4, 64}),
             &dk = make(DType::bf16, {2, 16, 2, 64}), &dv = make(DType::bf16, {2, 16, 2, 64});

  // A tensor with contents of the test's (cu_seqlens, ...): its bytes are recorded instead.
  HostTensor& make_from(DType t, std::vector<int64_t> shape, const void* bytes) {
    HostTensor& h = make(t, shape);
    std::memcpy(h.data(), bytes, bytes_of(h));
    custom[all.size() - 1] = std::vector<unsigned char>(static_cast<const unsigned char*>(bytes),
                                                        static_cast<const unsigned char*>(bytes) + bytes_of(h));
    return h;
  }

  static constexpr unsigned char kSentinel = 0x5a;
  static size_t bytes_of(const HostTensor& h) { return size_t(h.numel()) * dtype_size(h.view().dtype); }
  // The first tensor whose bytes changed, or -1.
  int first_written() const {
    for (size_t i = 0; i < all.size(); ++i) {
      const auto* b = static_cast<const unsigned char*>(all[i].data());
      auto it = custom.find(i);
      for (size_t j = 0; j < bytes_of(all[i]); ++j)
        if (b[j] != (it == custom.end() ? kSentinel : it->second[j])) return int(i);
    }
    return -1;
  }
  std::map<size_t, std::vector<unsigned char>> custom;
};

// The call must throw std::invalid_argument naming `named` (and saying what was expected),
// launch nothing and leave every tensor of the case byte for byte as it was.
void expect_error(const std::function<void(Backend&, Case&)>& call, const std::string& named) {
  RecordingBackend be;
  Case c;
  try {
    call(be, c);
    FAIL("no exception; expected one naming " << named);
  } catch (const std::invalid_argument& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(named) != std::string::npos);
    CHECK(std::string(e.what()).find("expected") != std::string::npos);
  }
  CHECK(be.launches == 0);
  CHECK(c.first_written() == -1);
}

}  // namespace

TEST_CASE("valid input launches the forward kernel once", "[api]") {
  RecordingBackend be;
  Case c;
  flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view());
  CHECK(be.launches == 1);
}

TEST_CASE("the persistent forward launches at most the backend's programs, at most one per pair of tiles",
          "[api]") {
  // batch 2, seqlen 16, 4 heads: 8 tiles of one query block each, 4 pairs.
  for (int programs : {3, 4, 1000, std::numeric_limits<int>::max()}) {
    RecordingBackend be;
    be.programs = programs;
    Case c;
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view());
    REQUIRE(be.grids.size() == 1);
    CHECK(be.grids[0] == std::array<int, 3>{std::min(programs, 4), 1, 1});
  }
}

TEST_CASE("bad shapes, dtypes, head dims and options name the argument", "[api]") {
  expect_error([&](Backend& be, Case& c) {
    HostTensor& k = c.make(DType::f16, {2, 16, 2, 64});
    flash_attn_func(be, c.q.view(), k.view(), c.v.view(), c.out.view(), c.lse.view());
  }, "k");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& q = c.make(DType::f32, {2, 16, 4, 64});
    flash_attn_func(be, q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view());
  }, "q");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& q = c.make(DType::bf16, {2, 16, 4, 300});
    HostTensor& k = c.make(DType::bf16, {2, 16, 2, 300});
    HostTensor& v = c.make(DType::bf16, {2, 16, 2, 300});
    HostTensor& out = c.make(DType::bf16, {2, 16, 4, 300});
    flash_attn_func(be, q.view(), k.view(), v.view(), out.view(), c.lse.view());
  }, "q: expected head_dim between 1 and 256, got 300");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& v = c.make(DType::bf16, {2, 16, 2, 257});
    flash_attn_func(be, c.q.view(), c.k.view(), v.view(), c.out.view(), c.lse.view());
  }, "v: expected head_dim (head_dim_v, may differ from q's) between 1 and 256, got 257");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& k = c.make(DType::bf16, {2, 16, 2, 80});
    flash_attn_func(be, c.q.view(), k.view(), c.v.view(), c.out.view(), c.lse.view());
  }, "k: expected head_dim 64 (like q)");
  expect_error([&](Backend& be, Case& c) {  // head_dim_v 128: out must have it
    HostTensor& v = c.make(DType::bf16, {2, 16, 2, 128});
    flash_attn_func(be, c.q.view(), c.k.view(), v.view(), c.out.view(), c.lse.view());
  }, "out: expected shape (2, 16, 4, 128) (like q, with v's head_dim 128)");
  expect_error([&](Backend& be, Case& c) {  // a pair the GPU table does not compile
    HostTensor& v = c.make(DType::bf16, {2, 16, 2, 256});
    HostTensor& out = c.make(DType::bf16, {2, 16, 4, 256});
    flash_attn_func(be, c.q.view(), c.k.view(), v.view(), out.view(), c.lse.view());
  }, "v: expected head_dim_v 64 (like q) or a pair (head_dim, head_dim_v) the recording backend has kernels for");
  expect_error([&](Backend& be, Case& c) {  // the GPU table's head_dim_v pairs are plain only
    HostTensor& v = c.make(DType::bf16, {2, 16, 2, 128});
    HostTensor& out = c.make(DType::bf16, {2, 16, 4, 128});
    FlashAttnOptions o;
    o.softcap = 5;
    flash_attn_func(be, c.q.view(), c.k.view(), v.view(), out.view(), c.lse.view(), o);
  }, "softcap: expected 0 (head_dim 64 with head_dim_v 128 is compiled for plain attention only on the recording backend)");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& kv = c.make(DType::bf16, {2, 16, 2, 2, 32});
    flash_attn_kvpacked_func(be, c.q.view(), kv.view(), c.out.view(), c.lse.view());
  }, "kv packing stores k and v with one head_dim");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& k = c.make(DType::bf16, {2, 16, 3, 64});
    HostTensor& v = c.make(DType::bf16, {2, 16, 3, 64});
    flash_attn_func(be, c.q.view(), k.view(), v.view(), c.out.view(), c.lse.view());
  }, "nheads_k");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& out = c.make(DType::bf16, {2, 16, 4, 32});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), out.view(), c.lse.view());
  }, "out");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& lse = c.make(DType::f32, {2, 16, 4});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), lse.view());
  }, "softmax_lse");
  expect_error([&](Backend& be, Case& c) {
    FlashAttnOptions o;
    o.softcap = -1;
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), o);
  }, "softcap");
  expect_error([&](Backend& be, Case& c) {
    FlashAttnOptions o;
    o.window_left = -3;
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), o);
  }, "window_size");
  expect_error([&](Backend& be, Case& c) {
    FlashAttnOptions o;
    HostTensor& slopes = c.make(DType::f32, {3});
    o.alibi_slopes = slopes.view();
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), o);
  }, "alibi_slopes");
  expect_error([&](Backend& be, Case& c) {
    TensorView q = c.q.view();
    q.device = Device::cuda(0);
    flash_attn_func(be, q, c.k.view(), c.v.view(), c.out.view(), c.lse.view());
  }, "q");
  expect_error([&](Backend& be, Case& c) {
    TensorView q = c.q.view();
    q.strides[3] = 2;  // head_dim not contiguous
    flash_attn_func(be, q, c.k.view(), c.v.view(), c.out.view(), c.lse.view());
  }, "q");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& qkv = c.make(DType::bf16, {2, 16, 2, 4, 64});
    flash_attn_qkvpacked_func(be, qkv.view(), c.out.view(), c.lse.view());
  }, "qkv");
}

TEST_CASE("bad cu_seqlens name the argument", "[api]") {
  auto with_cu = [&](std::vector<int32_t> cu, int max_len, const std::string& named) {
    expect_error([&](Backend& be, Case& c) {
      HostTensor& qkv = c.make(DType::bf16, {10, 3, 2, 64});
      HostTensor& out = c.make(DType::bf16, {10, 2, 64});
      HostTensor& lse = c.make(DType::f32, {2, 10});
      HostTensor& t = c.make_from(DType::i32, {int64_t(cu.size())}, cu.data());
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
  expect_error([&](Backend& be, Case& c) {
    HostTensor& dout = c.make(DType::bf16, {2, 16, 4, 64});
    HostTensor& dq = c.make(DType::bf16, {2, 16, 4, 64});
    HostTensor& dk = c.make(DType::bf16, {2, 16, 4, 64});
    HostTensor& dv = c.make(DType::bf16, {2, 16, 2, 64});
    flash_attn_backward(be, dout.view(), c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                        {dq.view(), dk.view(), dv.view()});
  }, "dk");
  expect_error([&](Backend& be, Case& c) {
    HostTensor& dout = c.make(DType::f16, {2, 16, 4, 64});
    HostTensor& dq = c.make(DType::bf16, {2, 16, 4, 64});
    HostTensor& dk = c.make(DType::bf16, {2, 16, 2, 64});
    HostTensor& dv = c.make(DType::bf16, {2, 16, 2, 64});
    flash_attn_backward(be, dout.view(), c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                        {dq.view(), dk.view(), dv.view()});
  }, "dout");
}

TEST_CASE("outputs overlapping inputs, other outputs or themselves are refused", "[api][overlap]") {
  // out aliasing k (same shape as q here): other programs still read k after a program stores.
  expect_error([&](Backend& be, Case& c) {
    HostTensor& k = c.make(DType::bf16, {2, 16, 4, 64});
    HostTensor& v = c.make(DType::bf16, {2, 16, 4, 64});
    flash_attn_func(be, c.q.view(), k.view(), v.view(), k.view(), c.lse.view());
  }, "out: expected memory not shared with k");
  expect_error([&](Backend& be, Case& c) {
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.q.view(), c.lse.view());
  }, "not shared with q");
  expect_error([&](Backend& be, Case& c) {
    TensorView out = c.out.view();
    out.strides[2] = 0;  // every head writes the same elements
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), out, c.lse.view());
  }, "out: expected a view whose elements do not overlap each other");
  expect_error([&](Backend& be, Case& c) {
    TensorView out = c.out.view();
    out.strides[1] = 64;  // rows step over heads of the previous row
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), out, c.lse.view());
  }, "out: expected a view whose elements do not overlap each other");
  expect_error([&](Backend& be, Case& c) {
    TensorView lse = TensorView::contiguous(c.out.data(), DType::f32, {2, 4, 16});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), lse);
  }, "softmax_lse: expected memory not shared with out");
  auto backward = [](Backend& be, Case& c, const AttnGradViews& g) {
    flash_attn_backward(be, c.dout.view(), c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), g);
  };
  expect_error([&](Backend& be, Case& c) { backward(be, c, {c.dq.view(), c.dk.view(), c.dk.view()}); },
               "dk: expected memory not shared with dv");
  expect_error([&](Backend& be, Case& c) { backward(be, c, {c.dout.view(), c.dk.view(), c.dv.view()}); },
               "dq: expected memory not shared with dout");
  expect_error([&](Backend& be, Case& c) { backward(be, c, {c.dq.view(), c.k.view(), c.dv.view()}); },
               "dk: expected memory not shared with k");
  expect_error([&](Backend& be, Case& c) { backward(be, c, {c.dq.view(), c.dk.view(), c.v.view()}); },
               "dv: expected memory not shared with v");
  expect_error([&](Backend& be, Case& c) { backward(be, c, {c.out.view(), c.dk.view(), c.dv.view()}); },
               "dq: expected memory not shared with out");
  expect_error([&](Backend& be, Case& c) {
    // dq one element into dk's buffer... of the same shape as q: a partial overlap.
    HostTensor& buf = c.make(DType::bf16, {2 * 16 * 4 * 64 + 2 * 16 * 2 * 64});
    TensorView dk = TensorView::contiguous(buf.data(), DType::bf16, {2, 16, 2, 64});
    TensorView dq = TensorView::contiguous(static_cast<char*>(buf.data()) + 2 * (2 * 16 * 2 * 64 - 1), DType::bf16, {2, 16, 4, 64});
    backward(be, c, {dq, dk, c.dv.view()});
  }, "dq: expected memory not shared with dk");
  expect_error([&](Backend& be, Case& c) {
    TensorView dv = c.dv.view();
    dv.strides[0] = 0;  // both batches write the same gradient
    backward(be, c, {c.dq.view(), c.dk.view(), dv});
  }, "dv: expected a view whose elements do not overlap each other");
}

TEST_CASE("disjoint slices of one buffer are accepted: packed gradients, fused projections", "[api][overlap]") {
  RecordingBackend be;
  Case c;
  // qkv and its gradient packed (batch, seqlen, 3, heads, dim): the three slices interleave.
  HostTensor& qkv = c.make(DType::bf16, {2, 16, 3, 4, 64});
  HostTensor& dqkv = c.make(DType::bf16, {2, 16, 3, 4, 64});
  HostTensor& out = c.make(DType::bf16, {2, 16, 4, 64});
  HostTensor& lse = c.make(DType::f32, {2, 4, 16});
  HostTensor& dout = c.make(DType::bf16, {2, 16, 4, 64});
  auto s = split_qkvpacked(qkv.view()), d = split_qkvpacked(dqkv.view());
  flash_attn_qkvpacked_func(be, qkv.view(), out.view(), lse.view());
  flash_attn_backward(be, dout.view(), s[0], s[1], s[2], out.view(), lse.view(), {d[0], d[1], d[2]});
  // out in the second half of a fused (batch, seqlen, 2 * heads, dim) buffer whose first half is q.
  HostTensor& fused = c.make(DType::bf16, {2, 16, 8, 64});
  TensorView q = fused.view(), o = fused.view();
  q.shape[2] = o.shape[2] = 4;
  o.data = static_cast<char*>(o.data) + 4 * 64 * 2;
  flash_attn_func(be, q, c.k.view(), c.v.view(), o, c.lse.view());
  CHECK(be.launches == 1 + 3 + 1);
}

// q, k, v, out, lse and the gradients of a (1, 8, 2 heads) problem with head dims d and dv.
struct DimsCase {
  Case c;
  HostTensor &q, &k, &v, &out, &lse, &dq, &dk, &dv, &dout;
  DimsCase(int64_t d, int64_t dv_)
      : q(c.make(DType::bf16, {1, 8, 2, d})), k(c.make(DType::bf16, {1, 8, 2, d})), v(c.make(DType::bf16, {1, 8, 2, dv_})),
        out(c.make(DType::bf16, {1, 8, 2, dv_})), lse(c.make(DType::f32, {1, 2, 8})), dq(c.make(DType::bf16, {1, 8, 2, d})),
        dk(c.make(DType::bf16, {1, 8, 2, d})), dv(c.make(DType::bf16, {1, 8, 2, dv_})),
        dout(c.make(DType::bf16, {1, 8, 2, dv_})) {}
  void forward_and_backward(Backend& be) {
    flash_attn_func(be, q.view(), k.view(), v.view(), out.view(), lse.view());
    flash_attn_backward(be, dout.view(), q.view(), k.view(), v.view(), out.view(), lse.view(), {dq.view(), dk.view(), dv.view()});
  }
};

TEST_CASE("every head_dim 1..256 and the compiled head_dim_v pairs are accepted", "[api][head_dim]") {
  for (int d : {1, 32, 40, 59, 64, 80, 96, 111, 128, 160, 192, 224, 256}) {
    RecordingBackend be;
    DimsCase c(d, d);
    INFO("head_dim " << d);
    CHECK_NOTHROW(c.forward_and_backward(be));
  }
  for (auto [d, dv] : {std::pair{192, 128}, {128, 64}, {64, 128}, {160, 100}, {33, 65}}) {
    RecordingBackend be;
    DimsCase c(d, dv);
    INFO("head_dim " << d << ", head_dim_v " << dv);
    CHECK_NOTHROW(c.forward_and_backward(be));
  }
}

TEST_CASE("variant arguments are validated by name, dtype and shape", "[api][variants]") {
  auto with_variant = [](const std::string& name, VariantArgs args) {
    FlashAttnOptions o;
    o.variant = name;
    o.variant_args = std::move(args);
    return o;
  };
  expect_error([&](Backend& be, Case& c) {
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), with_variant("no_such_variant", {}));
  }, "variant: expected a registered variant");
  expect_error([&](Backend& be, Case& c) {  // a missing argument
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), with_variant("document_mask", {}));
  }, "document_id: expected an argument of variant document_mask (document_id: i32 (batch, seqlen_k)");
  expect_error([&](Backend& be, Case& c) {  // misshapen: (batch, seqlen_k) is (2, 16)
    HostTensor& ids = c.make(DType::i32, {2, 15});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                    with_variant("document_mask", {{"document_id", VariantArg::of(ids.view())}}));
  }, "document_id: expected shape (2, 16)");
  expect_error([&](Backend& be, Case& c) {  // wrong dtype
    HostTensor& ids = c.make(DType::f32, {2, 16});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                    with_variant("document_mask", {{"document_id", VariantArg::of(ids.view())}}));
  }, "document_id: expected i32, got f32");
  expect_error([&](Backend& be, Case& c) {  // an argument the variant does not declare
    HostTensor& ids = c.make(DType::i32, {2, 16});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                    with_variant("document_mask", {{"document_id", VariantArg::of(ids.view())}, {"typo", VariantArg::scalar(1)}}));
  }, "variant_args: expected only the arguments of variant document_mask (document_id), got 'typo'");
  expect_error([&](Backend& be, Case& c) {  // a scalar given as a tensor
    HostTensor& w = c.make(DType::i32, {1});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                    with_variant("sliding_window_sinks", {{"window", VariantArg::of(w.view())}, {"num_sinks", VariantArg::scalar(2)}}));
  }, "window: expected an integer, got a tensor");
  expect_error([&](Backend& be, Case& c) {  // the gradient of a trainable argument: its shape
    HostTensor& table = c.make(DType::f32, {4, 9});
    HostTensor& dtable = c.make(DType::f32, {4, 8});
    // head_dim 128: what the recording backend (like the GPU's table) compiles rel_pos_bias for.
    auto t = [&](int64_t heads) { return c.make(DType::bf16, {2, 16, heads, 128}).view(); };
    const TensorView q = t(4), k = t(2), v = t(2), out = t(4), dout = t(4);
    AttnGradViews g{t(4), t(2), t(2)};
    g.variant_grads["bias_table"] = VariantArg::of(dtable.view());
    flash_attn_backward(be, dout, q, k, v, out, c.lse.view(), g,
                        with_variant("rel_pos_bias", {{"bias_table", VariantArg::of(table.view())}}));
  }, "bias_table gradient (variant_grads[\"bias_table\"]): expected a contiguous tensor of shape (4, 9)");
  expect_error([&](Backend& be, Case& c) {  // chains: one argument name declared twice
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), with_variant("alibi+alibi", {}));
  }, "variant: expected each variant at most once");
  expect_error([&](Backend& be, Case& c) {  // alibi_slopes given both ways
    HostTensor& s = c.make(DType::f32, {4});
    FlashAttnOptions o = with_variant("", {{"alibi_slopes", VariantArg::of(s.view())}});
    o.alibi_slopes = s.view();
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(), o);
  }, "alibi_slopes: expected either the option or variant_args");
  expect_error([&](Backend& be, Case& c) {  // the recording backend compiles variants at d=128 only
    HostTensor& ids = c.make(DType::i32, {2, 16});
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                    with_variant("document_mask", {{"document_id", VariantArg::of(ids.view())}}));
  }, "variant: expected a head dim the recording backend compiles document_mask for (128/128)");
}

TEST_CASE("exact head dims run on the kernels that assume aligned rows only when every operand has them",
          "[api][alignment]") {
  // Contiguous tensors: the exact specialisation, forward and backward.
  {
    RecordingBackend be;
    Case c;
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view());
    flash_attn_backward(be, c.dout.view(), c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                        {c.dq.view(), c.dk.view(), c.dv.view()});
    CHECK(be.all_ragged(false));
  }
  // q a slice of rows 68 elements wide (strides not in 16-byte units), or 2 bytes past a
  // 16-byte boundary: the ragged specialisation of the same block shapes.
  for (int64_t shift : {0, 1}) {
    RecordingBackend be;
    Case c;
    HostTensor& wide = c.make(DType::bf16, {2, 16, 4, 68});
    TensorView q = wide.view();
    q.shape[3] = 64;
    if (shift) {
      q = TensorView::contiguous(static_cast<char*>(wide.data()) + 2, DType::bf16, {2, 16, 4, 64});
    }
    flash_attn_func(be, q, c.k.view(), c.v.view(), c.out.view(), c.lse.view());
    CHECK(be.all_ragged(true));
  }
  // Aligned inputs, an unaligned gradient: the forward stays exact, the backward goes ragged.
  {
    RecordingBackend be;
    Case c;
    HostTensor& wide = c.make(DType::bf16, {2, 16, 2, 68});
    TensorView dk = wide.view();
    dk.shape[3] = 64;
    flash_attn_func(be, c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view());
    const size_t forward = be.ragged.size();
    flash_attn_backward(be, c.dout.view(), c.q.view(), c.k.view(), c.v.view(), c.out.view(), c.lse.view(),
                        {c.dq.view(), dk, c.dv.view()});
    REQUIRE(be.ragged.size() > forward);
    for (size_t i = 0; i < be.ragged.size(); ++i) CHECK(be.ragged[i] == (i >= forward));
    // ... with the ragged specialisation's block shapes: at d=64 the exact backward takes 128
    // queries a step, the ragged one 64 (a ragged kernel at the exact shape is not compiled).
    const BlockShape exact = *block_shape_for(64, 64), ragged = block_shape_of({64, 64, true});
    REQUIRE(exact.bwd.block_m != ragged.bwd.block_m);
    for (size_t i = forward; i < be.block_m.size(); ++i) CHECK(be.block_m[i] == ragged.bwd.block_m);
  }
  // One row per sequence with a zero row stride (an expanded view): its stride addresses
  // nothing and is normalised to one the exact kernels accept.
  {
    RecordingBackend be;
    Case c;
    HostTensor& q1 = c.make(DType::bf16, {2, 1, 4, 64});
    TensorView q(q1.data(), DType::bf16, {2, 1, 4, 64}, {256, 0, 64, 1});
    HostTensor& out1 = c.make(DType::bf16, {2, 1, 4, 64});
    HostTensor& lse1 = c.make(DType::f32, {2, 4, 1});
    flash_attn_func(be, q, c.k.view(), c.v.view(), out1.view(), lse1.view());
    CHECK(be.all_ragged(false));
    CHECK(be.row_strides.back() == 16);
  }
}
