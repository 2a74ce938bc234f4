// The tile DSL: the one include a kernel source needs.
//
//   values.h        Scalar (Int/Float/Bool), Tile, Ptr, dtype tags f16/bf16/f32/i32/i1
//   ops.h           program ids, arithmetic with broadcasting, math, casts, dot, reductions
//   memory.h        block loads/stores, BlockPtr, masked gathers/scatters, atomics
//   control_flow.h  for_range (scf.for with carried values, stages=), if_ (scf.if)
//   kernel.h        KernelBuilder, Params, KernelSpec, TILE_REGISTER_KERNEL
// Tools that need the MLIR module also include dsl/module.h.
#pragma once

#include <cmath>  // INFINITY, NAN for paddings and masks

#include "dsl/control_flow.h"
#include "dsl/errors.h"
#include "dsl/kernel.h"
#include "dsl/memory.h"
#include "dsl/ops.h"
#include "dsl/params.h"
#include "dsl/signature.h"
#include "dsl/values.h"
