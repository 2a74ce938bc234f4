// Golden test of tile-convert-to-gpu on an already laid-out kernel (the pass runs alone).
#blkA = #tilegpu.blocked<sizePerThread = [1, 8], threadsPerWarp = [8, 4], warpsPerCTA = [4, 1], order = [1, 0]>
#blkB = #tilegpu.blocked<sizePerThread = [1, 8], threadsPerWarp = [4, 8], warpsPerCTA = [4, 1], order = [1, 0]>
#mma = #tilegpu.mma<warpsPerCTA = [4, 1]>
#opA = #tilegpu.dot_op<opIdx = 0, parent = #mma>
#opB = #tilegpu.dot_op<opIdx = 1, parent = #mma>
#row = #tilegpu.slice<dim = 1, parent = #mma>

// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @kernels
// CHECK: llvm.mlir.global external @tile_smem() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
// CHECK: gpu.func @k(%[[A:.*]]: !llvm.ptr, %[[O:.*]]: !llvm.ptr, %[[N:.*]]: i32, %[[S:.*]]: f32) kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME: tile.num_warps = 4 : i32
// CHECK-SAME: tile.smem_bytes = 9216 : i32
// CHECK: gpu.thread_id x
// CHECK: llvm.addrspacecast %[[A]] : !llvm.ptr to !llvm.ptr<1>
// Block loads: a 16-byte vector path when aligned, element-wise otherwise.
// CHECK: scf.if
// CHECK: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<8xbf16>
// CHECK: else
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> bf16
// Operands are staged in shared memory, a region each: A 64x(32+8) bf16 padded (5120 bytes: its
// 64-byte rows are too short for the 128-byte swizzle), B 32x64 bf16 swizzled (4096 bytes),
// each store followed by a barrier; only B's, which wgmma reads, also by the async-proxy fence.
// CHECK: gpu.barrier
// CHECK: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// CHECK-NOT: nvvm.fence.proxy
// CHECK: gpu.barrier
// CHECK: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// The accumulator has warps along M (one warpgroup): wgmma, A from registers (ldmatrix of
// both k-steps before the fence), B through a descriptor (N-major: trans-b = 1).
// CHECK-COUNT-2: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>{{.*}}num = 4
// CHECK-NOT: nvvm.ldmatrix
// The accumulator is fresh (the dot has none: zeros), so it enters as poison, and the first
// k-step runs with scale-d 0 (D = A*B, its last operand), the second with 1.
// CHECK: llvm.mlir.poison : f32
// CHECK: llvm.inline_asm has_side_effects "wgmma.fence.sync.aligned;"
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;{{.*}}, %c0_i32{{[_0-9]*}} :
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;{{.*}}, %c1_i32{{[_0-9]*}} :
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: llvm.inline_asm has_side_effects "wgmma.wait_group.sync.aligned 0;"
// CHECK-NOT: nvvm.mma.sync
// Row max: in-thread, then lanes 1 and 2 apart (the quad sharing a row), no shared memory.
// CHECK-COUNT-2: gpu.shuffle xor {{.*}}, %c1_i32{{.*}}, %c32_i32
// CHECK-COUNT-2: gpu.shuffle xor {{.*}}, %c2_i32{{.*}}, %c32_i32
// CHECK-NOT: gpu.shuffle
// CHECK: ex2.approx.ftz.f32
// Scatter of the row maxima: one copy of the replicated elements writes.
// CHECK: scf.if
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr<1>
// CHECK: gpu.return
// CHECK-NOT: tensor<
// CHECK-NOT: tile.

// A 2x2 warp grid: mma.sync m16n8k16 on ldmatrix fragments (.trans for B, N-major), read from
// the same staging tiles (A padded, B swizzled: 9216 bytes).
// CHECK-LABEL: gpu.func @k_sync
// CHECK-SAME: tile.smem_bytes = 9216 : i32
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>{{.*}}num = 4
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>{{.*}}num = 2
// 64x64x32 over 2x2 warps: 16 m16n8k16 per warp.
// CHECK-COUNT-16: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK-NOT: wgmma
// CHECK: gpu.return

// Gathers/scatters at pid*1024 + arange: contiguous, aligned offsets -> 16-byte vectors when
// the pointer is aligned (run-time test) and the whole vector is unmasked.
// CHECK-LABEL: gpu.func @vadd
// CHECK: llvm.ptrtoint
// CHECK: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xf32>
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<1>
func.func @k(%a: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %n: i32, %s: f32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %ta = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x32xbf16, #blkA>
  %fa = tilegpu.convert_layout %ta : tensor<64x32xbf16, #blkA> -> tensor<64x32xbf16, #opA>
  %tb = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x64xbf16, #blkB>
  %fb = tilegpu.convert_layout %tb : tensor<32x64xbf16, #blkB> -> tensor<32x64xbf16, #opB>
  %zero = arith.constant dense<0.0> : tensor<64x64xf32, #mma>
  %d = tile.dot %fa, %fb, %zero : tensor<64x32xbf16, #opA>, tensor<32x64xbf16, #opB> -> tensor<64x64xf32, #mma>
  %m = tilegpu.reduce "max" %d, 1 : tensor<64x64xf32, #mma> -> tensor<64xf32, #row>
  %me = tile.expand_dims %m, 1 : tensor<64xf32, #row> -> tensor<64x1xf32, #mma>
  %mb = tile.broadcast %me : tensor<64x1xf32, #mma> -> tensor<64x64xf32, #mma>
  %x = arith.subf %d, %mb : tensor<64x64xf32, #mma>
  %e = math.exp2 %x : tensor<64x64xf32, #mma>
  tile.store_block %e, %o shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] : tensor<64x64xf32, #mma>, !tile.ptr<f32>
  %rows = tile.arange 0 to 64 : tensor<64xi32, #row>
  tile.store %m, %o[%rows] : tensor<64xf32, #row>, !tile.ptr<f32>, tensor<64xi32, #row>
  return
}

#mma22 = #tilegpu.mma<warpsPerCTA = [2, 2]>
#opA22 = #tilegpu.dot_op<opIdx = 0, parent = #mma22>
#opB22 = #tilegpu.dot_op<opIdx = 1, parent = #mma22>
func.func @k_sync(%a: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %n: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %ta = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x32xbf16, #blkA>
  %fa = tilegpu.convert_layout %ta : tensor<64x32xbf16, #blkA> -> tensor<64x32xbf16, #opA22>
  %tb = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x64xbf16, #blkB>
  %fb = tilegpu.convert_layout %tb : tensor<32x64xbf16, #blkB> -> tensor<32x64xbf16, #opB22>
  %zero = arith.constant dense<0.0> : tensor<64x64xf32, #mma22>
  %d = tile.dot %fa, %fb, %zero : tensor<64x32xbf16, #opA22>, tensor<32x64xbf16, #opB22> -> tensor<64x64xf32, #mma22>
  tile.store_block %d, %o shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] : tensor<64x64xf32, #mma22>, !tile.ptr<f32>
  return
}

#blk1 = #tilegpu.blocked<sizePerThread = [4], threadsPerWarp = [32], warpsPerCTA = [4], order = [0]>
func.func @vadd(%x: !tile.ptr<f32>, %n: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pid = tile.program_id 0 : i32
  %c1024 = arith.constant 1024 : i32
  %base = arith.muli %pid, %c1024 : i32
  %r = tile.arange 0 to 1024 : tensor<1024xi32, #blk1>
  %b = tile.splat %base : i32 -> tensor<1024xi32, #blk1>
  %offs = arith.addi %b, %r : tensor<1024xi32, #blk1>
  %nn = tile.splat %n : i32 -> tensor<1024xi32, #blk1>
  %mask = arith.cmpi slt, %offs, %nn : tensor<1024xi32, #blk1>
  %a = tile.load %x[%offs] mask %mask : !tile.ptr<f32>, tensor<1024xi32, #blk1>, tensor<1024xi1, #blk1> -> tensor<1024xf32, #blk1>
  %s = arith.addf %a, %a : tensor<1024xf32, #blk1>
  tile.store %s, %x[%offs] mask %mask : tensor<1024xf32, #blk1>, !tile.ptr<f32>, tensor<1024xi32, #blk1>, tensor<1024xi1, #blk1>
  return
}

// Index tiles stay base + constant (KernelEmitter::emitOffsetArith): arange + n is the thread's
// coordinate plus n, once, and then that base plus each register's constant, so LLVM has no
// per-register loop-invariant value to hoist when n is a loop's induction variable.
// CHECK-LABEL: gpu.func @cols_plus_n
// CHECK: %[[T:.*]] = arith.addi %[[LANE:.*]], %c515_i32 : i32
// CHECK-NEXT: %[[BASE:.*]] = arith.addi %[[LANE]], %arg1 : i32
// CHECK-NOT: %arg1
// CHECK: arith.addi %[[BASE]], %c1_i32{{.*}} : i32
// CHECK: arith.addi %[[BASE]], %c515_i32{{.*}} : i32
// The difference of two such tiles is one base difference plus constants.
// CHECK: %[[DIFF:.*]] = arith.subi %[[BASE]], %[[LANE]] : i32
// CHECK-NEXT: %c-3_i32 = arith.constant -3 : i32
// CHECK-NEXT: arith.addi %[[DIFF]], %c-3_i32 : i32
// CHECK-NOT: arith.subi
// CHECK: gpu.return
func.func @cols_plus_n(%x: !tile.ptr<f32>, %n: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %r = tile.arange 0 to 1024 : tensor<1024xi32, #blk1>
  %nn = tile.splat %n : i32 -> tensor<1024xi32, #blk1>
  %cols = arith.addi %r, %nn : tensor<1024xi32, #blk1>
  %r2 = tile.arange 3 to 1027 : tensor<1024xi32, #blk1>
  %rel = arith.subi %cols, %r2 : tensor<1024xi32, #blk1>
  %mask = arith.cmpi slt, %rel, %nn : tensor<1024xi32, #blk1>
  %a = tile.load %x[%cols] mask %mask : !tile.ptr<f32>, tensor<1024xi32, #blk1>, tensor<1024xi1, #blk1> -> tensor<1024xf32, #blk1>
  tile.store %a, %x[%r] : tensor<1024xf32, #blk1>, !tile.ptr<f32>, tensor<1024xi32, #blk1>
  return
}

// Registers of different bases (values loaded from memory) each keep their own sum with the
// splat: one add per register.
// CHECK-LABEL: gpu.func @splat_plus_loaded
// CHECK-COUNT-8: arith.addi %arg1, %{{.*}} : i32
// CHECK-NOT: arith.addi %arg1
// CHECK: gpu.return
func.func @splat_plus_loaded(%x: !tile.ptr<i32>, %n: i32) attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %r = tile.arange 0 to 1024 : tensor<1024xi32, #blk1>
  %nn = tile.splat %n : i32 -> tensor<1024xi32, #blk1>
  %v = tile.load %x[%r] : !tile.ptr<i32>, tensor<1024xi32, #blk1> -> tensor<1024xi32, #blk1>
  %s = arith.addi %nn, %v : tensor<1024xi32, #blk1>
  tile.store %s, %x[%r] : tensor<1024xi32, #blk1>, !tile.ptr<i32>, tensor<1024xi32, #blk1>
  return
}
