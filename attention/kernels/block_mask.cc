// Block masks (FlexAttention's create_block_mask) as tile programs: which (query block, key
// block) pairs a variant's mask and the causal/window visibility leave empty (never visited),
// partial (visited with the mask evaluated) or full (visited without a mask).
//
//   attn_block_mask<suffix>     one program per (query block, sequence and head): evaluates the
//                               mask on every key block of the sequence, writes its class to
//                               cls[row, n] and the first/last non-empty key block to
//                               kv_range[row] = [lo, hi) (block indices)
//   attn_block_mask_columns     one program per (key block, sequence and head): reads cls and
//                               writes q_range[col] = [lo, hi), the query blocks the dK/dV
//                               program walks
//
// row = (b * bm_heads + h) * bm_m_blocks + m, col = (b * bm_heads + h) * bm_n_blocks + n, with
// bm_heads 1 (a mask shared by the heads: evaluated for head 0) or nheads. A block is full only
// when every (query, key) lane is inside the sequence and visible, so a ragged end block is
// never full: the unmasked steps must not see padding rows or keys.
#include "attention/kernels/attention_kernel.h"
#include "attention/kernels/block_mask_args.h"

namespace tile::attention {

BlockMaskArgs BlockMaskArgs::declare(KernelBuilder& k) {
  BlockMaskArgs a;
  a.cls = k.arg_ptr("bm_cls", DType::i32);
  a.kv_range = k.arg_ptr("bm_kv_range", DType::i32);
  a.q_range = k.arg_ptr("bm_q_range", DType::i32);
  a.heads = k.arg_i32("bm_heads");
  a.m_blocks = k.arg_i32("bm_m_blocks");
  a.n_blocks = k.arg_i32("bm_n_blocks");
  return a;
}

Int BlockMaskArgs::row(const Int& b, const Int& h, const Int& m_block) const {
  return (b * heads + h % heads) * m_blocks + m_block;
}

Int BlockMaskArgs::col(const Int& b, const Int& h, const Int& n_block) const {
  return (b * heads + h % heads) * n_blocks + n_block;
}

Int BlockMaskArgs::cls_at(const Int& b, const Int& h, const Int& m_block, const Int& n_block) const {
  return load_scalar(cls, row(b, h, m_block) * n_blocks + n_block);
}

namespace {

// One i32 element written at `index` (a one-lane store).
void store_one(const Ptr& p, const Int& index, const Int& value) {
  store(p + index, zeros({1}, DType::i32), full<i32>({1}, value));
}

}  // namespace

void attention_block_mask(KernelBuilder& k, const Params& p, ScoreMod* mod) {
  const int BM = int(p.get_int("BLOCK_M")), BN = int(p.get_int("BLOCK_N"));
  k.set_num_warps(int(p.get_int("NUM_WARPS")));
  BlockMaskArgs bm = BlockMaskArgs::declare(k);
  AttnScalars s = AttnScalars::declare(k);
  ScoreMod plain;
  ScoreMod& score_mod = mod ? *mod : plain;
  score_mod.declare_args(k);

  Int m_block = program_id(0), m0 = m_block * BM;
  Int b = program_id(1) / bm.heads, h = program_id(1) % bm.heads;
  SeqBounds seq = sequence_bounds(s, b);
  if_(m0 < seq.len_q, [&] {
    Tile rows = (m0 + arange(0, BM)).col();
    score_mod.setup_queries(QuerySide{rows, b, h, seq});
    Int row = bm.row(b, h, m_block);
    // lo starts past every block so the first non-empty one lowers it.
    auto [lo, hi] = for_range(0, cdiv(seq.len_k, BN), 1, carry(Int(bm.n_blocks), Int(0)),
        [&](Int n_block, Int lo, Int hi) {
          ScoreContext ctx{rows, (n_block * BN + arange(0, BN)).row(), b, h, seq};
          Tile seen = visible_to(score_mod, ctx, s).to<i32>();
          Int any = max(seen), all = min(seen);
          store_one(bm.cls, row * bm.n_blocks + n_block, select(all == 1, 2, select(any == 1, 1, 0)));
          return carry(select((any == 1) & (n_block < lo), n_block, lo), select(any == 1, n_block + 1, hi));
        });
    Int empty = lo >= hi;
    store_one(bm.kv_range, row * 2, select(empty, 0, lo));
    store_one(bm.kv_range, row * 2 + 1, select(empty, 0, hi));
  });
}

void attention_block_mask_columns(KernelBuilder& k, const Params& p) {
  const int BM = int(p.get_int("BLOCK_M")), BN = int(p.get_int("BLOCK_N"));
  k.set_num_warps(int(p.get_int("NUM_WARPS")));
  BlockMaskArgs bm = BlockMaskArgs::declare(k);
  AttnScalars s = AttnScalars::declare(k);

  Int n_block = program_id(0), n0 = n_block * BN;
  Int b = program_id(1) / bm.heads, h = program_id(1) % bm.heads;
  SeqBounds seq = sequence_bounds(s, b);
  if_(n0 < seq.len_k, [&] {
    auto [lo, hi] = for_range(0, cdiv(seq.len_q, BM), 1, carry(Int(bm.m_blocks), Int(0)),
        [&](Int m_block, Int lo, Int hi) {
          Int any = bm.cls_at(b, h, m_block, n_block) != 0;
          return carry(select(any & (m_block < lo), m_block, lo), select(any, m_block + 1, hi));
        });
    Int col = bm.col(b, h, n_block);
    Int empty = lo >= hi;
    store_one(bm.q_range, col * 2, select(empty, 0, lo));
    store_one(bm.q_range, col * 2 + 1, select(empty, 0, hi));
  });
}

}  // namespace tile::attention
