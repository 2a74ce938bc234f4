// Every registered variant (attention/variants) through Ulysses on the CPU interpreter, worlds 2
// and 4, forward and backward, against the single-device API over the whole problem with the
// seed's per-rank rule (each rank's max diff <= 2.5 x (single-device vs fp64) + 2e-3), the
// gradients of trainable arguments (rel_pos_bias's table) included; USP and the ring for the
// variants that read no positions, and the clear rejection of those that do; bad arguments
// rejected before anything moves.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "attention/reference/reference.h"
#include "attention/variants/variant_spec.h"
#include "distributed/check/dist_check.h"
#include "tests/distributed/dist_check_testing.h"
#include "distributed/in_process_transport.h"
#include "distributed/interp_step_backend.h"
#include "distributed/launcher.h"
#include "distributed/sequence_split.h"
#include "distributed/usp_attention.h"
#include "ring_test_util.h"

using namespace tile;
using namespace tile::dist;

namespace {

// The global problem, the variant's random arguments (its own generator), the single-device
// results and their max diffs against fp64.
struct VariantProblem {
  int64_t batch = 2, seq = 0, hq = 0, hk = 0, d = 64;
  DType dtype = DType::bf16;
  bool causal = false;
  std::string variant;
  reference::OwnedInputs in;
  std::unique_ptr<attention::ArgGenerator> gen;  // owns the argument tensors
  attention::VariantArgs args;
  HostTensor single[4];                           // out, dq, dk, dv
  std::map<std::string, HostTensor> single_grads;  // trainable arguments, f32
  double single_max[4] = {};
  std::map<std::string, double> grad_single_max;
  double allowed(double single_diff) const { return kDistributedFactor * single_diff + kDistributedSlack; }
};

VariantProblem make_problem(const std::string& variant, int64_t seq, int64_t hq, int64_t hk, DType dtype, bool causal,
                            uint64_t seed) {
  VariantProblem p;
  p.seq = seq;
  p.hq = hq;
  p.hk = hk;
  p.dtype = dtype;
  p.causal = causal;
  p.variant = variant;
  p.in = testing::random_inputs(p.batch, seq, hq, hk, p.d, dtype, seed);
  attention::ProblemDims dims;
  dims.batch = p.batch;
  dims.nheads = hq;
  dims.nheads_k = hk;
  dims.seqlen_q = dims.seqlen_k = seq;
  const std::vector<int64_t> lens(static_cast<size_t>(p.batch), seq);
  p.gen = std::make_unique<attention::ArgGenerator>(dims, lens, lens, seed + 1);
  for (const attention::VariantSpec* part : attention::parse_variant(variant).parts) part->generate(*p.gen);
  p.args = p.gen->args();

  auto single = make_interp_step_backend(2);
  const double scale = 1.0 / std::sqrt(static_cast<double>(p.d));
  StepVariant v;
  v.registered = variant;
  v.args = p.args;
  HostTensor lse(DType::f32, {p.batch, hq, seq});
  p.single[0] = HostTensor(dtype, p.in.q.shape());
  p.single[1] = HostTensor(dtype, p.in.q.shape());
  p.single[2] = HostTensor(dtype, p.in.k.shape());
  p.single[3] = HostTensor(dtype, p.in.v.shape());
  StepForwardArgs f;
  f.q = p.in.q.view();
  f.k = p.in.k.view();
  f.v = p.in.v.view();
  f.causal = causal;
  f.variant = v;
  f.softmax_scale = scale;
  f.out = p.single[0].view();
  f.lse = lse.view();
  single->forward(f);
  StepBackwardArgs b;
  b.dout = p.in.dout.view();
  b.q = f.q;
  b.k = f.k;
  b.v = f.v;
  b.out = p.single[0].view();
  b.lse = lse.view();
  b.causal = causal;
  b.variant = v;
  b.softmax_scale = scale;
  b.dq = p.single[1].view();
  b.dk = p.single[2].view();
  b.dv = p.single[3].view();
  for (const attention::ArgSpec& a : attention::parse_variant(variant).args())
    if (a.has_grad) {
      p.single_grads[a.name] = HostTensor(DType::f32, p.args.at(a.name).tensor.sizes());
      b.variant_grads[a.name] = attention::VariantArg::of(p.single_grads[a.name].view());
    }
  single->backward(b);

  reference::AttnOptions opt;
  opt.causal = causal;
  opt.softmax_scale = scale;
  opt.variant = variant;
  opt.variant_args = p.args;
  const reference::AttnForwardBackward ref = reference::attention_forward_backward(p.in.inputs(), opt, p.in.dout.view());
  const HostTensor* ref64[4] = {&ref.fwd.out, &ref.grads.dq, &ref.grads.dk, &ref.grads.dv};
  for (int i = 0; i < 4; ++i) p.single_max[i] = testing::max_abs_diff(p.single[i].view(), ref64[i]->view());
  for (const auto& [name, g] : p.single_grads)
    p.grad_single_max[name] = testing::max_abs_diff(g.view(), ref.grads.variant_grads.at(name).view());
  return p;
}

// One rank's call: its shards in, its out/dq/dk/dv shards and the whole arguments' gradients out.
struct RankRun {
  HostTensor got[4];
  std::map<std::string, HostTensor> grads;
};
using RankCall = std::function<RankRun(Transport&, AttentionStepBackend&, const TensorView& q, const TensorView& k,
                                       const TensorView& v, const TensorView& dout, const RingAttnOptions&)>;

RankRun collect(const RingForwardResult& f, const RingGradients& g) {
  RankRun r;
  r.got[0] = to_host_tensor(f.out.view, f.out.view.dtype);
  r.got[1] = to_host_tensor(g.dq.view, g.dq.view.dtype);
  r.got[2] = to_host_tensor(g.dk.view, g.dk.view.dtype);
  r.got[3] = to_host_tensor(g.dv.view, g.dv.view.dtype);
  for (const auto& [name, t] : g.variant_grads) r.grads[name] = to_host_tensor(t.view, DType::f32);
  return r;
}

const char* kNames[4] = {"out", "dq", "dk", "dv"};

// Runs `call` on every rank over `layout`'s shards and checks the per-rank rule.
void check_per_rank(const VariantProblem& p, const SequenceLayout& layout, const RankCall& call) {
  const int world = layout.world();
  InProcessWorld transports(world);
  std::vector<RankRun> runs(static_cast<size_t>(world));
  run_virtual_ranks(transports, [&](int rank, Transport& t) {
    auto backend = make_interp_step_backend(1);
    auto shard = [&](const HostTensor& x) { return shard_sequence(x.view(), 1, layout, rank); };
    const HostTensor q = shard(p.in.q), k = shard(p.in.k), v = shard(p.in.v), dout = shard(p.in.dout);
    RingAttnOptions o;
    o.causal = p.causal;
    o.variant = p.variant;
    o.variant_args = p.args;
    runs[static_cast<size_t>(rank)] = call(t, *backend, q.view(), k.view(), v.view(), dout.view(), o);
  });
  for (int rank = 0; rank < world; ++rank) {
    const RankRun& r = runs[static_cast<size_t>(rank)];
    for (int i = 0; i < 4; ++i) {
      const double diff = testing::max_abs_diff(r.got[i].view(), shard_sequence(p.single[i].view(), 1, layout, rank).view());
      INFO(p.variant << " world " << world << " rank " << rank << " " << kNames[i] << " diff " << diff << " allowed "
                     << p.allowed(p.single_max[i]));
      CHECK(diff <= p.allowed(p.single_max[i]));
    }
    CHECK(r.grads.size() == p.single_grads.size());
    for (const auto& [name, want] : p.single_grads) {
      REQUIRE(r.grads.count(name) == 1);
      const double diff = testing::max_abs_diff(r.grads.at(name).view(), want.view());
      INFO(p.variant << " world " << world << " rank " << rank << " d " << name << " diff " << diff << " allowed "
                     << p.allowed(p.grad_single_max.at(name)));
      CHECK(diff <= p.allowed(p.grad_single_max.at(name)));
    }
  }
}

RankRun ulysses_call(Transport& t, AttentionStepBackend& be, const TensorView& q, const TensorView& k,
                     const TensorView& v, const TensorView& dout, const RingAttnOptions& o) {
  RankContext ctx{t, be};
  const RingForwardResult f = ulysses_attention_forward(ctx, q, k, v, o);
  return collect(f, ulysses_attention_backward(ctx, dout, q, k, v, f.out.view, f.lse.view, o));
}

RankCall usp_call(RingMode split, int ulysses_degree) {
  return [split, ulysses_degree](Transport& t, AttentionStepBackend& be, const TensorView& q, const TensorView& k,
                                 const TensorView& v, const TensorView& dout, const RingAttnOptions& o) {
    UspGroups groups = make_usp_groups(t, ulysses_degree);
    const UspContext ctx{*groups.ulysses, *groups.ring, be};
    const RingForwardResult f = usp_attention_forward(split, ctx, q, k, v, o);
    return collect(f, usp_attention_backward(split, ctx, dout, q, k, v, f.out.view, f.lse.view, o));
  };
}

RankCall ring_call(RingMode mode) {
  return [mode](Transport& t, AttentionStepBackend& be, const TensorView& q, const TensorView& k, const TensorView& v,
                const TensorView& dout, const RingAttnOptions& o) {
    RankContext ctx{t, be};
    const RingForwardResult f = ring_attention_forward(mode, ctx, q, k, v, o);
    return collect(f, ring_attention_backward(mode, ctx, dout, q, k, v, f.out.view, f.lse.view, o));
  };
}

}  // namespace

TEST_CASE("interp: every registered variant through ulysses, worlds 2 and 4, against the single-device API") {
  // World 2: two q heads and one k/v head per rank; world 4: one q head per rank, each k/v head
  // replicated on two ranks.
  for (const std::string& name : attention::variant_names())
    for (int world : {2, 4}) {
      const VariantProblem p = make_problem(name, 32 * world, 4, 2, DType::bf16, /*causal=*/false, 40 + world);
      check_per_rank(p, SequenceLayout::ring(RingMode::ring, world), ulysses_call);
    }
}

TEST_CASE("interp: variants under causal ulysses") {
  for (const char* name : {"rel_pos_bias", "document_mask"}) {
    const VariantProblem p = make_problem(name, 64, 4, 4, DType::bf16, /*causal=*/true, 7);
    check_per_rank(p, SequenceLayout::ring(RingMode::ring, 2), ulysses_call);
  }
}

TEST_CASE("interp: a variant that reads no positions runs through usp and the ring") {
  // fp16: the ring's partial outputs come back in the input dtype (interp_modes_test.cc says why).
  for (const std::string& name : attention::variant_names()) {
    if (attention::find_variant(name)->reads_positions) continue;
    const VariantProblem p = make_problem(name, 128, 4, 2, DType::f16, /*causal=*/true, 11);
    check_per_rank(p, {RingMode::zigzag, 2, 2}, usp_call(RingMode::zigzag, 2));
    check_per_rank(p, SequenceLayout::ring(RingMode::zigzag, 2), ring_call(RingMode::zigzag));
  }
}

TEST_CASE("interp: usp with a ring degree > 1 and the ring reject a variant that reads positions, naming it") {
  for (const std::string& name : attention::variant_names()) {
    if (!attention::find_variant(name)->reads_positions) continue;
    const VariantProblem p = make_problem(name, 64, 4, 2, DType::bf16, false, 3);
    CHECK_THROWS_WITH(check_per_rank(p, {RingMode::zigzag, 2, 2}, usp_call(RingMode::zigzag, 2)),
                      Catch::Contains("variant: '" + name + "' reads token positions"));
    CHECK_THROWS_WITH(check_per_rank(p, SequenceLayout::ring(RingMode::ring, 2), ring_call(RingMode::ring)),
                      Catch::Contains("variant: '" + name + "'"));
  }
}

namespace {

// The error of every rank's ulysses_attention_forward with `edit` applied to the options.
std::string ulysses_error(const VariantProblem& p, const std::function<void(RingAttnOptions&)>& edit) {
  try {
    check_per_rank(p, SequenceLayout::ring(RingMode::ring, 2),
                   [&](Transport& t, AttentionStepBackend& be, const TensorView& q, const TensorView& k,
                       const TensorView& v, const TensorView& dout, const RingAttnOptions& o) {
                     RingAttnOptions bad = o;
                     edit(bad);
                     RankContext ctx{t, be};
                     ulysses_attention_forward(ctx, q, k, v, bad);
                     return RankRun();
                   });
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("interp: ulysses rejects a missing, misshapen or unknown variant argument before anything moves") {
  const VariantProblem p = make_problem("rel_pos_bias", 64, 4, 2, DType::bf16, false, 5);
  CHECK_THAT(ulysses_error(p, [](RingAttnOptions& o) { o.variant_args.clear(); }), Catch::Contains("bias_table"));
  HostTensor wrong(DType::f32, {3, 9});  // 3 heads, not 4
  CHECK_THAT(ulysses_error(p, [&](RingAttnOptions& o) { o.variant_args["bias_table"] = attention::VariantArg::of(wrong.view()); }),
             Catch::Contains("bias_table"));
  CHECK_THAT(ulysses_error(p, [](RingAttnOptions& o) { o.variant = "no_such_variant"; }), Catch::Contains("variant"));
  CHECK_THAT(ulysses_error(p, [](RingAttnOptions& o) { o.variant_args["stray"] = attention::VariantArg::scalar(1); }),
             Catch::Contains("stray"));
  const VariantProblem docs = make_problem("document_mask", 64, 4, 2, DType::bf16, false, 5);
  HostTensor short_ids(DType::i32, {2, 32});  // a rank's shard, not the whole sequence
  CHECK_THAT(ulysses_error(docs, [&](RingAttnOptions& o) { o.variant_args["document_id"] = attention::VariantArg::of(short_ids.view()); }),
             Catch::Contains("document_id"));
}

TEST_CASE("the check's --variant: flags checked before anything runs, per-rank lines for trainable arguments") {
  using dist::testing::parse;
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend interp --mode ulysses --nheads 2 --seq_len 64 --variant nope"),
                    Catch::Contains("--variant") && Catch::Contains("rel_pos_bias"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend reference --mode ulysses --nheads 2 --seq_len 64 --variant alibi"),
                    Catch::Contains("--variant") && Catch::Contains("reference"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 2 --backend interp --mode zigzag --seq_len 64 --variant document_mask"),
                    Catch::Contains("--variant: 'document_mask' reads token positions"));
  CHECK_THROWS_WITH(parse("--virtual_ranks 4 --backend interp --mode usp --ulysses_degree 2 --nheads 2 --seq_len 64 "
                          "--variant prefix_lm"),
                    Catch::Contains("--variant: 'prefix_lm'"));
  CHECK(parse("--virtual_ranks 4 --backend interp --mode usp --ulysses_degree 4 --nheads 4 --seq_len 64 --variant alibi")
            .variant == "alibi");

  auto run = [](const std::string& flags) {
    std::ostringstream out;
    const int code = run_virtual_rank_check(dist::testing::parse(flags), [](int) { return make_interp_step_backend(1); }, out);
    INFO(flags << "\n" << out.str());
    CHECK(code == 0);
    CHECK(dist::testing::last_line(out.str()) == "PASS");
    return out.str();
  };
  const std::string rel = run("--virtual_ranks 4 --backend interp --mode ulysses --seq_len 128 --nheads 4 --nheads_k 2 "
                              "--head_size 64 --variant rel_pos_bias --seed 2");
  CHECK(rel.find("variant rel_pos_bias") != std::string::npos);
  CHECK(rel.find("dbias_table diff:\nRank[3] max ") != std::string::npos);
  run("--virtual_ranks 2 --backend interp --mode ulysses --seq_len 64 --nheads 2 --head_size 64 --causal "
      "--variant document_mask+alibi");
  run("--virtual_ranks 4 --backend interp --mode usp --ulysses_degree 2 --seq_len 128 --nheads 4 --head_size 64 --causal "
      "--dtype fp16 --variant head_temperature");
}

TEST_CASE("interp: every registered variant through varlen ulysses (sequences straddling ranks)") {
  const int world = 2;
  const int64_t total = 128, hq = 4, hk = 2, d = 64;
  const std::vector<int64_t> lens = {40, 57, 31};
  HostTensor cu(DType::i32, {4});
  const int cu_values[] = {0, 40, 97, 128};  // the middle sequence straddles the two ranks
  for (int i = 0; i < 4; ++i) cu.set_at(i, cu_values[i]);
  const reference::OwnedInputs in = testing::random_inputs(1, total, hq, hk, d, DType::bf16, 17);
  auto packed = [&](const HostTensor& t) {
    return TensorView::contiguous(const_cast<void*>(t.data()), t.dtype(), {total, t.shape()[2], d});
  };
  StepVarlen varlen;
  varlen.cu_seqlens_q = varlen.cu_seqlens_k = cu.view();
  varlen.max_seqlen_q = varlen.max_seqlen_k = 57;
  attention::ProblemDims dims;
  dims.batch = 3;
  dims.nheads = hq;
  dims.nheads_k = hk;
  dims.seqlen_q = dims.seqlen_k = 57;
  dims.varlen = true;
  dims.total_q = dims.total_k = total;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  for (const std::string& name : attention::variant_names()) {
    attention::ArgGenerator gen(dims, lens, lens, 23);
    for (const attention::VariantSpec* part : attention::parse_variant(name).parts) part->generate(gen);
    const attention::VariantArgs args = gen.args();
    // The single-device varlen call and the fp64 reference.
    auto single = make_interp_step_backend(2);
    StepVariant variant;
    variant.registered = name;
    variant.args = args;
    HostTensor out(DType::bf16, {total, hq, d}), lse(DType::f32, {hq, total}), dq(DType::bf16, {total, hq, d}),
        dk(DType::bf16, {total, hk, d}), dv(DType::bf16, {total, hk, d});
    std::map<std::string, HostTensor> grads;
    StepForwardArgs f{packed(in.q), packed(in.k), packed(in.v), false, variant, scale, out.view(), lse.view(), varlen};
    single->forward(f);
    StepBackwardArgs b{packed(in.dout), packed(in.q), packed(in.k), packed(in.v), out.view(), lse.view(), false, variant,
                       scale, dq.view(), dk.view(), dv.view(), varlen};
    for (const attention::ArgSpec& a : attention::parse_variant(name).args())
      if (a.has_grad) {
        grads[a.name] = HostTensor(DType::f32, args.at(a.name).tensor.sizes());
        b.variant_grads[a.name] = attention::VariantArg::of(grads[a.name].view());
      }
    single->backward(b);
    reference::AttnInputs ref_in{packed(in.q), packed(in.k), packed(in.v), cu.view(), cu.view()};
    reference::AttnOptions opt;
    opt.softmax_scale = scale;
    opt.variant = name;
    opt.variant_args = args;
    const reference::AttnForwardBackward ref = reference::attention_forward_backward(ref_in, opt, packed(in.dout));
    const HostTensor* mine[4] = {&out, &dq, &dk, &dv};
    const HostTensor* ref64[4] = {&ref.fwd.out, &ref.grads.dq, &ref.grads.dk, &ref.grads.dv};

    InProcessWorld transports(world);
    std::vector<RankRun> runs(static_cast<size_t>(world));
    run_virtual_ranks(transports, [&](int rank, Transport& t) {
      auto backend = make_interp_step_backend(1);
      auto shard = [&](const TensorView& x) { return shard_sequence(x, 0, RingMode::ring, world, rank); };
      const HostTensor q = shard(packed(in.q)), k = shard(packed(in.k)), v = shard(packed(in.v)),
                       dout = shard(packed(in.dout));
      RingAttnOptions o;
      o.variant = name;
      o.variant_args = args;
      const VarlenSequences seqs{cu.view(), 57};
      RankContext ctx{t, *backend};
      const RingForwardResult r = ulysses_attention_varlen_forward(ctx, q.view(), k.view(), v.view(), seqs, o);
      runs[static_cast<size_t>(rank)] = collect(
          r, ulysses_attention_varlen_backward(ctx, dout.view(), q.view(), k.view(), v.view(), r.out.view, r.lse.view, seqs, o));
    });
    for (int rank = 0; rank < world; ++rank) {
      const RankRun& r = runs[static_cast<size_t>(rank)];
      for (int i = 0; i < 4; ++i) {
        const double allowed = CheckProblem::allowed_for(testing::max_abs_diff(mine[i]->view(), ref64[i]->view()));
        const double diff =
            testing::max_abs_diff(r.got[i].view(), shard_sequence(mine[i]->view(), 0, RingMode::ring, world, rank).view());
        INFO(name << " varlen rank " << rank << " " << kNames[i] << " diff " << diff << " allowed " << allowed);
        CHECK(diff <= allowed);
      }
      REQUIRE(r.grads.size() == grads.size());
      for (const auto& [arg, want] : grads) {
        const double allowed =
            CheckProblem::allowed_for(testing::max_abs_diff(want.view(), ref.grads.variant_grads.at(arg).view()));
        const double diff = testing::max_abs_diff(r.grads.at(arg).view(), want.view());
        INFO(name << " varlen rank " << rank << " d " << arg << " diff " << diff << " allowed " << allowed);
        CHECK(diff <= allowed);
      }
    }
  }
}
