// The DSL GEMM's compiled instances (dsl_example_kernels) with the tile each was generated for:
// the grid of a launch is cdiv(M, block_m) * cdiv(N, block_n). Shared by the GPU test and
// tools/gemm_bench so that both launch every instance the same way.
#pragma once

#include <cstdint>

#include "tests/backend/dsl_example_kernels.h"

namespace tile::kernels {

struct DslGemmInstance {
  const char* name;
  const rt::KernelImage* image;
  void (*launch)(rt::Stream&, rt::Dim3, const uint16_t*, const uint16_t*, float*, int32_t, int32_t, int32_t,
                 int32_t, int32_t, int32_t);
  int block_m, block_n;  // as registered in tests/backend/BUILD
};

// gemm_bf16: 128x128 tiles, two programs per multiprocessor; gemm_bf16_ws: a producer
// warpgroup feeding 128x256 tiles.
inline constexpr DslGemmInstance kDslGemmInstances[] = {
    {"gemm_bf16", &gemm_bf16_image, launch_gemm_bf16, 128, 128},
    {"gemm_bf16_ws", &gemm_bf16_ws_image, launch_gemm_bf16_ws, 128, 256},
};

}  // namespace tile::kernels
