// Tensor cores from the gpu dialect: nvgpu.mma.sync (m16n8k16, f16 -> f32) run by one warp, and
// a kernel that assembles only for sm_90a (wgmma fence/commit/wait).
module attributes {gpu.container_module} {
  gpu.module @kernels {
    // One warp computes D = A(16x16) * B(16x8) with mma.sync.m16n8k16 (f16 in, f32 out). The host
    // packs each lane's fragment registers: A 8 halves, B 4 halves; D 4 floats per lane.
    gpu.func @mma_m16n8k16(%a: !llvm.ptr {tile.arg_name = "a_frag", tile.arg_ctype = "const uint16_t*"},
                           %b: !llvm.ptr {tile.arg_name = "b_frag", tile.arg_ctype = "const uint16_t*"},
                           %d: !llvm.ptr {tile.arg_name = "d_frag", tile.arg_ctype = "float*"})
        kernel attributes {tile.num_warps = 1 : i32, tile.smem_bytes = 0 : i32} {
      %tid = gpu.thread_id x
      %lane = arith.index_cast %tid : index to i32
      %c2 = arith.constant 2 : i32
      %c4 = arith.constant 4 : i32
      %a_row0 = arith.muli %lane, %c4 : i32
      %b_row0 = arith.muli %lane, %c2 : i32
      %undef_a = arith.constant dense<0.0> : vector<4x2xf16>
      %undef_b = arith.constant dense<0.0> : vector<2x2xf16>
      %pa0 = llvm.getelementptr %a[%a_row0] : (!llvm.ptr, i32) -> !llvm.ptr, vector<2xf16>
      %pa1 = llvm.getelementptr %pa0[1] : (!llvm.ptr) -> !llvm.ptr, vector<2xf16>
      %pa2 = llvm.getelementptr %pa0[2] : (!llvm.ptr) -> !llvm.ptr, vector<2xf16>
      %pa3 = llvm.getelementptr %pa0[3] : (!llvm.ptr) -> !llvm.ptr, vector<2xf16>
      %a0 = llvm.load %pa0 : !llvm.ptr -> vector<2xf16>
      %a1 = llvm.load %pa1 : !llvm.ptr -> vector<2xf16>
      %a2 = llvm.load %pa2 : !llvm.ptr -> vector<2xf16>
      %a3 = llvm.load %pa3 : !llvm.ptr -> vector<2xf16>
      %fa0 = vector.insert %a0, %undef_a [0] : vector<2xf16> into vector<4x2xf16>
      %fa1 = vector.insert %a1, %fa0 [1] : vector<2xf16> into vector<4x2xf16>
      %fa2 = vector.insert %a2, %fa1 [2] : vector<2xf16> into vector<4x2xf16>
      %fa = vector.insert %a3, %fa2 [3] : vector<2xf16> into vector<4x2xf16>
      %pb0 = llvm.getelementptr %b[%b_row0] : (!llvm.ptr, i32) -> !llvm.ptr, vector<2xf16>
      %pb1 = llvm.getelementptr %pb0[1] : (!llvm.ptr) -> !llvm.ptr, vector<2xf16>
      %b0 = llvm.load %pb0 : !llvm.ptr -> vector<2xf16>
      %b1 = llvm.load %pb1 : !llvm.ptr -> vector<2xf16>
      %fb0 = vector.insert %b0, %undef_b [0] : vector<2xf16> into vector<2x2xf16>
      %fb = vector.insert %b1, %fb0 [1] : vector<2xf16> into vector<2x2xf16>
      %zero = arith.constant dense<0.0> : vector<2x2xf32>
      %acc = nvgpu.mma.sync (%fa, %fb, %zero) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
      %d0 = vector.extract %acc [0] : vector<2xf32> from vector<2x2xf32>
      %d1 = vector.extract %acc [1] : vector<2xf32> from vector<2x2xf32>
      %pd0 = llvm.getelementptr %d[%b_row0] : (!llvm.ptr, i32) -> !llvm.ptr, vector<2xf32>
      %pd1 = llvm.getelementptr %pd0[1] : (!llvm.ptr) -> !llvm.ptr, vector<2xf32>
      llvm.store %d0, %pd0 : vector<2xf32>, !llvm.ptr
      llvm.store %d1, %pd1 : vector<2xf32>, !llvm.ptr
      gpu.return
    }
    // Assembles only for sm_90a: wgmma's fence/commit/wait exist on no other target.
    gpu.func @wgmma_fence(%flag: !llvm.ptr) kernel attributes {tile.num_warps = 4 : i32, tile.smem_bytes = 0 : i32} {
      nvvm.wgmma.fence.aligned
      nvvm.wgmma.commit.group.sync.aligned
      nvvm.wgmma.wait.group.sync.aligned 0
      gpu.return
    }
  }
}
