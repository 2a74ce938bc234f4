// A non-owning view of a strided tensor (pointer, dtype, shape, strides in elements, device) as
// the host API and the tests pass it around, plus HostTensor, a small owning CPU tensor.
// flash-attn layouts: (batch, seqlen, nheads, headdim); qkvpacked (batch, seqlen, 3, nheads,
// headdim); varlen (total_tokens, nheads, headdim). No MLIR: GPU-side binaries use this too.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "dsl/core/dtype.h"

namespace tile {

enum class DeviceKind : uint8_t { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;  // which GPU; always 0 for cpu

  static Device cpu() { return {DeviceKind::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceKind::cuda, index}; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;  // "cpu" or "cuda:N"
};

constexpr int kMaxTensorRank = 5;

// Row-major strides (in elements) for `shape`.
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape);

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::f32;
  int rank = 0;
  std::array<int64_t, kMaxTensorRank> shape{};
  std::array<int64_t, kMaxTensorRank> strides{};  // in elements, may be any value (incl. 0)
  Device device;

  TensorView() = default;
  // Throws std::invalid_argument if the rank exceeds kMaxTensorRank, a size is negative, or the
  // number of strides differs from the number of sizes.
  TensorView(void* data, DType dtype, const std::vector<int64_t>& shape,
             const std::vector<int64_t>& strides, Device device = Device::cpu());
  // Contiguous (row-major) view.
  static TensorView contiguous(void* data, DType dtype, const std::vector<int64_t>& shape,
                               Device device = Device::cpu());

  bool defined() const { return data != nullptr; }
  int64_t size(int dim) const { return shape[static_cast<size_t>(dim)]; }
  int64_t stride(int dim) const { return strides[static_cast<size_t>(dim)]; }
  std::vector<int64_t> sizes() const { return {shape.begin(), shape.begin() + rank}; }
  int64_t numel() const;
  // True when the strides are the row-major strides of the shape (size-1 dims may have any stride).
  bool is_contiguous() const;
  // Element offset of a full index: sum(index[d] * strides[d]). Throws std::out_of_range when the
  // index has the wrong length or a component is outside its dimension.
  int64_t offset_of(std::initializer_list<int64_t> index) const;
  int64_t offset_of(const int64_t* index, int n) const;
  // Offset of the i-th element in row-major order of the shape (walks the strides).
  int64_t offset_of_linear(int64_t i) const;
  // "(2, 128, 16, 64)".
  std::string shape_str() const;
  // A view of one slice `index` along `dim`, rank reduced by one.
  TensorView select(int dim, int64_t index) const;
};

// The q, k, v views inside a qkvpacked tensor: (batch, seqlen, 3, nheads, headdim) or varlen
// (total, 3, nheads, headdim). Throws std::invalid_argument if the "3" dimension is missing.
std::array<TensorView, 3> split_qkvpacked(const TensorView& qkv);

// Rounds a double to the nearest value of `t` (f16, bf16, f32 correctly rounded, without the
// double rounding of double->float->16-bit; f64 unchanged). Other dtypes: truncation toward zero.
double round_to_dtype(DType t, double x);

// Reads / writes one element as double; writes round to nearest (exact for f16/bf16/f32).
double load_as_double(DType t, const void* base, int64_t offset);
void store_from_double(DType t, void* base, int64_t offset, double value);

// Owning, contiguous CPU tensor.
class HostTensor {
 public:
  HostTensor() = default;
  HostTensor(DType dtype, const std::vector<int64_t>& shape);
  // Copying must re-point the view at the copy's storage.
  HostTensor(const HostTensor& o) : storage_(o.storage_), view_(o.view_) { view_.data = storage_.data(); }
  HostTensor& operator=(const HostTensor& o) {
    storage_ = o.storage_;
    view_ = o.view_;
    view_.data = storage_.data();
    return *this;
  }
  HostTensor(HostTensor&&) = default;  // a moved vector keeps its buffer, so the view stays valid
  HostTensor& operator=(HostTensor&&) = default;

  const TensorView& view() const { return view_; }
  TensorView& view() { return view_; }
  DType dtype() const { return view_.dtype; }
  std::vector<int64_t> shape() const { return view_.sizes(); }
  int64_t numel() const { return view_.numel(); }
  void* data() { return storage_.data(); }
  const void* data() const { return storage_.data(); }

  double get(std::initializer_list<int64_t> index) const;
  void set(std::initializer_list<int64_t> index, double value);
  // Row-major flat index.
  double at(int64_t flat) const;
  void set_at(int64_t flat, double value);
  void fill(double value);
  // Every element as double, row-major.
  std::vector<double> to_doubles() const;

 private:
  std::vector<uint64_t> storage_;  // uint64_t so that every dtype is aligned
  TensorView view_;
};

// Copies any CPU view (any strides, any float or int dtype) into a contiguous HostTensor of `dtype`.
HostTensor to_host_tensor(const TensorView& view, DType dtype);

}  // namespace tile
