// An owning tensor on whatever device a backend computes on, and pointer-only view helpers.
// The ring code never dereferences tensor data itself: every element access goes through a
// TensorOps or an AttentionStepBackend, so the same ring loop drives CPU and GPU memory.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dsl/core/tensor_view.h"

namespace tile {
namespace dist {

// Storage is released by the shared_ptr's deleter (free for host memory, cuMemFree for device
// memory); `view` is contiguous over it.
struct DeviceTensor {
  std::shared_ptr<void> storage;
  TensorView view;

  bool defined() const { return view.defined(); }
  size_t bytes() const;
};

// View of [start, start + length) along `dim` (pointer arithmetic only; valid for device memory).
TensorView slice(const TensorView& v, int dim, int64_t start, int64_t length);

// Bytes spanned by a contiguous view. Throws std::invalid_argument when it is not contiguous
// (the transports move raw bytes).
size_t contiguous_bytes(const TensorView& v, const char* what);

// "(2, 128, 4, 64)" with the dtype, for messages.
std::string describe(const TensorView& v);

}  // namespace dist
}  // namespace tile
