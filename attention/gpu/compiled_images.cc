#include "attention/gpu/compiled_images.h"

#include <map>
#include <stdexcept>

namespace tile::attention {
namespace {
std::map<std::string, const rt::KernelImage*>& images() {
  static auto* m = new std::map<std::string, const rt::KernelImage*>();
  return *m;
}
}  // namespace

bool register_compiled_images(const rt::KernelImage* const* list, int count) {
  for (int i = 0; i < count; ++i)
    if (!images().emplace(list[i]->name, list[i]).second)
      throw std::logic_error(std::string("kernel image ") + list[i]->name + " compiled twice");
  return true;
}

const rt::KernelImage* compiled_image(const std::string& instance) {
  auto it = images().find(instance);
  return it == images().end() ? nullptr : it->second;
}

std::vector<std::string> compiled_instances() {
  std::vector<std::string> names;
  for (const auto& entry : images()) names.push_back(entry.first);
  return names;
}

}  // namespace tile::attention
