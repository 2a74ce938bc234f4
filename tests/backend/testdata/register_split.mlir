// A warp-specialised kernel whose producer warpgroup needs more than setmaxnreg's floor: it
// keeps 28 floats live across a loop (28 accumulators a_k = a_k * a_(k+1) + 1, n times).
// Under the lowering's default split (producer 24 registers, consumers 240) ptxas spills; the
// back end's search moves the split to 40/232, where it does not. The consumers copy one float.
// Hand-written at the level tile-convert-to-gpu emits (roles by thread id, setmaxnreg first).
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @heavy_producer(%a: !llvm.ptr, %c: !llvm.ptr, %n: i32)
        kernel attributes {tile.num_warps = 12 : i32, tile.smem_bytes = 0 : i32,
                           tile.consumer_warps = 8 : i32, tile.register_split = array<i32: 24, 240>,
                           nvvm.minctasm = 1 : i32} {
      %tid = gpu.thread_id x
      %t = arith.index_cast %tid : index to i32
      %c256 = arith.constant 256 : i32
      %producer = arith.cmpi uge, %t, %c256 : i32
      scf.if %producer {
        %k0 = arith.constant 0 : i32
        %k1 = arith.constant 1 : i32
        %k2 = arith.constant 2 : i32
        %k3 = arith.constant 3 : i32
        %k4 = arith.constant 4 : i32
        %k5 = arith.constant 5 : i32
        %k6 = arith.constant 6 : i32
        %k7 = arith.constant 7 : i32
        %k8 = arith.constant 8 : i32
        %k9 = arith.constant 9 : i32
        %k10 = arith.constant 10 : i32
        %k11 = arith.constant 11 : i32
        %k12 = arith.constant 12 : i32
        %k13 = arith.constant 13 : i32
        %k14 = arith.constant 14 : i32
        %k15 = arith.constant 15 : i32
        %k16 = arith.constant 16 : i32
        %k17 = arith.constant 17 : i32
        %k18 = arith.constant 18 : i32
        %k19 = arith.constant 19 : i32
        %k20 = arith.constant 20 : i32
        %k21 = arith.constant 21 : i32
        %k22 = arith.constant 22 : i32
        %k23 = arith.constant 23 : i32
        %k24 = arith.constant 24 : i32
        %k25 = arith.constant 25 : i32
        %k26 = arith.constant 26 : i32
        %k27 = arith.constant 27 : i32
        llvm.inline_asm has_side_effects "setmaxnreg.dec.sync.aligned.u32 24;", "" : () -> ()
        %w = arith.subi %t, %c256 : i32
        %stride = arith.constant 28 : i32
        %base = arith.muli %w, %stride : i32
        %one = arith.constant 1.0 : f32
        %zero = arith.constant 0 : i32
        %step = arith.constant 1 : i32
        %i0 = arith.addi %base, %k0 : i32
        %p0 = llvm.getelementptr %a[%i0] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x0 = llvm.load volatile %p0 : !llvm.ptr -> f32
        %i1 = arith.addi %base, %k1 : i32
        %p1 = llvm.getelementptr %a[%i1] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x1 = llvm.load volatile %p1 : !llvm.ptr -> f32
        %i2 = arith.addi %base, %k2 : i32
        %p2 = llvm.getelementptr %a[%i2] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x2 = llvm.load volatile %p2 : !llvm.ptr -> f32
        %i3 = arith.addi %base, %k3 : i32
        %p3 = llvm.getelementptr %a[%i3] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x3 = llvm.load volatile %p3 : !llvm.ptr -> f32
        %i4 = arith.addi %base, %k4 : i32
        %p4 = llvm.getelementptr %a[%i4] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x4 = llvm.load volatile %p4 : !llvm.ptr -> f32
        %i5 = arith.addi %base, %k5 : i32
        %p5 = llvm.getelementptr %a[%i5] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x5 = llvm.load volatile %p5 : !llvm.ptr -> f32
        %i6 = arith.addi %base, %k6 : i32
        %p6 = llvm.getelementptr %a[%i6] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x6 = llvm.load volatile %p6 : !llvm.ptr -> f32
        %i7 = arith.addi %base, %k7 : i32
        %p7 = llvm.getelementptr %a[%i7] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x7 = llvm.load volatile %p7 : !llvm.ptr -> f32
        %i8 = arith.addi %base, %k8 : i32
        %p8 = llvm.getelementptr %a[%i8] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x8 = llvm.load volatile %p8 : !llvm.ptr -> f32
        %i9 = arith.addi %base, %k9 : i32
        %p9 = llvm.getelementptr %a[%i9] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x9 = llvm.load volatile %p9 : !llvm.ptr -> f32
        %i10 = arith.addi %base, %k10 : i32
        %p10 = llvm.getelementptr %a[%i10] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x10 = llvm.load volatile %p10 : !llvm.ptr -> f32
        %i11 = arith.addi %base, %k11 : i32
        %p11 = llvm.getelementptr %a[%i11] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x11 = llvm.load volatile %p11 : !llvm.ptr -> f32
        %i12 = arith.addi %base, %k12 : i32
        %p12 = llvm.getelementptr %a[%i12] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x12 = llvm.load volatile %p12 : !llvm.ptr -> f32
        %i13 = arith.addi %base, %k13 : i32
        %p13 = llvm.getelementptr %a[%i13] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x13 = llvm.load volatile %p13 : !llvm.ptr -> f32
        %i14 = arith.addi %base, %k14 : i32
        %p14 = llvm.getelementptr %a[%i14] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x14 = llvm.load volatile %p14 : !llvm.ptr -> f32
        %i15 = arith.addi %base, %k15 : i32
        %p15 = llvm.getelementptr %a[%i15] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x15 = llvm.load volatile %p15 : !llvm.ptr -> f32
        %i16 = arith.addi %base, %k16 : i32
        %p16 = llvm.getelementptr %a[%i16] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x16 = llvm.load volatile %p16 : !llvm.ptr -> f32
        %i17 = arith.addi %base, %k17 : i32
        %p17 = llvm.getelementptr %a[%i17] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x17 = llvm.load volatile %p17 : !llvm.ptr -> f32
        %i18 = arith.addi %base, %k18 : i32
        %p18 = llvm.getelementptr %a[%i18] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x18 = llvm.load volatile %p18 : !llvm.ptr -> f32
        %i19 = arith.addi %base, %k19 : i32
        %p19 = llvm.getelementptr %a[%i19] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x19 = llvm.load volatile %p19 : !llvm.ptr -> f32
        %i20 = arith.addi %base, %k20 : i32
        %p20 = llvm.getelementptr %a[%i20] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x20 = llvm.load volatile %p20 : !llvm.ptr -> f32
        %i21 = arith.addi %base, %k21 : i32
        %p21 = llvm.getelementptr %a[%i21] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x21 = llvm.load volatile %p21 : !llvm.ptr -> f32
        %i22 = arith.addi %base, %k22 : i32
        %p22 = llvm.getelementptr %a[%i22] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x22 = llvm.load volatile %p22 : !llvm.ptr -> f32
        %i23 = arith.addi %base, %k23 : i32
        %p23 = llvm.getelementptr %a[%i23] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x23 = llvm.load volatile %p23 : !llvm.ptr -> f32
        %i24 = arith.addi %base, %k24 : i32
        %p24 = llvm.getelementptr %a[%i24] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x24 = llvm.load volatile %p24 : !llvm.ptr -> f32
        %i25 = arith.addi %base, %k25 : i32
        %p25 = llvm.getelementptr %a[%i25] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x25 = llvm.load volatile %p25 : !llvm.ptr -> f32
        %i26 = arith.addi %base, %k26 : i32
        %p26 = llvm.getelementptr %a[%i26] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x26 = llvm.load volatile %p26 : !llvm.ptr -> f32
        %i27 = arith.addi %base, %k27 : i32
        %p27 = llvm.getelementptr %a[%i27] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x27 = llvm.load volatile %p27 : !llvm.ptr -> f32
        %r:28 = scf.for %it = %zero to %n step %step iter_args(%a0 = %x0, %a1 = %x1, %a2 = %x2, %a3 = %x3, %a4 = %x4, %a5 = %x5, %a6 = %x6, %a7 = %x7, %a8 = %x8, %a9 = %x9, %a10 = %x10, %a11 = %x11, %a12 = %x12, %a13 = %x13, %a14 = %x14, %a15 = %x15, %a16 = %x16, %a17 = %x17, %a18 = %x18, %a19 = %x19, %a20 = %x20, %a21 = %x21, %a22 = %x22, %a23 = %x23, %a24 = %x24, %a25 = %x25, %a26 = %x26, %a27 = %x27) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) : i32 {
          %m0 = arith.mulf %a0, %a1 : f32
          %y0 = arith.addf %m0, %one : f32
          %m1 = arith.mulf %a1, %a2 : f32
          %y1 = arith.addf %m1, %one : f32
          %m2 = arith.mulf %a2, %a3 : f32
          %y2 = arith.addf %m2, %one : f32
          %m3 = arith.mulf %a3, %a4 : f32
          %y3 = arith.addf %m3, %one : f32
          %m4 = arith.mulf %a4, %a5 : f32
          %y4 = arith.addf %m4, %one : f32
          %m5 = arith.mulf %a5, %a6 : f32
          %y5 = arith.addf %m5, %one : f32
          %m6 = arith.mulf %a6, %a7 : f32
          %y6 = arith.addf %m6, %one : f32
          %m7 = arith.mulf %a7, %a8 : f32
          %y7 = arith.addf %m7, %one : f32
          %m8 = arith.mulf %a8, %a9 : f32
          %y8 = arith.addf %m8, %one : f32
          %m9 = arith.mulf %a9, %a10 : f32
          %y9 = arith.addf %m9, %one : f32
          %m10 = arith.mulf %a10, %a11 : f32
          %y10 = arith.addf %m10, %one : f32
          %m11 = arith.mulf %a11, %a12 : f32
          %y11 = arith.addf %m11, %one : f32
          %m12 = arith.mulf %a12, %a13 : f32
          %y12 = arith.addf %m12, %one : f32
          %m13 = arith.mulf %a13, %a14 : f32
          %y13 = arith.addf %m13, %one : f32
          %m14 = arith.mulf %a14, %a15 : f32
          %y14 = arith.addf %m14, %one : f32
          %m15 = arith.mulf %a15, %a16 : f32
          %y15 = arith.addf %m15, %one : f32
          %m16 = arith.mulf %a16, %a17 : f32
          %y16 = arith.addf %m16, %one : f32
          %m17 = arith.mulf %a17, %a18 : f32
          %y17 = arith.addf %m17, %one : f32
          %m18 = arith.mulf %a18, %a19 : f32
          %y18 = arith.addf %m18, %one : f32
          %m19 = arith.mulf %a19, %a20 : f32
          %y19 = arith.addf %m19, %one : f32
          %m20 = arith.mulf %a20, %a21 : f32
          %y20 = arith.addf %m20, %one : f32
          %m21 = arith.mulf %a21, %a22 : f32
          %y21 = arith.addf %m21, %one : f32
          %m22 = arith.mulf %a22, %a23 : f32
          %y22 = arith.addf %m22, %one : f32
          %m23 = arith.mulf %a23, %a24 : f32
          %y23 = arith.addf %m23, %one : f32
          %m24 = arith.mulf %a24, %a25 : f32
          %y24 = arith.addf %m24, %one : f32
          %m25 = arith.mulf %a25, %a26 : f32
          %y25 = arith.addf %m25, %one : f32
          %m26 = arith.mulf %a26, %a27 : f32
          %y26 = arith.addf %m26, %one : f32
          %m27 = arith.mulf %a27, %a0 : f32
          %y27 = arith.addf %m27, %one : f32
          scf.yield %y0, %y1, %y2, %y3, %y4, %y5, %y6, %y7, %y8, %y9, %y10, %y11, %y12, %y13, %y14, %y15, %y16, %y17, %y18, %y19, %y20, %y21, %y22, %y23, %y24, %y25, %y26, %y27 : f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32
        }
        %q0 = llvm.getelementptr %c[%i0] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#0, %q0 : f32, !llvm.ptr
        %q1 = llvm.getelementptr %c[%i1] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#1, %q1 : f32, !llvm.ptr
        %q2 = llvm.getelementptr %c[%i2] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#2, %q2 : f32, !llvm.ptr
        %q3 = llvm.getelementptr %c[%i3] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#3, %q3 : f32, !llvm.ptr
        %q4 = llvm.getelementptr %c[%i4] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#4, %q4 : f32, !llvm.ptr
        %q5 = llvm.getelementptr %c[%i5] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#5, %q5 : f32, !llvm.ptr
        %q6 = llvm.getelementptr %c[%i6] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#6, %q6 : f32, !llvm.ptr
        %q7 = llvm.getelementptr %c[%i7] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#7, %q7 : f32, !llvm.ptr
        %q8 = llvm.getelementptr %c[%i8] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#8, %q8 : f32, !llvm.ptr
        %q9 = llvm.getelementptr %c[%i9] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#9, %q9 : f32, !llvm.ptr
        %q10 = llvm.getelementptr %c[%i10] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#10, %q10 : f32, !llvm.ptr
        %q11 = llvm.getelementptr %c[%i11] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#11, %q11 : f32, !llvm.ptr
        %q12 = llvm.getelementptr %c[%i12] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#12, %q12 : f32, !llvm.ptr
        %q13 = llvm.getelementptr %c[%i13] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#13, %q13 : f32, !llvm.ptr
        %q14 = llvm.getelementptr %c[%i14] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#14, %q14 : f32, !llvm.ptr
        %q15 = llvm.getelementptr %c[%i15] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#15, %q15 : f32, !llvm.ptr
        %q16 = llvm.getelementptr %c[%i16] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#16, %q16 : f32, !llvm.ptr
        %q17 = llvm.getelementptr %c[%i17] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#17, %q17 : f32, !llvm.ptr
        %q18 = llvm.getelementptr %c[%i18] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#18, %q18 : f32, !llvm.ptr
        %q19 = llvm.getelementptr %c[%i19] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#19, %q19 : f32, !llvm.ptr
        %q20 = llvm.getelementptr %c[%i20] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#20, %q20 : f32, !llvm.ptr
        %q21 = llvm.getelementptr %c[%i21] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#21, %q21 : f32, !llvm.ptr
        %q22 = llvm.getelementptr %c[%i22] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#22, %q22 : f32, !llvm.ptr
        %q23 = llvm.getelementptr %c[%i23] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#23, %q23 : f32, !llvm.ptr
        %q24 = llvm.getelementptr %c[%i24] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#24, %q24 : f32, !llvm.ptr
        %q25 = llvm.getelementptr %c[%i25] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#25, %q25 : f32, !llvm.ptr
        %q26 = llvm.getelementptr %c[%i26] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#26, %q26 : f32, !llvm.ptr
        %q27 = llvm.getelementptr %c[%i27] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        llvm.store %r#27, %q27 : f32, !llvm.ptr
      } else {
        llvm.inline_asm has_side_effects "setmaxnreg.inc.sync.aligned.u32 240;", "" : () -> ()
        %pa = llvm.getelementptr %a[%t] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %pc = llvm.getelementptr %c[%t] : (!llvm.ptr, i32) -> !llvm.ptr, f32
        %x = llvm.load %pa : !llvm.ptr -> f32
        llvm.store %x, %pc : f32, !llvm.ptr
      }
      gpu.return
    }
  }
}
