#include "distributed/device_tensor.h"

#include <stdexcept>
#include <string>

namespace tile {
namespace dist {

size_t DeviceTensor::bytes() const { return static_cast<size_t>(view.numel()) * dtype_size(view.dtype); }

TensorView slice(const TensorView& v, int dim, int64_t start, int64_t length) {
  if (dim < 0 || dim >= v.rank)
    throw std::invalid_argument("slice: dim " + std::to_string(dim) + " outside rank " + std::to_string(v.rank));
  if (start < 0 || length < 0 || start + length > v.size(dim))
    throw std::invalid_argument("slice: [" + std::to_string(start) + ", " + std::to_string(start + length) +
                                ") outside dim " + std::to_string(dim) + " of size " + std::to_string(v.size(dim)));
  TensorView out = v;
  out.data = static_cast<char*>(v.data) + start * v.stride(dim) * static_cast<int64_t>(dtype_size(v.dtype));
  out.shape[static_cast<size_t>(dim)] = length;
  return out;
}

size_t contiguous_bytes(const TensorView& v, const char* what) {
  if (!v.is_contiguous())
    throw std::invalid_argument(std::string(what) + ": expected a contiguous tensor, got strides of " + describe(v));
  return static_cast<size_t>(v.numel()) * dtype_size(v.dtype);
}

std::string describe(const TensorView& v) {
  return std::string(dtype_name(v.dtype)) + v.shape_str() + " on " + v.device.str();
}

}  // namespace dist
}  // namespace tile
