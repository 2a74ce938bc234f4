// Vector add over 1024-element blocks with a masked tail (gather/scatter form).
func.func @vector_add(%x: !tile.ptr<f32>, %y: !tile.ptr<f32>, %out: !tile.ptr<f32>, %n: i32)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pid = tile.program_id 0 : i32
  %c1024 = arith.constant 1024 : i32
  %base = arith.muli %pid, %c1024 : i32
  %r = tile.arange 0 to 1024 : tensor<1024xi32>
  %b = tile.splat %base : i32 -> tensor<1024xi32>
  %offs = arith.addi %b, %r : tensor<1024xi32>
  %nn = tile.splat %n : i32 -> tensor<1024xi32>
  %mask = arith.cmpi slt, %offs, %nn : tensor<1024xi32>
  %a = tile.load %x[%offs] mask %mask : !tile.ptr<f32>, tensor<1024xi32>, tensor<1024xi1> -> tensor<1024xf32>
  %c = tile.load %y[%offs] mask %mask : !tile.ptr<f32>, tensor<1024xi32>, tensor<1024xi1> -> tensor<1024xf32>
  %s = arith.addf %a, %c : tensor<1024xf32>
  tile.store %s, %out[%offs] mask %mask : tensor<1024xf32>, !tile.ptr<f32>, tensor<1024xi32>, tensor<1024xi1>
  return
}
