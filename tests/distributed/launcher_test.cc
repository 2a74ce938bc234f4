// The one-node launcher: rank environment, exit codes, stopping ranks, and the id file.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "distributed/launcher.h"
#include "distributed/nccl_unique_id_file.h"

using namespace tile::dist;

TEST_CASE("every rank gets its environment and the launch succeeds when all ranks do") {
  const int code = launch_processes(3, [](const RankEnv& env) {
    const char* rank = std::getenv("TILE_RANK");
    const char* world = std::getenv("TILE_WORLD_SIZE");
    const char* file = std::getenv("TILE_NCCL_ID_FILE");
    if (!rank || std::stoi(rank) != env.rank || !world || std::stoi(world) != 3 || !file) return 10;
    if (env.nccl_id_file != file || env.local_rank != env.rank) return 11;
    return 0;
  });
  CHECK(code == 0);
}

TEST_CASE("the first failing rank's exit code is propagated and the others are stopped") {
  const auto start = std::chrono::steady_clock::now();
  const int code = launch_processes(3, [](const RankEnv& env) {
    if (env.rank == 1) return 7;
    sleep(30);  // would hang without the launcher stopping it
    return 0;
  });
  CHECK(code == 7);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  CHECK(launch_processes(2, [](const RankEnv& env) -> int { throw std::runtime_error("boom"); }) == 1);
}

TEST_CASE("a launch past its timeout is stopped with exit code 124") {
  LaunchOptions o;
  o.timeout = std::chrono::seconds(1);
  CHECK(launch_processes(1, [](const RankEnv&) { sleep(30); return 0; }, o) == 124);
}

TEST_CASE("the unique id file is published atomically and read back") {
  char dir[] = "/tmp/tile_id_test.XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/id";
  std::vector<char> id(128);
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<char>(i * 7);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    publish_bytes(path, id);
  });
  CHECK(wait_for_bytes(path, 128, std::chrono::seconds(10)) == id);
  writer.join();
  CHECK_THROWS_WITH(wait_for_bytes(std::string(dir) + "/missing", 128, std::chrono::milliseconds(50)),
                    Catch::Contains("missing"));
  std::remove(path.c_str());
  rmdir(dir);
}
