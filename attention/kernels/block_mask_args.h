// The block-mask arguments of the block-sparse attention kernels and of the programs that build
// block masks (block_mask.cc): classes per (query block, key block) and the non-empty ranges
// per query block and per key block, i32, contiguous, for bm_heads heads (1: shared by all).
#pragma once

#include "dsl/tile.h"

namespace tile::attention {

// Block classes in bm_cls.
inline constexpr int kBlockEmpty = 0, kBlockPartial = 1, kBlockFull = 2;

struct BlockMaskArgs {
  Ptr cls;       // [(b * bm_heads + h) * bm_m_blocks + m][bm_n_blocks]
  Ptr kv_range;  // [row][2]: key blocks [lo, hi) holding every non-empty one of query block m
  Ptr q_range;   // [(b * bm_heads + h) * bm_n_blocks + n][2]: query blocks [lo, hi) of key block n
  Int heads, m_blocks, n_blocks;

  static BlockMaskArgs declare(KernelBuilder& k);
  Int row(const Int& b, const Int& h, const Int& m_block) const;
  Int col(const Int& b, const Int& h, const Int& n_block) const;
  Int cls_at(const Int& b, const Int& h, const Int& m_block, const Int& n_block) const;
};

}  // namespace tile::attention
