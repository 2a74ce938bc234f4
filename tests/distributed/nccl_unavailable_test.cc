// Without a GPU or libnccl the NCCL transport fails with a message that says which; binaries
// linking it still start (libnccl and libcuda are loaded with dlopen).
#include <catch2/catch.hpp>

#include <string>

#include "distributed/nccl_library.h"
#include "distributed/nccl_transport.h"
#include "dsl/runtime/cuda_driver.h"

using namespace tile::dist;

TEST_CASE("NcclTransport without a GPU or libnccl reports which is missing") {
  NcclTransportConfig c;
  c.unique_id_file = "/tmp/unused_nccl_id";
  std::string message;
  try {
    NcclTransport t(c);
    return;  // a machine with a GPU and NCCL: nothing to check here
  } catch (const std::exception& e) {
    message = e.what();
  }
  std::string why_driver, why_nccl;
  const bool driver = tile::rt::driver_available(&why_driver);
  const bool lib = nccl_available(&why_nccl);
  INFO(message);
  if (!driver) CHECK(message == why_driver);  // the GPU is checked first
  else if (!lib) CHECK(message.find("libnccl.so.2") != std::string::npos);
}

TEST_CASE("nccl_available explains a missing library") {
  std::string why;
  if (!nccl_available(&why)) CHECK(why.find("libnccl.so.2") != std::string::npos);
}

TEST_CASE("bad configurations are rejected before touching the GPU") {
  NcclTransportConfig c;
  c.rank = 3;
  c.world_size = 2;
  c.unique_id_file = "/tmp/x";
  CHECK_THROWS_WITH(NcclTransport(c), Catch::Contains("rank 3"));
  c.rank = 0;
  c.unique_id_file.clear();
  CHECK_THROWS_WITH(NcclTransport(c), Catch::Contains("unique_id_file"));
}
