// Backward-like kernel for one key block: recompute P = exp2(Q K^T * scale - lse), then
// dV += P^T dO and dK += dS^T Q with dS = P * (dO V^T - delta); dQ accumulated with atomics.
// Causal: blocks on the diagonal are masked under scf.if. Exercises dots with transposed
// operands taken from the mma layout, reductions along both axes and atomic adds.
func.func @attn_bwd(%q: !tile.ptr<bf16>, %k: !tile.ptr<bf16>, %v: !tile.ptr<bf16>, %do: !tile.ptr<bf16>,
                    %lse: !tile.ptr<f32>, %delta: !tile.ptr<f32>, %dq: !tile.ptr<f32>, %dk: !tile.ptr<f32>,
                    %dv: !tile.ptr<f32>, %seqlen: i32, %stride: i32, %scale_log2: f32)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pid = tile.program_id 0 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %n0 = arith.muli %pid, %c64 : i32
  %kt = tile.load_block %k shape [%seqlen, %c64] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %vt = tile.load_block %v shape [%seqlen, %c64] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %res:2 = scf.for %m0 = %n0 to %seqlen step %c64 iter_args(%dka = %zero, %dva = %zero) -> (tensor<64x64xf32>, tensor<64x64xf32>) : i32 {
    %qt = tile.load_block %q shape [%seqlen, %c64] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %dot = tile.load_block %do shape [%seqlen, %c64] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %lse_t = tile.load_block %lse shape [%seqlen] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
    %del_t = tile.load_block %delta shape [%seqlen] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
    %ktt = tile.trans %kt : tensor<64x64xbf16> -> tensor<64x64xbf16>
    %s = tile.dot %qt, %ktt, %zero : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %sc = tile.splat %scale_log2 : f32 -> tensor<64x64xf32>
    %s1 = arith.mulf %s, %sc : tensor<64x64xf32>
    %diag = arith.cmpi eq, %m0, %n0 : i32
    %s2 = scf.if %diag -> (tensor<64x64xf32>) {
      %r = tile.arange 0 to 64 : tensor<64xi32>
      %r2 = tile.expand_dims %r, 1 : tensor<64xi32> -> tensor<64x1xi32>
      %rb = tile.broadcast %r2 : tensor<64x1xi32> -> tensor<64x64xi32>
      %c2 = tile.expand_dims %r, 0 : tensor<64xi32> -> tensor<1x64xi32>
      %cb = tile.broadcast %c2 : tensor<1x64xi32> -> tensor<64x64xi32>
      %keep = arith.cmpi sge, %rb, %cb : tensor<64x64xi32>
      %ninf = arith.constant dense<0xFF800000> : tensor<64x64xf32>
      %masked = arith.select %keep, %s1, %ninf : tensor<64x64xi1>, tensor<64x64xf32>
      scf.yield %masked : tensor<64x64xf32>
    } else {
      scf.yield %s1 : tensor<64x64xf32>
    }
    %l2 = tile.expand_dims %lse_t, 1 : tensor<64xf32> -> tensor<64x1xf32>
    %lb = tile.broadcast %l2 : tensor<64x1xf32> -> tensor<64x64xf32>
    %sd = arith.subf %s2, %lb : tensor<64x64xf32>
    %p = math.exp2 %sd : tensor<64x64xf32>
    %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
    %pt = tile.trans %pb : tensor<64x64xbf16> -> tensor<64x64xbf16>
    %dva2 = tile.dot %pt, %dot, %dva : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %vtt = tile.trans %vt : tensor<64x64xbf16> -> tensor<64x64xbf16>
    %dp = tile.dot %dot, %vtt, %zero : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %d2 = tile.expand_dims %del_t, 1 : tensor<64xf32> -> tensor<64x1xf32>
    %db = tile.broadcast %d2 : tensor<64x1xf32> -> tensor<64x64xf32>
    %dpd = arith.subf %dp, %db : tensor<64x64xf32>
    %ds = arith.mulf %p, %dpd : tensor<64x64xf32>
    %dsb = arith.truncf %ds : tensor<64x64xf32> to tensor<64x64xbf16>
    %dst = tile.trans %dsb : tensor<64x64xbf16> -> tensor<64x64xbf16>
    %dka2 = tile.dot %dst, %qt, %dka : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %dqp = tile.dot %dsb, %kt, %zero : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %rows = tile.arange 0 to 64 : tensor<64xi32>
    %m0s = tile.splat %m0 : i32 -> tensor<64xi32>
    %rowsn = arith.addi %rows, %m0s : tensor<64xi32>
    %rs = tile.splat %stride : i32 -> tensor<64xi32>
    %roff = arith.muli %rowsn, %rs : tensor<64xi32>
    %ro2 = tile.expand_dims %roff, 1 : tensor<64xi32> -> tensor<64x1xi32>
    %rob = tile.broadcast %ro2 : tensor<64x1xi32> -> tensor<64x64xi32>
    %cols = tile.arange 0 to 64 : tensor<64xi32>
    %co2 = tile.expand_dims %cols, 0 : tensor<64xi32> -> tensor<1x64xi32>
    %cob = tile.broadcast %co2 : tensor<1x64xi32> -> tensor<64x64xi32>
    %offs = arith.addi %rob, %cob : tensor<64x64xi32>
    %lim = tile.splat %seqlen : i32 -> tensor<64xi32>
    %rv = arith.cmpi slt, %rowsn, %lim : tensor<64xi32>
    %rv2 = tile.expand_dims %rv, 1 : tensor<64xi1> -> tensor<64x1xi1>
    %rvb = tile.broadcast %rv2 : tensor<64x1xi1> -> tensor<64x64xi1>
    tile.atomic_add %dqp, %dq[%offs] mask %rvb : tensor<64x64xf32>, !tile.ptr<f32>, tensor<64x64xi32>, tensor<64x64xi1>
    scf.yield %dka2, %dva2 : tensor<64x64xf32>, tensor<64x64xf32>
  }
  %colsum = tile.reduce "sum" %res#0, 0 : tensor<64x64xf32> -> tensor<64xf32>
  tile.store_block %res#0, %dk shape [%seqlen, %c64] strides [%stride, %c1] offsets [%n0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  tile.store_block %res#1, %dv shape [%seqlen, %c64] strides [%stride, %c1] offsets [%n0, %c0] : tensor<64x64xf32>, !tile.ptr<f32>
  tile.store_block %colsum, %dv shape [%seqlen] strides [%c1] offsets [%n0] : tensor<64xf32>, !tile.ptr<f32>
  return
}
