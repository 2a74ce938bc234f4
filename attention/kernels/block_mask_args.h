// The block-mask arguments of the block-sparse attention kernels and of the programs that build
// block masks (block_mask.cc): classes per (query block, key block) and the lists of partial and
// full blocks per query block and per key block, i32, contiguous, for bm_heads heads (1: shared
// by all).
#pragma once

#include "dsl/tile.h"

namespace tile::attention {

// Block classes in bm_cls.
inline constexpr int kBlockEmpty = 0, kBlockPartial = 1, kBlockFull = 2;

// The blocks of a query block's row (or a key block's column) that the kernels visit, as
// FlexAttention lists them: the partial ones (visited with the mask evaluated) and the full ones
// (visited without), each in increasing order. Stored per line as
//   [n_partial, n_full, partial[0 .. L), full[0 .. L)]
// (L = the line's length in blocks, block_list_stride(L) elements in all; entries past a count
// are unspecified). The kernels walk each
// list in a software-pipelined loop: a block's offset is read from the list (the lowering reads
// entries ahead only for iterations that run).
struct BlockLists {
  Ptr partial, full;
  Int n_partial, n_full;
};

struct BlockMaskArgs {
  Ptr cls;      // [(b * bm_heads + h) * bm_m_blocks + m][bm_n_blocks]
  Ptr kv_list;  // [row][block_list_stride(bm_n_blocks)]: query block m's key blocks
  Ptr q_list;   // [(b * bm_heads + h) * bm_n_blocks + n][block_list_stride(bm_m_blocks)]: key block n's query blocks
  Int heads, m_blocks, n_blocks;

  static BlockMaskArgs declare(KernelBuilder& k);
  Int row(const Int& b, const Int& h, const Int& m_block) const;
  Int col(const Int& b, const Int& h, const Int& n_block) const;
  Int cls_at(const Int& b, const Int& h, const Int& m_block, const Int& n_block) const;
  BlockLists kv_lists_at(const Int& row) const;
  BlockLists q_lists_at(const Int& col) const;
};

}  // namespace tile::attention
