// What a cubin in TILE_KERNEL_OVERRIDE_DIR must match to stand in for a built-in kernel image,
// read from the `<instance>.meta` file beside it (tools/kernel_override_dir.py writes both from
// a generator run). The cubin itself cannot say how much dynamic shared memory its kernel
// addresses or how many TMA templates it reads; launched with less than it needs, it fails
// with a bare CUDA error, or worse, reads past its shared memory.
//
// Format: one "key value" pair per line, e.g.
//   smem_bytes 164864
//   tma_templates 2
//   tma_template 0 64 128
//   tma_template 0 64 128
//   num_warps 12
// The `tma_template ELEM BOX_COLS BOX_ROWS` lines (optional, one per template in order) give the
// override's own boxes, so a cubin generated at another block shape (a pipelined load of 64 key
// rows where the image loads 32) can stand in for the image and be timed against it: its tensor
// maps are encoded from these, not from the image's.
#pragma once

#include <string>
#include <vector>

#include "dsl/runtime/kernel_image.h"

namespace tile::rt {

// The most dynamic shared memory one block may have on sm_90 (227 KiB).
inline constexpr int kMaxDynamicSmemBytes = 227 * 1024;

// Empty when an override described by `meta_text` can launch in place of `image`; otherwise a
// sentence naming the field, the override's value and the image's. An override may need more
// shared memory than the image (a kernel change that stages more), up to kMaxDynamicSmemBytes:
// it is then launched with its own amount (override_smem_bytes). Malformed text is a mismatch
// too (it names the line).
std::string override_mismatch(const KernelImage& image, const std::string& meta_text);

// The dynamic shared memory to launch an override with: its meta's smem_bytes where that is
// more than the image's, else the image's. Call after override_mismatch returned empty.
int override_smem_bytes(const KernelImage& image, const std::string& meta_text);

// The TMA templates to encode for an override: its meta's `tma_template` lines where it has
// them, else the image's. Call after override_mismatch returned empty.
std::vector<TmaTemplate> override_tma_templates(const KernelImage& image, const std::string& meta_text);

}  // namespace tile::rt
