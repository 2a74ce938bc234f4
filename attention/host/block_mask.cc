#include "attention/host/block_mask.h"

namespace tile::attention {

namespace {
std::vector<int32_t> read_i32(Backend& be, const std::shared_ptr<Workspace>& w, int64_t n) {
  std::vector<int32_t> out(static_cast<size_t>(n), 0);
  if (n > 0) be.read(out.data(), w->get(), size_t(n) * sizeof(int32_t));
  return out;
}
}  // namespace

std::vector<int32_t> BlockMask::classes(Backend& be, bool backward) const {
  const BlockMaskLevel& l = backward ? bwd : fwd;
  return read_i32(be, l.cls, l.cls_elements);
}

std::vector<int32_t> BlockMask::kv_lists(Backend& be, bool backward) const {
  const BlockMaskLevel& l = backward ? bwd : fwd;
  return read_i32(be, l.kv_list, l.kv_list_elements);
}

std::vector<int32_t> BlockMask::q_lists(Backend& be, bool backward) const {
  const BlockMaskLevel& l = backward ? bwd : fwd;
  return read_i32(be, l.q_list, l.q_list_elements);
}

}  // namespace tile::attention
