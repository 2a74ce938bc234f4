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

// The meta text's `tma_template ELEM BOX_COLS BOX_ROWS` lines in order. A line that starts so
// but does not carry three numbers goes to `bad_line`.
std::vector<TmaTemplate> read_templates(const std::string& meta_text, std::string* bad_line) {
  std::vector<TmaTemplate> out;
  std::istringstream lines(meta_text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string key;
    if (!(fields >> key) || key != "tma_template") continue;
    TmaTemplate t{};
    std::string rest;
    if (!(fields >> t.elem >> t.box_cols >> t.box_rows) || (fields >> rest)) {
      *bad_line = line;
      break;
    }
    out.push_back(t);
  }
  return out;
}

// Why the override's templates cannot replace the image's; empty when they can. The element
// type and the swizzle span (box columns) belong to the tensors the kernel is called with; only
// the rows of a box may differ (TMA boxes have 1..256 rows).
std::string templates_mismatch(const KernelImage& image, const std::vector<TmaTemplate>& templates) {
  if (templates.empty()) return "";
  if (int(templates.size()) != image.num_tma_templates)
    return "lists " + std::to_string(templates.size()) + " tma_template lines, the image it replaces has " +
           std::to_string(image.num_tma_templates) + " TMA templates";
  for (size_t k = 0; k < templates.size(); ++k) {
    const TmaTemplate& mine = templates[k];
    const TmaTemplate& theirs = image.tma_templates[k];
    const std::string which = "tma_template " + std::to_string(k);
    if (mine.elem != theirs.elem)
      return which + " has element type " + std::to_string(mine.elem) + ", the image's " + std::to_string(theirs.elem);
    if (mine.box_cols != theirs.box_cols)
      return which + " has boxes " + std::to_string(mine.box_cols) + " columns wide, the image's " +
             std::to_string(theirs.box_cols);
    if (mine.box_rows < 1 || mine.box_rows > 256)
      return which + " has boxes of " + std::to_string(mine.box_rows) + " rows (expected 1..256)";
  }
  return "";
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
    } else if (key == "tma_template") {
      continue;  // read_templates
    } else if (key == "num_warps") {
      if (value != image.num_warps)
        return "runs " + std::to_string(value) + " warps, the image it replaces launches " + std::to_string(image.num_warps);
    }
    // Other keys: informational.
  }
  if (!bad_line.empty()) return "unreadable line '" + bad_line + "' (expected: key number)";
  if (!saw_smem) return "has no smem_bytes line";
  const std::vector<TmaTemplate> templates = read_templates(meta_text, &bad_line);
  if (!bad_line.empty()) return "unreadable line '" + bad_line + "' (expected: tma_template ELEM BOX_COLS BOX_ROWS)";
  return templates_mismatch(image, templates);
}

int override_smem_bytes(const KernelImage& image, const std::string& meta_text) {
  std::string bad_line;
  for (const auto& [key, value] : read_fields(meta_text, &bad_line))
    if (key == "smem_bytes") return std::max(image.smem_bytes, int(value));
  return image.smem_bytes;
}

std::vector<TmaTemplate> override_tma_templates(const KernelImage& image, const std::string& meta_text) {
  std::string bad_line;
  std::vector<TmaTemplate> templates = read_templates(meta_text, &bad_line);
  if (templates.empty()) templates = image_tma_templates(image);
  return templates;
}

}  // namespace tile::rt
