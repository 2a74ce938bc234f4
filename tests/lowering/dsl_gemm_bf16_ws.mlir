// Snapshot of the DSL example: tile_dump --kernel gemm --param BLOCK_N=256 --param PRODUCER=1 --param STAGES=4
module {
  func.func @gemm(%arg0: !tile.ptr<bf16>, %arg1: !tile.ptr<bf16>, %arg2: !tile.ptr<f32>, %arg3: i32, %arg4: i32, %arg5: i32, %arg6: i32, %arg7: i32, %arg8: i32) attributes {tile.kernel, tile.num_warps = 8 : i32, tile.params = {BLOCK_K = 64 : i64, BLOCK_M = 128 : i64, BLOCK_N = 256 : i64, DTYPE = "bf16", GROUP_M = 8 : i64, NUM_WARPS = 8 : i64, OUT_DTYPE = "f32", PRODUCER = 1 : i64, STAGES = 4 : i64}, tile.warp_specialized} {
    %c256_i32 = arith.constant 256 : i32
    %c1_i32 = arith.constant 1 : i32
    %c8_i32 = arith.constant 8 : i32
    %c128_i32 = arith.constant 128 : i32
    %cst = arith.constant 0.000000e+00 : f32
    %c64_i32 = arith.constant 64 : i32
    %c0_i32 = arith.constant 0 : i32
    %0 = tile.program_id 0 : i32
    %1 = arith.addi %arg4, %c256_i32 : i32
    %2 = arith.subi %1, %c1_i32 : i32
    %3 = arith.divsi %2, %c256_i32 : i32
    %4 = arith.muli %c8_i32, %3 : i32
    %5 = arith.divsi %0, %4 : i32
    %6 = arith.muli %5, %c8_i32 : i32
    %7 = arith.addi %arg3, %c128_i32 : i32
    %8 = arith.subi %7, %c1_i32 : i32
    %9 = arith.divsi %8, %c128_i32 : i32
    %10 = arith.subi %9, %6 : i32
    %11 = arith.minsi %10, %c8_i32 : i32
    %12 = arith.remsi %0, %4 : i32
    %13 = arith.remsi %12, %11 : i32
    %14 = arith.addi %6, %13 : i32
    %15 = arith.remsi %0, %4 : i32
    %16 = arith.divsi %15, %11 : i32
    %17 = arith.muli %14, %c128_i32 : i32
    %18 = arith.muli %16, %c256_i32 : i32
    %19 = tile.splat %cst : f32 -> tensor<128x256xf32>
    %20 = arith.addi %arg5, %c64_i32 : i32
    %21 = arith.subi %20, %c1_i32 : i32
    %22 = arith.divsi %21, %c64_i32 : i32
    %23:5 = scf.for %arg9 = %c0_i32 to %22 step %c1_i32 iter_args(%arg10 = %19, %arg11 = %17, %arg12 = %c0_i32, %arg13 = %c0_i32, %arg14 = %18) -> (tensor<128x256xf32>, i32, i32, i32, i32)  : i32 {
      %26 = tile.load_block %arg0 shape[%arg3, %arg5] strides[%arg6, %c1_i32] offsets[%arg11, %arg12] padding 0.000000e+00 : !tile.ptr<bf16> -> tensor<128x64xbf16>
      %27 = tile.load_block %arg1 shape[%arg5, %arg4] strides[%arg7, %c1_i32] offsets[%arg13, %arg14] padding 0.000000e+00 : !tile.ptr<bf16> -> tensor<64x256xbf16>
      %28 = tile.dot %26, %27, %arg10 : tensor<128x64xbf16>, tensor<64x256xbf16> -> tensor<128x256xf32>
      %29 = arith.addi %arg13, %c64_i32 : i32
      %30 = arith.addi %arg12, %c64_i32 : i32
      scf.yield %28, %arg11, %30, %29, %arg14 : tensor<128x256xf32>, i32, i32, i32, i32
    } {tile.stages = 4 : i32}
    %24 = arith.muli %14, %c128_i32 : i32
    %25 = arith.muli %16, %c256_i32 : i32
    tile.store_block %23#0, %arg2 shape[%arg3, %arg4] strides[%arg8, %c1_i32] offsets[%24, %25] : tensor<128x256xf32>, !tile.ptr<f32>
    return
  }
}

