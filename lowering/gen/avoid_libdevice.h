// The back end (lowering/backend) runs MLIR's GPU -> NVVM pipeline without linking libdevice, and
// the front half (lowering/passes/kernel_emitter.cc) lowers exp2/exp/log2/log to the hardware's
// ex2/lg2 but passes math.tanh and math.absf through, which convert-gpu-to-nvvm then maps to
// __nv_tanhf / __nv_fabsf: ptxas rejects the unresolved calls (every softcap kernel, and the
// head_dim 256 ALiBi backward). Until the front half handles them, they are rewritten here,
// between the front half and the back end, into arithmetic the back end lowers natively.
#pragma once

#include "mlir/IR/BuiltinOps.h"

namespace tile::gen {

// math.absf (any float scalar/vector): clears the sign bit (exact, also for -0.0, NaN, inf).
// math.tanh (f32 scalars): x (1 - x^2/3 + 2x^4/15 - 17x^6/315) for |x| < 1/8, else
// sign(x) (1 - e) / (1 + e) with e = 2^(-2|x| log2 e) from ex2.approx (relative error < 3e-6).
// Returns how many ops were rewritten.
int replace_libdevice_math(mlir::ModuleOp module);

}  // namespace tile::gen
