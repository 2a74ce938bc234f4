// Runs everywhere (CI has no GPU): loading a driver that is missing or cannot initialise must
// fail with a message that says what is wrong, never crash or exit.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"
#include "dsl/runtime/memory.h"

namespace rt = tile::rt;

TEST_CASE("a missing driver library gives a clear DriverUnavailable error") {
  try {
    rt::load_driver("libcuda-does-not-exist.so.1");
    FAIL("load_driver of a missing library succeeded");
  } catch (const rt::DriverUnavailable& e) {
    const std::string what = e.what();
    CHECK(what.find("cannot load libcuda-does-not-exist.so.1") != std::string::npos);
    CHECK(what.find("NVIDIA driver") != std::string::npos);
  }
}

TEST_CASE("the toolkit's stub driver fails at cuInit with the error's name") {
  const std::string stub = "/usr/local/cuda/lib/stubs/libcuda.so";
  if (!std::ifstream(stub).good()) {
    WARN("no CUDA toolkit stub at " << stub << "; nothing to check");
    return;
  }
  try {
    rt::load_driver(stub);
    FAIL("the stub driver initialised");
  } catch (const rt::DriverUnavailable& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("cuInit(0)") != std::string::npos);
    CHECK(what.find("CUDA_ERROR_") != std::string::npos);
  }
}

TEST_CASE("without a GPU every entry point reports the same reason, and device_count is 0") {
  std::string why;
  if (rt::driver_available(&why)) {
    WARN("a CUDA driver is present here: the no-driver path is not exercised");
    return;
  }
  INFO(why);
  CHECK(why.find("CUDA driver unavailable") != std::string::npos);
  CHECK(rt::device_count() == 0);
  CHECK_THROWS_AS(rt::driver(), rt::DriverUnavailable);
  CHECK_THROWS_AS(rt::Context::primary(0), rt::DriverUnavailable);
  CHECK_THROWS_AS(rt::DeviceBuffer(1024), rt::DriverUnavailable);
  try {
    rt::DeviceBuffer buffer(16);
  } catch (const rt::DriverUnavailable& e) {
    CHECK(std::string(e.what()) == why);
  }
}

TEST_CASE("an empty DeviceBuffer needs no driver") {
  rt::DeviceBuffer empty;
  CHECK(empty.size() == 0);
  CHECK(empty.data() == nullptr);
}
