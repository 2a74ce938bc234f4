#include "dsl/examples/examples.h"

namespace tile::examples {

void softmax(KernelBuilder& k, const Params& p) {
  const DType t = p.get_dtype("DTYPE");
  const int BM = int(p.get_int("BLOCK_M")), BN = int(p.get_int("BLOCK_N"));
  Ptr x = k.arg_ptr("x", t), out = k.arg_ptr("out", t);
  Int rows = k.arg_i32("rows"), cols = k.arg_i32("cols"), stride = k.arg_i32("row_stride");

  Tile r = program_id(0) * BM + arange(0, BM);  // [BM] row indices
  Tile c = arange(0, BN);                       // [BN] column indices
  Tile offs = r.col() * stride + c.row();       // [BM, BN]
  Tile mask = (r.col() < rows) & (c.row() < cols);

  // Masked columns read -inf: they drop out of the max and add exp2(-inf) = 0 to the sum.
  Tile xs = load(x, offs, mask, -INFINITY).to<f32>();
  Tile e = exp2((xs - max(xs, 1).col()) * 1.4426950408889634);  // exp(v) = exp2(v * log2(e))
  Tile y = e / sum(e, 1).col();
  store(out, offs, y.to(t), mask);
}

TILE_REGISTER_KERNEL(softmax, "softmax", {{"BLOCK_M", 4}, {"BLOCK_N", 256}, {"DTYPE", DType::f32}});
TILE_REGISTER_KERNEL(softmax, "softmax", {{"BLOCK_M", 1}, {"BLOCK_N", 1024}, {"DTYPE", DType::bf16}});

}  // namespace tile::examples
