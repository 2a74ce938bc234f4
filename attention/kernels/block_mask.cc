// Block masks (FlexAttention's create_block_mask) as tile programs: which (query block, key
// block) pairs a variant's mask and the causal/window visibility leave empty (never visited),
// partial (visited with the mask evaluated) or full (visited without a mask).
//
//   attn_block_mask<suffix>     one program per (query block, sequence and head): evaluates the
//                               mask on every key block of the sequence, writes its class to
//                               cls[row, n] and the row's BlockRange (its non-empty blocks
//                               and longest run of full ones) to kv_range[row]
//   attn_block_mask_columns     one program per (key block, sequence and head): reads cls and
//                               writes q_range[col], the BlockRange of query blocks the dK/dV
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
BlockRange range_at(const Ptr& p, const Int& index) {
  return BlockRange{load_scalar(p, index * 4), load_scalar(p, index * 4 + 1), load_scalar(p, index * 4 + 2),
                    load_scalar(p, index * 4 + 3)};
}
}  // namespace

BlockRange BlockMaskArgs::kv_range_at(const Int& r) const { return range_at(kv_range, r); }
BlockRange BlockMaskArgs::q_range_at(const Int& c) const { return range_at(q_range, c); }

namespace {

// One i32 element written at `index` (a one-lane store).
void store_one(const Ptr& p, const Int& index, const Int& value) {
  store(p + index, zeros({1}, DType::i32), full<i32>({1}, value));
}

// A BlockRange built block by block along a row or column: the first and last non-empty block,
// the full run in progress (its start, or -1) and the longest one so far.
struct RangeScan {
  Int lo, hi, run, full_lo, full_hi;

  static RangeScan start(const Int& blocks) { return {blocks, 0, -1, 0, 0}; }
  auto state() const { return carry(lo, hi, run, full_lo, full_hi); }
  RangeScan with(const Int& block, const Int& cls) const {
    Int any = cls != kBlockEmpty, full = cls == kBlockFull;
    Int run_now = select(full, select(run < 0, block, run), -1);
    Int longer = full & (block + 1 - run_now > full_hi - full_lo);
    return {select(any & (block < lo), block, lo), select(any, block + 1, hi), run_now,
            select(longer, run_now, full_lo), select(longer, block + 1, full_hi)};
  }
  void store(const Ptr& p, const Int& index) const {
    Int empty = lo >= hi, no_full = full_lo >= full_hi;
    store_one(p, index * 4, select(empty, 0, lo));
    store_one(p, index * 4 + 1, select(empty, 0, select(no_full, hi, full_lo)));
    store_one(p, index * 4 + 2, select(empty, 0, select(no_full, hi, full_hi)));
    store_one(p, index * 4 + 3, select(empty, 0, hi));
  }
};

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
    auto [lo, hi, run, full_lo, full_hi] = for_range(0, cdiv(seq.len_k, BN), 1, RangeScan::start(bm.n_blocks).state(),
        [&](Int n_block, Int lo, Int hi, Int run, Int full_lo, Int full_hi) {
          ScoreContext ctx{rows, (n_block * BN + arange(0, BN)).row(), b, h, seq};
          Tile seen = visible_to(score_mod, ctx, s).to<i32>();
          Int any = max(seen), all = min(seen);
          Int cls = select(all == 1, kBlockFull, select(any == 1, kBlockPartial, kBlockEmpty));
          store_one(bm.cls, row * bm.n_blocks + n_block, cls);
          return RangeScan{lo, hi, run, full_lo, full_hi}.with(n_block, cls).state();
        });
    RangeScan{lo, hi, run, full_lo, full_hi}.store(bm.kv_range, row);
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
    auto [lo, hi, run, full_lo, full_hi] = for_range(0, cdiv(seq.len_q, BM), 1, RangeScan::start(bm.m_blocks).state(),
        [&](Int m_block, Int lo, Int hi, Int run, Int full_lo, Int full_hi) {
          return RangeScan{lo, hi, run, full_lo, full_hi}.with(m_block, bm.cls_at(b, h, m_block, n_block)).state();
        });
    RangeScan{lo, hi, run, full_lo, full_hi}.store(bm.q_range, bm.col(b, h, n_block));
  });
}

}  // namespace tile::attention
