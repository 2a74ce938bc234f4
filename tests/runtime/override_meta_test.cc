// The override's metadata check (dsl/runtime/override_meta.h): what lets a cubin stand in for
// a built-in image, and the message when it cannot.
#include <catch2/catch.hpp>

#include "dsl/runtime/override_meta.h"

using tile::rt::KernelImage;
using tile::rt::override_mismatch;
using tile::rt::override_smem_bytes;

namespace {
KernelImage image(int smem, int templates, int warps) {
  KernelImage k{};
  k.name = "attn_fwd__x";
  k.smem_bytes = smem;
  k.num_tma_templates = templates;
  k.num_warps = warps;
  return k;
}
}  // namespace

TEST_CASE("an override that fits the image's launch is accepted", "[runtime][override]") {
  REQUIRE(override_mismatch(image(164864, 2, 12), "smem_bytes 164864\ntma_templates 2\nnum_warps 12\n") == "");
  // Less shared memory than the image launches with: the block simply gets more.
  REQUIRE(override_mismatch(image(165888, 2, 12), "smem_bytes 164864\ntma_templates 2\n") == "");
  // Unknown keys are informational.
  REQUIRE(override_mismatch(image(1024, 0, 4), "ir_hash 17\nsmem_bytes 1024\n") == "");
}

TEST_CASE("an override that needs more shared memory launches with its own amount", "[runtime][override]") {
  const std::string meta = "smem_bytes 165888\ntma_templates 2\n";
  REQUIRE(override_mismatch(image(164864, 2, 12), meta) == "");
  REQUIRE(override_smem_bytes(image(164864, 2, 12), meta) == 165888);
  // Less than the image's: the image's amount.
  REQUIRE(override_smem_bytes(image(200000, 2, 12), meta) == 200000);
}

TEST_CASE("an override that cannot launch as the image does is refused, naming why", "[runtime][override]") {
  std::string why = override_mismatch(image(164864, 2, 12), "smem_bytes 240000\ntma_templates 2\n");
  REQUIRE(why.find("240000 B") != std::string::npos);
  REQUIRE(why.find("232448 B") != std::string::npos);
  why = override_mismatch(image(165888, 2, 12), "smem_bytes 165888\ntma_templates 6\n");
  REQUIRE(why.find("6 TMA templates") != std::string::npos);
  why = override_mismatch(image(165888, 2, 12), "smem_bytes 165888\nnum_warps 8\n");
  REQUIRE(why.find("8 warps") != std::string::npos);
  REQUIRE(override_mismatch(image(1024, 0, 4), "tma_templates 0\n").find("smem_bytes") != std::string::npos);
  REQUIRE(override_mismatch(image(1024, 0, 4), "smem_bytes lots\n").find("unreadable line") != std::string::npos);
}
