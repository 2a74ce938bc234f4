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

// Rows (1-D loads of 32-bit values, whatever they feed) are marked only in a loop of one
// version: @rows_settled's TMA-capable operand load has its run-time rules settled by the
// arguments' assumptions, @rows_unsettled's does not (that loop also gets a cp.async version).
// A 16-bit row is not a row.
// CHECK-LABEL: func.func @rows_settled
// CHECK: scf.for
// CHECK: tile.load_block {{.*}} {tilegpu.pipeline = 2 : i32} : !tile.ptr<bf16> -> tensor<64x64xbf16
// CHECK: tile.load_block {{.*}} {tilegpu.pipeline = 2 : i32} : !tile.ptr<f32> -> tensor<64xf32
// CHECK: tile.load_block {{.*}}padding 0.000000e+00 : !tile.ptr<bf16> -> tensor<64xbf16
// CHECK-LABEL: func.func @rows_unsettled
// CHECK: scf.for
// CHECK: tile.load_block {{.*}} {tilegpu.pipeline = 2 : i32} : !tile.ptr<bf16> -> tensor<64x64xbf16
// CHECK: tile.load_block {{.*}}padding 0.000000e+00 : !tile.ptr<f32> -> tensor<64xf32
func.func @rows_settled(%a: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %b: !tile.ptr<bf16>, %r: !tile.ptr<f32>,
                        %h: !tile.ptr<bf16>, %out: !tile.ptr<f32>, %n: i32, %stride: i32 {tile.divisor = 8 : i64, tile.positive})
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %bt = tile.load_block %b shape [%c64, %c64] strides [%c64, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %res = scf.for %m0 = %c0 to %n step %c64 iter_args(%acc = %zero) -> (tensor<64x64xf32>) : i32 {
    %at = tile.load_block %a shape [%n, %c64] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %s = tile.dot %bt, %at, %zero : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %row = tile.load_block %r shape [%n] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
    %half = tile.load_block %h shape [%n] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<bf16> -> tensor<64xbf16>
    %hf = arith.extf %half : tensor<64xbf16> to tensor<64xf32>
    %rh = arith.addf %row, %hf : tensor<64xf32>
    %r2 = tile.expand_dims %rh, 0 : tensor<64xf32> -> tensor<1x64xf32>
    %rb = tile.broadcast %r2 : tensor<1x64xf32> -> tensor<64x64xf32>
    %x = arith.subf %s, %rb : tensor<64x64xf32>
    %acc2 = arith.addf %acc, %x : tensor<64x64xf32>
    scf.yield %acc2 : tensor<64x64xf32>
  } {tile.stages = 2 : i32}
  tile.store_block %res, %out shape [%c64, %c64] strides [%c64, %c1] offsets [%c0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}

func.func @rows_unsettled(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %r: !tile.ptr<f32>, %out: !tile.ptr<f32>,
                          %n: i32, %stride: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %bt = tile.load_block %b shape [%c64, %c64] strides [%c64, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %res = scf.for %m0 = %c0 to %n step %c64 iter_args(%acc = %zero) -> (tensor<64x64xf32>) : i32 {
    %at = tile.load_block %a shape [%n, %c64] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %s = tile.dot %bt, %at, %zero : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %row = tile.load_block %r shape [%n] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
    %r2 = tile.expand_dims %row, 0 : tensor<64xf32> -> tensor<1x64xf32>
    %rb = tile.broadcast %r2 : tensor<1x64xf32> -> tensor<64x64xf32>
    %x = arith.subf %s, %rb : tensor<64x64xf32>
    %acc2 = arith.addf %acc, %x : tensor<64x64xf32>
    scf.yield %acc2 : tensor<64x64xf32>
  } {tile.stages = 2 : i32}
  tile.store_block %res, %out shape [%c64, %c64] strides [%c64, %c1] offsets [%c0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}
