// tile-assign-layouts erases tile.expand_dims %me twice: it is re-created in the blocked layout
// (single use, pushed to the dead list), then pushed again when its only user, the re-created
// tile.broadcast %mb, is erased.
func.func @double_erase(%a: !tile.ptr<bf16>, %x: !tile.ptr<f32>, %n: i32)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %ta = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x32xbf16>
  %tb = tile.load_block %a shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x64xbf16>
  %s = tile.dot %ta, %tb, %zero : tensor<64x32xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
  %m = tile.reduce "max" %s, 1 : tensor<64x64xf32> -> tensor<64xf32>
  %me = tile.expand_dims %m, 1 : tensor<64xf32> -> tensor<64x1xf32>
  %mb = tile.broadcast %me : tensor<64x1xf32> -> tensor<64x64xf32>
  %t = tile.load_block %x shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<f32> -> tensor<64x64xf32>
  %d = arith.subf %t, %mb : tensor<64x64xf32>
  tile.store_block %d, %x shape [%n, %n] strides [%n, %c1] offsets [%c0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  return
}
