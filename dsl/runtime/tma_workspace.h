// The hidden workspace of kernels with TMA copies (KernelImage::tma_templates).
//
// Each such kernel makes, per thread block, tensor maps from templates (the parts fixed at
// compile time: element type, rank 2, box, 128-byte swizzle, zero fill); the block writes its
// own base address, extents and strides into them. The workspace holds the templates, encoded
// here with cuTensorMapEncodeTiled, then one slot per block and template.
//
// One workspace per (context, kernel, stream): launches on one stream run one after another,
// so two launches never share a block's slot. A workspace only grows (the old one is kept:
// a kernel still queued may use it).
#pragma once

#include <vector>

#include "dsl/runtime/kernel_image.h"

namespace tile::rt {

// The device address to pass as the hidden last parameter of `image` launched over `grid`
// on `stream`. Encodes `templates` on first use: the image's own, or those of a cubin standing
// in for it (override_meta.h), as many as the image has.
CUdeviceptr tma_workspace(const KernelImage& image, const std::vector<TmaTemplate>& templates, Stream& stream,
                          Dim3 grid);

// Bytes the workspace of `num_templates` templates needs for `blocks` thread blocks.
size_t tma_workspace_bytes(int num_templates, uint64_t blocks);

}  // namespace tile::rt
