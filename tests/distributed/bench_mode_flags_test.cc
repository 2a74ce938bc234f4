// //bench:flash_attn's sequence-parallel --mode values (stripe, ulysses, usp) and
// --ulysses_degree: the layouts they give and the errors naming the flag before anything runs.
// (The ring/zigzag flags are tested in tests/bench/dist_flags_test.cc.) Also the launch by
// torchrun / srun: the environment's world size in place of --nproc_per_node.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_flags.h"
#include "tests/bench/bench_flags_testing.h"

using namespace tile;
using namespace tile::bench;
using tile::bench::testing::check_error;
using tile::bench::testing::parse;

TEST_CASE("bench --mode stripe, ulysses and usp give their sequence layouts") {
  ParseResult r = parse("--nproc_per_node 8 --mode usp --ulysses_degree 2 --seq_len 65536 --nheads 32");
  REQUIRE(r.ok);
  dist::SequenceLayout l = sequence_layout(r.flags);
  CHECK(l.ulysses_degree == 2);
  CHECK(l.ring_degree == 4);
  CHECK(l.ring_split == dist::RingMode::zigzag);
  r = parse("--nproc_per_node 4 --mode ulysses --seq_len 8192 --nheads 8 --nheads_k 2 --func flash_attn_func");
  REQUIRE(r.ok);
  l = sequence_layout(r.flags);
  CHECK(l.ulysses_degree == 4);
  CHECK(l.ring_degree == 1);
  r = parse("--nproc_per_node 4 --mode stripe --seq_len 8192");
  REQUIRE(r.ok);
  l = sequence_layout(r.flags);
  CHECK(l.ring_split == dist::RingMode::stripe);
  CHECK(l.ulysses_degree == 1);
  CHECK(l.ring_degree == 4);
}

TEST_CASE("bench: bad sequence-parallel splits name the flag") {
  check_error("--nproc_per_node 4 --mode ulysses --nheads 6 --seq_len 4096", "--nheads");
  check_error("--nproc_per_node 4 --mode ulysses --nheads 8 --nheads_k 3 --func flash_attn_func --seq_len 4096",
              "--nheads_k");
  check_error("--nproc_per_node 4 --mode usp --nheads 8 --seq_len 4096", "--ulysses_degree");
  check_error("--nproc_per_node 4 --mode usp --ulysses_degree 3 --nheads 6 --seq_len 4096", "--ulysses_degree");
  check_error("--nproc_per_node 4 --mode ulysses --ulysses_degree 2 --nheads 8", "--ulysses_degree");
  check_error("--nproc_per_node 4 --mode zigzag --ulysses_degree 2", "--ulysses_degree");
  check_error("--ulysses_degree 2", "--ulysses_degree");
  check_error("--nproc_per_node 3 --mode stripe --seq_len 4096", "--seq_len");
  check_error("--nproc_per_node 6 --mode usp --ulysses_degree 3 --nheads 6 --seq_len 20", "--seq_len");
  check_error("--nproc_per_node 2 --mode ulysses2", "--mode");
}

TEST_CASE("bench under torchrun / srun: the launch's world replaces --nproc_per_node") {
  dist::LaunchEnv env;
  env.rank = 2;
  env.world_size = 8;
  env.local_rank = 2;
  env.master_addr = "127.0.0.1";
  env.master_port = 29500;
  auto parse_launched = [&](const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> args;
    for (std::string a; in >> a;) args.push_back(a);
    return parse_bench_flags(args, &env);
  };
  ParseResult r = parse_launched("--mode usp --ulysses_degree 4 --seq_len 65536 --nheads 32 --causal");
  REQUIRE(r.ok);
  CHECK(r.flags.launched_world == 8);
  CHECK(r.flags.world() == 8);
  CHECK(sequence_layout(r.flags).ring_degree == 2);
  r = parse_launched("--seq_len 4096");  // no --mode: every rank times the whole case
  REQUIRE(r.ok);
  CHECK(r.flags.world() == 8);
  r = parse_launched("--mode ulysses --nheads 12 --seq_len 4096");
  CHECK_FALSE(r.ok);
  CHECK(r.error.rfind("--nheads", 0) == 0);
  r = parse_launched("--sweep seed");
  CHECK_FALSE(r.ok);
  CHECK(r.error.rfind("--sweep", 0) == 0);
  // --nproc_per_node given: the built-in launcher wins over the environment.
  r = parse_launched("--nproc_per_node 2 --mode ring --seq_len 4096");
  REQUIRE(r.ok);
  CHECK(r.flags.launched_world == 0);
  CHECK(r.flags.world() == 2);
}

TEST_CASE("flash_attn under a torchrun environment: bad splits and bad variables exit 2") {
  auto run = [](const std::string& cmd) {
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    return std::make_pair(WEXITSTATUS(pclose(p)), out);
  };
  auto r = run("RANK=0 WORLD_SIZE=4 MASTER_ADDR=127.0.0.1 MASTER_PORT=29513 bench/flash_attn --mode ulysses --nheads 6");
  INFO(r.second);
  CHECK(r.first == 2);
  CHECK(r.second.find("flash_attn: error: --nheads") == 0);
  r = run("RANK=0 WORLD_SIZE=4 MASTER_ADDR=127.0.0.1 MASTER_PORT=none bench/flash_attn --mode ulysses --nheads 8");
  CHECK(r.first == 2);
  CHECK(r.second.find("MASTER_PORT") != std::string::npos);
}
