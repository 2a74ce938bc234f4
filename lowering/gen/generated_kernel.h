// One kernel as the generator emits it: compiled code plus what its launch stub needs.
// Plain data (no MLIR) so the emitter is testable without the compiler.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lowering/backend/kernel_info.h"

namespace tile::gen {

struct GeneratedKernel {
  std::string instance;  // C identifier: launch_<instance>, <instance>_image
  std::string spec;      // what was asked for, e.g. "gemm:BLOCK_M=128" (for comments)
  std::string entry;     // PTX entry point
  std::string target;    // e.g. "sm_90a"
  std::string ptx;
  std::vector<uint8_t> cubin;
  int num_warps = 0;
  int smem_bytes = 0;
  std::vector<backend::KernelArg> args;
  std::vector<backend::TmaTemplate> tma_templates;  // see KernelImage::tma_templates
  backend::ResourceUsage resources;
  int consumer_warps = 0;           // warp-specialised: the computing warps (0: not)
  std::string warp_roles_refused;   // asked for warp specialisation and refused: why
  backend::RegisterSplit register_split;  // warp-specialised: setmaxnreg's producer/consumer counts
  std::string ir_hash;   // 16 hex digits of FNV-1a 64 over the source IR
};

// 16 lowercase hex digits of FNV-1a 64 over `text`.
std::string fnv1a64_hex(const std::string& text);

}  // namespace tile::gen
