// out[blk*128 + t] = in[blk*128 + 127 - t] * scale, through dynamic shared memory at byte offsets
// above 48 KiB: the launch only works when the runtime raised the kernel's dynamic smem limit.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @reverse_blocks(%in: !llvm.ptr {tile.arg_name = "in", tile.arg_ctype = "const float*"},
                             %out: !llvm.ptr {tile.arg_name = "out", tile.arg_ctype = "float*"},
                             %scale: f32 {tile.arg_name = "scale"})
        kernel attributes {tile.num_warps = 4 : i32, tile.smem_bytes = 65536 : i32} {
      %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %c0 = arith.constant 0 : index
      %buf = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<16384xf32, #gpu.address_space<workgroup>>
      %bid = gpu.block_id x
      %tid = gpu.thread_id x
      %block = arith.constant 128 : index
      %last = arith.constant 127 : index
      %high = arith.constant 16256 : index
      %base = arith.muli %bid, %block : index
      %i = arith.addi %base, %tid : index
      %i32 = arith.index_cast %i : index to i32
      %pin = llvm.getelementptr %in[%i32] : (!llvm.ptr, i32) -> !llvm.ptr, f32
      %x = llvm.load %pin : !llvm.ptr -> f32
      %slot = arith.addi %high, %tid : index
      memref.store %x, %buf[%slot] : memref<16384xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %mirror = arith.subi %last, %tid : index
      %src = arith.addi %high, %mirror : index
      %y = memref.load %buf[%src] : memref<16384xf32, #gpu.address_space<workgroup>>
      %z = arith.mulf %y, %scale : f32
      %pout = llvm.getelementptr %out[%i32] : (!llvm.ptr, i32) -> !llvm.ptr, f32
      llvm.store %z, %pout : f32, !llvm.ptr
      gpu.return
    }
  }
}
