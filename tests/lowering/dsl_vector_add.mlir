// Snapshot of the DSL example: tile_dump --kernel vector_add --index 0
module {
  func.func @vector_add(%arg0: !tile.ptr<f32>, %arg1: !tile.ptr<f32>, %arg2: !tile.ptr<f32>, %arg3: i32) attributes {tile.kernel, tile.num_warps = 4 : i32, tile.params = {BLOCK = 1024 : i64, DTYPE = "f32"}} {
    %c1024_i32 = arith.constant 1024 : i32
    %cst = arith.constant 0.000000e+00 : f32
    %0 = tile.arange 0 to 1024 : tensor<1024xi32>
    %1 = tile.program_id 0 : i32
    %2 = arith.muli %1, %c1024_i32 : i32
    %3 = tile.splat %2 : i32 -> tensor<1024xi32>
    %4 = arith.addi %3, %0 : tensor<1024xi32>
    %5 = tile.splat %arg3 : i32 -> tensor<1024xi32>
    %6 = arith.cmpi slt, %4, %5 : tensor<1024xi32>
    %7 = tile.load %arg1[%4] mask %6 other %cst : !tile.ptr<f32>, tensor<1024xi32>, tensor<1024xi1>, f32 -> tensor<1024xf32>
    %8 = tile.load %arg0[%4] mask %6 other %cst : !tile.ptr<f32>, tensor<1024xi32>, tensor<1024xi1>, f32 -> tensor<1024xf32>
    %9 = arith.addf %8, %7 : tensor<1024xf32>
    tile.store %9, %arg2[%4] mask %6 : tensor<1024xf32>, !tile.ptr<f32>, tensor<1024xi32>, tensor<1024xi1>
    return
  }
}

