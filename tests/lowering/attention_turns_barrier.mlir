// attention_turns.mlir with a reduction across warps between its two dots (a column maximum
// of the scores, through shared memory between block barriers), as a score modification may
// bring. A warpgroup in its turn would wait at that barrier for the other warpgroup, which
// waits for its turn: the loop runs without turns. Golden test (TMA version of the loop):
// CHECK-LABEL: gpu.func @attn_fwd_turns_barrier
// CHECK-NOT: bar.arrive
// CHECK: scf.for
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT: bar.sync $0, $1;", "r,r" {{%[0-9]+}}, %c256_i32
// CHECK: gpu.barrier
// CHECK-NOT: bar.arrive
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT: bar.arrive
// CHECK: gpu.return
func.func @attn_fwd_turns_barrier(%q: !tile.ptr<bf16>, %k: !tile.ptr<bf16>, %v: !tile.ptr<bf16>, %o: !tile.ptr<bf16>,
                    %lse: !tile.ptr<f32>, %seqlen: i32, %stride: i32, %scale_log2: f32)
    attributes {tile.kernel, tile.num_warps = 8 : i32, tile.warpgroup_turns} {
  %pid = tile.program_id 0 : i32
  %c64 = arith.constant 64 : i32
  %c1 = arith.constant 1 : i32
  %c0 = arith.constant 0 : i32
  %c128 = arith.constant 128 : i32
  %m0 = arith.muli %pid, %c128 : i32
  %qt = tile.load_block %q shape [%seqlen, %c64] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128x64xbf16>
  %neg_inf = arith.constant dense<0xFF800000> : tensor<128xf32>
  %zero_row = arith.constant dense<0.0> : tensor<128xf32>
  %zero_acc = arith.constant dense<0.0> : tensor<128x64xf32>
  %zero_p = arith.constant dense<0.0> : tensor<128x64xbf16>
  %res:4 = scf.for %n0 = %c0 to %seqlen step %c64 iter_args(%acc = %zero_acc, %m = %neg_inf, %l = %zero_row, %pprev = %zero_p)
      -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128x64xbf16>) : i32 {
    %nprev0 = arith.subi %n0, %c64 : i32
    %nprev = arith.maxsi %nprev0, %c0 : i32
    %kt = tile.load_block %k shape [%seqlen, %c64] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %vt = tile.load_block %v shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nprev, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
    %ktt = tile.trans %kt : tensor<64x64xbf16> -> tensor<64x64xbf16>
    %s0 = tile.dot %qt, %ktt, %zero_acc : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
    %colmax = tile.reduce "max" %s0, 0 : tensor<128x64xf32> -> tensor<64xf32>
    %cm2 = tile.expand_dims %colmax, 0 : tensor<64xf32> -> tensor<1x64xf32>
    %cmb = tile.broadcast %cm2 : tensor<1x64xf32> -> tensor<128x64xf32>
    %s0c = arith.subf %s0, %cmb : tensor<128x64xf32>
    %acc_pv = tile.dot %pprev, %vt, %acc : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
    %sc = tile.splat %scale_log2 : f32 -> tensor<128x64xf32>
    %s1 = arith.mulf %s0c, %sc : tensor<128x64xf32>
    %cols = tile.arange 0 to 64 : tensor<64xi32>
    %n0s = tile.splat %n0 : i32 -> tensor<64xi32>
    %colsn = arith.addi %cols, %n0s : tensor<64xi32>
    %lim = tile.splat %seqlen : i32 -> tensor<64xi32>
    %valid = arith.cmpi slt, %colsn, %lim : tensor<64xi32>
    %valid2 = tile.expand_dims %valid, 0 : tensor<64xi1> -> tensor<1x64xi1>
    %validb = tile.broadcast %valid2 : tensor<1x64xi1> -> tensor<128x64xi1>
    %ninf = arith.constant dense<0xFF800000> : tensor<128x64xf32>
    %s = arith.select %validb, %s1, %ninf : tensor<128x64xi1>, tensor<128x64xf32>
    %rowmax = tile.reduce "max" %s, 1 : tensor<128x64xf32> -> tensor<128xf32>
    %m_new = arith.maximumf %m, %rowmax : tensor<128xf32>
    %dm = arith.subf %m, %m_new : tensor<128xf32>
    %alpha = math.exp2 %dm : tensor<128xf32>
    %mn2 = tile.expand_dims %m_new, 1 : tensor<128xf32> -> tensor<128x1xf32>
    %mnb = tile.broadcast %mn2 : tensor<128x1xf32> -> tensor<128x64xf32>
    %sd = arith.subf %s, %mnb : tensor<128x64xf32>
    %p = math.exp2 %sd : tensor<128x64xf32>
    %psum = tile.reduce "sum" %p, 1 : tensor<128x64xf32> -> tensor<128xf32>
    %la = arith.mulf %l, %alpha : tensor<128xf32>
    %l_new = arith.addf %la, %psum : tensor<128xf32>
    %pb = arith.truncf %p : tensor<128x64xf32> to tensor<128x64xbf16>
    %al2 = tile.expand_dims %alpha, 1 : tensor<128xf32> -> tensor<128x1xf32>
    %alb = tile.broadcast %al2 : tensor<128x1xf32> -> tensor<128x64xf32>
    %acc_new = arith.mulf %acc_pv, %alb : tensor<128x64xf32>
    scf.yield %acc_new, %m_new, %l_new, %pb : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128x64xbf16>
  } {tile.stages = 2 : i32}
  %c63 = arith.constant 63 : i32
  %nb0 = arith.addi %seqlen, %c63 : i32
  %nb = arith.divsi %nb0, %c64 : i32
  %nlast0 = arith.subi %nb, %c1 : i32
  %nlast1 = arith.muli %nlast0, %c64 : i32
  %nlast = arith.maxsi %nlast1, %c0 : i32
  %vlast = tile.load_block %v shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nlast, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
  %acc_out = tile.dot %res#3, %vlast, %res#0 : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
  %l2 = tile.expand_dims %res#2, 1 : tensor<128xf32> -> tensor<128x1xf32>
  %lb = tile.broadcast %l2 : tensor<128x1xf32> -> tensor<128x64xf32>
  %out = arith.divf %acc_out, %lb : tensor<128x64xf32>
  %outb = arith.truncf %out : tensor<128x64xf32> to tensor<128x64xbf16>
  tile.store_block %outb, %o shape [%seqlen, %c64] strides [%stride, %c1] offsets [%m0, %c0] : tensor<128x64xbf16>, !tile.ptr<bf16>
  %log2l = math.log2 %res#2 : tensor<128xf32>
  %lse2 = arith.addf %res#1, %log2l : tensor<128xf32>
  %ln2 = arith.constant dense<0.693147182> : tensor<128xf32>
  %lse_n = arith.mulf %lse2, %ln2 : tensor<128xf32>
  %rows = tile.arange 0 to 128 : tensor<128xi32>
  %m0s = tile.splat %m0 : i32 -> tensor<128xi32>
  %rowsn = arith.addi %rows, %m0s : tensor<128xi32>
  %rlim = tile.splat %seqlen : i32 -> tensor<128xi32>
  %rmask = arith.cmpi slt, %rowsn, %rlim : tensor<128xi32>
  tile.store %lse_n, %lse[%rowsn] mask %rmask : tensor<128xf32>, !tile.ptr<f32>, tensor<128xi32>, tensor<128xi1>
  return
}
