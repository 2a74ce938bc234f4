#include "dsl/runtime/override_meta.h"

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

namespace tile::rt {

namespace {

// The meta text's "key number" lines in order (blank lines skipped). On a line that is not one,
// `bad_line` gets it and the lines before it are returned.
std::vector<std::pair<std::string, long long>> read_fields(const std::string& meta_text, std::string* bad_line) {
  std::vector<std::pair<std::string, long long>> out;
  std::istringstream lines(meta_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string key;
    long long value = 0;
    if (!(fields >> key >> value)) {
      *bad_line = line;
      break;
    }
    out.emplace_back(key, value);
  }
  return out;
}

}  // namespace

std::string override_mismatch(const KernelImage& image, const std::string& meta_text) {
  std::string bad_line;
  const auto fields = read_fields(meta_text, &bad_line);
  bool saw_smem = false;
  for (const auto& [key, value] : fields) {
    if (key == "smem_bytes") {
      saw_smem = true;
      // Less than the image launches with is fine: the block gets more than it uses. More is
      // given to it at launch, up to what a block can have.
      if (value > kMaxDynamicSmemBytes)
        return "needs " + std::to_string(value) + " B of dynamic shared memory, more than a block can have (" +
               std::to_string(kMaxDynamicSmemBytes) + " B; the image it replaces launches with " +
               std::to_string(image.smem_bytes) + " B)";
    } else if (key == "tma_templates") {
      if (value != image.num_tma_templates)
        return "reads " + std::to_string(value) + " TMA templates, the image it replaces provides " +
               std::to_string(image.num_tma_templates);
    } else if (key == "num_warps") {
      if (value != image.num_warps)
        return "runs " + std::to_string(value) + " warps, the image it replaces launches " + std::to_string(image.num_warps);
    }
    // Other keys: informational.
  }
  if (!bad_line.empty()) return "unreadable line '" + bad_line + "' (expected: key number)";
  if (!saw_smem) return "has no smem_bytes line";
  return "";
}

int override_smem_bytes(const KernelImage& image, const std::string& meta_text) {
  std::string bad_line;
  for (const auto& [key, value] : read_fields(meta_text, &bad_line))
    if (key == "smem_bytes") return std::max(image.smem_bytes, int(value));
  return image.smem_bytes;
}

}  // namespace tile::rt
