// The block-mask arguments of the block-sparse attention kernels and of the programs that build
// block masks (block_mask.cc): classes per (query block, key block) and the non-empty ranges
// per query block and per key block, i32, contiguous, for bm_heads heads (1: shared by all).
#pragma once

#include "dsl/tile.h"

namespace tile::attention {

// Block classes in bm_cls.
inline constexpr int kBlockEmpty = 0, kBlockPartial = 1, kBlockFull = 2;

// Block indices [lo, hi) holding every non-empty block of a query block's row (or a key block's
// column), and inside it [full_lo, full_hi), the longest run of full blocks: the kernels run it
// unmasked and software-pipelined, the rest of [lo, hi) masked, skipping empty blocks. No full
// block: full_lo = full_hi = hi. Nothing visible: all 0.
struct BlockRange {
  Int lo, full_lo, full_hi, hi;
};

struct BlockMaskArgs {
  Ptr cls;       // [(b * bm_heads + h) * bm_m_blocks + m][bm_n_blocks]
  Ptr kv_range;  // [row][4]: BlockRange of query block m's key blocks
  Ptr q_range;   // [(b * bm_heads + h) * bm_n_blocks + n][4]: BlockRange of key block n's query blocks
  Int heads, m_blocks, n_blocks;

  static BlockMaskArgs declare(KernelBuilder& k);
  Int row(const Int& b, const Int& h, const Int& m_block) const;
  Int col(const Int& b, const Int& h, const Int& n_block) const;
  Int cls_at(const Int& b, const Int& h, const Int& m_block, const Int& n_block) const;
  BlockRange kv_range_at(const Int& row) const;
  BlockRange q_range_at(const Int& col) const;
};

}  // namespace tile::attention
