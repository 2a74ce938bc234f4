// Snapshot of the DSL example: tile_dump --kernel softmax --index 0
module {
  func.func @softmax(%arg0: !tile.ptr<f32>, %arg1: !tile.ptr<f32>, %arg2: i32, %arg3: i32, %arg4: i32) attributes {tile.kernel, tile.num_warps = 4 : i32, tile.params = {BLOCK_M = 4 : i64, BLOCK_N = 256 : i64, DTYPE = "f32"}} {
    %c4_i32 = arith.constant 4 : i32
    %cst = arith.constant 0xFF800000 : f32
    %cst_0 = arith.constant 1.44269502 : f32
    %0 = tile.arange 0 to 4 : tensor<4xi32>
    %1 = tile.program_id 0 : i32
    %2 = arith.muli %1, %c4_i32 : i32
    %3 = tile.splat %2 : i32 -> tensor<4xi32>
    %4 = arith.addi %3, %0 : tensor<4xi32>
    %5 = tile.arange 0 to 256 : tensor<256xi32>
    %6 = tile.expand_dims %5, 0 : tensor<256xi32> -> tensor<1x256xi32>
    %7 = tile.expand_dims %4, 1 : tensor<4xi32> -> tensor<4x1xi32>
    %8 = tile.splat %arg4 : i32 -> tensor<4x1xi32>
    %9 = arith.muli %7, %8 : tensor<4x1xi32>
    %10 = tile.broadcast %9 : tensor<4x1xi32> -> tensor<4x256xi32>
    %11 = tile.broadcast %6 : tensor<1x256xi32> -> tensor<4x256xi32>
    %12 = arith.addi %10, %11 : tensor<4x256xi32>
    %13 = tile.expand_dims %5, 0 : tensor<256xi32> -> tensor<1x256xi32>
    %14 = tile.splat %arg3 : i32 -> tensor<1x256xi32>
    %15 = arith.cmpi slt, %13, %14 : tensor<1x256xi32>
    %16 = tile.expand_dims %4, 1 : tensor<4xi32> -> tensor<4x1xi32>
    %17 = tile.splat %arg2 : i32 -> tensor<4x1xi32>
    %18 = arith.cmpi slt, %16, %17 : tensor<4x1xi32>
    %19 = tile.broadcast %18 : tensor<4x1xi1> -> tensor<4x256xi1>
    %20 = tile.broadcast %15 : tensor<1x256xi1> -> tensor<4x256xi1>
    %21 = arith.andi %19, %20 : tensor<4x256xi1>
    %22 = tile.load %arg0[%12] mask %21 other %cst : !tile.ptr<f32>, tensor<4x256xi32>, tensor<4x256xi1>, f32 -> tensor<4x256xf32>
    %23 = tile.reduce "max" %22, 1 : tensor<4x256xf32> -> tensor<4xf32>
    %24 = tile.expand_dims %23, 1 : tensor<4xf32> -> tensor<4x1xf32>
    %25 = tile.broadcast %24 : tensor<4x1xf32> -> tensor<4x256xf32>
    %26 = arith.subf %22, %25 : tensor<4x256xf32>
    %27 = tile.splat %cst_0 : f32 -> tensor<4x256xf32>
    %28 = arith.mulf %26, %27 : tensor<4x256xf32>
    %29 = math.exp2 %28 : tensor<4x256xf32>
    %30 = tile.reduce "sum" %29, 1 : tensor<4x256xf32> -> tensor<4xf32>
    %31 = tile.expand_dims %30, 1 : tensor<4xf32> -> tensor<4x1xf32>
    %32 = tile.broadcast %31 : tensor<4x1xf32> -> tensor<4x256xf32>
    %33 = arith.divf %29, %32 : tensor<4x256xf32>
    tile.store %33, %arg1[%12] mask %21 : tensor<4x256xf32>, !tile.ptr<f32>, tensor<4x256xi32>, tensor<4x256xi1>
    return
  }
}

