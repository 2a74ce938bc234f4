// The distributed flags of //bench:flash_attn (--nproc_per_node, --mode): defaults, values, and
// the errors that name the flag before anything runs.
#include <catch2/catch.hpp>

#include "bench/bench_flags.h"
#include "tests/bench/bench_flags_testing.h"

using namespace tile::bench;

using testing::check_error;
using testing::parse;

TEST_CASE("single GPU unless --nproc_per_node is given", "[bench][dist]") {
  ParseResult r = parse("");
  REQUIRE(r.ok);
  CHECK(r.flags.nproc_per_node == 0);
  CHECK(r.flags.mode.empty());
}

TEST_CASE("--nproc_per_node alone: each rank runs the whole case", "[bench][dist]") {
  ParseResult r = parse("--nproc_per_node 8 --seq_len 4095");  // no sharding, so any seq_len
  REQUIRE(r.ok);
  CHECK(r.flags.nproc_per_node == 8);
  CHECK(r.flags.mode.empty());
}

TEST_CASE("--mode ring and zigzag", "[bench][dist]") {
  ParseResult r = parse("--nproc_per_node 4 --mode zigzag --seq_len 4096 --causal --profile");
  REQUIRE(r.ok);
  CHECK(r.flags.mode == "zigzag");
  CHECK(r.flags.profile);
  r = parse("--nproc_per_node=3 --mode=ring --seq_len 3816 --func flash_attn_func --nheads 8 --nheads_k 2");
  REQUIRE(r.ok);
  CHECK(r.flags.nproc_per_node == 3);
  CHECK(r.flags.mode == "ring");
}

TEST_CASE("distributed flag errors name the flag", "[bench][dist]") {
  check_error("--nproc_per_node 0", "--nproc_per_node");
  check_error("--nproc_per_node two", "--nproc_per_node");
  check_error("--nproc_per_node 2 --mode star", "--mode");
  check_error("--mode ring", "--mode");  // needs --nproc_per_node
  check_error("--nproc_per_node 2 --sweep seed", "--sweep");
  check_error("--nproc_per_node 2 --mode ring --func flash_attn_varlen_qkvpacked_func", "--func");
  // ring: seq_len % N; zigzag: seq_len % 2N.
  check_error("--nproc_per_node 3 --mode ring --seq_len 4096", "--seq_len");
  check_error("--nproc_per_node 5 --mode zigzag --seq_len 3816", "--seq_len");
  CHECK(parse("--nproc_per_node 4 --mode ring --seq_len 3816").ok);
  CHECK(parse("--nproc_per_node 3 --mode zigzag --seq_len 3816").ok);
}

TEST_CASE("--help describes the distributed mode", "[bench][dist]") {
  const std::string u = usage_text();
  CHECK(u.find("--nproc_per_node N") != std::string::npos);
  CHECK(u.find("--mode ring|zigzag") != std::string::npos);
  CHECK(u.find("ratio") != std::string::npos);
}

TEST_CASE("--virtual_ranks: threads on one GPU, with a --mode", "[bench][dist]") {
  ParseResult r = parse("--virtual_ranks 4 --mode zigzag --seq_len 4096 --causal --profile");
  REQUIRE(r.ok);
  CHECK(r.flags.virtual_ranks == 4);
  CHECK(r.flags.world() == 4);
  CHECK(sequence_layout(r.flags).ring_degree == 4);
  r = parse("--virtual_ranks 4 --mode usp --ulysses_degree 2 --seq_len 4096");
  REQUIRE(r.ok);
  CHECK(sequence_layout(r.flags).ulysses_degree == 2);
  CHECK(sequence_layout(r.flags).ring_degree == 2);
  check_error("--virtual_ranks 2", "--virtual_ranks");  // each rank alone on a shared GPU: no
  check_error("--virtual_ranks 2 --nproc_per_node 2 --mode ring", "--virtual_ranks");
  check_error("--virtual_ranks 0 --mode ring", "--virtual_ranks");
  check_error("--virtual_ranks 3 --mode ring --seq_len 4096", "--seq_len");
  check_error("--virtual_ranks 2 --mode ring --variant alibi", "--variant");
  CHECK(usage_text().find("--virtual_ranks N") != std::string::npos);
}
