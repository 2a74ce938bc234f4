// Argument packing and checking against a kernel's declared parameters (no GPU needed).
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "dsl/runtime/arg_pack.h"

namespace rt = tile::rt;

namespace {
const rt::KernelParam kParams[] = {
    {"a", rt::ParamKind::kPointer},
    {"n", rt::ParamKind::kI32},
    {"scale", rt::ParamKind::kF32},
    {"stride", rt::ParamKind::kI64},
};
const rt::KernelImage kImage = {
    "scale_rows", "scale_rows", nullptr, 0, nullptr, 4, 0, kParams, 4, "0", "sm_90a", 0, 0,
};

std::string error_of(const rt::ArgPack& pack) {
  try {
    pack.check_against(kImage);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("ArgPack keeps each value at the address it hands to the launch") {
  float host[4];
  rt::ArgPack pack;
  pack.pointer(host).i32(-7).f32(0.125f).i64(int64_t{1} << 40);
  REQUIRE(pack.size() == 4);
  void** ptrs = pack.pointers();

  const void* p = nullptr;
  std::memcpy(&p, ptrs[0], sizeof(p));
  CHECK(p == host);
  int32_t n = 0;
  std::memcpy(&n, ptrs[1], sizeof(n));
  CHECK(n == -7);
  float scale = 0;
  std::memcpy(&scale, ptrs[2], sizeof(scale));
  CHECK(scale == 0.125f);
  int64_t stride = 0;
  std::memcpy(&stride, ptrs[3], sizeof(stride));
  CHECK(stride == (int64_t{1} << 40));
  // cuLaunchKernel reads each parameter at its natural alignment.
  for (int i = 0; i < 4; ++i) CHECK(reinterpret_cast<uintptr_t>(ptrs[i]) % 8 == 0);
}

TEST_CASE("a matching pack passes the check") {
  rt::ArgPack pack;
  pack.pointer(nullptr).i32(1).f32(1.0f).i64(1);
  CHECK(error_of(pack).empty());
}

TEST_CASE("a wrong argument count names the kernel and lists its parameters") {
  rt::ArgPack pack;
  pack.pointer(nullptr).i32(1);
  const std::string what = error_of(pack);
  CHECK(what.find("scale_rows") != std::string::npos);
  CHECK(what.find("2 arguments given, expected 4") != std::string::npos);
  CHECK(what.find("pointer a, i32 n, f32 scale, i64 stride") != std::string::npos);
}

TEST_CASE("a wrong argument kind names the position, parameter and both kinds") {
  rt::ArgPack pack;
  pack.pointer(nullptr).f32(1.0f).f32(1.0f).i64(1);
  const std::string what = error_of(pack);
  CHECK(what.find("argument 1 (n) expected i32, got f32") != std::string::npos);
}

TEST_CASE("describe() summarises an image") {
  const std::string text = rt::describe(kImage);
  CHECK(text.find("scale_rows") != std::string::npos);
  CHECK(text.find("4 warps") != std::string::npos);
  CHECK(text.find("f32 scale") != std::string::npos);
}
