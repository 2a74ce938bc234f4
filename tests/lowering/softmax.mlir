// Row softmax: one program per block of 16 rows of 256 columns (block load/store, masked tails).
func.func @row_softmax(%x: !tile.ptr<f32>, %out: !tile.ptr<f32>, %rows: i32, %cols: i32, %stride: i32)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pid = tile.program_id 0 : i32
  %c16 = arith.constant 16 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %row0 = arith.muli %pid, %c16 : i32
  %t = tile.load_block %x shape [%rows, %cols] strides [%stride, %c1] offsets [%row0, %c0] padding 0xFFF0000000000000 : !tile.ptr<f32> -> tensor<16x256xf32>
  %m = tile.reduce "max" %t, 1 : tensor<16x256xf32> -> tensor<16xf32>
  %me = tile.expand_dims %m, 1 : tensor<16xf32> -> tensor<16x1xf32>
  %mb = tile.broadcast %me : tensor<16x1xf32> -> tensor<16x256xf32>
  %d = arith.subf %t, %mb : tensor<16x256xf32>
  %e = math.exp %d : tensor<16x256xf32>
  %s = tile.reduce "sum" %e, 1 : tensor<16x256xf32> -> tensor<16xf32>
  %se = tile.expand_dims %s, 1 : tensor<16xf32> -> tensor<16x1xf32>
  %sb = tile.broadcast %se : tensor<16x1xf32> -> tensor<16x256xf32>
  %y = arith.divf %e, %sb : tensor<16x256xf32>
  tile.store_block %y, %out shape [%rows, %cols] strides [%stride, %c1] offsets [%row0, %c0] : tensor<16x256xf32>, !tile.ptr<f32>
  return
}
