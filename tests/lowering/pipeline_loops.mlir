// Golden test of tile-pipeline-loops (after tile-assign-layouts): the loads that only feed dot
// operands (directly or through trans) of a tile.stages loop, with zero padding and addresses
// computable ahead, are marked; others are left alone.
// CHECK-LABEL: func.func @marks
// CHECK: scf.for
// CHECK: tile.load_block {{.*}}offsets[%{{.*}}, %[[K:.*]]] padding 0.000000e+00 {tilegpu.pipeline = 3 : i32}
// CHECK: tile.load_block {{.*}}padding 0.000000e+00 {tilegpu.pipeline = 3 : i32}
// Non-zero padding (cp.async can only zero-fill): not pipelined.
// CHECK: tile.load_block {{.*}}padding 1.000000e+00 :
// Feeds elementwise code, not a dot: not pipelined.
// CHECK: tile.load_block {{.*}}padding 0.000000e+00 :
// CHECK: } {tile.stages = 3 : i32}
func.func @marks(%a: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %n: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %c32 = arith.constant 32 : i32
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero, %k = %c0) -> (tensor<64x64xf32>, i32) : i32 {
    %ta = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %k] padding 0.0 : !tile.ptr<bf16> -> tensor<64x32xbf16>
    %tk = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %k] padding 0.0 : !tile.ptr<bf16> -> tensor<64x32xbf16>
    %tkt = tile.trans %tk : tensor<64x32xbf16> -> tensor<32x64xbf16>
    %d = tile.dot %ta, %tkt, %acc : tensor<64x32xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
    %tp = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %k] padding 1.0 : !tile.ptr<bf16> -> tensor<64x32xbf16>
    %tq = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %k] padding 0.0 : !tile.ptr<bf16> -> tensor<64x32xbf16>
    %sum = arith.addf %tp, %tq : tensor<64x32xbf16>
    %sumt = tile.trans %sum : tensor<64x32xbf16> -> tensor<32x64xbf16>
    %d2 = tile.dot %ta, %sumt, %d : tensor<64x32xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
    %k2 = arith.addi %k, %c32 : i32
    scf.yield %d2, %k2 : tensor<64x64xf32>, i32
  } {tile.stages = 3 : i32}
  tile.store_block %r#0, %o shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}
