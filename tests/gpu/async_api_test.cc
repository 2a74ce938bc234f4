// The C++ API on the GPU is asynchronous like flash-attn: a call queues its kernels and returns,
// its workspace is reused in stream order, so a forward+backward can be captured into a CUDA
// graph on the backend's stream and replayed on new inputs written into the same buffers. The
// replay must give what an eager call on those inputs gives, bit for bit (deterministic=true),
// and a second call of a shape must allocate no device memory.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "attention/gpu/gpu_backend.h"
#include "attention/host/api.h"
#include "tests/gpu/device_tensor.h"
#include "attention/reference/random_inputs.h"
#include "catch2/catch.hpp"
#include "dsl/runtime/cuda_driver.h"
#include "dsl/runtime/stream.h"

namespace tile::gpu_tests {
namespace {

using attention::GpuBackend;

// One forward+backward problem in device buffers that stay put: inputs are loaded into them,
// outputs poisoned with NaN before every run and read back after it.
struct Problem {
  static reference::AttnShape shape() {
    reference::AttnShape s;
    s.batch = 2, s.seqlen_q = s.seqlen_k = 300, s.nheads_q = 4, s.nheads_k = 2, s.headdim = 128;
    s.dtype = DType::bf16;
    return s;
  }
  Problem(GpuBackend& be, bool deterministic)
      : be(be),
        shape_in(reference::make_random_inputs(shape(), 1)),
        q(be, shape_in.q), k(be, shape_in.k), v(be, shape_in.v), dout(be, shape_in.dout),
        out(be, shape_in.q), lse(be, HostTensor(DType::f32, {shape().batch, shape().nheads_q, shape().seqlen_q})),
        dq(be, shape_in.q), dk(be, shape_in.k), dv(be, shape_in.v) {
    o.causal = true;
    o.deterministic = deterministic;
  }
  void load(const reference::OwnedInputs& in) {
    const HostTensor* src[4] = {&in.q, &in.k, &in.v, &in.dout};
    DeviceTensor* dst[4] = {&q, &k, &v, &dout};
    for (int i = 0; i < 4; ++i) be.write(dst[i]->buffer.get(), src[i]->data(), dst[i]->bytes);
    for (DeviceTensor* t : outputs()) {
      std::vector<unsigned char> nan(t->bytes, 0xFF);  // all-ones: NaN in bf16 and f32
      be.write(t->buffer.get(), nan.data(), nan.size());
    }
  }
  void step() {
    attention::flash_attn_func(be, q.view, k.view, v.view, out.view, lse.view, o);
    attention::flash_attn_backward(be, dout.view, q.view, k.view, v.view, out.view, lse.view,
                                   {dq.view, dk.view, dv.view}, o);
  }
  // out, lse, dq, dk, dv as bytes (read in stream order: after the work queued before).
  std::vector<std::vector<char>> results() {
    std::vector<std::vector<char>> r;
    for (DeviceTensor* t : outputs()) {
      r.emplace_back(t->bytes);
      be.read(r.back().data(), t->buffer.get(), t->bytes);
    }
    return r;
  }
  std::vector<DeviceTensor*> outputs() { return {&out, &lse, &dq, &dk, &dv}; }

  GpuBackend& be;
  reference::OwnedInputs shape_in;
  DeviceTensor q, k, v, dout, out, lse, dq, dk, dv;
  attention::FlashAttnOptions o;
};

const char* const kOutputNames[5] = {"out", "lse", "dq", "dk", "dv"};

// Every output written (no NaN left of the poison) and bit-identical to `expected`.
void check_same(const std::vector<std::vector<char>>& got, const std::vector<std::vector<char>>& expected,
                const std::string& what) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(what << ": " << kOutputNames[i]);
    CHECK(got[i] == expected[i]);
  }
}

bool has_nan_bf16_or_f32(const std::vector<char>& bytes, bool f32) {
  if (f32) {
    for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
      float x;
      std::memcpy(&x, &bytes[i], 4);
      if (std::isnan(x)) return true;
    }
    return false;
  }
  for (size_t i = 0; i + 2 <= bytes.size(); i += 2) {
    uint16_t h;
    std::memcpy(&h, &bytes[i], 2);
    if ((h & 0x7F80) == 0x7F80 && (h & 0x7F) != 0) return true;
  }
  return false;
}

// A captured graph and its executable, destroyed before the backend whose workspace they use.
struct Graph {
  CUgraph graph = nullptr;
  CUgraphExec exec = nullptr;
  ~Graph() {
    if (exec) rt::driver().cuGraphExecDestroy(exec);
    if (graph) rt::driver().cuGraphDestroy(graph);
  }
};

TEST_CASE("a C++ API forward+backward captured in a CUDA graph replays like an eager call", "[gpu][graph]") {
  GpuBackend be(0);
  Problem p(be, /*deterministic=*/true);
  const reference::OwnedInputs a = reference::make_random_inputs(Problem::shape(), 11);
  const reference::OwnedInputs b = reference::make_random_inputs(Problem::shape(), 12);

  // Eager calls (they also load the kernels and the stream's TMA workspaces before the capture).
  p.load(a);
  p.step();
  const std::vector<std::vector<char>> eager_a = p.results();
  for (size_t i = 0; i < eager_a.size(); ++i) {
    INFO(kOutputNames[i]);
    REQUIRE_FALSE(has_nan_bf16_or_f32(eager_a[i], i == 1));  // every element written
  }
  p.load(b);
  p.step();
  const std::vector<std::vector<char>> eager_b = p.results();
  CHECK(eager_b != eager_a);

  // Captured with a's inputs in the buffers: nothing may be computed from their values now.
  p.load(a);
  const attention::StreamWorkspacePool::Stats before = be.workspace_stats();
  Graph g;
  const CUstream s = be.stream().handle();
  TILE_CU_CHECK(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
  try {
    p.step();
  } catch (...) {
    CUgraph broken = nullptr;
    rt::driver().cuStreamEndCapture(s, &broken);
    if (broken) rt::driver().cuGraphDestroy(broken);
    throw;
  }
  TILE_CU_CHECK(cuStreamEndCapture(s, &g.graph));
  TILE_CU_CHECK(cuGraphInstantiate(&g.exec, g.graph, 0));
  const attention::StreamWorkspacePool::Stats captured = be.workspace_stats();
  // The backward's scratch (delta, lse_log2) is the graph's: new buffers, never back in a pool.
  CHECK(captured.graph_owned > before.graph_owned);
  CHECK(captured.in_use == before.in_use);
  CHECK(captured.idle == before.idle);

  // Replays on new inputs copied into the captured buffers.
  p.load(b);
  TILE_CU_CHECK(cuGraphLaunch(g.exec, s));
  check_same(p.results(), eager_b, "replay on b");
  p.load(a);
  TILE_CU_CHECK(cuGraphLaunch(g.exec, s));
  check_same(p.results(), eager_a, "replay on a");
  // Two replays queued back to back, then an eager call: all in stream order.
  p.load(b);
  TILE_CU_CHECK(cuGraphLaunch(g.exec, s));
  TILE_CU_CHECK(cuGraphLaunch(g.exec, s));
  check_same(p.results(), eager_b, "second replay on b");
  p.load(a);
  p.step();
  check_same(p.results(), eager_a, "eager after the capture");
}

TEST_CASE("a second call of a shape allocates no device memory; a caller's stream gives the same results",
          "[gpu][async]") {
  // The reference: deterministic results on the backend's own stream.
  const reference::OwnedInputs in = reference::make_random_inputs(Problem::shape(), 21);
  std::vector<std::vector<char>> own;
  {
    GpuBackend be(0);
    Problem p(be, /*deterministic=*/true);
    p.load(in);
    p.step();
    own = p.results();
  }
  rt::Stream caller;  // a stream of the caller's (as PyTorch's current stream)
  GpuBackend be(0, caller.handle());
  REQUIRE(be.stream().handle() == caller.handle());
  for (bool deterministic : {true, false}) {
    INFO("deterministic " << deterministic);
    Problem p(be, deterministic);
    p.load(in);
    p.step();  // the first call of the shape allocates its scratch
    const attention::StreamWorkspacePool::Stats first = be.workspace_stats();
    p.load(in);
    p.step();
    p.step();
    const attention::StreamWorkspacePool::Stats later = be.workspace_stats();
    CHECK(later.allocations == first.allocations);
    CHECK(later.reuses > first.reuses);
    CHECK(later.in_use == first.in_use);
    const std::vector<std::vector<char>> got = p.results();
    if (deterministic) {
      check_same(got, own, "caller's stream");
    } else {  // other backward kernels (atomic dQ adds in any order): the forward is still exact
      CHECK(got[0] == own[0]);
      CHECK(got[1] == own[1]);
      for (size_t i = 2; i < got.size(); ++i) {
        INFO(kOutputNames[i]);
        CHECK_FALSE(has_nan_bf16_or_f32(got[i], false));  // every element written
      }
    }
  }
}

}  // namespace
}  // namespace tile::gpu_tests
