// The library tile_kernel generated from the DSL's example kernels (front half + back end), read
// as data: sm_90a cubins, launch shapes from the DSL, typed stubs with `const` on read-only
// pointers. Runs in CI; tests/runtime:dsl_examples_gpu_test launches the same kernels.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "tests/backend/dsl_example_kernels.h"

namespace k = tile::kernels;
namespace rt = tile::rt;

TEST_CASE("each DSL example compiled to an sm_90a cubin with its PTX") {
  REQUIRE(k::dsl_example_kernels_num_kernels == 5);
  for (const rt::KernelImage* image : k::dsl_example_kernels_kernels) {
    INFO(rt::describe(*image));
    REQUIRE(image->cubin_size > 4);
    CHECK(std::memcmp(image->cubin, "\x7f" "ELF", 4) == 0);
    CHECK(std::string(image->ptx).find(".target sm_90a") != std::string::npos);
    CHECK(image->registers > 0);
  }
}

TEST_CASE("launch shapes and parameters come from the DSL kernels") {
  CHECK(k::gemm_bf16_image.num_warps == 8);  // the registered NUM_WARPS
  CHECK(std::string(k::gemm_bf16_image.entry) == "gemm");
  // set_min_blocks_per_sm(2) reaches the PTX as an occupancy directive ptxas honours.
  CHECK(std::string(k::gemm_bf16_image.ptx).find(".minnctapersm 2") != std::string::npos);
  CHECK(std::string(k::softmax_f32_image.ptx).find(".minnctapersm") == std::string::npos);
  // PRODUCER=1: a producer warpgroup beside the 8 computing warps, registers moved to them.
  CHECK(k::gemm_bf16_ws_image.num_warps == 12);
  CHECK(std::string(k::gemm_bf16_ws_image.ptx).find("setmaxnreg.inc.sync.aligned.u32 240") != std::string::npos);
  CHECK(std::string(k::gemm_bf16_ws_image.ptx).find("cp.async.bulk.tensor") != std::string::npos);
  REQUIRE(k::gemm_bf16_image.num_params == 9);
  CHECK(std::string(k::gemm_bf16_image.params[8].name) == "stride_cm");
  CHECK(k::vector_add_f32_image.num_warps == 4);
  CHECK(std::string(k::softmax_bf16_image.ir_hash) != std::string(k::softmax_f32_image.ir_hash));
}

TEST_CASE("stubs are typed from the DSL signature, const where the kernel only reads") {
  void (*vadd)(rt::Stream&, rt::Dim3, const float*, const float*, float*, int32_t) =
      &k::launch_vector_add_f32;
  void (*softmax)(rt::Stream&, rt::Dim3, const uint16_t*, uint16_t*, int32_t, int32_t, int32_t) =
      &k::launch_softmax_bf16;
  void (*gemm)(rt::Stream&, rt::Dim3, const uint16_t*, const uint16_t*, float*, int32_t, int32_t,
               int32_t, int32_t, int32_t, int32_t) = &k::launch_gemm_bf16;
  CHECK(vadd != nullptr);
  CHECK(softmax != nullptr);
  CHECK(gemm != nullptr);
}
