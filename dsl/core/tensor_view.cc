#include "dsl/core/tensor_view.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace tile {

std::string Device::str() const {
  return kind == DeviceKind::cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d)
    strides[static_cast<size_t>(d)] = strides[static_cast<size_t>(d) + 1] * shape[static_cast<size_t>(d) + 1];
  return strides;
}

TensorView::TensorView(void* data_, DType dtype_, const std::vector<int64_t>& shape_,
                       const std::vector<int64_t>& strides_, Device device_)
    : data(data_), dtype(dtype_), device(device_) {
  if (shape_.size() > static_cast<size_t>(kMaxTensorRank))
    throw std::invalid_argument("TensorView: expected rank <= " + std::to_string(kMaxTensorRank) +
                                ", got " + std::to_string(shape_.size()));
  if (shape_.size() != strides_.size())
    throw std::invalid_argument("TensorView: expected " + std::to_string(shape_.size()) +
                                " strides (one per dim), got " + std::to_string(strides_.size()));
  rank = static_cast<int>(shape_.size());
  for (int d = 0; d < rank; ++d) {
    if (shape_[static_cast<size_t>(d)] < 0)
      throw std::invalid_argument("TensorView: expected sizes >= 0, got " +
                                  std::to_string(shape_[static_cast<size_t>(d)]) + " in dim " +
                                  std::to_string(d));
    shape[static_cast<size_t>(d)] = shape_[static_cast<size_t>(d)];
    strides[static_cast<size_t>(d)] = strides_[static_cast<size_t>(d)];
  }
}

TensorView TensorView::contiguous(void* data, DType dtype, const std::vector<int64_t>& shape,
                                  Device device) {
  return TensorView(data, dtype, shape, contiguous_strides(shape), device);
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d) n *= shape[static_cast<size_t>(d)];
  return n;
}

bool TensorView::is_contiguous() const {
  int64_t expected = 1;
  for (int d = rank - 1; d >= 0; --d) {
    const size_t i = static_cast<size_t>(d);
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

int64_t TensorView::offset_of(const int64_t* index, int n) const {
  if (n != rank)
    throw std::out_of_range("TensorView::offset_of: expected " + std::to_string(rank) +
                            " indices, got " + std::to_string(n));
  int64_t off = 0;
  for (int d = 0; d < rank; ++d) {
    const size_t i = static_cast<size_t>(d);
    if (index[d] < 0 || index[d] >= shape[i])
      throw std::out_of_range("TensorView::offset_of: index " + std::to_string(index[d]) +
                              " out of range [0, " + std::to_string(shape[i]) + ") in dim " +
                              std::to_string(d));
    off += index[d] * strides[i];
  }
  return off;
}

int64_t TensorView::offset_of(std::initializer_list<int64_t> index) const {
  return offset_of(index.begin(), static_cast<int>(index.size()));
}

int64_t TensorView::offset_of_linear(int64_t i) const {
  int64_t off = 0;
  for (int d = rank - 1; d >= 0; --d) {
    const size_t k = static_cast<size_t>(d);
    off += (i % shape[k]) * strides[k];
    i /= shape[k];
  }
  return off;
}

std::string TensorView::shape_str() const {
  std::ostringstream s;
  s << "(";
  for (int d = 0; d < rank; ++d) s << (d ? ", " : "") << shape[static_cast<size_t>(d)];
  s << ")";
  return s.str();
}

TensorView TensorView::select(int dim, int64_t index) const {
  if (dim < 0 || dim >= rank || index < 0 || index >= size(dim))
    throw std::out_of_range("TensorView::select: dim " + std::to_string(dim) + " index " +
                            std::to_string(index) + " outside shape " + shape_str());
  TensorView out = *this;
  out.data = static_cast<char*>(data) +
             index * strides[static_cast<size_t>(dim)] * static_cast<int64_t>(dtype_size(dtype));
  out.rank = rank - 1;
  for (int d = dim; d < rank - 1; ++d) {
    out.shape[static_cast<size_t>(d)] = shape[static_cast<size_t>(d) + 1];
    out.strides[static_cast<size_t>(d)] = strides[static_cast<size_t>(d) + 1];
  }
  out.shape[static_cast<size_t>(rank - 1)] = 0;
  out.strides[static_cast<size_t>(rank - 1)] = 0;
  return out;
}

std::array<TensorView, 3> split_qkvpacked(const TensorView& qkv) {
  // The "3" sits in front of (nheads, headdim): dim 2 of rank 5 (batched), dim 1 of rank 4 (varlen).
  const int dim = qkv.rank - 3;
  if ((qkv.rank != 5 && qkv.rank != 4) || qkv.size(dim) != 3)
    throw std::invalid_argument(
        "qkv: expected shape (batch, seqlen, 3, nheads, headdim) or (total, 3, nheads, headdim), got " +
        qkv.shape_str());
  return {qkv.select(dim, 0), qkv.select(dim, 1), qkv.select(dim, 2)};
}

// Correct rounding of a double to a 16-bit float: first to float with round-to-odd (float keeps
// at least two more bits than f16/bf16, so the second rounding cannot be a double rounding),
// then to the 16-bit format with round-to-nearest-even.
static float to_float_round_to_odd(double x) {
  float f = static_cast<float>(x);
  if (std::isnan(x) || static_cast<double>(f) == x) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(x))
    f = std::nextafter(f, 0.0f);  // truncate toward zero (also turns an overflowed Inf into max)
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u |= 1u;  // inexact: make the last bit sticky
  std::memcpy(&f, &u, 4);
  return f;
}

double round_to_dtype(DType t, double x) {
  switch (t) {
    case DType::f64: return x;
    case DType::f32: return static_cast<double>(static_cast<float>(x));
    case DType::f16: return f16_bits_to_f32(f32_to_f16_bits(to_float_round_to_odd(x)));
    case DType::bf16: return bf16_bits_to_f32(f32_to_bf16_bits(to_float_round_to_odd(x)));
    case DType::i32: return static_cast<double>(static_cast<int32_t>(x));
    case DType::i64: return static_cast<double>(static_cast<int64_t>(x));
    case DType::i1: return x != 0.0 ? 1.0 : 0.0;
  }
  return x;
}

double load_as_double(DType t, const void* base, int64_t offset) {
  const char* p = static_cast<const char*>(base) + offset * static_cast<int64_t>(dtype_size(t));
  switch (t) {
    case DType::f16: { uint16_t h; std::memcpy(&h, p, 2); return f16_bits_to_f32(h); }
    case DType::bf16: { uint16_t h; std::memcpy(&h, p, 2); return bf16_bits_to_f32(h); }
    case DType::f32: { float f; std::memcpy(&f, p, 4); return f; }
    case DType::f64: { double f; std::memcpy(&f, p, 8); return f; }
    case DType::i32: { int32_t i; std::memcpy(&i, p, 4); return i; }
    case DType::i64: { int64_t i; std::memcpy(&i, p, 8); return static_cast<double>(i); }
    case DType::i1: return *p != 0 ? 1.0 : 0.0;
  }
  return 0.0;
}

void store_from_double(DType t, void* base, int64_t offset, double value) {
  char* p = static_cast<char*>(base) + offset * static_cast<int64_t>(dtype_size(t));
  switch (t) {
    case DType::f16: { uint16_t h = f32_to_f16_bits(to_float_round_to_odd(value)); std::memcpy(p, &h, 2); return; }
    case DType::bf16: { uint16_t h = f32_to_bf16_bits(to_float_round_to_odd(value)); std::memcpy(p, &h, 2); return; }
    case DType::f32: { float f = static_cast<float>(value); std::memcpy(p, &f, 4); return; }
    case DType::f64: std::memcpy(p, &value, 8); return;
    case DType::i32: { int32_t i = static_cast<int32_t>(value); std::memcpy(p, &i, 4); return; }
    case DType::i64: { int64_t i = static_cast<int64_t>(value); std::memcpy(p, &i, 8); return; }
    case DType::i1: *p = value != 0.0 ? 1 : 0; return;
  }
}

HostTensor::HostTensor(DType dtype, const std::vector<int64_t>& shape) {
  view_ = TensorView(nullptr, dtype, shape, contiguous_strides(shape));
  const int64_t bytes = view_.numel() * static_cast<int64_t>(dtype_size(dtype));
  storage_.assign(static_cast<size_t>((bytes + 7) / 8 + 1), 0);  // +1: never a null pointer
  view_.data = storage_.data();
}

double HostTensor::get(std::initializer_list<int64_t> index) const {
  return load_as_double(view_.dtype, storage_.data(), view_.offset_of(index));
}

void HostTensor::set(std::initializer_list<int64_t> index, double value) {
  store_from_double(view_.dtype, storage_.data(), view_.offset_of(index), value);
}

double HostTensor::at(int64_t flat) const {
  if (flat < 0 || flat >= numel())
    throw std::out_of_range("HostTensor::at: flat index " + std::to_string(flat) + " outside [0, " +
                            std::to_string(numel()) + ")");
  return load_as_double(view_.dtype, storage_.data(), flat);
}

void HostTensor::set_at(int64_t flat, double value) {
  if (flat < 0 || flat >= numel())
    throw std::out_of_range("HostTensor::set_at: flat index " + std::to_string(flat) +
                            " outside [0, " + std::to_string(numel()) + ")");
  store_from_double(view_.dtype, storage_.data(), flat, value);
}

void HostTensor::fill(double value) {
  for (int64_t i = 0; i < numel(); ++i) store_from_double(view_.dtype, storage_.data(), i, value);
}

std::vector<double> HostTensor::to_doubles() const {
  std::vector<double> out(static_cast<size_t>(numel()));
  for (int64_t i = 0; i < numel(); ++i) out[static_cast<size_t>(i)] = load_as_double(view_.dtype, storage_.data(), i);
  return out;
}

HostTensor to_host_tensor(const TensorView& view, DType dtype) {
  if (view.device.kind != DeviceKind::cpu)
    throw std::invalid_argument("to_host_tensor: expected a cpu tensor, got device " + view.device.str());
  HostTensor out(dtype, view.sizes());
  for (int64_t i = 0; i < out.numel(); ++i)
    out.set_at(i, load_as_double(view.dtype, view.data, view.offset_of_linear(i)));
  return out;
}

}  // namespace tile
