// FlashAttention-2-style forward for one (query block, head): S = Q K^T * scale (log2 domain),
// online softmax with running max / sum carried by the loop, P in bf16, O += P V; masked tails
// on the key axis; O normalised at the end and the log-sum-exp written.
func.func @attn_fwd(%q: !tile.ptr<bf16>, %k: !tile.ptr<bf16>, %v: !tile.ptr<bf16>, %o: !tile.ptr<bf16>,
                    %lse: !tile.ptr<f32>, %seqlen: i32, %stride: i32, %scale_log2: f32)
    attributes {tile.kernel, tile.num_warps = 4 : i32} {
  %pid = tile.program_id 0 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %m0 = arith.muli %pid, %c64 : i32
  %qt = tile.load_block %q shape [%seqlen, %c64] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %neg_inf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %zero_row = arith.constant dense<0.0> : tensor<64xf32>
  %zero_acc = arith.constant dense<0.0> : tensor<64x64xf32>
  %res:3 = scf.for %n0 = %c0 to %seqlen step %c64 iter_args(%acc = %zero_acc, %m = %neg_inf, %l = %zero_row)
      -> (tensor<64x64xf32>, tensor<64xf32>, tensor<64xf32>) : i32 {
    %kt = tile.load_block %k shape [%seqlen, %c64] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %vt = tile.load_block %v shape [%seqlen, %c64] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %ktt = tile.trans %kt : tensor<64x64xbf16> -> tensor<64x64xbf16>
    %s0 = tile.dot %qt, %ktt, %zero_acc : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    %sc = tile.splat %scale_log2 : f32 -> tensor<64x64xf32>
    %s1 = arith.mulf %s0, %sc : tensor<64x64xf32>
    %cols = tile.arange 0 to 64 : tensor<64xi32>
    %n0s = tile.splat %n0 : i32 -> tensor<64xi32>
    %colsn = arith.addi %cols, %n0s : tensor<64xi32>
    %lim = tile.splat %seqlen : i32 -> tensor<64xi32>
    %valid = arith.cmpi slt, %colsn, %lim : tensor<64xi32>
    %valid2 = tile.expand_dims %valid, 0 : tensor<64xi1> -> tensor<1x64xi1>
    %validb = tile.broadcast %valid2 : tensor<1x64xi1> -> tensor<64x64xi1>
    %ninf = arith.constant dense<0xFF800000> : tensor<64x64xf32>
    %s = arith.select %validb, %s1, %ninf : tensor<64x64xi1>, tensor<64x64xf32>
    %rowmax = tile.reduce "max" %s, 1 : tensor<64x64xf32> -> tensor<64xf32>
    %m_new = arith.maximumf %m, %rowmax : tensor<64xf32>
    %dm = arith.subf %m, %m_new : tensor<64xf32>
    %alpha = math.exp2 %dm : tensor<64xf32>
    %mn2 = tile.expand_dims %m_new, 1 : tensor<64xf32> -> tensor<64x1xf32>
    %mnb = tile.broadcast %mn2 : tensor<64x1xf32> -> tensor<64x64xf32>
    %sd = arith.subf %s, %mnb : tensor<64x64xf32>
    %p = math.exp2 %sd : tensor<64x64xf32>
    %psum = tile.reduce "sum" %p, 1 : tensor<64x64xf32> -> tensor<64xf32>
    %la = arith.mulf %l, %alpha : tensor<64xf32>
    %l_new = arith.addf %la, %psum : tensor<64xf32>
    %al2 = tile.expand_dims %alpha, 1 : tensor<64xf32> -> tensor<64x1xf32>
    %alb = tile.broadcast %al2 : tensor<64x1xf32> -> tensor<64x64xf32>
    %acc_s = arith.mulf %acc, %alb : tensor<64x64xf32>
    %pb = arith.truncf %p : tensor<64x64xf32> to tensor<64x64xbf16>
    %acc_new = tile.dot %pb, %vt, %acc_s : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %acc_new, %m_new, %l_new : tensor<64x64xf32>, tensor<64xf32>, tensor<64xf32>
  } {tile.stages = 2 : i32}
  %l2 = tile.expand_dims %res#2, 1 : tensor<64xf32> -> tensor<64x1xf32>
  %lb = tile.broadcast %l2 : tensor<64x1xf32> -> tensor<64x64xf32>
  %out = arith.divf %res#0, %lb : tensor<64x64xf32>
  %outb = arith.truncf %out : tensor<64x64xf32> to tensor<64x64xbf16>
  tile.store_block %outb, %o shape [%seqlen, %c64] strides [%stride, %c1] offsets [%m0, %c0] : tensor<64x64xbf16>, !tile.ptr<bf16>
  %log2l = math.log2 %res#2 : tensor<64xf32>
  %lse2 = arith.addf %res#1, %log2l : tensor<64xf32>
  %ln2 = arith.constant dense<0.693147182> : tensor<64xf32>
  %lse_n = arith.mulf %lse2, %ln2 : tensor<64xf32>
  %rows = tile.arange 0 to 64 : tensor<64xi32>
  %m0s = tile.splat %m0 : i32 -> tensor<64xi32>
  %rowsn = arith.addi %rows, %m0s : tensor<64xi32>
  %rlim = tile.splat %seqlen : i32 -> tensor<64xi32>
  %rmask = arith.cmpi slt, %rowsn, %rlim : tensor<64xi32>
  tile.store %lse_n, %lse[%rowsn] mask %rmask : tensor<64xf32>, !tile.ptr<f32>, tensor<64xi32>, tensor<64xi1>
  return
}
