// Block masks (FlexAttention's create_block_mask) as tile programs: which (query block, key
// block) pairs a variant's mask and the causal/window visibility leave empty (never visited),
// partial (visited with the mask evaluated) or full (visited without a mask).
//
//   attn_block_mask<suffix>     one program per (query block, sequence and head): evaluates the
//                               mask on every key block of the sequence, writes its class to
//                               cls[row, n] and the row's lists of partial and full key blocks
//                               to kv_list[row] (BlockLists)
//   attn_block_mask_columns     one program per (key block, sequence and head): reads cls and
//                               writes q_list[col], the lists of query blocks the dK/dV program
//                               walks
//
// row = (b * bm_heads + h) * bm_m_blocks + m, col = (b * bm_heads + h) * bm_n_blocks + n, with
// bm_heads 1 (a mask shared by the heads: evaluated for head 0) or nheads. A block is full only
// when every (query, key) lane is inside the sequence and visible, so a ragged end block is
// never full: the unmasked steps must not see padding rows or keys.
#include "attention/kernels/attention_kernel.h"
#include "attention/kernels/block_mask_args.h"
#include "attention/kernels/kernel_table.h"

namespace tile::attention {

BlockMaskArgs BlockMaskArgs::declare(KernelBuilder& k) {
  BlockMaskArgs a;
  a.cls = k.arg_ptr("bm_cls", DType::i32);
  a.kv_list = k.arg_ptr("bm_kv_list", DType::i32);
  a.q_list = k.arg_ptr("bm_q_list", DType::i32);
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
// Line `index` of lists whose lines are `length` blocks long.
Ptr list_line(const Ptr& lists, const Int& index, const Int& length) { return lists + index * block_list_stride(length); }

BlockLists lists_at(const Ptr& lists, const Int& index, const Int& length) {
  Ptr line = list_line(lists, index, length);
  return BlockLists{line + 2, line + (2 + length), load_scalar(line, 0), load_scalar(line, 1)};
}
}  // namespace

BlockLists BlockMaskArgs::kv_lists_at(const Int& r) const { return lists_at(kv_list, r, n_blocks); }
BlockLists BlockMaskArgs::q_lists_at(const Int& c) const { return lists_at(q_list, c, m_blocks); }

namespace {

// One i32 element written at `index` (a one-lane store).
void store_one(const Ptr& p, const Int& index, const Int& value) {
  store(p + index, zeros({1}, DType::i32), full<i32>({1}, value));
}

// A line's lists built block by block in increasing order. Each block is written at the next
// free entry of both lists and counted in the one its class names: an entry written for the
// other class is overwritten by the next block or stays past the count (a line of L blocks has
// at most L - 1 blocks before its last, so every write stays in the line).
struct ListScan {
  Ptr line;
  Int length, n_partial, n_full;

  auto counts() const { return carry(n_partial, n_full); }
  // The same line with the counts a loop carried.
  ListScan at(const Int& partial, const Int& full) const { return {line, length, partial, full}; }
  ListScan with(const Int& block, const Int& cls) const {
    store_one(line, 2 + n_partial, block);
    store_one(line, 2 + length + n_full, block);
    Int partial = select(cls == kBlockPartial, n_partial + 1, n_partial);  // named: a fixed emission order
    Int full = select(cls == kBlockFull, n_full + 1, n_full);
    return at(partial, full);
  }
  void store_counts() const {
    store_one(line, 0, n_partial);
    store_one(line, 1, n_full);
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
    ListScan scan{list_line(bm.kv_list, row, bm.n_blocks), bm.n_blocks, 0, 0};
    auto [n_partial, n_full] = for_range(0, cdiv(seq.len_k, BN), 1, scan.counts(),
        [&](Int n_block, Int n_partial, Int n_full) {
          ScoreContext ctx{rows, (n_block * BN + arange(0, BN)).row(), b, h, seq};
          Tile seen = visible_to(score_mod, ctx, s).to<i32>();
          Int any = max(seen), all = min(seen);
          Int cls = select(all == 1, kBlockFull, select(any == 1, kBlockPartial, kBlockEmpty));
          store_one(bm.cls, row * bm.n_blocks + n_block, cls);
          return scan.at(n_partial, n_full).with(n_block, cls).counts();
        });
    scan.at(n_partial, n_full).store_counts();
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
    ListScan scan{list_line(bm.q_list, bm.col(b, h, n_block), bm.m_blocks), bm.m_blocks, 0, 0};
    auto [n_partial, n_full] = for_range(0, cdiv(seq.len_q, BM), 1, scan.counts(), [&](Int m_block, Int n_partial, Int n_full) {
      return scan.at(n_partial, n_full).with(m_block, bm.cls_at(b, h, m_block, n_block)).counts();
    });
    scan.at(n_partial, n_full).store_counts();
  });
}

}  // namespace tile::attention
