// Block masks (FlexAttention's create_block_mask): from a variant's mask and the call's
// causal/window setting, which (query block, key block) pairs are empty, partial or full, built
// by DSL programs on the backend and reused across calls. A call given one
// (FlashAttnOptions::block_mask) runs the variant's block-sparse kernels: empty blocks are never
// visited, full ones evaluate no mask.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attention/host/backend.h"
#include "attention/kernels/kernel_table.h"

namespace tile::attention {

struct FlashAttnOptions;
struct VarlenSeqs;

// One block shape's mask: cls [(b * heads + h) * m_blocks + m][n_blocks] (kBlockEmpty/Partial/
// Full), kv_list [row][block_list_stride(n_blocks)] and q_list [(b * heads + h) * n_blocks + n]
// [block_list_stride(m_blocks)], each line [n_partial, n_full, partial blocks, full blocks]
// (block_mask_args.h's BlockLists). i32, backend memory.
struct BlockMaskLevel {
  Blocks blocks{};
  int m_blocks = 0, n_blocks = 0;
  int64_t cls_elements = 0, kv_list_elements = 0, q_list_elements = 0;
  std::shared_ptr<Workspace> cls, kv_list, q_list;
};

struct BlockMask {
  std::string variant;                    // the chain it was built from ("document_mask")
  const Backend* backend = nullptr;
  int batch = 0, heads = 1, nheads = 0;   // heads: 1 (shared by every head) or nheads
  int seqlen_q = 0, seqlen_k = 0;         // varlen: the max lengths
  bool varlen = false;
  int window_left = -1, window_right = -1;
  HeadDims dims{};                        // the head-dim specialisation whose blocks it uses
  BlockMaskLevel fwd, bwd;                // the forward's block shape and the backward's

  // Host copy of one level's classes, for tests and reports.
  std::vector<int32_t> classes(Backend& be, bool backward) const;
  std::vector<int32_t> kv_lists(Backend& be, bool backward) const;
  std::vector<int32_t> q_lists(Backend& be, bool backward) const;
};

// Builds the block mask of `o.variant` (with its variant_args, causal and window) for inputs
// shaped like q, k, v (varlen with `seqs`). `per_head`: evaluate the mask for every head (a mask
// that depends on the head); else once, for head 0, shared by all. Throws
// std::invalid_argument on bad input, like the attention calls, or when the variant has no mask.
BlockMask create_block_mask(Backend& be, const TensorView& q, const TensorView& k, const TensorView& v,
                            const VarlenSeqs* seqs, const FlashAttnOptions& o, bool per_head = false);

}  // namespace tile::attention
