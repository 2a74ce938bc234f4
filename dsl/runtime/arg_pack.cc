#include "dsl/runtime/arg_pack.h"

#include <stdexcept>

namespace tile::rt {

void** ArgPack::pointers() {
  pointers_.clear();
  for (uint64_t& slot : slots_) pointers_.push_back(&slot);
  return pointers_.data();
}

void ArgPack::check_against(const KernelImage& image) const {
  const size_t expected = static_cast<size_t>(image.num_params);
  if (kinds_.size() != expected) {
    std::string params;
    for (size_t i = 0; i < expected; ++i) {
      params += std::string(i ? ", " : "") + param_kind_name(image.params[i].kind) + " " +
                image.params[i].name;
    }
    throw std::invalid_argument("kernel " + std::string(image.name) + ": " +
                                std::to_string(kinds_.size()) + " arguments given, expected " +
                                std::to_string(expected) + " (" + params + ")");
  }
  for (size_t i = 0; i < expected; ++i) {
    if (kinds_[i] != image.params[i].kind) {
      throw std::invalid_argument("kernel " + std::string(image.name) + ": argument " +
                                  std::to_string(i) + " (" + image.params[i].name +
                                  ") expected " + param_kind_name(image.params[i].kind) +
                                  ", got " + param_kind_name(kinds_[i]));
    }
  }
}

void launch_kernel(const KernelImage& image, Stream& stream, Dim3 grid, ArgPack& args) {
  args.check_against(image);
  launch_kernel(image, stream, grid, args.pointers());
}

}  // namespace tile::rt
