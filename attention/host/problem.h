// Validation of flash-attn inputs and their normalised description (AttnProblem), shared by
// every entry point of api.h. Each check names the argument, the expectation and the value.
#pragma once

#include <initializer_list>
#include <string>

#include "attention/host/api.h"
#include "attention/host/block_mask.h"
#include "attention/kernels/kernel_table.h"
#include "attention/variants/variant_spec.h"

namespace tile::attention {

// A (batch, seqlen, heads, head_dim) operand as the kernels see it: base pointer and strides
// in elements (batch stride 0 for varlen), plus how many elements the view can reach.
struct HeadOperand {
  void* data = nullptr;
  DType dtype = DType::bf16;
  int64_t batch_stride = 0, row_stride = 0, head_stride = 0;
  int64_t extent = 0;  // elements reachable from data
};

struct AttnProblem {
  bool varlen = false;
  int batch = 0, seqlen_q = 0, seqlen_k = 0;  // varlen: the max lengths
  int64_t total_q = 0, total_k = 0;           // rows of q / k (batch*seqlen when not varlen)
  int nheads = 0, nheads_k = 0, head_dim = 0, head_dim_v = 0;  // head_dim of q/k, of v/out
  DType dtype = DType::bf16;
  HeadOperand q, k, v, out;
  TensorView lse, cu_seqlens_q, cu_seqlens_k;
  VariantChain variant;       // alibi_slopes included (as the "alibi" variant)
  VariantArgs variant_args;   // validated against variant.args()
  ProblemDims dims;           // what the variant's argument shapes resolve against
  double softmax_scale = 0, softcap = 0;
  int window_left = -1, window_right = -1;
  bool deterministic = false;
  BlockShape blocks{};  // the specialisation that runs it
  const char* unaligned = nullptr;  // the operand whose rows moved it to a ragged one (rows_aligned)
  const BlockMask* block_mask = nullptr;  // checked against this problem
};

// The exact head-dim specialisations assume 16-byte aligned rows of every (batch, seqlen, heads,
// head_dim) operand (HeadTensor::declare): a 16-byte aligned base, batch/row/head strides in
// whole 16-byte units and a positive row stride (a single row's is normalised to 16). Every
// contiguous tensor of a compiled exact head dim (64, 128, 256) has them.
inline constexpr int64_t kRowAlignBytes = 16;
bool rows_aligned(const HeadOperand& t);
// Switches `p` to the ragged specialisation of its head dims (the same block shape, alignment
// tested at run time) when one of `operands` lacks aligned rows.
// (operand, its argument name; the first such name is kept in p.unaligned for messages).
void use_ragged_unless_aligned(AttnProblem& p, std::initializer_list<std::pair<const HeadOperand*, const char*>> operands);

// Throws std::invalid_argument (argument name, expected, actual) on any bad input.
// `seqs` is null for the batched API.
AttnProblem make_problem(Backend& be, const TensorView& q, const TensorView& k, const TensorView& v,
                         const TensorView& out, const TensorView& lse, const VarlenSeqs* seqs,
                         const FlashAttnOptions& o, bool with_outputs = true);
// Throws unless `output` has no two indices on one element and shares no byte with any of
// `others` (undefined views are skipped).
struct NamedView {
  const TensorView& view;
  const char* name;
};
void check_output_overlap(const TensorView& output, const char* name, const std::vector<NamedView>& others);

// The variant's tensor arguments as overlap-check inputs.
std::vector<NamedView> variant_tensors(const AttnProblem& p);

// Checks a tensor matches another's shape/dtype/device (used for out, dout, dq, dk, dv) and
// returns it as an operand. `last_dim` >= 0 replaces the last dimension of the expected shape
// (out and dout have v's head_dim).
HeadOperand check_like(Backend& be, const TensorView& t, const char* name, const TensorView& like,
                       const char* like_name, bool varlen, int64_t last_dim = -1);

}  // namespace tile::attention
