// The launch's check of what a compiled kernel assumes of its arguments
// (rt::check_param_assumptions, run by launch_kernel before anything is launched).
#include <catch2/catch.hpp>

#include <cstdint>

#include "dsl/runtime/kernel_image.h"

using tile::rt::check_param_assumptions;
using tile::rt::KernelImage;
using tile::rt::KernelParam;
using tile::rt::ParamKind;

namespace {

const KernelParam kParams[] = {
    {"q", ParamKind::kPointer, {16, false}},
    {"q_row_stride", ParamKind::kI32, {8, true}},
    {"scale", ParamKind::kF32},
    {"n", ParamKind::kI32},
};

KernelImage image() {
  KernelImage k{};
  k.name = "attn_fwd__x";
  k.params = kParams;
  k.num_params = 4;
  return k;
}

}  // namespace

TEST_CASE("arguments that meet the assumptions pass", "[runtime][assumptions]") {
  uint64_t q = 0x7f0000001000;
  int32_t stride = 2048, n = 7;
  float scale = 0.5f;
  void* args[] = {&q, &stride, &scale, &n};
  REQUIRE_NOTHROW(check_param_assumptions(image(), args));
}

TEST_CASE("an argument that breaks an assumption is refused, naming it", "[runtime][assumptions]") {
  uint64_t q = 0x7f0000001008;
  int32_t stride = 2048, n = 7;
  float scale = 0.5f;
  void* args[] = {&q, &stride, &scale, &n};
  REQUIRE_THROWS_WITH(check_param_assumptions(image(), args),
                      Catch::Contains("attn_fwd__x") && Catch::Contains("'q'") && Catch::Contains("aligned to 16 bytes"));
  q = 0x7f0000001000;
  stride = 2052;
  REQUIRE_THROWS_WITH(check_param_assumptions(image(), args),
                      Catch::Contains("'q_row_stride'") && Catch::Contains("positive and a multiple of 8"));
  stride = 0;
  REQUIRE_THROWS_WITH(check_param_assumptions(image(), args), Catch::Contains("'q_row_stride'"));
}
