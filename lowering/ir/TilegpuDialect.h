// The lowering-only `tilegpu` dialect: layout encodings and layout-aware ops (TilegpuOps.td).
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "lowering/ir/TilegpuDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "lowering/ir/TilegpuAttrs.h.inc"

#define GET_OP_CLASSES
#include "lowering/ir/TilegpuOps.h.inc"
