// Golden test of pipelined rows (full tile-to-gpu pipeline, 2 stages): a 1-D f32 load in a
// pipelined loop that feeds no dot (the backward's per-query LSE) gets stage buffers of its own
// (2 x 256 bytes) beside the dot operand's. Thread t < 64 copies element t with a 4-byte
// cp.async (zero-filled past the extent: src-size 0), in the prologue and S-1 iterations
// ahead; the iteration's barrier publishes the stage like the operand's, and the load op reads
// the thread's registers from the stage where it stands: the row's values are live in
// registers only from there to their use.
//
// @row_minus: the arguments' assumptions settle TMA's rules, so the loop has one version and
// its row is staged. @row_minus_unsettled: the same loop with nothing assumed has a TMA and a
// cp.async version; there the row stays a load where it stands (ld.global), and the TMA
// version keeps the empty-barrier hand-over (its stages go back without a block barrier).
// CHECK-LABEL: gpu.func @row_minus(
// CHECK-SAME: tile.smem_bytes = 26624
// The prologue: the operand's tensor copy, then the row's under tid < 64 (src-size 4, or 0
// past the extent or past the loop's end).
// CHECK: mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r" {{.*}}, %c8192_i32
// CHECK: cp.async.bulk.tensor.2d
// CHECK: arith.cmpi ult, %[[TID:[0-9]+]], %c64_i32
// CHECK-NEXT: scf.if
// CHECK-NEXT: arith.cmpi ult, %[[TID]], %arg4
// CHECK: arith.select %{{.*}}, %c4_i32, %c0_i32
// CHECK: nvvm.cp.async.shared.global {{.*}}, 4, cache =  ca
// CHECK: nvvm.cp.async.commit.group
// Each iteration: the row's own copies waited for, the operand's barrier, one block barrier
// publishing both stages; then the next iteration's copies.
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: mbarrier.try_wait.parity
// CHECK: gpu.barrier
// CHECK: cp.async.bulk.tensor.2d
// CHECK: nvvm.cp.async.shared.global {{.*}}, 4, cache =  ca
// CHECK: nvvm.cp.async.commit.group
// The row is read where its load stands: after the dot's issue, under its wgmma (the wait comes
// with the first use of the scores), pairs of columns as 8-byte loads.
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT: nvvm.cp.async
// CHECK: llvm.load {{.*}} {alignment = 8 : i64} : !llvm.ptr<3> -> vector<2xf32>
// CHECK: wgmma.wait_group.sync.aligned 0
// CHECK: arith.subf
// CHECK: scf.yield
// One version only: no second loop.
// CHECK-NOT: scf.for
// CHECK: gpu.return
//
// CHECK-LABEL: gpu.func @row_minus_unsettled(
// CHECK: scf.if
// CHECK-NOT: cache =  ca
// CHECK: scf.for
// CHECK: mbarrier.try_wait.parity
// CHECK-NOT: gpu.barrier
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> f32
// CHECK: mbarrier.arrive.shared::cta.b64
// CHECK: scf.yield
// CHECK: } else {
// CHECK-NOT: cache =  ca
// CHECK: gpu.return
//
// @row_minus_roles_wanted: a kernel that asks for warp roles, whose two loops with rows run
// one after the other inside an outer loop (the backward's query loops inside its loop over a
// k/v head's query heads). The rows ride in the TMA stages of %a (stage_rings.h), so a producer
// feeds both loops: its first warp waits for the stage's hand-back, one lane arms the stage's
// full barrier and issues the tile, then the warp's lanes copy the row's 64 elements (two
// loads and shared stores a lane) and each arrives on the full barrier, which counts 33
// arrivals (the issuer's and 32 lanes'). The consumers copy nothing: their
// wait for %a's stage covers the row. They read the row with ordinary loads after the dot is
// issued, so each consumer lane hands the stage back itself (the empty barrier counts 128
// arrivals, no warp barrier before them), and only once the dot that reads the stage has been
// waited for, though the row's read is the stage's last reader in the body. One ring of 2
// stages of 9216 B (the tile's 8192, the row's 256, 1024-aligned) serves both loops over the
// whole kernel: 27648 B in all (43008 B with separate row stages).
// CHECK-LABEL: gpu.func @row_minus_roles_wanted(
// CHECK-SAME: tile.register_split
// CHECK-SAME: tile.smem_bytes = 27648 : i32
// CHECK: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" {{.*}}, %c33_i32
// CHECK: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" {{.*}}, %c128_i32
// CHECK: setmaxnreg.dec
// CHECK: mbarrier.try_wait.parity
// CHECK: mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r" {{.*}}, %c8192_i32
// CHECK: cp.async.bulk.tensor.2d
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> f32
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr<3>
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> f32
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr<3>
// CHECK-NOT: nvvm.cp.async
// CHECK: mbarrier.arrive.shared::cta.b64 _, [$0];", "r"
// CHECK: setmaxnreg.inc
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK: mbarrier.try_wait.parity
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK: llvm.load {{.*}} {alignment = 8 : i64} : !llvm.ptr<3> -> vector<2xf32>
// CHECK-NOT: mbarrier.arrive
// CHECK: wgmma.wait_group.sync.aligned 0
// CHECK-NOT: bar.warp.sync
// CHECK: mbarrier.arrive.shared::cta.b64 _, [$0];", "r"
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK: gpu.return
func.func @row_minus(%a: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %b: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                     %r: !tile.ptr<f32>, %out: !tile.ptr<f32>, %n: i32, %stride: i32 {tile.divisor = 8 : i64, tile.positive}) attributes {tile.kernel, tile.num_warps = 4 : i32} {
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

func.func @row_minus_unsettled(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %r: !tile.ptr<f32>, %out: !tile.ptr<f32>,
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

func.func @row_minus_roles_wanted(%a: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %b: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                     %r: !tile.ptr<f32>, %out: !tile.ptr<f32>, %n: i32, %heads: i32, %stride: i32 {tile.divisor = 8 : i64, tile.positive})
    attributes {tile.kernel, tile.num_warps = 4 : i32, tile.warp_specialized} {
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %bt = tile.load_block %b shape [%c64, %c64] strides [%c64, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %all = scf.for %h = %c0 to %heads step %c1 iter_args(%acc_h = %zero) -> (tensor<64x64xf32>) : i32 {
    %first = scf.for %m0 = %c0 to %c64 step %c64 iter_args(%acc = %acc_h) -> (tensor<64x64xf32>) : i32 {
      %at = tile.load_block %a shape [%n, %c64] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %s = tile.dot %bt, %at, %zero : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      %row = tile.load_block %r shape [%n] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
      %r2 = tile.expand_dims %row, 0 : tensor<64xf32> -> tensor<1x64xf32>
      %rb = tile.broadcast %r2 : tensor<1x64xf32> -> tensor<64x64xf32>
      %x = arith.subf %s, %rb : tensor<64x64xf32>
      %acc2 = arith.addf %acc, %x : tensor<64x64xf32>
      scf.yield %acc2 : tensor<64x64xf32>
    } {tile.stages = 2 : i32}
    %rest = scf.for %m1 = %c64 to %n step %c64 iter_args(%acc = %first) -> (tensor<64x64xf32>) : i32 {
      %at = tile.load_block %a shape [%n, %c64] strides [%stride, %c1] offsets [%m1, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %s = tile.dot %bt, %at, %zero : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
      %row = tile.load_block %r shape [%n] strides [%c1] offsets [%m1] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
      %r2 = tile.expand_dims %row, 0 : tensor<64xf32> -> tensor<1x64xf32>
      %rb = tile.broadcast %r2 : tensor<1x64xf32> -> tensor<64x64xf32>
      %x = arith.subf %s, %rb : tensor<64x64xf32>
      %acc2 = arith.addf %acc, %x : tensor<64x64xf32>
      scf.yield %acc2 : tensor<64x64xf32>
    } {tile.stages = 2 : i32}
    scf.yield %rest : tensor<64x64xf32>
  }
  tile.store_block %all, %out shape [%c64, %c64] strides [%c64, %c1] offsets [%c0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}
