// flash-attn's edge semantics, as this project decides them (README, "Edge cases"), pinned on the
// interpreter:
//   - empty batches and sequences are accepted in the batched API (as in varlen): with no key,
//     out = 0; gradients of an empty side are 0; empty grids launch nothing;
//   - a row that sees no key gets out = 0 and LSE = -inf (flash-attn writes +inf there; -inf is
//     log of the empty sum and the identity of the LSE merge that split-KV and ring attention
//     use, so partial results combine without special cases);
//   - softmax_scale 0 (any finite scale) is accepted: uniform weights over the visible keys;
//   - empty tensors may have null data, as PyTorch gives them.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "attention/host/api.h"
#include "attention/interp_backend/interp_backend.h"
#include "tests/attention/cli_runner.h"

using namespace tile;
using namespace tile::attention;

namespace {

// Counts launches; runs them on the interpreter.
class CountingBackend : public InterpBackend {
 public:
  CountingBackend() : InterpBackend(Options{3, 2}) {}
  int launches = 0;
  void launch(const KernelCall& call) override {
    ++launches;
    InterpBackend::launch(call);
  }
};

HostTensor random_tensor(DType t, std::vector<int64_t> shape, uint64_t seed) {
  HostTensor h(t, shape);
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (int64_t i = 0; i < h.numel(); ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    h.set_at(i, double(int64_t(x % 2001) - 1000) / 1000.0);
  }
  return h;
}

HostTensor poisoned(DType t, std::vector<int64_t> shape) {
  HostTensor h(t, shape);
  h.fill(std::nan(""));
  return h;
}

bool all_equal(const HostTensor& h, double value) {
  for (double x : h.to_doubles())
    if (!(x == value)) return false;
  return true;
}

struct Shapes {
  int64_t batch, seqlen_q, seqlen_k, heads = 2, dim = 64;
};

// Forward and (atomic or deterministic) backward; returns the tensors for inspection.
struct Run {
  HostTensor q, k, v, out, lse, dout, dq, dk, dv;
  int launches = 0;
};
Run run(const Shapes& s, FlashAttnOptions o) {
  Run r;
  r.q = random_tensor(DType::bf16, {s.batch, s.seqlen_q, s.heads, s.dim}, 1);
  r.k = random_tensor(DType::bf16, {s.batch, s.seqlen_k, s.heads, s.dim}, 2);
  r.v = random_tensor(DType::bf16, {s.batch, s.seqlen_k, s.heads, s.dim}, 3);
  r.dout = random_tensor(DType::bf16, {s.batch, s.seqlen_q, s.heads, s.dim}, 4);
  r.out = poisoned(DType::bf16, {s.batch, s.seqlen_q, s.heads, s.dim});
  r.lse = poisoned(DType::f32, {s.batch, s.heads, s.seqlen_q});
  r.dq = poisoned(DType::bf16, {s.batch, s.seqlen_q, s.heads, s.dim});
  r.dk = poisoned(DType::bf16, {s.batch, s.seqlen_k, s.heads, s.dim});
  r.dv = poisoned(DType::bf16, {s.batch, s.seqlen_k, s.heads, s.dim});
  CountingBackend be;
  flash_attn_func(be, r.q.view(), r.k.view(), r.v.view(), r.out.view(), r.lse.view(), o);
  flash_attn_backward(be, r.dout.view(), r.q.view(), r.k.view(), r.v.view(), r.out.view(), r.lse.view(),
                      {r.dq.view(), r.dk.view(), r.dv.view()}, o);
  r.launches = be.launches;
  return r;
}

}  // namespace

TEST_CASE("seqlen_k = 0: out is 0, LSE is -inf, dq is 0", "[attention][edge]") {
  for (bool deterministic : {false, true}) {
    FlashAttnOptions o;
    o.deterministic = deterministic;
    Run r = run({2, 37, 0}, o);
    INFO("deterministic " << deterministic);
    CHECK(all_equal(r.out, 0.0));
    CHECK(all_equal(r.lse, -INFINITY));
    CHECK(all_equal(r.dq, 0.0));
    CHECK(r.dk.numel() == 0);
  }
}

TEST_CASE("seqlen_q = 0: nothing to compute forward, dk and dv are 0", "[attention][edge]") {
  for (bool deterministic : {false, true}) {
    FlashAttnOptions o;
    o.deterministic = deterministic;
    o.causal = true;
    Run r = run({2, 0, 45}, o);
    INFO("deterministic " << deterministic);
    CHECK(all_equal(r.dk, 0.0));
    CHECK(all_equal(r.dv, 0.0));
    CHECK(r.launches == 1);  // the dK/dV program only: every other grid is empty
  }
}

TEST_CASE("batch 0 launches nothing and is not an error", "[attention][edge]") {
  Run r = run({0, 16, 16}, {});
  CHECK(r.launches == 0);
}

TEST_CASE("empty tensors may have null data", "[attention][edge]") {
  CountingBackend be;
  HostTensor q = random_tensor(DType::bf16, {1, 5, 2, 64}, 1);
  HostTensor out = poisoned(DType::bf16, {1, 5, 2, 64}), lse = poisoned(DType::f32, {1, 2, 5});
  TensorView k(nullptr, DType::bf16, {1, 0, 2, 64}, {0, 128, 64, 1});
  flash_attn_func(be, q.view(), k, k, out.view(), lse.view());
  CHECK(all_equal(out, 0.0));
  CHECK(all_equal(lse, -INFINITY));
}

TEST_CASE("rows that see no key: out 0, LSE -inf, no NaN in any gradient", "[attention][edge]") {
  // Causal is bottom-right aligned: with 70 queries and 20 keys the first 50 rows see nothing.
  FlashAttnOptions o;
  o.causal = true;
  Run r = run({1, 70, 20}, o);
  const std::vector<double> out = r.out.to_doubles(), lse = r.lse.to_doubles(), dq = r.dq.to_doubles();
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 70; ++i) {
      const double l = lse[size_t(h * 70 + i)];
      if (i < 50) {
        CHECK(l == -INFINITY);
        for (int64_t d = 0; d < 64; ++d) {
          CHECK(out[size_t((i * 2 + h) * 64 + d)] == 0.0);
          CHECK(dq[size_t((i * 2 + h) * 64 + d)] == 0.0);
        }
      } else {
        CHECK(std::isfinite(l));
      }
    }
  for (const HostTensor* g : {&r.dk, &r.dv})
    for (double x : g->to_doubles()) REQUIRE(std::isfinite(x));
}

TEST_CASE("softmax_scale 0 and negative scales pass the accuracy rule", "[attention][edge]") {
  for (const char* scale : {"0", "-0.2"}) {
    auto r = testing::run_cli(std::string("--func flash_attn_func --backend interp --threads 2 --batch_size 1 --seq_len 70 "
                                          "--seq_len_k 90 --nheads 2 --head_size 64 --causal --dtype bf16 --seed 61 "
                                          "--softmax_scale ") + scale);
    INFO(r.out << r.err);
    CHECK(r.last_line() == "PASS");
  }
}
