// Golden test of the software-pipelined loop code (full tile-to-gpu pipeline, 2 stages):
// prologue copies of iteration 0, then per iteration: wait for the own copy, the async-proxy
// fence (wgmma reads the buffers), one barrier, copy of iteration i+1 into the other buffer,
// then the dot from the current buffer: A (64x32: rows too short to swizzle) with ldmatrix,
// B (32x64, swizzled) through a wgmma descriptor. Buffers: 2 x (A 5120 + B 4096) bytes, and
// B's tensor map staging and four barriers (1024 with alignment).
//
// B qualifies for TMA: the kernel gets the hidden workspace argument and one template (bf16,
// box 64 x 32), and the loop comes in two versions chosen by TMA's run-time conditions. The
// TMA version: warp 0 builds the block's tensor map, thread 0 initialises one full barrier per
// stage, a proxy fence and a barrier; each stage's B copy arms its barrier with the tile's 4096
// bytes; every thread waits on the barrier (parity) before the iteration's block-wide barrier
// (A stays on cp.async, so that barrier still hands stages back); after the loop a barrier and
// the barriers' invalidation. The other version is the plain cp.async pipeline.
// CHECK-LABEL: gpu.func @gemm
// CHECK-SAME: %arg9: !llvm.ptr {tile.arg_name = "tile_tma_workspace"}
// CHECK-SAME: tile.smem_bytes = 19456 : i32, tile.tma_templates = [array<i32: 0, 64, 32>]
// CHECK: gpu.barrier
// CHECK: scf.if %{{.*}} -> (f32
// CHECK: tensormap.replace.tile.global_address.shared::cta.b1024.b64
// Extents of at least 1 (TMA's rule): an empty tensor's copies are placed out of bounds instead.
// CHECK: arith.maxsi %arg4, %c1_i32
// CHECK-NEXT: tensormap.replace.tile.global_dim.shared::cta.b1024.b32 [$0], 0, $1;", "r,r"
// CHECK-NEXT: arith.maxsi %arg5, %c1_i32
// CHECK-NEXT: tensormap.replace.tile.global_dim.shared::cta.b1024.b32 [$0], 1, $1;", "r,r"
// CHECK: tensormap.replace.tile.global_stride
// CHECK: bar.warp.sync
// CHECK: tensormap.cp_fenceproxy
// CHECK: fence.proxy.tensormap::generic.acquire.gpu
// CHECK-COUNT-2: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" {{.*}}, %c1_i32
// CHECK: fence.mbarrier_init.release.cluster;", ""  : () -> ()
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r" {{.*}}, %c4096_i32
// The row coordinate: the tile's, or -32 (the box wholly above row 0) for an empty tensor.
// CHECK: arith.select %{{.*}}, %c-32_i32, %c0_i32
// CHECK: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [$0], [$1, {$2, $3}], [$4];", "r,l,r,r,r"
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: mbarrier.try_wait.parity.shared::cta.b64
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: mbarrier.arrive.expect_tx
// CHECK: cp.async.bulk.tensor.2d
// CHECK: nvvm.cp.async.commit.group
// CHECK-NOT: gpu.barrier
// CHECK-COUNT-2: nvvm.ldmatrix
// CHECK: wgmma.fence.sync.aligned
// CHECK-COUNT-2: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: wgmma.wait_group.sync.aligned 0
// CHECK: scf.yield
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-2: mbarrier.inval.shared::cta.b64
// CHECK: } else {
// CHECK-NOT: mbarrier
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: mbarrier
// CHECK: scf.yield
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: gpu.return
func.func @gemm(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %M: i32, %N: i32, %K: i32,
                %sa: i32, %sb: i32, %sc: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pm = tile.program_id 0 : i32
  %pn = tile.program_id 1 : i32
  %c64 = arith.constant 64 : i32
  %c32 = arith.constant 32 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %m0 = arith.muli %pm, %c64 : i32
  %n0 = arith.muli %pn, %c64 : i32
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %acc = scf.for %k = %c0 to %K step %c32 iter_args(%acc = %zero) -> (tensor<64x64xf32>) : i32 {
    %ta = tile.load_block %a shape [%M, %K] strides [%sa, %c1] offsets [%m0, %k] padding 0.0 : !tile.ptr<bf16> -> tensor<64x32xbf16>
    %tb = tile.load_block %b shape [%K, %N] strides [%sb, %c1] offsets [%k, %n0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x64xbf16>
    %d = tile.dot %ta, %tb, %acc : tensor<64x32xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  } {tile.stages = 2 : i32}
  tile.store_block %acc, %c shape [%M, %N] strides [%sc, %c1] offsets [%m0, %n0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}

// A loop-invariant B operand (W, loaded before the loop) converted for a dot inside it: staged
// in shared memory once, before the loop (store, async-proxy fence, barrier); inside the loop
// only A is staged (one fence), and both operands reach wgmma through descriptors (A K-major,
// W N-major: trans-b = 1). Each k-step adds its constant offset to the k = 0 descriptors in
// the asm (16-byte units: the second k-step of a K-major A is 32 bytes on, of an N-major B 16
// rows of 128 bytes on).
// CHECK-LABEL: gpu.func @invariant_b
// CHECK-NOT: tile_tma_workspace
// CHECK: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: scf.for
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: nvvm.fence.proxy
// CHECK: add.s64 da, $64, 0;\0Aadd.s64 db, $65, 0;\0Awgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}}, da, db, p, 1, 1, 0, 1;
// CHECK: add.s64 da, $64, 2;\0Aadd.s64 db, $65, 128;\0Awgmma.mma_async
// CHECK: scf.yield
func.func @invariant_b(%a: !tile.ptr<bf16>, %w: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %M: i32, %K: i32, %sa: i32)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %tw = tile.load_block %w shape [%c64, %c64] strides [%c64, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %acc = scf.for %m = %c0 to %M step %c64 iter_args(%acc = %zero) -> (tensor<64x64xf32>) : i32 {
    %ta = tile.load_block %a shape [%M, %c64] strides [%sa, %c1] offsets [%m, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %d = tile.dot %ta, %tw, %acc : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  }
  tile.store_block %acc, %c shape [%c64, %c64] strides [%c64, %c1] offsets [%c0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}

// Every pipelined load of the loop qualifies for TMA: in the TMA version stages go back to the
// producer through "empty" barriers (count = 4 warps) instead of a block-wide barrier per
// iteration. Thread 0 waits for the previous use's empty phase (except before the first use)
// before refilling a stage; at the end of each iteration every warp syncs and its lane 0 arrives
// on the empty barrier of the stage it read.
// CHECK-LABEL: gpu.func @all_tma
// CHECK-SAME: tile.tma_templates = [array<i32: 0, 64, 64>, array<i32: 0, 64, 64>]
// CHECK: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" {{.*}}, %c1_i32
// CHECK-NEXT: llvm.getelementptr
// CHECK-NEXT: llvm.ptrtoint
// CHECK-NEXT: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" {{.*}}, %c4_i32
// CHECK: fence.mbarrier_init.release.cluster;
// The refills come first (thread 0 waits for the stages' previous use to be handed back); each
// stage is waited for just before the op that first reads it (here both feed the one dot) and
// handed back right after the op that last reads it.
// CHECK: scf.for
// CHECK-NOT: gpu.barrier
// CHECK: arith.cmpi sgt, %{{.*}}, %c0_i32
// CHECK: mbarrier.try_wait.parity
// CHECK: mbarrier.arrive.expect_tx
// CHECK: cp.async.bulk.tensor.2d
// CHECK: mbarrier.try_wait.parity
// CHECK: mbarrier.arrive.expect_tx
// CHECK: cp.async.bulk.tensor.2d
// CHECK-NOT: gpu.barrier
// CHECK: mbarrier.try_wait.parity
// CHECK: mbarrier.try_wait.parity
// CHECK-NOT: gpu.barrier
// CHECK: wgmma.wait_group.sync.aligned 0
// CHECK-NOT: gpu.barrier
// CHECK: bar.warp.sync
// CHECK: mbarrier.arrive.shared::cta.b64 _, [$0];
// CHECK: bar.warp.sync
// CHECK: mbarrier.arrive.shared::cta.b64 _, [$0];
// CHECK: scf.yield
// CHECK: gpu.barrier
// CHECK-COUNT-8: mbarrier.inval.shared::cta.b64
// CHECK: } else {
func.func @all_tma(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %M: i32, %N: i32, %K: i32,
                   %sa: i32, %sb: i32, %sc: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
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
