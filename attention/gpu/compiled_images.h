// The kernel images compiled ahead of time, by instance name. Each generated kernel library
// (plain attention, each variant: kernel_instances.bzl) registers its images at start-up, so
// the GPU backend finds every library it was linked with.
#pragma once

#include <string>
#include <vector>

#include "dsl/runtime/kernel_image.h"

namespace tile::attention {

bool register_compiled_images(const rt::KernelImage* const* images, int count);
// Null when no linked library has it.
const rt::KernelImage* compiled_image(const std::string& instance);
std::vector<std::string> compiled_instances();  // sorted

}  // namespace tile::attention
