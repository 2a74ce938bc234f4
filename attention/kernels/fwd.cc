// FlashAttention forward (FlashAttention-2's algorithm 1) as a tile program.
//
// One program computes BLOCK_M query rows of one head: it walks the visible key blocks keeping
// a running row max `m` and row sum `l` of exp2(scores - m) in f32, rescales the output
// accumulator whenever the max grows, and normalises once at the end. Key blocks entirely
// inside the causal/local window run without a mask; only boundary blocks pay for one; blocks
// nobody sees are never visited. Writes out and the natural-log LSE.
#include <cmath>
#include <functional>
#include <tuple>

#include "attention/kernels/attention_kernel.h"
#include "attention/kernels/block_mask_args.h"
#include "attention/kernels/kernel_table.h"

namespace tile::attention {

void attention_forward(KernelBuilder& k, const Params& p, ScoreMod* mod, bool block_sparse) {
  const AttnConfig c = AttnConfig::from(p);
  const int BM = c.block_m, BN = c.block_n, DT = c.head_dim, DVT = c.head_dim_v;
  k.set_num_warps(c.num_warps);
  // A producer warpgroup feeds the pipelined loop's K and V by TMA while these warps compute.
  k.set_warp_specialized(true);
  // The two consumer warpgroups take turns at their dots, one's softmax under the other's
  // GEMMs: 2-6% faster at d=128 and 256 on the H100, 1-3% slower at d=64 (bench/RESULTS.md).
  if (DT >= 128) k.set_warpgroup_turns(true);
  const bool aligned = !c.ragged;  // exact head dims: rows in whole 16-byte units
  HeadTensor q = HeadTensor::declare(k, "q", c.dtype, aligned), kt = HeadTensor::declare(k, "k", c.dtype, aligned);
  HeadTensor v = HeadTensor::declare(k, "v", c.dtype, aligned), o = HeadTensor::declare(k, "o", c.dtype, aligned);
  Ptr lse = k.arg_ptr("lse", DType::f32);
  AttnScalars s = AttnScalars::declare(k);
  const HeadDimsIn dims = head_dims(c, s);
  const Int D = dims.d, DV = dims.dv;
  ScoreMod plain;
  ScoreMod& score_mod = mod ? *mod : plain;
  score_mod.declare_args(k);
  BlockMaskArgs bm;
  if (block_sparse) bm = BlockMaskArgs::declare(k);

  Int batch = k.arg_i32("batch");

  // Persistent (forward_is_persistent): a program per multiprocessor walks tiles of the
  // (query block, batch, head) space, so that the producer warpgroup fetches the next tile's K
  // and V while the consumers finish the current one (its stage rings run on across tiles).
  // Query blocks vary fastest, so the tiles running at once share a few heads' K and V in L2.
  const bool persistent = forward_is_persistent(block_sparse);
  // One tile: query rows [m0, m0 + BM) of batch b, head h.
  auto tile_program = [&](Int m0, Int b, Int h) {
    Int hk = h / s.heads_per_kv;
    SeqBounds seq = sequence_bounds(s, b);
    if_(m0 < seq.len_q, [&] {
      Ptr k_head = kt.head(b, seq.k_row0, hk), v_head = v.head(b, seq.k_row0, hk);
      Tile q_blk = load_block(q.head(b, seq.q_row0, h), {seq.len_q, D}, {q.row_stride, 1}, {m0, 0}, {BM, DT});
      ScoreContext ctx{(m0 + arange(0, BM)).col(), arange(0, BN).row(), b, h, seq};
      score_mod.setup_queries(QuerySide{ctx.rows, b, h, seq});

      KeyRange r = key_range(m0, seq, s, BM, BN);
      auto k_at = [&](Int n0) { return load_block(k_head, {seq.len_k, D}, {kt.row_stride, 1}, {n0, 0}, {BN, DT}); };
      auto v_at = [&](Int n0) { return load_block(v_head, {seq.len_k, DV}, {v.row_stride, 1}, {n0, 0}, {BN, DVT}); };
      // Scores of keys [n0, n0 + BLOCK_N) from the raw Q K^T; `masked` only for boundary blocks.
      auto scores_at = [&](Tile raw, Int n0, bool masked) {
        ScoreContext at = ctx;
        at.cols = ctx.cols + n0;
        Tile scores = score_mod.apply(scale_scores(raw, c, s), at);
        return masked ? where(visible_to(score_mod, at, s), scores, -INFINITY) : scores;
      };
      // Online softmax: the new running max, probabilities against it, and alpha, which rescales
      // what was accumulated against the old max.
      struct Online {
        Tile m, probs, alpha;
      };
      auto online = [&](Tile scores, Tile m_i) {
        Tile m_new = max(m_i, max(scores, 1));
        Tile m_safe = where(m_new == -INFINITY, 0.0, m_new);  // rows that have seen no key yet
        return Online{m_new, exp2(scores - m_safe.col()), exp2(m_i - m_safe)};
      };
      // Plain scores of an unmasked block (scores = raw * scale): the row max is taken on the raw
      // scores and scaled once per row, so each score costs one FMA (raw * scale - max) before
      // exp2, not a multiply and a subtraction. A negative scale makes it the raw row min.
      const bool plain_scores = !score_mod.modifies_scores() && !c.softcap;
      auto online_unmasked = [&](Tile raw, Int n0, Tile m_i) {
        if (!plain_scores) return online(scores_at(raw, n0, false), m_i);
        Tile extreme = if_(s.qk_scale >= 0.0, [&] { return max(raw, 1); }, [&] { return min(raw, 1); });
        Tile m_new = max(m_i, extreme * s.qk_scale);
        Tile m_safe = where(m_new == -INFINITY, 0.0, m_new);
        return Online{m_new, exp2(raw * s.qk_scale - m_safe.col()), exp2(m_i - m_safe)};
      };
      auto step = [&](bool masked) {
        return [&, masked](Int n0, Tile acc, Tile m_i, Tile l_i) {
          Online o = online(scores_at(dot(q_blk, trans(k_at(n0))), n0, masked), m_i);
          acc = dot(o.probs.to(c.dtype), v_at(n0), acc * o.alpha.col());
          return carry(acc, o.m, l_i * o.alpha + sum(o.probs, 1));
        };
      };
      // The long unmasked middle runs rotated: an iteration issues block j's Q K^T, then the
      // previous block's P V (P carried from the previous iteration), and computes block j's
      // softmax while that P V is still on the tensor cores (the lowering waits for a dot only
      // where its result is read). The run's first block is peeled off: its Q K^T and softmax
      // run alone, so no iteration multiplies a zero P (half a block's tensor work per tile,
      // ~3 % of a causal 4096-token tile). The peeled block, when given, is the right edge's
      // last block (the causal diagonal), masked: then the diagonal costs no loop of its own,
      // whose Q K^T, softmax and P V would each wait for the one before. Otherwise it is the
      // first unmasked block. The peeled block and the last block's P V are pipelined loops of
      // at most one iteration: the lowering lets sibling loops that read one tensor share one
      // ring of stages, so the producer fetches their K and V while the neighbouring loop
      // computes (3-6 % faster on the H100 than loading the last V after the loop,
      // bench/RESULTS.md).
      using State = std::tuple<Tile, Tile, Tile>;
      // The loops of a run step `j` by `step` and visit the key block at `key(j)`: key
      // coordinates themselves (step BN) or entries of a block mask's list (step 1).
      using KeyOf = std::function<Int(const Int&)>;
      const KeyOf key_coordinate = [](const Int& n0) { return n0; };
      // Blocks [first_lo, first_hi) (at most one; masked when `first_masked`), then the unmasked
      // [mid_lo, mid_hi), in that order.
      auto rotated_run = [&](State state, Int first_lo, Int first_hi, bool first_masked, Int mid_lo, Int mid_hi,
                             int step, const KeyOf& key) {
        auto peeled_step = [&](Int j, Tile acc, Tile m_i, Tile l_i, Tile p_prev) {
          Int n0 = key(j);
          Tile raw = dot(q_blk, trans(k_at(n0)));
          Online o = first_masked ? online(scores_at(raw, n0, true), m_i) : online_unmasked(raw, n0, m_i);
          return carry(acc * o.alpha.col(), o.m, l_i * o.alpha + sum(o.probs, 1), o.probs.to(c.dtype));
        };
        // Block j's scores and softmax, after issuing the previous block's P V (the peeled
        // block's in the first iteration).
        auto middle_step = [&](Int j, Tile acc, Tile m_i, Tile l_i, Tile p_prev) {
          Int n0 = key(j);
          Tile raw = dot(q_blk, trans(k_at(n0)));
          acc = dot(p_prev, v_at(key(select(j == mid_lo, first_lo, j - step))), acc);
          Online o = online_unmasked(raw, n0, m_i);
          return carry(acc * o.alpha.col(), o.m, l_i * o.alpha + sum(o.probs, 1), o.probs.to(c.dtype));
        };
        auto [acc, m_i, l_i] = state;
        auto peeled = for_range(first_lo, first_hi, step, carry(acc, m_i, l_i, zeros({BM, BN}, c.dtype)), peeled_step,
                                /*stages=*/2);
        auto [acc_mid, m_mid, l_mid, p_last] = for_range(mid_lo, mid_hi, step, peeled, middle_step, /*stages=*/2);
        // The last block's P V: the middle's last block, or the peeled one when the middle is
        // empty; none without a peeled block.
        Int last = select(mid_hi > mid_lo, mid_hi - step, first_lo);
        auto last_pv = [&](Int j, Tile acc_in) { return dot(p_last, v_at(key(j)), acc_in); };
        return State(for_range(last, select(first_hi > first_lo, last + 1, last), step, acc_mid, last_pv, /*stages=*/2),
                     m_mid, l_mid);
      };
      State state = carry(zeros<f32>({BM, DVT}), full<f32>({BM}, -INFINITY), zeros<f32>({BM}));
      // The masked boundary loops (the causal diagonal, a window's edge, the ragged end) take
      // their K and V from the same rings: the rings' buffers are the kernel's own over all its
      // tiles, so loops loading their own K and V would need staging regions of their own, which
      // do not fit beside them (their operands then went through registers: 2.6 KB of spills at
      // d=128). A variant with a mask evaluates it on every block: one masked loop over the whole
      // range (not pipelined: at 128x128 its stage buffers and the mask's gathers pass the H100's
      // shared memory).
      if (block_sparse) {
        // The block mask's row: its partial blocks masked, then its full ones unmasked in the
        // rotated run, each a pipelined loop over the listed blocks (empty blocks are listed
        // nowhere). The loops read K and V from the same rings, so the producer feeds both.
        BlockLists lists = bm.kv_lists_at(bm.row(b, h, m0 / BM));
        auto partial_step = [&](Int i, Tile acc, Tile m_i, Tile l_i) {
          return step(true)(load_scalar(lists.partial, i) * BN, acc, m_i, l_i);
        };
        state = for_range(0, lists.n_partial, 1, state, partial_step, /*stages=*/2);
        const KeyOf listed_full = [&](const Int& i) { return load_scalar(lists.full, i) * BN; };
        Int peeled_hi = min(lists.n_full, 1);
        state = rotated_run(state, 0, peeled_hi, false, peeled_hi, lists.n_full, 1, listed_full);
      } else if (score_mod.has_mask()) {
        state = for_range(r.lo, r.hi, BN, state, step(true));
      } else {
        // The window's left edge masked; the right edge (the causal diagonal, a window's right
        // edge, the ragged end) masked too, its last block opening the rotated run.
        state = for_range(r.lo, r.full_lo, BN, state, step(true), /*stages=*/2);
        Int edge_last = r.full_hi + (r.hi - r.full_hi - 1) / BN * BN;  // when r.hi > r.full_hi
        // Without a right edge the first unmasked block opens it, masked all the same (its mask
        // is all true): the ranges are selected, not branched on, so that every loop stays in
        // one block and its K and V in the rings of the loops beside it.
        Int has_edge = r.hi > r.full_hi;
        state = for_range(r.full_hi, select(has_edge, edge_last, r.full_hi), BN, state, step(true), /*stages=*/2);
        Int first_lo = select(has_edge, edge_last, r.full_lo);
        Int first_hi = select(has_edge, edge_last + 1, min(r.full_lo + BN, r.full_hi));
        state = rotated_run(state, first_lo, first_hi, true, select(has_edge, r.full_lo, first_hi), r.full_hi, BN,
                            key_coordinate);
      }
      auto [acc, m_i, l_i] = state;

      // Rows that see no key at all give out = 0 and LSE = -inf, never NaN.
      Tile empty = l_i == 0.0;
      Tile out = acc / where(empty, 1.0, l_i).col();
      store_block(o.head(b, seq.q_row0, h), {seq.len_q, DV}, {o.row_stride, 1}, {m0, 0}, out.to(c.dtype));
      Tile lse_rows = where(empty, -INFINITY, (m_i + log2(l_i)) * kLn2);
      store_block(lse + (b * s.lse_batch + h * s.lse_head + seq.q_row0), {seq.len_q}, {1}, {m0}, lse_rows);
    });
  };
  if (!persistent) {
    // A program per tile: grid (query blocks, batch * heads), the last query blocks first.
    tile_program((num_programs(0) - 1 - program_id(0)) * BM, program_id(1) / s.nheads, program_id(1) % s.nheads);
    return;
  }
  // Tiles in pairs of equal causal work: a head's query blocks in the order M-1, 0, M-2, 1, ...
  // (tile 2q the q-th heaviest, tile 2q+1 the q-th lightest), and each program takes whole
  // pairs p, p + programs, ... A model of 132 programs put the busiest within 3.1 % of the mean
  // on every causal shape of bench/hopper_forward.sh; tiles one by one (t, t + programs, ...)
  // came to 5-12 % over it, and the grid of a program per tile to 0-13 %.
  Int m_blocks = cdiv(s.seqlen_q, BM);
  Int tiles = m_blocks * batch * s.nheads;
  Int mine = cdiv(cdiv(tiles, 2) - program_id(0), num_programs(0)) * 2;  // this program's pairs, as tiles
  for_range(0, mine, 1, [&](Int k) {
    Int tile = (program_id(0) + k / 2 * num_programs(0)) * 2 + k % 2;
    if_(tile < tiles, [&] {
      Int i = tile % m_blocks, bh = tile / m_blocks;
      Int light = i % 2, j = i / 2;  // i = 2j (heavy) or 2j + 1 (light)
      Int m_index = light * j + (1 - light) * (m_blocks - 1 - j);
      tile_program(m_index * BM, bh / s.nheads, bh % s.nheads);
    });
  });
}

}  // namespace tile::attention
