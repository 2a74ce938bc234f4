// DLPack tensors (the C ABI's currency) as the host API's TensorViews. Checks what a TensorView
// cannot express (vector lanes, unknown dtypes or devices, more than 5 dimensions) and names the
// argument in the message.
#pragma once

#include <dlpack/dlpack.h>

#include "dsl/core/tensor_view.h"

namespace tile::attention::capi {

// Throws std::invalid_argument naming `name` when `t` is null or not representable.
TensorView view_of(const DLTensor* t, const char* name);
// As view_of, but null gives an undefined view (an absent optional argument).
TensorView optional_view_of(const DLTensor* t, const char* name);

}  // namespace tile::attention::capi
