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

TEST_CASE("an override at another block shape brings its own TMA boxes", "[runtime][override]") {
  using tile::rt::override_tma_templates;
  using tile::rt::TmaTemplate;
  const TmaTemplate image_boxes[] = {{0, 64, 32}, {0, 64, 32}};
  KernelImage k = image(132096, 2, 8);
  k.tma_templates = image_boxes;
  // Without tma_template lines: the image's boxes.
  std::vector<TmaTemplate> got = override_tma_templates(k, "smem_bytes 132096\ntma_templates 2\n");
  REQUIRE(got.size() == 2);
  REQUIRE(got[1].box_rows == 32);
  // With them: the override's (64 key rows a stage where the image loads 32).
  const std::string meta = "smem_bytes 198656\ntma_templates 2\ntma_template 0 64 64\ntma_template 0 64 64\n";
  REQUIRE(override_mismatch(k, meta) == "");
  got = override_tma_templates(k, meta);
  REQUIRE(got.size() == 2);
  REQUIRE(got[0].box_rows == 64);
  REQUIRE(got[1].box_rows == 64);
  REQUIRE(got[1].box_cols == 64);
}

TEST_CASE("an override's TMA boxes must fit the tensors the image is called with", "[runtime][override]") {
  const tile::rt::TmaTemplate image_boxes[] = {{0, 64, 32}, {0, 64, 32}};
  KernelImage k = image(132096, 2, 8);
  k.tma_templates = image_boxes;
  const std::string head = "smem_bytes 132096\ntma_templates 2\n";
  std::string why = override_mismatch(k, head + "tma_template 0 64 64\n");
  REQUIRE(why.find("1 tma_template lines") != std::string::npos);
  why = override_mismatch(k, head + "tma_template 0 64 64\ntma_template 1 64 64\n");
  REQUIRE(why.find("tma_template 1 has element type 1") != std::string::npos);
  why = override_mismatch(k, head + "tma_template 0 64 64\ntma_template 0 32 64\n");
  REQUIRE(why.find("32 columns wide") != std::string::npos);
  why = override_mismatch(k, head + "tma_template 0 64 512\ntma_template 0 64 64\n");
  REQUIRE(why.find("512 rows") != std::string::npos);
  why = override_mismatch(k, head + "tma_template 0 64\n");
  REQUIRE(why.find("unreadable line 'tma_template 0 64'") != std::string::npos);
}
