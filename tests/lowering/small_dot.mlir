// Dots smaller than the warp grid (warps hold copies) and an f16 dot with 8 warps, with a row
// reduction (warps along M), whose results are stored with tile.store (one owner per element).
func.func @small_dot(%a: !tile.ptr<f16>, %b: !tile.ptr<f16>, %c: !tile.ptr<f32>, %r: !tile.ptr<f32>)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %c8 = arith.constant 8 : i32
  %c16 = arith.constant 16 : i32
  %ta = tile.load_block %a shape [%c16, %c16] strides [%c16, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<f16> -> tensor<16x16xf16>
  %tb = tile.load_block %b shape [%c16, %c8] strides [%c8, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<f16> -> tensor<16x8xf16>
  %z = arith.constant dense<0.0> : tensor<16x8xf32>
  %d = tile.dot %ta, %tb, %z : tensor<16x16xf16>, tensor<16x8xf16> -> tensor<16x8xf32>
  %rows = tile.arange 0 to 16 : tensor<16xi32>
  %cols = tile.arange 0 to 8 : tensor<8xi32>
  %r2 = tile.expand_dims %rows, 1 : tensor<16xi32> -> tensor<16x1xi32>
  %s8 = arith.constant dense<8> : tensor<16x1xi32>
  %r3 = arith.muli %r2, %s8 : tensor<16x1xi32>
  %rb = tile.broadcast %r3 : tensor<16x1xi32> -> tensor<16x8xi32>
  %c2 = tile.expand_dims %cols, 0 : tensor<8xi32> -> tensor<1x8xi32>
  %cb = tile.broadcast %c2 : tensor<1x8xi32> -> tensor<16x8xi32>
  %offs = arith.addi %rb, %cb : tensor<16x8xi32>
  tile.atomic_add %d, %c[%offs] : tensor<16x8xf32>, !tile.ptr<f32>, tensor<16x8xi32>
  %rs = tile.reduce "sum" %d, 1 : tensor<16x8xf32> -> tensor<16xf32>
  tile.store %rs, %r[%rows] : tensor<16xf32>, !tile.ptr<f32>, tensor<16xi32>
  return
}

func.func @f16_dot_8warps(%a: !tile.ptr<f16>, %b: !tile.ptr<f16>, %c: !tile.ptr<f32>)
    attributes {tile.kernel, tile.num_warps = 8 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %c32 = arith.constant 32 : i32
  %c128 = arith.constant 128 : i32
  %ta = tile.load_block %a shape [%c128, %c32] strides [%c32, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<f16> -> tensor<128x32xf16>
  %tb = tile.load_block %b shape [%c32, %c32] strides [%c32, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<f16> -> tensor<32x32xf16>
  %z = arith.constant dense<0.0> : tensor<128x32xf32>
  %d = tile.dot %ta, %tb, %z : tensor<128x32xf16>, tensor<32x32xf16> -> tensor<128x32xf32>
  %m = tile.reduce "max" %d, 1 : tensor<128x32xf32> -> tensor<128xf32>
  %me = tile.expand_dims %m, 1 : tensor<128xf32> -> tensor<128x1xf32>
  %mb = tile.broadcast %me : tensor<128x1xf32> -> tensor<128x32xf32>
  %x = arith.subf %d, %mb : tensor<128x32xf32>
  tile.store_block %x, %c shape [%c128, %c32] strides [%c32, %c1] offsets [%c0, %c0] : tensor<128x32xf32>, !tile.ptr<f32>
  return
}
