// Parsing ptxas -v output, and ptxas failures reported as data (no MLIR, no GPU).
#include <catch2/catch.hpp>

#include "lowering/backend/ptxas.h"

namespace be = tile::backend;

TEST_CASE("ptxas -v report is parsed per entry function") {
  const std::string log =
      "ptxas info    : 0 bytes gmem\n"
      "ptxas info    : Compiling entry function 'gemm' for 'sm_90a'\n"
      "ptxas info    : Function properties for gemm\n"
      "    24 bytes stack frame, 16 bytes spill stores, 8 bytes spill loads\n"
      "ptxas info    : Used 168 registers, used 1 barriers, 1024 bytes smem, 400 bytes cmem[0]\n"
      "ptxas info    : Compile time = 12.5 ms\n"
      "ptxas info    : Compiling entry function 'small' for 'sm_90a'\n"
      "ptxas info    : Function properties for small\n"
      "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Used 8 registers, used 0 barriers, 380 bytes cmem[0]\n";
  auto usage = be::parse_ptxas_report(log);
  REQUIRE(usage.size() == 2);
  const be::ResourceUsage& gemm = usage.at("gemm");
  CHECK(gemm.registers == 168);
  CHECK(gemm.stack_frame_bytes == 24);
  CHECK(gemm.spill_store_bytes == 16);
  CHECK(gemm.spill_load_bytes == 8);
  CHECK(gemm.static_smem_bytes == 1024);
  CHECK(gemm.barriers == 1);
  const be::ResourceUsage& small = usage.at("small");
  CHECK(small.registers == 8);
  CHECK(small.static_smem_bytes == 0);
  CHECK(gemm.wgmma_serialized.empty());
}

TEST_CASE("ptxas's wgmma serialisation advisory is kept with its function") {
  const std::string log =
      "ptxas info    : Compiling entry function 'attn_fwd' for 'sm_90a'\n"
      "ptxas info    : Function properties for attn_fwd\n"
      "    0 bytes stack frame, 1612 bytes spill stores, 1612 bytes spill loads\n"
      "ptxas info    : Used 168 registers, used 16 barriers, 400 bytes cmem[0]\n"
      "ptxas info    : Compiling entry function 'other' for 'sm_90a'\n"
      "ptxas info    : Function properties for other\n"
      "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Used 40 registers, used 1 barriers, 380 bytes cmem[0]\n"
      "ptxas info    : (C7512) Potential Performance Loss: wgmma.mma_async instructions are serialized due to "
      "insufficient register resources for the function 'attn_fwd'\n";
  auto usage = be::parse_ptxas_report(log);
  CHECK(usage.at("attn_fwd").wgmma_serialized == "C7512: insufficient register resources");
  CHECK(usage.at("attn_fwd").registers == 168);
  CHECK(usage.at("other").wgmma_serialized.empty());
}

TEST_CASE("invalid PTX gives ok=false and ptxas's message, not an exception") {
  be::PtxasResult result = be::run_ptxas(".version 8.0\n.target sm_90a\nthis is not ptx\n", {});
  CHECK_FALSE(result.ok);
  CHECK(result.cubin.empty());
  CHECK_FALSE(result.log.empty());
  CHECK(result.command.find("-arch=sm_90a") != std::string::npos);
}

TEST_CASE("a missing ptxas binary is reported") {
  be::PtxasOptions options;
  options.ptxas_path = "/nonexistent/ptxas";
  be::PtxasResult result = be::run_ptxas(".version 8.0\n.target sm_90a\n", options);
  CHECK_FALSE(result.ok);
  CHECK(result.log.find("could not run /nonexistent/ptxas") != std::string::npos);
}
