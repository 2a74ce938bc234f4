// The persistent forward as attention/kernels/fwd.cc runs it since the right edge's last block
// opens the rotated run: a left-edge loop (K and V), the peeled block (the ragged end's last
// block when there is one, masked; else the first whole block, masked all the same: a
// pipelined loop of at most one iteration reading K alone), the rotated middle over the whole
// blocks (block j's Q K^T and the previous block's P V, whose V is the peeled block's in the
// first iteration: an offset selected on the induction variable) and the last block's P V (V
// alone), with no loop after it. The K and V rings run through all four loops. At 330 rows
// the peeled block is 320 and the middle runs [64, 320); at 100 the peeled block is 64 and the
// middle none; at 320 (no ragged end) the peeled block is 64 and the middle [128, 320).
// CHECK-LABEL: gpu.func @attn_fwd_persistent_edge_first
// CHECK-COUNT-8: mbarrier.init
// CHECK-NOT: mbarrier.init
// CHECK: setmaxnreg.dec.sync.aligned.u32 24;
// CHECK: } else {
// CHECK-NEXT: setmaxnreg.inc.sync.aligned.u32 240;
// CHECK: gpu.return
// The arguments assume TMA's rules (16-byte aligned rows): the loops have one version.
func.func @attn_fwd_persistent_edge_first(%q: !tile.ptr<bf16> {tile.divisor = 16 : i64}, %k: !tile.ptr<bf16> {tile.divisor = 16 : i64},
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
    // The right edge's last block (the ragged end here) opens the rotated run, masked; without
    // an edge the first unmasked block does (masked all the same).
    %has_edge = arith.cmpi sgt, %seqlen, %full_hi : i32
    %edge_span = arith.subi %seqlen, %full_hi : i32
    %edge_span1 = arith.subi %edge_span, %c1 : i32
    %edge_blocks = arith.divsi %edge_span1, %c64 : i32
    %edge_off = arith.muli %edge_blocks, %c64 : i32
    %edge_last = arith.addi %full_hi, %edge_off : i32
    %edge_hi = arith.addi %edge_last, %c1 : i32
    %peel_hi0 = arith.addi %c64, %c64 : i32
    %peel_hi1 = arith.minsi %peel_hi0, %full_hi : i32
    %first_lo = arith.select %has_edge, %edge_last, %c64 : i32
    %first_hi = arith.select %has_edge, %edge_hi, %peel_hi1 : i32
    %mid_lo = arith.select %has_edge, %c64, %first_hi : i32
    %rP:4 = scf.for %nP = %first_lo to %first_hi step %c64 iter_args(%accP = %r1#0, %mP = %r1#1, %lP = %r1#2, %pP = %zero_p)
        -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128x64xbf16>) : i32 {
      %ktP = tile.load_block %k shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nP, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %kttP = tile.trans %ktP : tensor<64x64xbf16> -> tensor<64x64xbf16>
      %s0P = tile.dot %qt, %kttP, %zero_acc : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      %scP = tile.splat %scale_log2 : f32 -> tensor<128x64xf32>
      %s1P = arith.mulf %s0P, %scP : tensor<128x64xf32>
      %colsP = tile.arange 0 to 64 : tensor<64xi32>
      %n0sP = tile.splat %nP : i32 -> tensor<64xi32>
      %colsnP = arith.addi %colsP, %n0sP : tensor<64xi32>
      %limP = tile.splat %seqlen : i32 -> tensor<64xi32>
      %validP = arith.cmpi slt, %colsnP, %limP : tensor<64xi32>
      %valid2P = tile.expand_dims %validP, 0 : tensor<64xi1> -> tensor<1x64xi1>
      %validbP = tile.broadcast %valid2P : tensor<1x64xi1> -> tensor<128x64xi1>
      %ninfP = arith.constant dense<0xFF800000> : tensor<128x64xf32>
      %sP = arith.select %validbP, %s1P, %ninfP : tensor<128x64xi1>, tensor<128x64xf32>
      %rowmaxP = tile.reduce "max" %sP, 1 : tensor<128x64xf32> -> tensor<128xf32>
      %m_newP = arith.maximumf %mP, %rowmaxP : tensor<128xf32>
      %dmP = arith.subf %mP, %m_newP : tensor<128xf32>
      %alphaP = math.exp2 %dmP : tensor<128xf32>
      %mn2P = tile.expand_dims %m_newP, 1 : tensor<128xf32> -> tensor<128x1xf32>
      %mnbP = tile.broadcast %mn2P : tensor<128x1xf32> -> tensor<128x64xf32>
      %sdP = arith.subf %sP, %mnbP : tensor<128x64xf32>
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
    %r2:4 = scf.for %n0 = %mid_lo to %full_hi step %c64 iter_args(%acc = %rP#0, %m = %rP#1, %l = %rP#2, %pprev = %rP#3)
        -> (tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128x64xbf16>) : i32 {
      // The previous block: the peeled one in the first iteration.
      %nback = arith.subi %n0, %c64 : i32
      %at_first = arith.cmpi eq, %n0, %mid_lo : i32
      %nprev = arith.select %at_first, %first_lo, %nback : i32
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
    // The last block's P V: the middle's last, or the peeled one when the middle is empty.
    %mid_any = arith.cmpi sgt, %full_hi, %mid_lo : i32
    %mid_last = arith.subi %full_hi, %c64 : i32
    %tlo = arith.select %mid_any, %mid_last, %first_lo : i32
    %first_any = arith.cmpi sgt, %first_hi, %first_lo : i32
    %tlo1 = arith.addi %tlo, %c1 : i32
    %thi = arith.select %first_any, %tlo1, %tlo : i32
    %acc_t = scf.for %nT = %tlo to %thi step %c64 iter_args(%accT = %r2#0) -> (tensor<128x64xf32>) : i32 {
      %vtT = tile.load_block %v shape [%seqlen, %c64] strides [%stride, %c1] offsets [%nT, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<64x64xbf16>
      %accT_new = tile.dot %r2#3, %vtT, %accT : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
      scf.yield %accT_new : tensor<128x64xf32>
    } {tile.stages = 2 : i32}
    %l2 = tile.expand_dims %r2#2, 1 : tensor<128xf32> -> tensor<128x1xf32>
    %lb = tile.broadcast %l2 : tensor<128x1xf32> -> tensor<128x64xf32>
    %out = arith.divf %acc_t, %lb : tensor<128x64xf32>
    %outb = arith.truncf %out : tensor<128x64xf32> to tensor<128x64xbf16>
    tile.store_block %outb, %o shape [%seqlen, %c64] strides [%stride, %c1] offsets [%m0, %c0] : tensor<128x64xbf16>, !tile.ptr<bf16>
    %log2l = math.log2 %r2#2 : tensor<128xf32>
    %lse2 = arith.addf %r2#1, %log2l : tensor<128xf32>
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
