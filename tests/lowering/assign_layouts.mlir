// Golden test of tile-assign-layouts.

// Loads get a blocked layout with 16-byte vectors per thread along the contiguous dimension;
// dot results the mma layout (warps along M: the shape Hopper's wgmma can run, 4 warps = one
// warpgroup of 64 rows); operands are converted to dot_op layouts right after their producers;
// the zero accumulator is re-created in the mma layout (no convert).
// CHECK-LABEL: func.func @gemm_tile
// CHECK: %[[CST:.*]] = arith.constant dense<0.000000e+00> : tensor<64x64xf32, #tilegpu.mma<warpsPerCTA = [4, 1]>>
// CHECK: %[[A:.*]] = tile.load_block {{.*}} -> tensor<64x32xbf16, #tilegpu.blocked<sizePerThread = [1, 8], threadsPerWarp = [8, 4], warpsPerCTA = [4, 1], order = [1, 0]>>
// CHECK-NEXT: %[[AD:.*]] = tilegpu.convert_layout %[[A]] {{.*}} -> tensor<64x32xbf16, #tilegpu.dot_op<opIdx = 0, parent = #tilegpu.mma<warpsPerCTA = [4, 1]>>>
// CHECK: %[[B:.*]] = tile.load_block
// CHECK-NEXT: %[[BD:.*]] = tilegpu.convert_layout %[[B]] {{.*}} -> tensor<32x64xbf16, #tilegpu.dot_op<opIdx = 1, parent = #tilegpu.mma<warpsPerCTA = [4, 1]>>>
// CHECK-NEXT: tile.dot %[[AD]], %[[BD]], %[[CST]]
// CHECK-NOT: convert_layout
// CHECK: return
func.func @gemm_tile(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %n: i32)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %ta = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x32xbf16>
  %tb = tile.load_block %b shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x64xbf16>
  %d = tile.dot %ta, %tb, %zero : tensor<64x32xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
  tile.store_block %d, %c shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}

// Too few rows for a warpgroup (32 < 64): the mma.sync warp grid with the least operand traffic.
// CHECK-LABEL: func.func @gemm_small_m
// CHECK: tile.dot {{.*}} -> tensor<32x64xf32, #tilegpu.mma<warpsPerCTA = [2, 2]>>
func.func @gemm_small_m(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %n: i32)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %zero = arith.constant dense<0.0> : tensor<32x64xf32>
  %ta = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x32xbf16>
  %tb = tile.load_block %b shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x64xbf16>
  %d = tile.dot %ta, %tb, %zero : tensor<32x32xbf16>, tensor<32x64xbf16> -> tensor<32x64xf32>
  tile.store_block %d, %c shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] : tensor<32x64xf32>, !tile.ptr<f32>
  return
}

// Reductions take the slice of their operand's layout; expand_dims gives the parent back and
// broadcast keeps it, so the softmax chain needs no conversion.
// CHECK-LABEL: func.func @row_max
// CHECK: tilegpu.reduce "max" {{.*}} -> tensor<16xf32, #tilegpu.slice<dim = 1, parent = #tilegpu.blocked<sizePerThread = [1, 4], threadsPerWarp = [1, 32], warpsPerCTA = [4, 1], order = [1, 0]>>>
// CHECK: tile.expand_dims {{.*}} -> tensor<16x1xf32, #tilegpu.blocked<sizePerThread = [1, 4], threadsPerWarp = [1, 32], warpsPerCTA = [4, 1], order = [1, 0]>>
// CHECK: tile.broadcast {{.*}} -> tensor<16x256xf32, #tilegpu.blocked<sizePerThread = [1, 4], threadsPerWarp = [1, 32], warpsPerCTA = [4, 1], order = [1, 0]>>
// CHECK-NOT: convert_layout
// CHECK: return
func.func @row_max(%x: !tile.ptr<f32>, %n: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %t = tile.load_block %x shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<f32> -> tensor<16x256xf32>
  %m = tile.reduce "max" %t, 1 : tensor<16x256xf32> -> tensor<16xf32>
  %me = tile.expand_dims %m, 1 : tensor<16xf32> -> tensor<16x1xf32>
  %mb = tile.broadcast %me : tensor<16x1xf32> -> tensor<16x256xf32>
  %d = arith.subf %t, %mb : tensor<16x256xf32>
  tile.store_block %d, %x shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] : tensor<16x256xf32>, !tile.ptr<f32>
  return
}

// Loop-carried values take the layout the body yields (the running max in the slice of the
// mma layout, the accumulator in mma); P goes from the mma layout to the A operand layout
// (a register renaming later); masks built from arange are re-created in the layout of S.
// CHECK-LABEL: func.func @online_softmax
// CHECK: scf.for {{.*}} -> (tensor<64x64xf32, #tilegpu.mma<warpsPerCTA = [4, 1]>>, tensor<64xf32, #tilegpu.slice<dim = 1, parent = #tilegpu.mma<warpsPerCTA = [4, 1]>>>)
// CHECK: tile.arange 0 to 64 : tensor<64xi32, #tilegpu.slice<dim = 0, parent = #tilegpu.mma<warpsPerCTA = [4, 1]>>>
// CHECK: tilegpu.reduce "max" {{.*}} -> tensor<64xf32, #tilegpu.slice<dim = 1, parent = #tilegpu.mma<warpsPerCTA = [4, 1]>>>
// CHECK: tilegpu.convert_layout {{.*}} : tensor<64x64xbf16, #tilegpu.mma<warpsPerCTA = [4, 1]>> -> tensor<64x64xbf16, #tilegpu.dot_op<opIdx = 0, parent = #tilegpu.mma<warpsPerCTA = [4, 1]>>>
// CHECK: tile.dot
// CHECK: scf.yield
func.func @online_softmax(%q: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %n: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %qt = tile.load_block %q shape [%n, %c64] strides [%c64, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %r:2 = scf.for %i = %c0 to %n step %c64 iter_args(%acc = %zero, %m = %ninf) -> (tensor<64x64xf32>, tensor<64xf32>) : i32 {
    %kt = tile.load_block %q shape [%n, %c64] strides [%c64, %c1] offsets [%i, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %ktt = tile.trans %kt : tensor<64x64xbf16> -> tensor<64x64xbf16>
    %s = tile.dot %qt, %ktt, %zero : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %cols = tile.arange 0 to 64 : tensor<64xi32>
    %lim = tile.splat %n : i32 -> tensor<64xi32>
    %valid = arith.cmpi slt, %cols, %lim : tensor<64xi32>
    %v2 = tile.expand_dims %valid, 0 : tensor<64xi1> -> tensor<1x64xi1>
    %vb = tile.broadcast %v2 : tensor<1x64xi1> -> tensor<64x64xi1>
    %neg = arith.constant dense<0xFF800000> : tensor<64x64xf32>
    %sm = arith.select %vb, %s, %neg : tensor<64x64xi1>, tensor<64x64xf32>
    %rm = tile.reduce "max" %sm, 1 : tensor<64x64xf32> -> tensor<64xf32>
    %mn = arith.maximumf %m, %rm : tensor<64xf32>
    %p = arith.truncf %sm : tensor<64x64xf32> to tensor<64x64xbf16>
    %acc2 = tile.dot %p, %kt, %acc : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %acc2, %mn : tensor<64x64xf32>, tensor<64xf32>
  }
  tile.store_block %r#0, %o shape [%n, %c64] strides [%c64, %c1] offsets [%c0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}
