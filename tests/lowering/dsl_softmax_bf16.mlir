// Snapshot of the DSL example: tile_dump --kernel softmax --index 1
module {
  func.func @softmax(%arg0: !tile.ptr<bf16>, %arg1: !tile.ptr<bf16>, %arg2: i32, %arg3: i32, %arg4: i32) attributes {tile.kernel, tile.num_warps = 4 : i32, tile.params = {BLOCK_M = 1 : i64, BLOCK_N = 1024 : i64, DTYPE = "bf16"}} {
    %c1_i32 = arith.constant 1 : i32
    %cst = arith.constant 0xFF80 : bf16
    %cst_0 = arith.constant 1.44269502 : f32
    %0 = tile.arange 0 to 1 : tensor<1xi32>
    %1 = tile.program_id 0 : i32
    %2 = arith.muli %1, %c1_i32 : i32
    %3 = tile.splat %2 : i32 -> tensor<1xi32>
    %4 = arith.addi %3, %0 : tensor<1xi32>
    %5 = tile.arange 0 to 1024 : tensor<1024xi32>
    %6 = tile.expand_dims %5, 0 : tensor<1024xi32> -> tensor<1x1024xi32>
    %7 = tile.expand_dims %4, 1 : tensor<1xi32> -> tensor<1x1xi32>
    %8 = tile.splat %arg4 : i32 -> tensor<1x1xi32>
    %9 = arith.muli %7, %8 : tensor<1x1xi32>
    %10 = tile.broadcast %9 : tensor<1x1xi32> -> tensor<1x1024xi32>
    %11 = arith.addi %10, %6 : tensor<1x1024xi32>
    %12 = tile.expand_dims %5, 0 : tensor<1024xi32> -> tensor<1x1024xi32>
    %13 = tile.splat %arg3 : i32 -> tensor<1x1024xi32>
    %14 = arith.cmpi slt, %12, %13 : tensor<1x1024xi32>
    %15 = tile.expand_dims %4, 1 : tensor<1xi32> -> tensor<1x1xi32>
    %16 = tile.splat %arg2 : i32 -> tensor<1x1xi32>
    %17 = arith.cmpi slt, %15, %16 : tensor<1x1xi32>
    %18 = tile.broadcast %17 : tensor<1x1xi1> -> tensor<1x1024xi1>
    %19 = arith.andi %18, %14 : tensor<1x1024xi1>
    %20 = tile.load %arg0[%11] mask %19 other %cst : !tile.ptr<bf16>, tensor<1x1024xi32>, tensor<1x1024xi1>, bf16 -> tensor<1x1024xbf16>
    %21 = arith.extf %20 : tensor<1x1024xbf16> to tensor<1x1024xf32>
    %22 = tile.reduce "max" %21, 1 : tensor<1x1024xf32> -> tensor<1xf32>
    %23 = tile.expand_dims %22, 1 : tensor<1xf32> -> tensor<1x1xf32>
    %24 = tile.broadcast %23 : tensor<1x1xf32> -> tensor<1x1024xf32>
    %25 = arith.subf %21, %24 : tensor<1x1024xf32>
    %26 = tile.splat %cst_0 : f32 -> tensor<1x1024xf32>
    %27 = arith.mulf %25, %26 : tensor<1x1024xf32>
    %28 = math.exp2 %27 : tensor<1x1024xf32>
    %29 = tile.reduce "sum" %28, 1 : tensor<1x1024xf32> -> tensor<1xf32>
    %30 = tile.expand_dims %29, 1 : tensor<1xf32> -> tensor<1x1xf32>
    %31 = tile.broadcast %30 : tensor<1x1xf32> -> tensor<1x1024xf32>
    %32 = arith.divf %28, %31 : tensor<1x1024xf32>
    %33 = arith.truncf %32 : tensor<1x1024xf32> to tensor<1x1024xbf16>
    tile.store %33, %arg1[%11] mask %19 : tensor<1x1024xbf16>, !tile.ptr<bf16>, tensor<1x1024xi32>, tensor<1x1024xi1>
    return
  }
}

