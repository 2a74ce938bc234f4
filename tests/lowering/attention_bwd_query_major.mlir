// The dK/dV program of the backward in query-major order (attention/kernels/bwd.cc takes it for
// key blocks narrower than its warpgroups' rows, and took it at every head dim before): one program owns 128
// keys over 8 warps and walks 64-query blocks in a 2-stage pipelined loop. S = Q Kᵀ and
// dP = dO Vᵀ are 64-row dots whose two warpgroups split the 128 key columns; P = exp2(S * scale
// - lse), dS = P ∘ (dP - delta); dV += Pᵀ dO and dK += dSᵀ Q take Pᵀ and dSᵀ from shared memory
// as their A operands; dQ = dS K is added into f32 memory with atomic_add_block. K (Kᵀ for S, K for
// dQ) and V are staged once before the loop, one region for both views of K. As in bwd.cc, dP is
// formed before dV's dot is issued and dS is rounded after it, so Pᵀ's staging is still being
// read by that dot (in flight) while dS is staged.
func.func @attn_bwd_query_major(%q: !tile.ptr<bf16>, %k: !tile.ptr<bf16>, %v: !tile.ptr<bf16>, %do: !tile.ptr<bf16>,
                              %lse: !tile.ptr<f32>, %delta: !tile.ptr<f32>, %dq: !tile.ptr<f32>, %dk: !tile.ptr<f32>,
                              %dv: !tile.ptr<f32>, %seqlen: i32, %stride: i32, %scale_log2: f32)
    attributes {tile.kernel, tile.num_warps = 8 : i32} {
  %pid = tile.program_id 0 : i32
  %c128 = arith.constant 128 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %n0 = arith.muli %pid, %c128 : i32
  %kt = tile.load_block %k shape [%seqlen, %c128] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128x128xbf16>
  %vt = tile.load_block %v shape [%seqlen, %c128] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128x128xbf16>
  %zero_kd = arith.constant dense<0.0> : tensor<128x128xf32>
  %zero_qk = arith.constant dense<0.0> : tensor<64x128xf32>
  %res:2 = scf.for %m0 = %c0 to %seqlen step %c64 iter_args(%dka = %zero_kd, %dva = %zero_kd) -> (tensor<128x128xf32>, tensor<128x128xf32>) : i32 {
    %qt = tile.load_block %q shape [%seqlen, %c128] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x128xbf16>
    %dot = tile.load_block %do shape [%seqlen, %c128] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x128xbf16>
    %lse_t = tile.load_block %lse shape [%seqlen] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
    %del_t = tile.load_block %delta shape [%seqlen] strides [%c1] offsets [%m0] padding 0.0 : !tile.ptr<f32> -> tensor<64xf32>
    %ktt = tile.trans %kt : tensor<128x128xbf16> -> tensor<128x128xbf16>
    %s = tile.dot %qt, %ktt, %zero_qk : tensor<64x128xbf16>, tensor<128x128xbf16> -> tensor<64x128xf32>
    %sc = tile.splat %scale_log2 : f32 -> tensor<64x128xf32>
    %s1 = arith.mulf %s, %sc : tensor<64x128xf32>
    %l2 = tile.expand_dims %lse_t, 1 : tensor<64xf32> -> tensor<64x1xf32>
    %lb = tile.broadcast %l2 : tensor<64x1xf32> -> tensor<64x128xf32>
    %sd = arith.subf %s1, %lb : tensor<64x128xf32>
    %p = math.exp2 %sd : tensor<64x128xf32>
    %pb = arith.truncf %p : tensor<64x128xf32> to tensor<64x128xbf16>
    %pbt = tile.trans %pb : tensor<64x128xbf16> -> tensor<128x64xbf16>
    %vtt = tile.trans %vt : tensor<128x128xbf16> -> tensor<128x128xbf16>
    %dp = tile.dot %dot, %vtt, %zero_qk : tensor<64x128xbf16>, tensor<128x128xbf16> -> tensor<64x128xf32>
    %d2 = tile.expand_dims %del_t, 1 : tensor<64xf32> -> tensor<64x1xf32>
    %db = tile.broadcast %d2 : tensor<64x1xf32> -> tensor<64x128xf32>
    %dpd = arith.subf %dp, %db : tensor<64x128xf32>
    %ds = arith.mulf %p, %dpd : tensor<64x128xf32>
    %dva2 = tile.dot %pbt, %dot, %dva : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    %dsb = arith.truncf %ds : tensor<64x128xf32> to tensor<64x128xbf16>
    %dsbt = tile.trans %dsb : tensor<64x128xbf16> -> tensor<128x64xbf16>
    %dka2 = tile.dot %dsbt, %qt, %dka : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    %dqp = tile.dot %dsb, %kt, %zero_qk : tensor<64x128xbf16>, tensor<128x128xbf16> -> tensor<64x128xf32>
    tile.atomic_add_block %dqp, %dq shape [%seqlen, %c128] strides [%stride, %c1] offsets [%m0, %c0] : tensor<64x128xf32>, !tile.ptr<f32>
    scf.yield %dka2, %dva2 : tensor<128x128xf32>, tensor<128x128xf32>
  } {tile.stages = 2 : i32}
  tile.store_block %res#0, %dk shape [%seqlen, %c128] strides [%stride, %c1] offsets [%n0, %c0] : tensor<128x128xf32>, !tile.ptr<f32>
  tile.store_block %res#1, %dv shape [%seqlen, %c128] strides [%stride, %c1] offsets [%n0, %c0] : tensor<128x128xf32>, !tile.ptr<f32>
  return
}
