// Ulysses and USP, forward and backward, on virtual ranks with the fp64 CPU backend, against the
// non-distributed fp64 reference (f32 inputs: any slip in a head or sequence mapping, a merge or a
// replicated head's gradient shows far above the tolerance). Also stripe as the ring split, the
// variants Ulysses runs (window, softcap, ALiBi), GQA/MQA with fewer k/v heads than ranks, bad
// head splits, and a deliberately scrambled all-to-all that must fail.
#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "attention/reference/reference.h"
#include "distributed/in_process_transport.h"
#include "distributed/launcher.h"
#include "distributed/reference_step_backend.h"
#include "distributed/sequence_split.h"
#include "distributed/usp_attention.h"
#include "ring_test_util.h"

using namespace tile;
using namespace tile::dist;

namespace {

struct UspCase {
  RingMode ring_split;
  int ulysses, ring;  // degrees: world = ulysses * ring
  bool causal;
  int64_t seq, hq, hk, d;
  bool packed = false;
  int window_left = -1, window_right = -1;
  double softcap = 0.0;
  bool alibi = false;
  int64_t batch = 1;
};

// Swaps the blocks for peers 0 and 1 of every all-to-all: a wrong head/sequence mapping.
class ScrambledAllToAll : public Transport {
 public:
  explicit ScrambledAllToAll(Transport& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int world_size() const override { return inner_.world_size(); }
  std::string name() const override { return "scrambled"; }
  std::unique_ptr<CommRequest> post(const std::vector<P2POp>& ops) override { return inner_.post(ops); }
  void barrier() override { inner_.barrier(); }
  void broadcast(void* d, size_t b, int root) override { inner_.broadcast(d, b, root); }
  void all_gather(const void* s, void* r, size_t b) override { inner_.all_gather(s, r, b); }
  void all_to_all(const void* send, void* recv, size_t bytes) override {
    std::vector<char> swapped(static_cast<const char*>(send), static_cast<const char*>(send) + bytes * world_size());
    const auto block = static_cast<std::ptrdiff_t>(bytes);
    std::swap_ranges(swapped.begin(), swapped.begin() + block, swapped.begin() + block);
    inner_.all_to_all(swapped.data(), recv, bytes);
  }

 private:
  Transport& inner_;
};

// Max |distributed - fp64 reference| of out, lse, dq, dk, dv over all ranks.
std::vector<double> usp_errors(const UspCase& c, bool scramble = false) {
  const int world = c.ulysses * c.ring;
  const SequenceLayout layout{c.ring_split, c.ring, c.ulysses};
  auto in = testing::random_inputs(c.batch, c.seq, c.hq, c.hk, c.d, DType::f32, 2000 + world);
  HostTensor slopes(DType::f32, {c.hq});
  for (int64_t h = 0; h < c.hq; ++h) slopes.set_at(h, 0.25 / static_cast<double>(h + 1));
  reference::AttnOptions opt;
  opt.causal = c.causal;
  opt.window_left = c.window_left;
  opt.window_right = c.window_right;
  opt.softcap = c.softcap;
  if (c.alibi) opt.alibi_slopes = slopes.view();
  const auto ref = reference::attention_forward_backward(in.inputs(), opt, in.dout.view());
  HostTensor out(DType::f32, in.q.shape()), lse(DType::f32, {c.batch, c.hq, c.seq}), dq(DType::f32, in.q.shape()),
      dk(DType::f32, in.k.shape()), dv(DType::f32, in.v.shape());
  InProcessWorld transports(world);
  std::mutex mu;
  run_virtual_ranks(transports, [&](int rank, Transport& t) {
    ReferenceStepBackend backend(1);
    UspGroups groups = make_usp_groups(t, c.ulysses);
    ScrambledAllToAll scrambled(*groups.ulysses);
    Transport& ulysses = scramble ? static_cast<Transport&>(scrambled) : *groups.ulysses;
    UspContext ctx{ulysses, *groups.ring, backend};
    auto shard = [&](const HostTensor& x, int dim) { return shard_sequence(x.view(), dim, layout, rank); };
    const HostTensor q = shard(in.q, 1), k = shard(in.k, 1), v = shard(in.v, 1), dout = shard(in.dout, 1);
    RingAttnOptions o;
    o.causal = c.causal;
    o.window_left = c.window_left;
    o.window_right = c.window_right;
    o.softcap = c.softcap;
    if (c.alibi) o.alibi_slopes = slopes.view();
    RingForwardResult f;
    RingGradients g;
    if (c.packed) {
      HostTensor qkv(DType::f32, {c.batch, q.shape()[1], 3, c.hq, c.d});
      const auto parts = split_qkvpacked(qkv.view());
      backend.ops().copy(parts[0], q.view());
      backend.ops().copy(parts[1], k.view());
      backend.ops().copy(parts[2], v.view());
      f = usp_attention_qkvpacked_forward(c.ring_split, ctx, qkv.view(), o);
      DeviceTensor dqkv = usp_attention_qkvpacked_backward(c.ring_split, ctx, dout.view(), qkv.view(), f.out.view,
                                                           f.lse.view, o);
      const auto d = split_qkvpacked(dqkv.view);
      g.dq = backend.ops().empty(DType::f32, q.shape());
      g.dk = backend.ops().empty(DType::f32, k.shape());
      g.dv = backend.ops().empty(DType::f32, v.shape());
      backend.ops().copy(g.dq.view, d[0]);
      backend.ops().copy(g.dk.view, d[1]);
      backend.ops().copy(g.dv.view, d[2]);
    } else {
      f = usp_attention_forward(c.ring_split, ctx, q.view(), k.view(), v.view(), o);
      g = usp_attention_backward(c.ring_split, ctx, dout.view(), q.view(), k.view(), v.view(), f.out.view, f.lse.view,
                                 o);
    }
    std::lock_guard<std::mutex> lock(mu);
    unshard_sequence(f.out.view, out.view(), 1, layout, rank);
    unshard_sequence(f.lse.view, lse.view(), 2, layout, rank);
    unshard_sequence(g.dq.view, dq.view(), 1, layout, rank);
    unshard_sequence(g.dk.view, dk.view(), 1, layout, rank);
    unshard_sequence(g.dv.view, dv.view(), 1, layout, rank);
  });
  return {testing::max_abs_diff(out.view(), ref.fwd.out.view()), testing::max_abs_diff(lse.view(), ref.fwd.lse.view()),
          testing::max_abs_diff(dq.view(), ref.grads.dq.view()), testing::max_abs_diff(dk.view(), ref.grads.dk.view()),
          testing::max_abs_diff(dv.view(), ref.grads.dv.view())};
}

void check_case(const UspCase& c) {
  INFO(ring_mode_name(c.ring_split) << " ulysses " << c.ulysses << " ring " << c.ring << " causal " << c.causal
                                    << " hq " << c.hq << " hk " << c.hk << " packed " << c.packed << " window "
                                    << c.window_left << "," << c.window_right << " softcap " << c.softcap
                                    << " alibi " << c.alibi);
  const std::vector<double> e = usp_errors(c);
  const char* names[] = {"out", "lse", "dq", "dk", "dv"};
  for (size_t i = 0; i < e.size(); ++i) {
    INFO(names[i] << " max diff " << e[i]);
    CHECK(e[i] < 2e-5);
  }
}

}  // namespace

TEST_CASE("ulysses: forward and backward match the non-distributed reference, worlds 2, 3, 4") {
  for (bool causal : {false, true}) {
    check_case({RingMode::ring, 2, 1, causal, 32, 4, 4, 16, true});
    check_case({RingMode::ring, 4, 1, causal, 32, 4, 4, 16, false});
  }
  check_case({RingMode::ring, 3, 1, true, 24, 6, 3, 16});  // GQA, split k/v heads
}

TEST_CASE("ulysses: GQA/MQA with fewer k/v heads than ranks replicates them and sums their gradients") {
  check_case({RingMode::ring, 4, 1, true, 32, 4, 2, 16});   // 2 k/v heads over 4 ranks
  check_case({RingMode::ring, 4, 1, false, 32, 8, 1, 16});  // MQA
  check_case({RingMode::ring, 8, 1, true, 32, 8, 2, 8});    // world 8
}

TEST_CASE("ulysses: sliding window, softcap and ALiBi run through the single-device step") {
  check_case({RingMode::ring, 2, 1, true, 32, 4, 2, 16, false, 5, -1, 0.0, false});
  check_case({RingMode::ring, 4, 1, false, 32, 4, 4, 16, false, 4, 3, 0.0, false});
  check_case({RingMode::ring, 2, 1, true, 32, 4, 4, 16, false, -1, -1, 2.0, false});
  check_case({RingMode::ring, 4, 1, false, 32, 4, 2, 16, false, -1, -1, 0.0, true});
  check_case({RingMode::ring, 2, 1, true, 32, 4, 2, 16, false, 7, -1, 3.0, true});
}

TEST_CASE("usp: Ulysses inside, ring / zigzag / stripe across, forward and backward") {
  for (RingMode split : {RingMode::ring, RingMode::zigzag, RingMode::stripe})
    for (bool causal : {false, true}) check_case({split, 2, 2, causal, 32, 4, 4, 16, true});
  check_case({RingMode::zigzag, 2, 3, true, 48, 2, 2, 16});  // world 6
  check_case({RingMode::stripe, 3, 2, true, 24, 3, 3, 16});  // world 6, the other way round
  check_case({RingMode::zigzag, 4, 2, true, 64, 4, 1, 8});   // world 8, MQA replicated
  check_case({RingMode::ring, 2, 4, true, 64, 2, 1, 8});     // world 8
}

TEST_CASE("softcap across the ring: ring, zigzag and stripe alone (Ulysses degree 1) and under USP") {
  for (RingMode split : {RingMode::ring, RingMode::zigzag, RingMode::stripe}) {
    UspCase c{split, 1, 4, true, 32, 2, 2, 16};
    c.softcap = 1.5;
    check_case(c);
  }
  UspCase usp{RingMode::zigzag, 2, 2, true, 32, 4, 2, 16};
  usp.softcap = 1.5;
  check_case(usp);
  UspCase noncausal{RingMode::ring, 2, 2, false, 32, 4, 4, 16};
  noncausal.softcap = 0.8;
  check_case(noncausal);
}

TEST_CASE("batch 2: ulysses and usp keep the batches apart") {
  UspCase u{RingMode::ring, 2, 1, true, 32, 4, 2, 16, true};
  u.packed = false;
  u.batch = 2;
  check_case(u);
  UspCase p{RingMode::zigzag, 2, 2, true, 32, 4, 4, 16, true};
  p.batch = 2;
  check_case(p);
  UspCase a{RingMode::ring, 2, 1, false, 32, 4, 4, 16, false, 5, 5, 0.0, true};
  a.batch = 2;
  check_case(a);  // ALiBi (nheads) slopes with two batches
}

TEST_CASE("a scrambled all-to-all (wrong head/sequence mapping) fails the comparison") {
  const std::vector<double> e = usp_errors({RingMode::ring, 2, 1, true, 32, 4, 4, 16}, /*scramble=*/true);
  CHECK(*std::max_element(e.begin(), e.end()) > 1e-2);
}

TEST_CASE("plain ulysses_attention_* over the whole transport") {
  auto in = testing::random_inputs(1, 16, 2, 2, 8, DType::f32, 5);
  reference::AttnOptions opt;
  opt.causal = true;
  const auto ref = reference::attention_forward_backward(in.inputs(), opt, in.dout.view());
  InProcessWorld world(2);
  std::vector<double> err(2);
  run_virtual_ranks(world, [&](int rank, Transport& t) {
    ReferenceStepBackend backend(1);
    auto shard = [&](const HostTensor& x) { return shard_sequence(x.view(), 1, RingMode::ring, 2, rank); };
    const HostTensor q = shard(in.q), k = shard(in.k), v = shard(in.v), dout = shard(in.dout);
    RingAttnOptions o;
    o.causal = true;
    RankContext ctx{t, backend};
    RingForwardResult f = ulysses_attention_forward(ctx, q.view(), k.view(), v.view(), o);
    RingGradients g = ulysses_attention_backward(ctx, dout.view(), q.view(), k.view(), v.view(), f.out.view, f.lse.view, o);
    err[static_cast<size_t>(rank)] = std::max(testing::max_abs_diff(f.out.view, shard(ref.fwd.out).view()),
                                              testing::max_abs_diff(g.dk.view, shard(ref.grads.dk).view()));
  });
  CHECK(err[0] < 2e-5);
  CHECK(err[1] < 2e-5);
}

TEST_CASE("bad head splits and ring-only limits are rejected naming the argument, before anything moves") {
  auto expect_error = [](int world, int ulysses, int64_t hq, int64_t hk, const RingAttnOptions& o, const char* what) {
    InProcessWorld w(world, InProcessWorld::default_copy(), std::chrono::milliseconds(2000));
    auto in = testing::random_inputs(1, 8 * world, hq, hk, 8, DType::f32, 1);
    CHECK_THROWS_WITH(run_virtual_ranks(w,
                                        [&](int rank, Transport& t) {
                                          ReferenceStepBackend backend(1);
                                          UspGroups g = make_usp_groups(t, ulysses);
                                          const SequenceLayout layout{RingMode::ring, world / ulysses, ulysses};
                                          const HostTensor q = shard_sequence(in.q.view(), 1, layout, rank);
                                          const HostTensor k = shard_sequence(in.k.view(), 1, layout, rank);
                                          usp_attention_forward(RingMode::ring, {*g.ulysses, *g.ring, backend},
                                                                q.view(), k.view(), k.view(), o);
                                        }),
                      Catch::Contains(what));
  };
  expect_error(2, 2, 3, 3, {}, "q: nheads (3) must be a multiple of the Ulysses degree (2)");
  expect_error(4, 4, 12, 3, {}, "k: nheads_k (3)");
  RingAttnOptions alibi;
  HostTensor slopes(DType::f32, {2});
  slopes.fill(0.5);
  alibi.alibi_slopes = slopes.view();
  expect_error(4, 2, 2, 2, alibi, "alibi_slopes");
  RingAttnOptions window;
  window.window_left = 3;
  expect_error(4, 2, 2, 2, window, "window_left");
  InProcessWorld w(1);
  CHECK_THROWS_WITH(make_usp_groups(w.rank(0), 2), Catch::Contains("ulysses_degree"));
  // Zigzag across needs an even ring shard: 3 rows on each of 2 ring ranks cannot split in two.
  InProcessWorld odd(2, InProcessWorld::default_copy(), std::chrono::milliseconds(2000));
  auto in = testing::random_inputs(1, 3, 2, 2, 8, DType::f32, 1);
  CHECK_THROWS_WITH(run_virtual_ranks(odd,
                                      [&](int, Transport& t) {
                                        ReferenceStepBackend backend(1);
                                        UspGroups g = make_usp_groups(t, 1);
                                        usp_attention_forward(RingMode::zigzag, {*g.ulysses, *g.ring, backend},
                                                              in.q.view(), in.k.view(), in.v.view(), {});
                                      }),
                    Catch::Contains("zigzag across the ring needs an even ring shard"));
}

TEST_CASE("sequence layouts: USP positions cover the sequence once, ring parts cut into Ulysses pieces") {
  for (RingMode split : {RingMode::ring, RingMode::zigzag, RingMode::stripe}) {
    const SequenceLayout layout{split, 2, 3};
    const int64_t seq = 24;
    std::vector<int> seen(seq, 0);
    for (int r = 0; r < layout.world(); ++r)
      for (int64_t l = 0; l < seq / layout.world(); ++l) ++seen[static_cast<size_t>(global_position(layout, seq, r, l))];
    CHECK(seen == std::vector<int>(seq, 1));
  }
  // Zigzag over 2 ring parts (4 chunks of 6 tokens), Ulysses 2: ring part 0 is chunks 0 and 3,
  // cut into two pieces of 6 local rows; ring part 1 is chunks 1 and 2.
  const SequenceLayout zz{RingMode::zigzag, 2, 2};
  CHECK(global_position(zz, 24, 0, 0) == 0);   // ring 0, ulysses 0: chunk 0
  CHECK(global_position(zz, 24, 1, 0) == 18);  // ring 0, ulysses 1: chunk 3
  CHECK(global_position(zz, 24, 2, 0) == 6);   // ring 1, ulysses 0: chunk 1
  CHECK(global_position(RingMode::stripe, 12, 3, 2, 1) == 5);
  CHECK_THROWS_WITH(check_sequence_split(SequenceLayout{RingMode::zigzag, 2, 3}, 20), Catch::Contains("seq_len"));
  CHECK_THROWS_WITH(check_sequence_split(SequenceLayout{RingMode::ring, 2, 4}, 12), Catch::Contains("Ulysses degree 4"));
}

namespace {

// Varlen Ulysses: three sequences packed in 32 tokens, split contiguously over the ranks (the
// middle one straddles them), against the fp64 varlen reference.
std::vector<double> varlen_errors(int world, int64_t hq, int64_t hk, bool causal, int window_left) {
  const int64_t total = 32, d = 16;
  auto in = testing::random_inputs(1, total, hq, hk, d, DType::f32, 77);
  auto packed = [&](const HostTensor& t) { return TensorView::contiguous(const_cast<void*>(t.data()), t.dtype(), {total, t.shape()[2], d}); };
  HostTensor cu(DType::i32, {4});
  const int cu_values[] = {0, 5, 19, 32};
  for (int i = 0; i < 4; ++i) cu.set_at(i, cu_values[i]);
  reference::AttnInputs ref_in{packed(in.q), packed(in.k), packed(in.v), cu.view(), cu.view()};
  reference::AttnOptions opt;
  opt.causal = causal;
  opt.window_left = window_left;
  const auto ref = reference::attention_forward_backward(ref_in, opt, packed(in.dout));
  HostTensor out(DType::f32, {total, hq, d}), lse(DType::f32, {hq, total}), dq(DType::f32, {total, hq, d}),
      dk(DType::f32, {total, hk, d}), dv(DType::f32, {total, hk, d});
  InProcessWorld transports(world);
  std::mutex mu;
  run_virtual_ranks(transports, [&](int rank, Transport& t) {
    ReferenceStepBackend backend(1);
    auto shard = [&](const TensorView& x, int dim) { return shard_sequence(x, dim, RingMode::ring, world, rank); };
    const HostTensor q = shard(packed(in.q), 0), k = shard(packed(in.k), 0), v = shard(packed(in.v), 0),
                     dout = shard(packed(in.dout), 0);
    RingAttnOptions o;
    o.causal = causal;
    o.window_left = window_left;
    const VarlenSequences seqs{cu.view(), 14};
    RankContext ctx{t, backend};
    RingForwardResult f = ulysses_attention_varlen_forward(ctx, q.view(), k.view(), v.view(), seqs, o);
    RingGradients g = ulysses_attention_varlen_backward(ctx, dout.view(), q.view(), k.view(), v.view(), f.out.view,
                                                        f.lse.view, seqs, o);
    std::lock_guard<std::mutex> lock(mu);
    unshard_sequence(f.out.view, out.view(), 0, RingMode::ring, world, rank);
    unshard_sequence(f.lse.view, lse.view(), 1, RingMode::ring, world, rank);
    unshard_sequence(g.dq.view, dq.view(), 0, RingMode::ring, world, rank);
    unshard_sequence(g.dk.view, dk.view(), 0, RingMode::ring, world, rank);
    unshard_sequence(g.dv.view, dv.view(), 0, RingMode::ring, world, rank);
  });
  return {testing::max_abs_diff(out.view(), ref.fwd.out.view()), testing::max_abs_diff(lse.view(), ref.fwd.lse.view()),
          testing::max_abs_diff(dq.view(), ref.grads.dq.view()), testing::max_abs_diff(dk.view(), ref.grads.dk.view()),
          testing::max_abs_diff(dv.view(), ref.grads.dv.view())};
}

}  // namespace

TEST_CASE("varlen ulysses: packed sequences straddling ranks match the fp64 varlen reference") {
  struct C {
    int world;
    int64_t hq, hk;
    bool causal;
    int window_left;
  };
  for (const C& c : {C{2, 4, 4, true, -1}, C{4, 4, 2, false, -1}, C{4, 4, 1, true, 3}, C{2, 2, 1, false, 6}}) {
    const std::vector<double> e = varlen_errors(c.world, c.hq, c.hk, c.causal, c.window_left);
    INFO("world " << c.world << " hq " << c.hq << " hk " << c.hk << " causal " << c.causal << " window " << c.window_left
                  << ": out " << e[0] << " lse " << e[1] << " dq " << e[2] << " dk " << e[3] << " dv " << e[4]);
    for (double x : e) CHECK(x < 2e-5);
  }
}
