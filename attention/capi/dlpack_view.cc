#include "attention/capi/dlpack_view.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace tile::attention::capi {
namespace {

std::string dtype_text(const DLDataType& t) {
  return "(code " + std::to_string(t.code) + ", bits " + std::to_string(t.bits) + ", lanes " + std::to_string(t.lanes) + ")";
}

DType dtype_of(const DLDataType& t, const char* name) {
  if (t.lanes == 1) {
    if (t.code == kDLFloat && t.bits == 16) return DType::f16;
    if (t.code == kDLBfloat && t.bits == 16) return DType::bf16;
    if (t.code == kDLFloat && t.bits == 32) return DType::f32;
    if (t.code == kDLFloat && t.bits == 64) return DType::f64;
    if (t.code == kDLInt && t.bits == 32) return DType::i32;
    if (t.code == kDLInt && t.bits == 64) return DType::i64;
  }
  throw std::invalid_argument(std::string(name) + ": expected dtype float16, bfloat16, float32 or int32, got DLPack dtype " +
                              dtype_text(t));
}

Device device_of(const DLDevice& d, const char* name) {
  if (d.device_type == kDLCPU) return Device::cpu();
  if (d.device_type == kDLCUDA) return Device::cuda(d.device_id);
  throw std::invalid_argument(std::string(name) + ": expected a CPU or CUDA tensor, got DLPack device type " +
                              std::to_string(int(d.device_type)));
}

}  // namespace

TensorView view_of(const DLTensor* t, const char* name) {
  if (t == nullptr) throw std::invalid_argument(std::string(name) + ": expected a tensor, got NULL");
  if (t->ndim < 0 || t->ndim > kMaxTensorRank)
    throw std::invalid_argument(std::string(name) + ": expected at most " + std::to_string(kMaxTensorRank) +
                                " dimensions, got " + std::to_string(t->ndim));
  const DType dtype = dtype_of(t->dtype, name);
  std::vector<int64_t> shape(t->shape, t->shape + t->ndim);
  std::vector<int64_t> strides = t->strides ? std::vector<int64_t>(t->strides, t->strides + t->ndim) : contiguous_strides(shape);
  if (t->byte_offset % dtype_size(dtype) != 0)
    throw std::invalid_argument(std::string(name) + ": byte_offset " + std::to_string(t->byte_offset) +
                                " is not a multiple of the element size");
  // An empty tensor may come with a null pointer; the host API treats null as "absent", so give
  // it a non-null address nothing will read (no element exists).
  static char empty_marker;
  char* data = static_cast<char*>(t->data) + t->byte_offset;
  if (data == nullptr) {
    int64_t numel = 1;
    for (int64_t s : shape) numel *= s;
    if (numel != 0) throw std::invalid_argument(std::string(name) + ": data is NULL");
    data = &empty_marker;
  }
  return TensorView(data, dtype, shape, strides, device_of(t->device, name));
}

TensorView optional_view_of(const DLTensor* t, const char* name) { return t ? view_of(t, name) : TensorView(); }

}  // namespace tile::attention::capi
