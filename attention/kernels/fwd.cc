// FlashAttention forward (FlashAttention-2's algorithm 1) as a tile program.
//
// One program computes BLOCK_M query rows of one head: it walks the visible key blocks keeping
// a running row max `m` and row sum `l` of exp2(scores - m) in f32, rescales the output
// accumulator whenever the max grows, and normalises once at the end. Key blocks entirely
// inside the causal/local window run without a mask; only boundary blocks pay for one; blocks
// nobody sees are never visited. Writes out and the natural-log LSE.
#include <cmath>

#include "attention/kernels/attention_kernel.h"

namespace tile::attention {

void attention_forward(KernelBuilder& k, const Params& p, ScoreMod* mod) {
  const AttnConfig c = AttnConfig::from(p);
  const int BM = c.block_m, BN = c.block_n, DT = c.head_dim, DVT = c.head_dim_v;
  k.set_num_warps(c.num_warps);
  HeadTensor q = HeadTensor::declare(k, "q", c.dtype), kt = HeadTensor::declare(k, "k", c.dtype);
  HeadTensor v = HeadTensor::declare(k, "v", c.dtype), o = HeadTensor::declare(k, "o", c.dtype);
  Ptr lse = k.arg_ptr("lse", DType::f32);
  AttnScalars s = AttnScalars::declare(k);
  const HeadDimsIn dims = head_dims(c, s);
  const Int D = dims.d, DV = dims.dv;
  ScoreMod plain;
  ScoreMod& score_mod = mod ? *mod : plain;
  score_mod.declare_args(k);

  // Last query blocks first: under a causal mask they see the most keys, so the longest
  // programs start early and the tail of the grid is short.
  Int m0 = (num_programs(0) - 1 - program_id(0)) * BM;
  Int b = program_id(1) / s.nheads, h = program_id(1) % s.nheads, hk = h / s.heads_per_kv;
  SeqBounds seq = sequence_bounds(s, b);
  if_(m0 < seq.len_q, [&] {
    Ptr k_head = kt.head(b, seq.k_row0, hk), v_head = v.head(b, seq.k_row0, hk);
    Tile q_blk = load_block(q.head(b, seq.q_row0, h), {seq.len_q, D}, {q.row_stride, 1}, {m0, 0}, {BM, DT});
    ScoreContext ctx{(m0 + arange(0, BM)).col(), arange(0, BN).row(), b, h, seq};

    // One inner step over keys [n0, n0 + BLOCK_N); `masked` only for boundary blocks.
    auto step = [&](bool masked) {
      return [&, masked](Int n0, Tile acc, Tile m_i, Tile l_i) {
        Tile k_blk = load_block(k_head, {seq.len_k, D}, {kt.row_stride, 1}, {n0, 0}, {BN, DT});
        Tile v_blk = load_block(v_head, {seq.len_k, DV}, {v.row_stride, 1}, {n0, 0}, {BN, DVT});
        ScoreContext at = ctx;
        at.cols = ctx.cols + n0;
        Tile scores = score_mod.apply(scale_scores(dot(q_blk, trans(k_blk)), c, s), at);
        if (masked) scores = where(visible(at.rows, at.cols, seq, s), scores, -INFINITY);
        Tile m_new = max(m_i, max(scores, 1));
        Tile m_safe = where(m_new == -INFINITY, 0.0, m_new);  // rows that have seen no key yet
        Tile probs = exp2(scores - m_safe.col());
        Tile alpha = exp2(m_i - m_safe);
        acc = dot(probs.to(c.dtype), v_blk, acc * alpha.col());
        return carry(acc, m_new, l_i * alpha + sum(probs, 1));
      };
    };
    KeyRange r = key_range(m0, seq, s, BM, BN);
    auto state = carry(zeros<f32>({BM, DVT}), full<f32>({BM}, -INFINITY), zeros<f32>({BM}));
    // Only the long unmasked loop is software-pipelined: the masked boundary loops run a block
    // or two (the causal diagonal, a window's edge), where a prologue would cost more than it
    // hides, and each pipelined loop needs shared-memory buffers of its own.
    state = for_range(r.lo, r.full_lo, BN, state, step(true));
    state = for_range(r.full_lo, r.full_hi, BN, state, step(false), /*stages=*/2);
    state = for_range(r.full_hi, r.hi, BN, state, step(true));
    auto [acc, m_i, l_i] = state;

    // Rows that see no key at all give out = 0 and LSE = -inf, never NaN.
    Tile empty = l_i == 0.0;
    Tile out = acc / where(empty, 1.0, l_i).col();
    store_block(o.head(b, seq.q_row0, h), {seq.len_q, DV}, {o.row_stride, 1}, {m0, 0}, out.to(c.dtype));
    Tile lse_rows = where(empty, -INFINITY, (m_i + log2(l_i)) * kLn2);
    store_block(lse + (b * s.lse_batch + h * s.lse_head + seq.q_row0), {seq.len_q}, {1}, {m0}, lse_rows);
  });
}

}  // namespace tile::attention
