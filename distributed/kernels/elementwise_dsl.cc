// The element-wise kernels of the ring on the GPU, in the tile DSL: dtype-converting copy, fill,
// fp32 accumulation and the LSE merge of a partial attention result (lse_merge.h's rule).
//
// Every kernel walks a strided 4-D view (n0, n1, n2, n3) — a (batch, seq, heads, head_dim)
// tensor, or an lse (batch, heads, seq) seen as (1, batch, heads, seq) — as tiles of
// [BLOCK_ROWS along dim 1, BLOCK_COLS along dim 3], looping over dim 3 in chunks; the grid is
// (cdiv(n1, BLOCK_ROWS), n2, n0). Strides are in elements and may be anything (zigzag half-block
// slices, qkvpacked views), so no kernel assumes contiguity. The host side that builds the
// calls is distributed/elementwise_calls.h; argument order here is the launch order there.
#include <cmath>

#include "dsl/tile.h"

namespace tile::dist_kernels {
namespace {

constexpr double kLog2e = 1.4426950408889634, kLn2 = 0.6931471805599453;

struct Strides4 {
  Int s0, s1, s2, s3;
  static Strides4 declare(KernelBuilder& k, const std::string& name) {
    return {k.arg_i32(name + "_stride0"), k.arg_i32(name + "_stride1"), k.arg_i32(name + "_stride2"),
            k.arg_i32(name + "_stride3")};
  }
};

// Element offsets of rows r [BR] (dim 1) x columns c [BC] (dim 3) at (i0, i2): [BR, BC].
Tile offsets(const Strides4& s, const Int& i0, const Int& i2, const Tile& r, const Tile& c) {
  Int base = i0 * s.s0 + i2 * s.s2;
  return base + r.col() * s.s1 + c.row() * s.s3;
}

struct Walk {
  int rows_block, cols_block;
  Int rows, cols;
  Tile r;      // [BR] row indices of this program
  Int i0, i2;  // its position along dims 0 and 2

  static Walk declare(KernelBuilder& k, const Params& p) {
    Walk w;
    w.rows_block = int(p.get_int("BLOCK_ROWS"));
    w.cols_block = int(p.get_int("BLOCK_COLS"));
    k.set_num_warps(int(p.get_int("NUM_WARPS")));
    w.rows = k.arg_i32("rows");
    w.cols = k.arg_i32("cols");
    return w;
  }
  void locate() {
    r = program_id(0) * rows_block + arange(0, rows_block);
    i2 = program_id(1);
    i0 = program_id(2);
  }
  // body(c [BC] column indices, mask [BR, BC]) for each column chunk.
  template <class Body>
  void for_each_chunk(Body&& body) const {
    for_range(0, cols, cols_block, [&](Int c0) {
      Tile c = c0 + arange(0, cols_block);
      Tile mask = (r.col() < rows) & (c.row() < cols);
      body(c, mask);
    });
  }
};

}  // namespace

// dst = src converted to dst's dtype (round to nearest).
void dist_copy(KernelBuilder& k, const Params& p) {
  const DType dst_t = p.get_dtype("DST"), src_t = p.get_dtype("SRC");
  Walk w = Walk::declare(k, p);
  Ptr dst = k.arg_ptr("dst", dst_t);
  Strides4 ds = Strides4::declare(k, "dst");
  Ptr src = k.arg_ptr("src", src_t);
  Strides4 ss = Strides4::declare(k, "src");
  w.locate();
  w.for_each_chunk([&](const Tile& c, const Tile& mask) {
    Tile v = load(src, offsets(ss, w.i0, w.i2, w.r, c), mask);
    store(dst, offsets(ds, w.i0, w.i2, w.r, c), v.to(dst_t), mask);
  });
}

// dst = value (an f32 argument, so -inf works).
void dist_fill(KernelBuilder& k, const Params& p) {
  const DType dst_t = p.get_dtype("DST");
  Walk w = Walk::declare(k, p);
  Ptr dst = k.arg_ptr("dst", dst_t);
  Strides4 ds = Strides4::declare(k, "dst");
  Float value = k.arg_f32("value");
  w.locate();
  w.for_each_chunk([&](const Tile& c, const Tile& mask) {
    Tile v = full({w.rows_block, w.cols_block}, value, DType::f32).to(dst_t);
    store(dst, offsets(ds, w.i0, w.i2, w.r, c), v, mask);
  });
}

// acc (f32) += src.
void dist_accumulate(KernelBuilder& k, const Params& p) {
  const DType src_t = p.get_dtype("SRC");
  Walk w = Walk::declare(k, p);
  Ptr acc = k.arg_ptr("acc", DType::f32);
  Strides4 as = Strides4::declare(k, "acc");
  Ptr src = k.arg_ptr("src", src_t);
  Strides4 ss = Strides4::declare(k, "src");
  w.locate();
  w.for_each_chunk([&](const Tile& c, const Tile& mask) {
    Tile a_offs = offsets(as, w.i0, w.i2, w.r, c);
    Tile a = load(acc, a_offs, mask);
    Tile s = load(src, offsets(ss, w.i0, w.i2, w.r, c), mask).to<f32>();
    store(acc, a_offs, a + s, mask);
  });
}

// One partial result into the fp32 accumulators: out (b, s, h, d) f32 and lse (b, h, s) f32 with
// block_out (b, s, h, d) in SRC and block_lse (b, h, s) f32. Grid (cdiv(s, BR), h, b): each
// program owns whole rows, so it reads the old LSEs, merges every column chunk of those rows with
// them, and only then writes the new LSEs.
//   out = out - sigmoid(block_lse - lse) * (out - block_out)
//   lse = lse - logsigmoid(lse - block_lse),   -inf = an empty partial
void dist_merge(KernelBuilder& k, const Params& p) {
  const DType src_t = p.get_dtype("SRC");
  Walk w = Walk::declare(k, p);
  Ptr out = k.arg_ptr("out", DType::f32);
  Strides4 os = Strides4::declare(k, "out");
  Ptr lse = k.arg_ptr("lse", DType::f32);
  Int lse_b = k.arg_i32("lse_batch_stride"), lse_h = k.arg_i32("lse_head_stride"), lse_s = k.arg_i32("lse_seq_stride");
  Ptr block_out = k.arg_ptr("block_out", src_t);
  Strides4 bs = Strides4::declare(k, "block_out");
  Ptr block_lse = k.arg_ptr("block_lse", DType::f32);
  Int blse_b = k.arg_i32("block_lse_batch_stride"), blse_h = k.arg_i32("block_lse_head_stride"),
      blse_s = k.arg_i32("block_lse_seq_stride");
  w.locate();
  Tile row_mask = w.r < w.rows;
  Tile lse_offs = (w.i0 * lse_b + w.i2 * lse_h) + w.r * lse_s;
  Tile acc_lse = load(lse, lse_offs, row_mask);
  Tile new_lse = load(block_lse, (w.i0 * blse_b + w.i2 * blse_h) + w.r * blse_s, row_mask);
  Tile no_block = new_lse == -INFINITY;
  Tile no_acc = acc_lse == -INFINITY;

  // sigmoid(x), x = block_lse - lse, with exp of a non-positive argument only. (|x| as max(x, -x)
  // and exp/log through exp2/log2: the lowering maps those onto PTX instructions directly.)
  Tile x = new_lse - acc_lse;
  Tile e = exp2(-maximum(x, -x) * kLog2e);
  Tile sig = where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e));
  // The weight of the block's output; the -inf cases decided explicitly (-inf - -inf is NaN).
  Tile weight = where(no_block, 0.0, where(no_acc, 1.0, sig)).col();
  w.for_each_chunk([&](const Tile& c, const Tile& mask) {
    Tile o_offs = offsets(os, w.i0, w.i2, w.r, c);
    Tile o = load(out, o_offs, mask);
    Tile b = load(block_out, offsets(bs, w.i0, w.i2, w.r, c), mask).to<f32>();
    store(out, o_offs, o - weight * (o - b), mask);
  });

  // logsigmoid(y) = min(y, 0) - log(1 + exp(-|y|)), y = lse - block_lse.
  Tile y = acc_lse - new_lse;
  Tile log_sig = minimum(y, 0.0) - log2(1.0 + exp2(-maximum(y, -y) * kLog2e)) * kLn2;
  Tile merged = where(no_block, acc_lse, where(no_acc, new_lse, acc_lse - log_sig));
  store(lse, lse_offs, merged, row_mask);
}

#define DIST_WALK {"BLOCK_ROWS", 16}, {"BLOCK_COLS", 64}, {"NUM_WARPS", 4}
TILE_REGISTER_KERNEL(dist_copy, "dist_copy", {DIST_WALK, {"DST", DType::f32}, {"SRC", DType::bf16}});
TILE_REGISTER_KERNEL(dist_fill, "dist_fill", {DIST_WALK, {"DST", DType::f32}});
TILE_REGISTER_KERNEL(dist_accumulate, "dist_accumulate", {DIST_WALK, {"SRC", DType::bf16}});
TILE_REGISTER_KERNEL(dist_merge, "dist_merge", {DIST_WALK, {"SRC", DType::bf16}});
#undef DIST_WALK

}  // namespace tile::dist_kernels
