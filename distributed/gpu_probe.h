// Counting GPUs from a launcher without initialising CUDA in it: the CUDA driver does not work in
// a child forked after cuInit, so the launcher asks a short-lived child process instead.
#pragma once

#include <string>

namespace tile {
namespace dist {

struct GpuProbe {
  int count = 0;    // 0 when there is no usable driver
  std::string why;  // why there is none (driver missing, no GPU), empty otherwise
};

// Runs dsl/runtime's driver check and device count in a forked child and reports them.
GpuProbe probe_gpus_in_child();

}  // namespace dist
}  // namespace tile
