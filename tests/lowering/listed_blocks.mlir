// Golden test of a pipelined loop over listed blocks (a block mask's lists): the loads' offsets
// come from a scalar load of the list, list[i] * 64. tile-pipeline-loops marks them, and the
// copies issued ahead read the list only for iterations that run: iteration i+1's entry is read
// under `i + 1 < count` (an scf.if around the load), so a list of `count` entries is never read
// past its end.
//
// @listed (no argument assumptions): a TMA version and a cp.async version chosen at run time;
// both prefetch through the guarded read.
// CHECK-LABEL: gpu.func @listed
// The prologue: entry 0, read only when the loop runs (0 < count).
// CHECK: %[[RUNS:.*]] = arith.cmpi sgt, %arg4, %c0_i32 : i32
// CHECK: scf.if %[[RUNS]] -> (i32) {
// CHECK: llvm.load %{{.*}} : !llvm.ptr<1> -> i32
// CHECK: cp.async.bulk.tensor.2d
// CHECK: scf.for
// In the loop: entry i + 1, read only when iteration i + 1 runs.
// CHECK: %[[AHEAD:.*]] = arith.addi %arg11, %c1_i32 : i32
// CHECK: %[[NEXT:.*]] = arith.cmpi slt, %[[AHEAD]], %arg4 : i32
// CHECK: scf.if %[[NEXT]] -> (i32) {
// CHECK: llvm.load %{{.*}} : !llvm.ptr<1> -> i32
// CHECK: cp.async.bulk.tensor.2d
// The cp.async version.
// CHECK: } else {
// CHECK: scf.if %{{.*}} -> (i32) {
// CHECK: llvm.load %{{.*}} : !llvm.ptr<1> -> i32
// CHECK: nvvm.cp.async.shared.global
// CHECK: gpu.return
func.func @listed(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %list: !tile.ptr<i32>, %count: i32,
                  %M: i32, %N: i32, %K: i32, %sa: i32, %sb: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pm = tile.program_id 0 : i32
  %pn = tile.program_id 1 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %m0 = arith.muli %pm, %c64 : i32
  %n0 = arith.muli %pn, %c64 : i32
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %acc = scf.for %i = %c0 to %count step %c1 iter_args(%acc = %zero) -> (tensor<64x64xf32>) : i32 {
    %blk = tile.load_scalar %list[%i] : !tile.ptr<i32>, i32 -> i32
    %k = arith.muli %blk, %c64 : i32
    %ta = tile.load_block %a shape [%M, %K] strides [%sa, %c1] offsets [%m0, %k] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %tb = tile.load_block %b shape [%K, %N] strides [%sb, %c1] offsets [%k, %n0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %d = tile.dot %ta, %tb, %acc : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  } {tile.stages = 2 : i32}
  tile.store_block %acc, %c shape [%M, %N] strides [%N, %c1] offsets [%m0, %n0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}

// @listed_roles: the same loop fed by a producer warpgroup (every TMA fact assumed). The
// producer reads entry i for the copy of iteration i, which runs: no guard there.
// CHECK-LABEL: gpu.func @listed_roles
// CHECK: setmaxnreg.dec
// CHECK: scf.for
// CHECK-NOT: scf.if
// CHECK: llvm.load %{{.*}} : !llvm.ptr<1> -> i32
// CHECK: cp.async.bulk.tensor.2d
// CHECK: setmaxnreg.inc
// CHECK: gpu.return
func.func @listed_roles(%a: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %b: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                        %c: !tile.ptr<f32> {tile.divisor = 16 : i64}, %list: !tile.ptr<i32>, %count: i32,
                        %M: i32, %N: i32 {tile.divisor = 8 : i64}, %K: i32,
                        %sa: i32 {tile.divisor = 8 : i64, tile.positive}, %sb: i32 {tile.divisor = 8 : i64, tile.positive})
    attributes {tile.kernel, tile.num_warps = 4 : i32, tile.warp_specialized} {
  %pm = tile.program_id 0 : i32
  %pn = tile.program_id 1 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %m0 = arith.muli %pm, %c64 : i32
  %n0 = arith.muli %pn, %c64 : i32
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %acc = scf.for %i = %c0 to %count step %c1 iter_args(%acc = %zero) -> (tensor<64x64xf32>) : i32 {
    %blk = tile.load_scalar %list[%i] : !tile.ptr<i32>, i32 -> i32
    %k = arith.muli %blk, %c64 : i32
    %ta = tile.load_block %a shape [%M, %K] strides [%sa, %c1] offsets [%m0, %k] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %tb = tile.load_block %b shape [%K, %N] strides [%sb, %c1] offsets [%k, %n0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %d = tile.dot %ta, %tb, %acc : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  } {tile.stages = 2 : i32}
  tile.store_block %acc, %c shape [%M, %N] strides [%N, %c1] offsets [%m0, %n0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}
