#include "lowering/ir/TilegpuDialect.h"

#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;

#include "lowering/ir/TilegpuDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "lowering/ir/TilegpuAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "lowering/ir/TilegpuOps.cpp.inc"

namespace tile::gpu {

void TilegpuDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "lowering/ir/TilegpuAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "lowering/ir/TilegpuOps.cpp.inc"
      >();
}

LogicalResult ConvertLayoutOp::verify() {
  auto s = getSrc().getType(), r = getResult().getType();
  if (s.getShape() != r.getShape() || s.getElementType() != r.getElementType())
    return emitOpError("convert_layout: shape and element type must be kept, got ") << s << " -> " << r;
  return success();
}

}  // namespace tile::gpu
