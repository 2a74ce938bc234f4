// The library the tile_kernel rule generated from the hand-written kernels, read as data: each
// image carries a cubin for sm_90a, its PTX, the launch shape and the typed parameter list.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "tests/backend/handwritten_kernels.h"

namespace k = tile::kernels;
namespace rt = tile::rt;

TEST_CASE("every generated image holds an sm_90a cubin and its PTX") {
  REQUIRE(k::handwritten_kernels_num_kernels == 3);
  for (const rt::KernelImage* image : k::handwritten_kernels_kernels) {
    INFO(rt::describe(*image));
    REQUIRE(image->cubin_size > 4);
    CHECK(std::memcmp(image->cubin, "\x7f" "ELF", 4) == 0);
    const std::string ptx = image->ptx;
    CHECK(ptx.find(".target sm_90a") != std::string::npos);
    CHECK(ptx.find(std::string(".entry ") + image->entry + "(") != std::string::npos);
    CHECK(std::string(image->target) == "sm_90a");
    CHECK(std::strlen(image->ir_hash) == 16);
    CHECK(image->registers > 0);
    CHECK(image->spill_bytes == 0);
  }
}

TEST_CASE("launch metadata follows the kernels' attributes") {
  CHECK(k::vector_add_image.num_warps == 4);
  CHECK(k::vector_add_image.smem_bytes == 0);
  REQUIRE(k::vector_add_image.num_params == 4);
  CHECK(std::string(k::vector_add_image.params[3].name) == "n");
  CHECK(k::vector_add_image.params[3].kind == rt::ParamKind::kI32);
  CHECK(k::reverse_blocks_image.smem_bytes == 65536);
  CHECK(k::reverse_blocks_image.params[2].kind == rt::ParamKind::kF32);
  CHECK(k::mma_m16n8k16_image.num_warps == 1);
  CHECK(std::string(k::mma_m16n8k16_image.ptx).find("mma.sync.aligned.m16n8k16") !=
        std::string::npos);
}

TEST_CASE("the typed stubs have the kernels' C signatures") {
  // Compiles only if the generated declarations have exactly these types.
  void (*vadd)(rt::Stream&, rt::Dim3, const float*, const float*, float*, int32_t) =
      &k::launch_vector_add;
  void (*reverse)(rt::Stream&, rt::Dim3, const float*, float*, float) = &k::launch_reverse_blocks;
  void (*mma)(rt::Stream&, rt::Dim3, const uint16_t*, const uint16_t*, float*) =
      &k::launch_mma_m16n8k16;
  CHECK(vadd != nullptr);
  CHECK(reverse != nullptr);
  CHECK(mma != nullptr);
}
