// Kernel argument assumptions (tile.divisor, tile.positive: the DSL's ArgAssumption) decide
// the run-time tests of the lowering at compile time. In @assumed every fact TMA needs is known
// (16-byte aligned bases, row strides in 16-byte units and positive, unit column strides):
// the pipelined loop comes in its TMA version only, with no cp.async pipeline beside it, and
// the f32 result is stored by vectors with no per-element fallback. Only the extents stay
// run-time values: a map's extents are clamped to 1 and an empty tensor's box is placed above
// row 0 (-64), all out of bounds, as TMA zero-fills.
// CHECK-LABEL: gpu.func @assumed
// CHECK-NOT: nvvm.cp.async
// CHECK-NOT: } else {
// CHECK: arith.maxsi %arg5, %c1_i32
// CHECK: arith.maxsi %arg3, %c1_i32
// CHECK: arith.select %{{.*}}, %c-64_i32, %{{.*}} : i32
// CHECK-NEXT: llvm.getelementptr
// CHECK: cp.async.bulk.tensor.2d
// CHECK: scf.for
// CHECK-NOT: nvvm.cp.async
// CHECK-NOT: } else {
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK-NOT: : f32, !llvm.ptr<1>
// CHECK-NOT: } else {
// CHECK: gpu.return
func.func @assumed(%a: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %b: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                   %c: !tile.ptr<f32> {tile.divisor = 16 : i64}, %M: i32, %N: i32 {tile.divisor = 8 : i64}, %K: i32,
                   %sa: i32 {tile.divisor = 8 : i64, tile.positive}, %sb: i32 {tile.divisor = 8 : i64, tile.positive},
                   %sc: i32 {tile.divisor = 4 : i64}) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pm = tile.program_id 0 : i32
  %pn = tile.program_id 1 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %m0 = arith.muli %pm, %c64 : i32
  %n0 = arith.muli %pn, %c64 : i32
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %acc = scf.for %k = %c0 to %K step %c64 iter_args(%acc = %zero) -> (tensor<64x64xf32>) : i32 {
    %ta = tile.load_block %a shape [%M, %K] strides [%sa, %c1] offsets [%m0, %k] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %tb = tile.load_block %b shape [%K, %N] strides [%sb, %c1] offsets [%k, %n0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %d = tile.dot %ta, %tb, %acc : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  } {tile.stages = 2 : i32}
  tile.store_block %acc, %c shape [%M, %N] strides [%sc, %c1] offsets [%m0, %n0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}

// The same kernel with one fact missing (%sb's sign): the loop keeps its cp.async version,
// chosen at run time; B's address through an offset of unknown divisibility (%off) leaves the
// store's vector test in place too.
// CHECK-LABEL: gpu.func @partly_assumed
// CHECK: } else {
// CHECK: nvvm.cp.async.shared.global
// The store: by vectors, or (its address only 4-byte aligned) one f32 at a time.
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK: } else {
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr<1>
// CHECK: gpu.return
func.func @partly_assumed(%a: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %b: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                          %c: !tile.ptr<f32> {tile.divisor = 16 : i64}, %M: i32, %N: i32 {tile.divisor = 8 : i64}, %K: i32,
                          %sa: i32 {tile.divisor = 8 : i64, tile.positive}, %sb: i32 {tile.divisor = 8 : i64},
                          %sc: i32 {tile.divisor = 4 : i64}, %off: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pm = tile.program_id 0 : i32
  %pn = tile.program_id 1 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %m0 = arith.muli %pm, %c64 : i32
  %n0 = arith.muli %pn, %c64 : i32
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %acc = scf.for %k = %c0 to %K step %c64 iter_args(%acc = %zero) -> (tensor<64x64xf32>) : i32 {
    %ta = tile.load_block %a shape [%M, %K] strides [%sa, %c1] offsets [%m0, %k] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %tb = tile.load_block %b shape [%K, %N] strides [%sb, %c1] offsets [%k, %n0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %d = tile.dot %ta, %tb, %acc : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  } {tile.stages = 2 : i32}
  %cc = tile.addptr %c, %off : !tile.ptr<f32>, i32
  tile.store_block %acc, %cc shape [%M, %N] strides [%sc, %c1] offsets [%m0, %n0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}

// A's rows have their own extent (%Ma): simulated with %Ma = 0 (simt_test), A is an empty
// tensor whose copies still run in the loop; placed above row 0 they are all zero-filled.
// CHECK-LABEL: gpu.func @empty_rows
// CHECK-NOT: nvvm.cp.async
// CHECK: arith.select %{{.*}}, %c-64_i32, %{{.*}} : i32
func.func @empty_rows(%a: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %b: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                      %c: !tile.ptr<f32> {tile.divisor = 16 : i64}, %M: i32, %N: i32 {tile.divisor = 8 : i64}, %K: i32,
                      %sa: i32 {tile.divisor = 8 : i64, tile.positive}, %sb: i32 {tile.divisor = 8 : i64, tile.positive},
                      %sc: i32 {tile.divisor = 4 : i64}, %Ma: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pm = tile.program_id 0 : i32
  %pn = tile.program_id 1 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %m0 = arith.muli %pm, %c64 : i32
  %n0 = arith.muli %pn, %c64 : i32
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %acc = scf.for %k = %c0 to %K step %c64 iter_args(%acc = %zero) -> (tensor<64x64xf32>) : i32 {
    %ta = tile.load_block %a shape [%Ma, %K] strides [%sa, %c1] offsets [%m0, %k] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %tb = tile.load_block %b shape [%K, %N] strides [%sb, %c1] offsets [%k, %n0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %d = tile.dot %ta, %tb, %acc : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  } {tile.stages = 2 : i32}
  tile.store_block %acc, %c shape [%M, %N] strides [%sc, %c1] offsets [%m0, %n0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}
