// The persistent forward with its unmasked middle's first block peeled off, as
// attention/kernels/fwd.cc runs it: a left-edge loop (K and V), the peeled block (a pipelined
// loop of at most one iteration reading K alone: Q K^T and softmax, no P V), the rotated middle
// (block j's Q K^T, block j-1's P V), the last block's P V (V alone) and the masked tail. The K
// and V rings run through all five loops, two of which read only one of the tensors; at 100
// rows the peeled, rotated and last loops run no iteration.
// CHECK-LABEL: gpu.func @attn_fwd_persistent_peeled
// CHECK-COUNT-8: mbarrier.init
// CHECK-NOT: mbarrier.init
// CHECK: setmaxnreg.dec.sync.aligned.u32 24;
// CHECK: } else {
// CHECK-NEXT: setmaxnreg.inc.sync.aligned.u32 240;
// CHECK: gpu.return
// The arguments assume TMA's rules (16-byte aligned rows): the loops have one version.
func.func @attn_fwd_persistent_peeled(%q: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %k: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                    %v: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %o: !tile.ptr<bf16> {tile.divisor = 16 : i64},
                    %lse: !tile.ptr<f32>, %seqlen: i32, %stride: i32 {tile.divisor = 8 : i64, tile.positive}, %scale_log2: f32)
    attributes {tile.kernel, tile.num_warps = 8 : i32, tile.warp_specialized} {
  %pid = tile.program_id 0 : i32
  %programs = tile.num_programs 0 : i32
  %c127 = arith.constant 127 : i32
  %c128t = arith.constant 128 : i32
  %rounded = arith.addi %seqlen, %c127 : i32
  %tiles = arith.divsi %rounded, %c128t : i32
  scf.for %tile = %pid to %tiles step %programs : i32 {
    %c64 = arith.constant 64 : i32
    %c1 = arith.constant 1 : i32
    %c0 = arith.constant 0 : i32
    %c128 = arith.constant 128 : i32
    %m0 = arith.muli %tile, %c128 : i32
    %qt = tile.load_block %q shape [%seqlen, %c64] strides [%stride, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128x64xbf16>
    %neg_inf = arith.constant dense<0xFF800000> : tensor<128xf32>
    %zero_row = arith.constant dense<0.0> : tensor<128xf32>
    %zero_acc = arith.constant dense<0.0> : tensor<128x64xf32>
    %zero_p = arith.constant dense<0.0> : tensor<128x64xbf16>
    // The middle runs over whole blocks from 64 (at least one block) to full_hi.
    %nfull = arith.divsi %seqlen, %c64 : i32
    %full0 = arith.muli %nfull, %c64 : i32
    %full_hi = arith.maxsi %full0, %c64 : i32
    %r1:3 = scf.for %nA = %c0 to %c64 step %c64 iter_args(%accA = %zero_acc, %mA = %neg_inf, %lA = %zero_row)
        -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>) : i32 {
      %ktA = tile.load_block %k shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nA, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %kttA = tile.trans %ktA : tensor<64x64xbf16> -> tensor<64x64xbf16>
      %vtA = tile.load_block %v shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nA, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %s0A = tile.dot %qt, %kttA, %zero_acc : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      %scA = tile.splat %scale_log2 : f32 -> tensor<128x64xf32>
      %s1A = arith.mulf %s0A, %scA : tensor<128x64xf32>
      %colsA = tile.arange 0 to 64 : tensor<64xi32>
      %n0sA = tile.splat %nA : i32 -> tensor<64xi32>
      %colsnA = arith.addi %colsA, %n0sA : tensor<64xi32>
      %limA = tile.splat %seqlen : i32 -> tensor<64xi32>
      %validA = arith.cmpi slt, %colsnA, %limA : tensor<64xi32>
      %valid2A = tile.expand_dims %validA, 0 : tensor<64xi1> -> tensor<1x64xi1>
      %validbA = tile.broadcast %valid2A : tensor<1x64xi1> -> tensor<128x64xi1>
      %ninfA = arith.constant dense<0xFF800000> : tensor<128x64xf32>
      %sA = arith.select %validbA, %s1A, %ninfA : tensor<128x64xi1>, tensor<128x64xf32>
      %rowmaxA = tile.reduce "max" %sA, 1 : tensor<128x64xf32> -> tensor<128xf32>
      %m_newA = arith.maximumf %mA, %rowmaxA : tensor<128xf32>
      %dmA = arith.subf %mA, %m_newA : tensor<128xf32>
      %alphaA = math.exp2 %dmA : tensor<128xf32>
      %mn2A = tile.expand_dims %m_newA, 1 : tensor<128xf32> -> tensor<128x1xf32>
      %mnbA = tile.broadcast %mn2A : tensor<128x1xf32> -> tensor<128x64xf32>
      %sdA = arith.subf %sA, %mnbA : tensor<128x64xf32>
      %pA = math.exp2 %sdA : tensor<128x64xf32>
      %psumA = tile.reduce "sum" %pA, 1 : tensor<128x64xf32> -> tensor<128xf32>
      %laA = arith.mulf %lA, %alphaA : tensor<128xf32>
      %l_newA = arith.addf %laA, %psumA : tensor<128xf32>
      %pbA = arith.truncf %pA : tensor<128x64xf32> to tensor<128x64xbf16>
      %al2A = tile.expand_dims %alphaA, 1 : tensor<128xf32> -> tensor<128x1xf32>
      %albA = tile.broadcast %al2A : tensor<128x1xf32> -> tensor<128x64xf32>
      %acc_aA = arith.mulf %accA, %albA : tensor<128x64xf32>
      %acc_newA = tile.dot %pbA, %vtA, %acc_aA : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      scf.yield %acc_newA, %m_newA, %l_newA : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>
    } {tile.stages = 2 : i32}
    %peel_hi0 = arith.addi %c64, %c64 : i32
    %peel_hi = arith.minsi %peel_hi0, %full_hi : i32
    %rP:4 = scf.for %nP = %c64 to %peel_hi step %c64 iter_args(%accP = %r1#0, %mP = %r1#1, %lP = %r1#2, %pP = %zero_p)
        -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128x64xbf16>) : i32 {
      %ktP = tile.load_block %k shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nP, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %kttP = tile.trans %ktP : tensor<64x64xbf16> -> tensor<64x64xbf16>
      %s0P = tile.dot %qt, %kttP, %zero_acc : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      %scP = tile.splat %scale_log2 : f32 -> tensor<128x64xf32>
      %s1P = arith.mulf %s0P, %scP : tensor<128x64xf32>
      %rowmaxP = tile.reduce "max" %s1P, 1 : tensor<128x64xf32> -> tensor<128xf32>
      %m_newP = arith.maximumf %mP, %rowmaxP : tensor<128xf32>
      %dmP = arith.subf %mP, %m_newP : tensor<128xf32>
      %alphaP = math.exp2 %dmP : tensor<128xf32>
      %mn2P = tile.expand_dims %m_newP, 1 : tensor<128xf32> -> tensor<128x1xf32>
      %mnbP = tile.broadcast %mn2P : tensor<128x1xf32> -> tensor<128x64xf32>
      %sdP = arith.subf %s1P, %mnbP : tensor<128x64xf32>
      %pPf = math.exp2 %sdP : tensor<128x64xf32>
      %psumP = tile.reduce "sum" %pPf, 1 : tensor<128x64xf32> -> tensor<128xf32>
      %laP = arith.mulf %lP, %alphaP : tensor<128xf32>
      %l_newP = arith.addf %laP, %psumP : tensor<128xf32>
      %pbP = arith.truncf %pPf : tensor<128x64xf32> to tensor<128x64xbf16>
      %al2P = tile.expand_dims %alphaP, 1 : tensor<128xf32> -> tensor<128x1xf32>
      %albP = tile.broadcast %al2P : tensor<128x1xf32> -> tensor<128x64xf32>
      %acc_aP = arith.mulf %accP, %albP : tensor<128x64xf32>
      scf.yield %acc_aP, %m_newP, %l_newP, %pbP : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128x64xbf16>
    } {tile.stages = 2 : i32}
    %r2:4 = scf.for %n0 = %peel_hi to %full_hi step %c64 iter_args(%acc = %rP#0, %m = %rP#1, %l = %rP#2, %pprev = %rP#3)
        -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128x64xbf16>) : i32 {
      %nprev = arith.subi %n0, %c64 : i32
      %ktR = tile.load_block %k shape [%seqlen, %c64] strides [%stride, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %kttR = tile.trans %ktR : tensor<64x64xbf16> -> tensor<64x64xbf16>
      %vtR = tile.load_block %v shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nprev, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %s0 = tile.dot %qt, %kttR, %zero_acc : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      %acc_pv = tile.dot %pprev, %vtR, %acc : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      %scR = tile.splat %scale_log2 : f32 -> tensor<128x64xf32>
      %s1R = arith.mulf %s0, %scR : tensor<128x64xf32>
      %colsR = tile.arange 0 to 64 : tensor<64xi32>
      %n0sR = tile.splat %n0 : i32 -> tensor<64xi32>
      %colsnR = arith.addi %colsR, %n0sR : tensor<64xi32>
      %limR = tile.splat %seqlen : i32 -> tensor<64xi32>
      %validR = arith.cmpi slt, %colsnR, %limR : tensor<64xi32>
      %valid2R = tile.expand_dims %validR, 0 : tensor<64xi1> -> tensor<1x64xi1>
      %validbR = tile.broadcast %valid2R : tensor<1x64xi1> -> tensor<128x64xi1>
      %ninfR = arith.constant dense<0xFF800000> : tensor<128x64xf32>
      %sR = arith.select %validbR, %s1R, %ninfR : tensor<128x64xi1>, tensor<128x64xf32>
      %rowmaxR = tile.reduce "max" %sR, 1 : tensor<128x64xf32> -> tensor<128xf32>
      %m_newR = arith.maximumf %m, %rowmaxR : tensor<128xf32>
      %dmR = arith.subf %m, %m_newR : tensor<128xf32>
      %alphaR = math.exp2 %dmR : tensor<128xf32>
      %mn2R = tile.expand_dims %m_newR, 1 : tensor<128xf32> -> tensor<128x1xf32>
      %mnbR = tile.broadcast %mn2R : tensor<128x1xf32> -> tensor<128x64xf32>
      %sdR = arith.subf %sR, %mnbR : tensor<128x64xf32>
      %pR = math.exp2 %sdR : tensor<128x64xf32>
      %psumR = tile.reduce "sum" %pR, 1 : tensor<128x64xf32> -> tensor<128xf32>
      %laR = arith.mulf %l, %alphaR : tensor<128xf32>
      %l_newR = arith.addf %laR, %psumR : tensor<128xf32>
      %pbR = arith.truncf %pR : tensor<128x64xf32> to tensor<128x64xbf16>
      %al2R = tile.expand_dims %alphaR, 1 : tensor<128xf32> -> tensor<128x1xf32>
      %albR = tile.broadcast %al2R : tensor<128x1xf32> -> tensor<128x64xf32>
      %acc_new = arith.mulf %acc_pv, %albR : tensor<128x64xf32>
      scf.yield %acc_new, %m_newR, %l_newR, %pbR : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128x64xbf16>
    } {tile.stages = 2 : i32}
    %tlo0 = arith.subi %full_hi, %c64 : i32
    %tlo = arith.maxsi %tlo0, %c64 : i32
    %acc_t = scf.for %nT = %tlo to %full_hi step %c64 iter_args(%accT = %r2#0) -> (tensor<128x64xf32>) : i32 {
      %vtT = tile.load_block %v shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nT, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %accT_new = tile.dot %r2#3, %vtT, %accT : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      scf.yield %accT_new : tensor<128x64xf32>
    } {tile.stages = 2 : i32}
    %r3:3 = scf.for %nB = %full_hi to %seqlen step %c64 iter_args(%accB = %acc_t, %mB = %r2#1, %lB = %r2#2)
        -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>) : i32 {
      %ktB = tile.load_block %k shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nB, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %kttB = tile.trans %ktB : tensor<64x64xbf16> -> tensor<64x64xbf16>
      %vtB = tile.load_block %v shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nB, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %s0B = tile.dot %qt, %kttB, %zero_acc : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      %scB = tile.splat %scale_log2 : f32 -> tensor<128x64xf32>
      %s1B = arith.mulf %s0B, %scB : tensor<128x64xf32>
      %colsB = tile.arange 0 to 64 : tensor<64xi32>
      %n0sB = tile.splat %nB : i32 -> tensor<64xi32>
      %colsnB = arith.addi %colsB, %n0sB : tensor<64xi32>
      %limB = tile.splat %seqlen : i32 -> tensor<64xi32>
      %validB = arith.cmpi slt, %colsnB, %limB : tensor<64xi32>
      %valid2B = tile.expand_dims %validB, 0 : tensor<64xi1> -> tensor<1x64xi1>
      %validbB = tile.broadcast %valid2B : tensor<1x64xi1> -> tensor<128x64xi1>
      %ninfB = arith.constant dense<0xFF800000> : tensor<128x64xf32>
      %sB = arith.select %validbB, %s1B, %ninfB : tensor<128x64xi1>, tensor<128x64xf32>
      %rowmaxB = tile.reduce "max" %sB, 1 : tensor<128x64xf32> -> tensor<128xf32>
      %m_newB = arith.maximumf %mB, %rowmaxB : tensor<128xf32>
      %dmB = arith.subf %mB, %m_newB : tensor<128xf32>
      %alphaB = math.exp2 %dmB : tensor<128xf32>
      %mn2B = tile.expand_dims %m_newB, 1 : tensor<128xf32> -> tensor<128x1xf32>
      %mnbB = tile.broadcast %mn2B : tensor<128x1xf32> -> tensor<128x64xf32>
      %sdB = arith.subf %sB, %mnbB : tensor<128x64xf32>
      %pB = math.exp2 %sdB : tensor<128x64xf32>
      %psumB = tile.reduce "sum" %pB, 1 : tensor<128x64xf32> -> tensor<128xf32>
      %laB = arith.mulf %lB, %alphaB : tensor<128xf32>
      %l_newB = arith.addf %laB, %psumB : tensor<128xf32>
      %pbB = arith.truncf %pB : tensor<128x64xf32> to tensor<128x64xbf16>
      %al2B = tile.expand_dims %alphaB, 1 : tensor<128xf32> -> tensor<128x1xf32>
      %albB = tile.broadcast %al2B : tensor<128x1xf32> -> tensor<128x64xf32>
      %acc_aB = arith.mulf %accB, %albB : tensor<128x64xf32>
      %acc_newB = tile.dot %pbB, %vtB, %acc_aB : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      scf.yield %acc_newB, %m_newB, %l_newB : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>
    } {tile.stages = 2 : i32}
    %l2 = tile.expand_dims %r3#2, 1 : tensor<128xf32> -> tensor<128x1xf32>
    %lb = tile.broadcast %l2 : tensor<128x1xf32> -> tensor<128x64xf32>
    %out = arith.divf %r3#0, %lb : tensor<128x64xf32>
    %outb = arith.truncf %out : tensor<128x64xf32> to tensor<128x64xbf16>
    tile.store_block %outb, %o shape [%seqlen, %c64] strides [%stride, %c1] offsets [%m0, %c0] : tensor<128x64xbf16>, !tile.ptr<bf16>
    %log2l = math.log2 %r3#2 : tensor<128xf32>
    %lse2 = arith.addf %r3#1, %log2l : tensor<128xf32>
    %ln2 = arith.constant dense<0.693147182> : tensor<128xf32>
    %lse_n = arith.mulf %lse2, %ln2 : tensor<128xf32>
    %rows = tile.arange 0 to 128 : tensor<128xi32>
    %m0s = tile.splat %m0 : i32 -> tensor<128xi32>
    %rowsn = arith.addi %rows, %m0s : tensor<128xi32>
    %rlim = tile.splat %seqlen : i32 -> tensor<128xi32>
    %rmask = arith.cmpi slt, %rowsn, %rlim : tensor<128xi32>
    tile.store %lse_n, %lse[%rowsn] mask %rmask : tensor<128xf32>, !tile.ptr<f32>, tensor<128xi32>, tensor<128xi1>
  }
  return
}
