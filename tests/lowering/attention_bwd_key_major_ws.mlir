// attention_bwd_key_major.mlir's dK/dV program with warp roles (tile.warp_specialized), as
// attention/kernels/bwd.cc asks for them: a producer warpgroup copies Q and dO by TMA, and the
// per-query LSE and delta rows ride in Q's stages (stage_rings.h: the producer's first warp
// copies their elements with loads and shared stores, and each lane arrives on the stage's
// full barrier); the consumers' wait for Q covers the rows, its hand-back their reads.
func.func @attn_bwd_key_major_ws(%q: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %k: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                              %v: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %do: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                              %lse: !tile.ptr<f32>, %delta: !tile.ptr<f32>, %dq: !tile.ptr<f32> {tile.divisor = 16 : i64},
                              %dk: !tile.ptr<f32>, %dv: !tile.ptr<f32>, %seqlen: i32,
                              %stride: i32 {tile.divisor = 8 : i64, tile.positive}, %scale_log2: f32)
    attributes {tile.kernel, tile.num_warps = 8 : i32, tile.warp_specialized} {
  %pid = tile.program_id 0 : i32
  %c128 = arith.constant 128 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %n0 = arith.muli %pid, %c128 : i32
  %kt = tile.load_block %k shape [%seqlen, %c128] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128x128xbf16>
  %vt = tile.load_block %v shape [%seqlen, %c128] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128x128xbf16>
  %zero_kd = arith.constant dense<0.0> : tensor<128x128xf32>
  %zero_kq = arith.constant dense<0.0> : tensor<128x64xf32>
  %zero_qd = arith.constant dense<0.0> : tensor<64x128xf32>
  %res:2 = scf.for %m0 = %c0 to %seqlen step %c64 iter_args(%dka = %zero_kd, %dva = %zero_kd) -> (tensor<128x128xf32>, tensor<128x128xf32>) : i32 {
    %qt = tile.load_block %q shape [%seqlen, %c128] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x128xbf16>
    %dot = tile.load_block %do shape [%seqlen, %c128] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x128xbf16>
    %lse_t = tile.load_block %lse shape [%seqlen] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
    %del_t = tile.load_block %delta shape [%seqlen] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
    %qtt = tile.trans %qt : tensor<64x128xbf16> -> tensor<128x64xbf16>
    %st = tile.dot %kt, %qtt, %zero_kq : tensor<128x128xbf16>, tensor<128x64xbf16> -> tensor<128x64xf32>
    %sc = tile.splat %scale_log2 : f32 -> tensor<128x64xf32>
    %s1 = arith.mulf %st, %sc : tensor<128x64xf32>
    %l2 = tile.expand_dims %lse_t, 0 : tensor<64xf32> -> tensor<1x64xf32>
    %lb = tile.broadcast %l2 : tensor<1x64xf32> -> tensor<128x64xf32>
    %sd = arith.subf %s1, %lb : tensor<128x64xf32>
    %p = math.exp2 %sd : tensor<128x64xf32>
    %pb = arith.truncf %p : tensor<128x64xf32> to tensor<128x64xbf16>
    %dva2 = tile.dot %pb, %dot, %dva : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    %dott = tile.trans %dot : tensor<64x128xbf16> -> tensor<128x64xbf16>
    %dpt = tile.dot %vt, %dott, %zero_kq : tensor<128x128xbf16>, tensor<128x64xbf16> -> tensor<128x64xf32>
    %d2 = tile.expand_dims %del_t, 0 : tensor<64xf32> -> tensor<1x64xf32>
    %db = tile.broadcast %d2 : tensor<1x64xf32> -> tensor<128x64xf32>
    %dpd = arith.subf %dpt, %db : tensor<128x64xf32>
    %ds = arith.mulf %p, %dpd : tensor<128x64xf32>
    %dsb = arith.truncf %ds : tensor<128x64xf32> to tensor<128x64xbf16>
    %dka2 = tile.dot %dsb, %qt, %dka : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    %dsq = tile.trans %dsb : tensor<128x64xbf16> -> tensor<64x128xbf16>
    %dqp = tile.dot %dsq, %kt, %zero_qd : tensor<64x128xbf16>, tensor<128x128xbf16> -> tensor<64x128xf32>
    tile.atomic_add_block %dqp, %dq shape [%seqlen, %c128] strides [%stride, %c1] offsets [%m0, %c0] : tensor<64x128xf32>, !tile.ptr<f32>
    scf.yield %dka2, %dva2 : tensor<128x128xf32>, tensor<128x128xf32>
  } {tile.stages = 2 : i32}
  tile.store_block %res#0, %dk shape [%seqlen, %c128] strides [%stride, %c1] offsets [%n0, %c0] : tensor<128x128xf32>, !tile.ptr<f32>
  tile.store_block %res#1, %dv shape [%seqlen, %c128] strides [%stride, %c1] offsets [%n0, %c0] : tensor<128x128xf32>, !tile.ptr<f32>
  return
}
