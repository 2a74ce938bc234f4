#include "dsl/signature.h"

namespace tile {

std::string arg_kind_name(const KernelArg& arg) {
  switch (arg.kind) {
    case ArgKind::ptr: return std::string("ptr<") + dtype_name(arg.pointee) + ">";
    case ArgKind::i32: return "i32";
    case ArgKind::f32: return "f32";
  }
  return "?";
}

}  // namespace tile
