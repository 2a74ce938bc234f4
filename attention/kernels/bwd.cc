// FlashAttention backward (FlashAttention-2's algorithm 2) as tile programs:
//   attn_bwd_preprocess  delta = rowsum(dO ∘ O), and the LSE in log2 (+inf for rows that saw no
//                        key, so their probabilities come out exp2(-inf) = 0 with no test).
//   attn_bwd_dkdv        one program per key block of one k/v head: walks the query blocks (of
//                        every q head sharing that k/v head, so GQA needs no reduction pass),
//                        recomputing P from the saved LSE; dK, dV accumulate in f32 registers.
//                        Key-major, as FlashAttention-3's: Sᵀ, Pᵀ and dSᵀ are [keys, queries]
//                        tiles, each warpgroup owns 64 of the 128 key rows of every dot but
//                        dQ's, and Pᵀ and dSᵀ feed the dV and dK dots from registers.
//                        With ATOMIC_DQ it also adds each dQ = dS·K into an f32 buffer (dS goes
//                        through shared memory once, as that dot's A operand).
//   attn_bwd_dq          deterministic dQ: one program per query block walks the key blocks.
//   attn_dq_convert      the atomic path's f32 dQ buffer -> the output dtype.
// Gradients w.r.t. the scores: dS = P ∘ (dP − delta) with dP = dO·Vᵀ, then through the score
// modification, the softcap (1 − tanh²) and the softmax scale.
#include <cmath>
#include <functional>

#include "attention/kernels/attention_kernel.h"
#include "attention/kernels/block_mask_args.h"

namespace tile::attention {

namespace {

// Everything a backward program reads for one query block of head h. The per-query LSE and
// delta are loaded where they are used (`lse_log2()`, `delta()`): the dK/dV program needs them
// as [1, BM] rows broadcast over its key rows, 16 registers a thread each, so they are loaded
// after the dots that produce the scores are issued, not alongside Q and dO.
struct QueryBlock {
  Tile q, dout, rows;
  std::function<Tile()> lse_log2, delta;
};

// Head h's first query row of Q and of dO, made once per head: the loads of every query loop
// of that head then read one pointer value, so that with warp roles their stages form one ring
// over the loops (lowering/passes/stage_rings.h) instead of a ring per loop.
struct QueryHeads {
  Ptr q, dout;
};

QueryHeads query_heads(const HeadTensor& q, const HeadTensor& dout, const SeqBounds& seq, const Int& b, const Int& h) {
  return QueryHeads{q.head(b, seq.q_row0, h), dout.head(b, seq.q_row0, h)};
}

QueryBlock load_query_block(const QueryHeads& heads, const HeadTensor& q, const HeadTensor& dout,
                            const Ptr& lse_log2, const Ptr& delta, const AttnScalars& s, const AttnConfig& c,
                            const SeqBounds& seq, const Int& b, const Int& h, const Int& m0) {
  const int BM = c.block_m, DT = c.head_dim, DVT = c.head_dim_v;
  const HeadDimsIn dims = head_dims(c, s);
  const Int D = dims.d, DV = dims.dv;
  QueryBlock blk;
  blk.q = load_block(heads.q, {seq.len_q, D}, {q.row_stride, 1}, {m0, 0}, {BM, DT});
  blk.dout = load_block(heads.dout, {seq.len_q, DV}, {dout.row_stride, 1}, {m0, 0}, {BM, DVT});
  blk.rows = (m0 + arange(0, BM)).col();
  Int row0 = b * s.lse_batch + h * s.lse_head + seq.q_row0;
  Int len_q = seq.len_q;
  auto per_row = [row0, len_q, m0, BM](Ptr base) {
    return [base, row0, len_q, m0, BM] { return load_block(base + row0, {len_q}, {1}, {m0}, {BM}); };
  };
  blk.lse_log2 = per_row(lse_log2);
  blk.delta = per_row(delta);
  return blk;
}

// The same block with its LSE and delta loaded now, for a program that holds one query block
// over its whole loop.
QueryBlock hold_query_rows(QueryBlock blk) {
  Tile lse_log2 = blk.lse_log2(), delta = blk.delta();
  blk.lse_log2 = [lse_log2] { return lse_log2; };
  blk.delta = [delta] { return delta; };
  return blk;
}

// P and dS (w.r.t. the raw q·kᵀ products, before the softmax scale) of one (query, key) block:
// [queries, keys] tiles, or [keys, queries] ones when `key_major` (then ctx.rows holds the
// queries as a [1, BM] row and ctx.cols the keys as a [BN, 1] column; score mods and masks
// broadcast either way).
struct ScoreGrads {
  Tile probs, dscores;
  Tile dscores_out, scores_in;  // d loss / d (the mod's output scores), and its input scores
};

// The LSE row is read at its use, after the scores' wait. Read before it (under the dots), the
// d=128 program with dQ first was up to 1.3 % slower and the deterministic ones 0-2.3 % slower
// (H100, bench/RESULTS.md, 2026-12-07).
ScoreGrads score_grads(const QueryBlock& qb, const Tile& k_blk, const Tile& v_blk,
                       const ScoreContext& ctx, const AttnConfig& c, const AttnScalars& s,
                       ScoreMod& mod, bool masked, bool key_major) {
  auto per_query = [&](const Tile& t) { return key_major ? t.row() : t.col(); };
  // Both dots are issued before either result is read, so the second runs under the first's
  // wait and the scaling after it.
  Tile raw = key_major ? dot(k_blk, trans(qb.q)) : dot(qb.q, trans(k_blk));
  Tile dprobs = key_major ? dot(v_blk, trans(qb.dout)) : dot(qb.dout, trans(v_blk));
  Tile tanh_t;
  Tile scores_in = scale_scores(raw, c, s, &tanh_t);
  Tile scores = mod.apply(scores_in, ctx);
  if (masked) scores = where(visible_to(mod, ctx, s), scores, -INFINITY);
  Tile probs = exp2(scores - per_query(qb.lse_log2()));
  Tile ds_out = probs * (dprobs - per_query(qb.delta()));
  Tile ds = mod.grad(ds_out, scores_in, ctx);
  if (c.softcap) ds = ds * (1.0 - tanh_t * tanh_t);
  return ScoreGrads{probs, ds, ds_out, scores_in};
}

struct BwdArgs {
  HeadTensor q, k, v, o, dout, dq, dk, dv, dq_accum;
  Ptr lse, delta, lse_log2;
  AttnScalars s;

  // `aligned`: the exact head-dim specialisations assume 16-byte aligned rows (HeadTensor).
  static BwdArgs declare(KernelBuilder& k, DType t, bool aligned) {
    BwdArgs a;
    a.q = HeadTensor::declare(k, "q", t, aligned);
    a.k = HeadTensor::declare(k, "k", t, aligned);
    a.v = HeadTensor::declare(k, "v", t, aligned);
    a.o = HeadTensor::declare(k, "o", t, aligned);
    a.dout = HeadTensor::declare(k, "dout", t, aligned);
    a.dq = HeadTensor::declare(k, "dq", t, aligned);
    a.dk = HeadTensor::declare(k, "dk", t, aligned);
    a.dv = HeadTensor::declare(k, "dv", t, aligned);
    a.dq_accum = HeadTensor::declare(k, "dq_accum", DType::f32, aligned);
    a.lse = k.arg_ptr("lse", DType::f32);
    a.delta = k.arg_ptr("delta", DType::f32);
    a.lse_log2 = k.arg_ptr("lse_log2", DType::f32);
    a.s = AttnScalars::declare(k);
    return a;
  }
};

}  // namespace

// All backward kernels share one argument list (BwdArgs) so the host fills it once.

void attention_bwd_preprocess(KernelBuilder& k, const Params& p) {
  const AttnConfig c = AttnConfig::from(p);
  k.set_num_warps(c.num_warps);
  BwdArgs a = BwdArgs::declare(k, c.dtype, !c.ragged);
  Int m0 = program_id(0) * c.block_m;
  Int b = program_id(1) / a.s.nheads, h = program_id(1) % a.s.nheads;
  SeqBounds seq = sequence_bounds(a.s, b);
  const Int DV = head_dims(c, a.s).dv;
  if_(m0 < seq.len_q, [&] {
    const Shape blk{c.block_m, c.head_dim_v};
    Tile o = load_block(a.o.head(b, seq.q_row0, h), {seq.len_q, DV}, {a.o.row_stride, 1}, {m0, 0}, blk);
    Tile d = load_block(a.dout.head(b, seq.q_row0, h), {seq.len_q, DV}, {a.dout.row_stride, 1}, {m0, 0}, blk);
    Tile delta = sum(o.to<f32>() * d.to<f32>(), 1);
    Int row0 = b * a.s.lse_batch + h * a.s.lse_head + seq.q_row0;
    store_block(a.delta + row0, {seq.len_q}, {1}, {m0}, delta);
    Tile lse = load_block(a.lse + row0, {seq.len_q}, {1}, {m0}, {c.block_m});
    store_block(a.lse_log2 + row0, {seq.len_q}, {1}, {m0}, where(lse == -INFINITY, INFINITY, lse * kLog2e));
  });
}

void attention_bwd_dkdv(KernelBuilder& k, const Params& p, ScoreMod* mod, bool block_sparse) {
  const AttnConfig c = AttnConfig::from(p);
  const int BM = c.block_m, BN = c.block_n, DT = c.head_dim, DVT = c.head_dim_v;
  const bool atomic_dq = p.get_bool("ATOMIC_DQ");
  // Key-major where the key block gives every warpgroup the 64 rows of a wgmma; narrower key
  // blocks (d=256) keep the query-major order, whose Pᵀ and dSᵀ reach the dV/dK dots through
  // shared memory (key-major spilled 844 B there, query-major none: ptxas, bf16).
  const bool key_major = BN >= 64 * (c.num_warps / 4);
  // With atomic dQ, dQ's dot is issued before dK's where it is a wgmma (key-major, d >= 128):
  // the wait for dQ (to scale and add it) then leaves dK on the tensor cores. ncu had 5.7 % of
  // the d=128 program's stall samples on a wait for dV, dK and dQ together; 2.8-3.6 % faster
  // (H100, bench/RESULTS.md, 2026-12-07). At d=64 dQ's dot is an mma.sync, which nothing runs
  // under: there the order only lengthens live ranges (ptxas 208 -> 243 registers; timed with an
  // early LSE read as well, 234 registers, 2-3 % slower), so it keeps dK first.
  const bool dq_under_dk = atomic_dq && key_major && DT >= 128;
  k.set_num_warps(c.num_warps);
  // Warp roles at the exact d=128 (key-major): a producer warpgroup copies Q and dO by TMA, with
  // the per-query LSE and delta riding in Q's stages, while these warps compute; no block-wide
  // barrier hands the stages back. ptxas (bf16): 40/232 registers, 0 B of spills atomic and
  // deterministic (as without), softcap 476 -> 420 B. Not at d=64's 128x128 (48 -> 196 B
  // atomic, 144 -> 392 B deterministic; d=64 at 64x128 with roles spills none but measured
  // 1-24 % slower than 128x128 without) or at ragged dims (16 -> 116 B at 128). With a block
  // mask too, now that both of its loops walk lists and are producer-fed (ptxas, bf16, d=128,
  // atomic / deterministic: document mask 484 / 468 -> 440 / 416 B, sliding window with sinks
  // 0 / 0 -> 0 / 16 B, prefix-LM 0 / 0 either way; not timed).
  k.set_warp_specialized(key_major && !c.ragged && DT >= 128);
  BwdArgs a = BwdArgs::declare(k, c.dtype, !c.ragged);
  ScoreMod plain;
  ScoreMod& score_mod = mod ? *mod : plain;
  score_mod.declare_args(k);
  score_mod.declare_grad_args(k);
  BlockMaskArgs bm;
  if (block_sparse) bm = BlockMaskArgs::declare(k);
  const AttnScalars& s = a.s;
  const HeadDimsIn dims = head_dims(c, s);
  const Int D = dims.d, DV = dims.dv;

  Int n0 = program_id(0) * BN;
  Int nheads_k = s.nheads / s.heads_per_kv;
  Int b = program_id(1) / nheads_k, hk = program_id(1) % nheads_k;
  SeqBounds seq = sequence_bounds(s, b);
  if_(n0 < seq.len_k, [&] {
    Tile k_blk = load_block(a.k.head(b, seq.k_row0, hk), {seq.len_k, D}, {a.k.row_stride, 1}, {n0, 0}, {BN, DT});
    Tile v_blk = load_block(a.v.head(b, seq.k_row0, hk), {seq.len_k, DV}, {a.v.row_stride, 1}, {n0, 0}, {BN, DVT});
    Tile key_index = n0 + arange(0, BN);
    Tile keys = key_major ? key_index.col() : key_index.row();
    score_mod.setup_keys(KeySide{keys, b, hk, seq});
    QueryRange qr = query_range(n0, seq, s, BM, BN);
    // One query block's contribution: dV += Pᵀ dO, dK += dSᵀ Q (key-major: Pᵀ and dSᵀ as A
    // operands in registers), and with atomic dQ, dQ += dS K.
    auto step = [&](Int h, const QueryHeads& heads, bool masked) {
      return [&, h, heads, masked](Int m0, Tile dk, Tile dv) {
        QueryBlock qb = load_query_block(heads, a.q, a.dout, a.lse_log2, a.delta, s, c, seq, b, h, m0);
        ScoreContext ctx{key_major ? (m0 + arange(0, BM)).row() : qb.rows, keys, b, h, seq};
        ScoreGrads sg = score_grads(qb, k_blk, v_blk, ctx, c, s, score_mod, masked, key_major);
        // Trainable variant arguments: every (query, key) pair is visited here exactly once.
        if (score_mod.has_arg_grads()) score_mod.accumulate_arg_grads(sg.dscores_out, sg.scores_in, ctx);
        Tile p = sg.probs.to(c.dtype), ds = sg.dscores.to(c.dtype);
        Tile p_t = key_major ? p : trans(p), ds_t = key_major ? ds : trans(ds);  // [BN, BM]
        dv = dot(p_t, qb.dout, dv);
        if (!dq_under_dk) dk = dot(ds_t, qb.q, dk);
        if (atomic_dq) {
          Tile dq = dot(key_major ? trans(ds) : ds, k_blk);  // [BM, D]
          if (dq_under_dk) dk = dot(ds_t, qb.q, dk);
          // Block addressing (store_block's): base + constant offsets, no address registers.
          atomic_add_block(a.dq_accum.head(b, seq.q_row0, h), {seq.len_q, D}, {a.dq_accum.row_stride, 1}, {m0, 0},
                           dq * s.softmax_scale);
        }
        return carry(dk, dv);
      };
    };
    // Only the query blocks that see part of the key block pay for the mask (the causal
    // diagonal, a window's edges, ragged ends); the long middle runs unmasked and pipelined.
    auto grads = for_range(0, s.heads_per_kv, 1, carry(zeros<f32>({BN, DT}), zeros<f32>({BN, DVT})),
        [&](Int g, Tile dk, Tile dv) {
          Int h = hk * s.heads_per_kv + g;
          const QueryHeads heads = query_heads(a.q, a.dout, seq, b, h);
          if (block_sparse) {
            // The block mask's column: its partial query blocks masked, then its full ones
            // unmasked, each a pipelined loop over the listed blocks.
            BlockLists lists = bm.q_lists_at(bm.col(b, h, n0 / BN));
            auto listed = [&](const Ptr& list, bool masked) {
              return [&, list, masked](Int i, Tile dk, Tile dv) {
                return step(h, heads, masked)(load_scalar(list, i) * BM, dk, dv);
              };
            };
            auto acc = for_range(0, lists.n_partial, 1, carry(dk, dv), listed(lists.partial, true), /*stages=*/2);
            return for_range(0, lists.n_full, 1, acc, listed(lists.full, false), /*stages=*/2);
          }
          // A variant's mask is evaluated on every block.
          if (score_mod.has_mask()) return for_range(qr.lo, qr.hi, BM, carry(dk, dv), step(h, heads, true), /*stages=*/2);
          auto acc = for_range(qr.lo, qr.full_lo, BM, carry(dk, dv), step(h, heads, true), /*stages=*/2);
          acc = for_range(qr.full_lo, qr.full_hi, BM, acc, step(h, heads, false), /*stages=*/2);
          return for_range(qr.full_hi, qr.hi, BM, acc, step(h, heads, true), /*stages=*/2);
        });
    auto [dk, dv] = grads;
    store_block(a.dk.head(b, seq.k_row0, hk), {seq.len_k, D}, {a.dk.row_stride, 1}, {n0, 0},
                (dk * s.softmax_scale).to(c.dtype));
    store_block(a.dv.head(b, seq.k_row0, hk), {seq.len_k, DV}, {a.dv.row_stride, 1}, {n0, 0}, dv.to(c.dtype));
  });
}

void attention_bwd_dq(KernelBuilder& k, const Params& p, ScoreMod* mod, bool block_sparse) {
  const AttnConfig c = AttnConfig::from(p);
  const int BM = c.block_m, BN = c.block_n, DT = c.head_dim, DVT = c.head_dim_v;
  k.set_num_warps(c.num_warps);
  // Warp roles at exact head dims up to 128: a producer warpgroup feeds K and V by TMA (ptxas,
  // bf16: 24/240 registers, 0 B of spills at d=64 and 128, as without). Not with a block mask
  // (ptxas, bf16, d=128: document mask 964 -> 1196 B; the other masks 0 B either way).
  k.set_warp_specialized(!c.ragged && DT <= 128 && !block_sparse);
  BwdArgs a = BwdArgs::declare(k, c.dtype, !c.ragged);
  ScoreMod plain;
  ScoreMod& score_mod = mod ? *mod : plain;
  score_mod.declare_args(k);
  score_mod.declare_grad_args(k);  // bound like the dK/dV kernel's; accumulated there only
  BlockMaskArgs bm;
  if (block_sparse) bm = BlockMaskArgs::declare(k);
  const AttnScalars& s = a.s;
  const HeadDimsIn dims = head_dims(c, s);
  const Int D = dims.d, DV = dims.dv;

  Int m0 = (num_programs(0) - 1 - program_id(0)) * BM;  // heaviest (last) query blocks first
  Int b = program_id(1) / s.nheads, h = program_id(1) % s.nheads, hk = h / s.heads_per_kv;
  SeqBounds seq = sequence_bounds(s, b);
  if_(m0 < seq.len_q, [&] {
    QueryBlock qb = hold_query_rows(
        load_query_block(query_heads(a.q, a.dout, seq, b, h), a.q, a.dout, a.lse_log2, a.delta, s, c, seq, b, h, m0));
    score_mod.setup_queries(QuerySide{qb.rows, b, h, seq});
    Ptr k_head = a.k.head(b, seq.k_row0, hk), v_head = a.v.head(b, seq.k_row0, hk);
    KeyRange r = key_range(m0, seq, s, BM, BN);
    auto step = [&](bool masked) {
      return [&, masked](Int n0, Tile dq) {
        Tile k_blk = load_block(k_head, {seq.len_k, D}, {a.k.row_stride, 1}, {n0, 0}, {BN, DT});
        Tile v_blk = load_block(v_head, {seq.len_k, DV}, {a.v.row_stride, 1}, {n0, 0}, {BN, DVT});
        ScoreContext ctx{qb.rows, (n0 + arange(0, BN)).row(), b, h, seq};
        ScoreGrads sg = score_grads(qb, k_blk, v_blk, ctx, c, s, score_mod, masked, /*key_major=*/false);
        return dot(sg.dscores.to(c.dtype), k_blk, dq);
      };
    };
    // Masks only on the key blocks this query block sees in part; the middle is pipelined. A
    // variant's mask is evaluated on every block.
    Tile dq = zeros<f32>({BM, DT});
    if (block_sparse) {  // as the forward: the listed partial blocks masked, the full ones not
      BlockLists lists = bm.kv_lists_at(bm.row(b, h, m0 / BM));
      auto listed = [&](const Ptr& list, bool masked) {
        return [&, list, masked](Int i, Tile dq) { return step(masked)(load_scalar(list, i) * BN, dq); };
      };
      dq = for_range(0, lists.n_partial, 1, dq, listed(lists.partial, true), /*stages=*/2);
      dq = for_range(0, lists.n_full, 1, dq, listed(lists.full, false), /*stages=*/2);
    } else if (score_mod.has_mask()) {
      dq = for_range(r.lo, r.hi, BN, dq, step(true), /*stages=*/2);
    } else {
      dq = for_range(r.lo, r.full_lo, BN, dq, step(true));
      dq = for_range(r.full_lo, r.full_hi, BN, dq, step(false), /*stages=*/2);
      dq = for_range(r.full_hi, r.hi, BN, dq, step(true));
    }
    store_block(a.dq.head(b, seq.q_row0, h), {seq.len_q, D}, {a.dq.row_stride, 1}, {m0, 0},
                (dq * s.softmax_scale).to(c.dtype));
  });
}

void attention_dq_convert(KernelBuilder& k, const Params& p) {
  const AttnConfig c = AttnConfig::from(p);
  const int BM = c.block_m, DT = c.head_dim;
  k.set_num_warps(c.num_warps);
  BwdArgs a = BwdArgs::declare(k, c.dtype, !c.ragged);
  Int m0 = program_id(0) * BM;
  Int b = program_id(1) / a.s.nheads, h = program_id(1) % a.s.nheads;
  SeqBounds seq = sequence_bounds(a.s, b);
  const Int D = head_dims(c, a.s).d;
  if_(m0 < seq.len_q, [&] {
    Tile dq = load_block(a.dq_accum.head(b, seq.q_row0, h), {seq.len_q, D}, {a.dq_accum.row_stride, 1}, {m0, 0}, {BM, DT});
    store_block(a.dq.head(b, seq.q_row0, h), {seq.len_q, D}, {a.dq.row_stride, 1}, {m0, 0}, dq.to(c.dtype));
  });
}

}  // namespace tile::attention
