// c[i] = a[i] + b[i] for i < n, one element per thread, 128 threads per block.
// Hand-written at the level the front half of the lowering emits (gpu.func + arith + llvm).
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @vector_add(%a: !llvm.ptr {tile.arg_name = "a", tile.arg_ctype = "const float*"},
                         %b: !llvm.ptr {tile.arg_name = "b", tile.arg_ctype = "const float*"},
                         %c: !llvm.ptr {tile.arg_name = "c", tile.arg_ctype = "float*"},
                         %n: i32 {tile.arg_name = "n"})
        kernel attributes {tile.num_warps = 4 : i32, tile.smem_bytes = 0 : i32} {
      %bid = gpu.block_id x
      %tid = gpu.thread_id x
      %block = arith.constant 128 : index
      %base = arith.muli %bid, %block : index
      %i = arith.addi %base, %tid : index
      %i32 = arith.index_cast %i : index to i32
      %in_range = arith.cmpi slt, %i32, %n : i32
      scf.if %in_range {
        %pa = llvm.getelementptr %a[%i32] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %pb = llvm.getelementptr %b[%i32] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %pc = llvm.getelementptr %c[%i32] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x = llvm.load %pa : !llvm.ptr -> f32
        %y = llvm.load %pb : !llvm.ptr -> f32
        %s = arith.addf %x, %y : f32
        llvm.store %s, %pc : f32, !llvm.ptr
      }
      gpu.return
    }
  }
}
