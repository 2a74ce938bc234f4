// atomic_add_block by bulk reduce-add (emit_bulk_reduce.h): a loop adds a 64x64 dot into an f32
// tensor every iteration, as the backward's dK/dV program adds dQ. The accumulator's layout
// (wgmma, 4 warps along M) gives each warp 16 rows of 64 columns: one 256-byte row segment per
// row, all 16 issued by the warp's first lane. Golden test of the lowering, and simulated in simt_test.
// CHECK-LABEL: gpu.func @bulk_reduce_add
// A staging region of 64 rows of 64 + 8 floats (18432 bytes) beside the two bf16 operands'
// (16384 bytes).
// CHECK-SAME: tile.smem_bytes = 34816
// Run-time check: base, row stride, column offset and extent in 16-byte units, unit column stride.
// CHECK: scf.for
// CHECK: scf.if
// The warp waits until its earlier reduces have read the region, then stages its fragments
// (64-bit stores into the padded rows), fences them for the async proxy and syncs.
// CHECK: "cp.async.bulk.wait_group.read 0;"
// CHECK-NEXT: "bar.warp.sync -1;"
// CHECK-COUNT-16: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<3>
// CHECK-NOT: llvm.store
// CHECK: "fence.proxy.async.shared::cta;"
// CHECK-NEXT: "bar.warp.sync -1;"
// The first lane issues the warp's 16 row segments, each under its row bound, then the group
// is committed.
// CHECK: arith.cmpi eq
// CHECK-NEXT: scf.if
// CHECK-COUNT-16: "cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32 [$0], [$1], $2;", "l,r,r"
// CHECK-NOT: cp.reduce.async.bulk
// CHECK: "cp.async.bulk.commit_group;"
// The other branch: the vector atomics.
// CHECK: } else {
// CHECK: red.global.add.v2.f32
// Before the kernel exits, each thread waits for its reduces to complete.
// CHECK: "cp.async.bulk.wait_group 0;"
// CHECK-NEXT: gpu.return
func.func @bulk_reduce_add(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %out: !tile.ptr<f32>, %n: i32, %stride: i32, %iters: i32)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %pid = tile.program_id 0 : i32
  %m0 = arith.muli %pid, %c64 : i32
  %tb = tile.load_block %b shape [%c64, %c64] strides [%c64, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %z = arith.constant dense<0.0> : tensor<64x64xf32>
  scf.for %i = %c0 to %iters step %c1 : i32 {
    %r0 = arith.muli %i, %c64 : i32
    %ta = tile.load_block %a shape [%n, %c64] strides [%c64, %c1] offsets [%r0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %d = tile.dot %ta, %tb, %z : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    tile.atomic_add_block %d, %out shape [%n, %c64] strides [%stride, %c1] offsets [%m0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  }
  return
}
