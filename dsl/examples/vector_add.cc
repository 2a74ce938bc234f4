#include "dsl/examples/examples.h"

namespace tile::examples {

void vector_add(KernelBuilder& k, const Params& p) {
  const DType t = p.get_dtype("DTYPE");
  Ptr x = k.arg_ptr("x", t), y = k.arg_ptr("y", t), out = k.arg_ptr("out", t);
  Int n = k.arg_i32("n");
  const int block = int(p.get_int("BLOCK"));

  Tile offs = program_id(0) * block + arange(0, block);
  Tile mask = offs < n;  // the tail block reads and writes only [.., n)
  store(out, offs, load(x, offs, mask) + load(y, offs, mask), mask);
}

TILE_REGISTER_KERNEL(vector_add, "vector_add", {{"BLOCK", 1024}, {"DTYPE", DType::f32}});

}  // namespace tile::examples
