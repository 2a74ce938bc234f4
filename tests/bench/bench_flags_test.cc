// Flag parsing of //bench:flash_attn: defaults, every flag, and errors that name the flag.
#include <catch2/catch.hpp>

#include "bench/bench_case.h"
#include "bench/bench_flags.h"
#include "tests/bench/bench_flags_testing.h"

using namespace tile::bench;

using testing::check_error;
using testing::parse;

TEST_CASE("defaults: the seed's case, booleans off", "[bench][flags]") {
  ParseResult r = parse("");
  REQUIRE(r.ok);
  const BenchFlags& f = r.flags;
  CHECK(f.batch_size == 2);
  CHECK(f.seq_len == 4096);
  CHECK(f.nheads == 16);
  CHECK(f.nheads_k == 16);
  CHECK(f.head_size == 128);
  CHECK_FALSE(f.fwd_only);
  CHECK_FALSE(f.causal);
  CHECK_FALSE(f.deterministic);
  CHECK_FALSE(f.profile);
  CHECK(f.dtype == ElemType::bf16);
  CHECK(f.func == AttnFunc::qkvpacked);
  CHECK(f.sweep.empty());
  CHECK(f.json_path.empty());
}

TEST_CASE("every flag is read", "[bench][flags]") {
  ParseResult r = parse(
      "--batch_size 3 --seq_len 1000 --nheads 8 --nheads_k 2 --head_size 64 --fwd_only --causal --deterministic --profile "
      "--dtype fp16 --func flash_attn_func --warmup 0 --iters 7 --json /tmp/r.json --out_dir /tmp/o");
  REQUIRE(r.ok);
  const BenchFlags& f = r.flags;
  CHECK(f.batch_size == 3);
  CHECK(f.seq_len == 1000);
  CHECK(f.nheads == 8);
  CHECK(f.nheads_k == 2);
  CHECK(f.head_size == 64);
  CHECK(f.fwd_only);
  CHECK(f.causal);
  CHECK(f.deterministic);
  CHECK(f.profile);
  CHECK(f.dtype == ElemType::fp16);
  CHECK(f.func == AttnFunc::func);
  CHECK(f.warmup == 0);
  CHECK(f.iters == 7);
  CHECK(f.json_path == "/tmp/r.json");
  CHECK(f.out_dir == "/tmp/o");
}

TEST_CASE("--flag=value and the function names", "[bench][flags]") {
  ParseResult r = parse("--seq_len=512 --func=flash_attn_varlen_qkvpacked_func");
  REQUIRE(r.ok);
  CHECK(r.flags.seq_len == 512);
  CHECK(r.flags.func == AttnFunc::varlen_qkvpacked);
  CHECK(std::string(func_name(AttnFunc::qkvpacked)) == "flash_attn_qkvpacked_func");
  CHECK(parse("--func flash_attn_qkvpacked_func").flags.func == AttnFunc::qkvpacked);
}

TEST_CASE("bad flags are errors naming the flag", "[bench][flags]") {
  check_error("--seq_lne 4096", "--seq_lne");
  check_error("--seq_len", "--seq_len");
  check_error("--seq_len 0", "--seq_len");
  check_error("--seq_len -5", "--seq_len");
  check_error("--seq_len 4k", "--seq_len");
  check_error("--seq_len 99999999999999999999", "--seq_len");
  check_error("--batch_size x", "--batch_size");
  check_error("--nheads 1.5", "--nheads");
  check_error("--head_size 0", "--head_size");
  check_error("--iters 0", "--iters");
  check_error("--warmup -1", "--warmup");
  check_error("--dtype fp32", "--dtype");
  check_error("--dtype", "--dtype");
  check_error("--func flash_attn_kvpacked", "--func");
  check_error("--sweep all", "--sweep");
  check_error("--json", "--json");
  check_error("--causal=1", "--causal");
  check_error("--seq_len 128 --seq_len 256", "--seq_len");
  check_error("4096", "4096");
}

TEST_CASE("head counts: packed functions need nheads_k == nheads, GQA needs a divisor", "[bench][flags]") {
  check_error("--nheads_k 4", "--nheads_k");
  check_error("--func flash_attn_varlen_qkvpacked_func --nheads 8 --nheads_k 2", "--nheads_k");
  check_error("--func flash_attn_func --nheads 8 --nheads_k 3", "--nheads_k");
  CHECK(parse("--func flash_attn_func --nheads 8 --nheads_k 1").ok);
  CHECK(parse("--nheads 8 --nheads_k 8").ok);
}

TEST_CASE("--sweep seed fixes the shapes; --fwd_only keeps the forward rows", "[bench][flags]") {
  check_error("--sweep seed --seq_len 1024", "--seq_len");
  check_error("--sweep seed --causal", "--causal");
  check_error("--sweep seed --dtype fp16", "--dtype");
  check_error("--sweep seed --head_size 64", "--head_size");
  ParseResult r = parse("--sweep seed --iters 3 --profile");
  REQUIRE(r.ok);
  std::vector<BenchCase> cases = cases_from_flags(r.flags);
  REQUIRE(cases.size() == 18);
  CHECK(cases_from_flags(parse("--sweep seed --fwd_only").flags).size() == 9);
  const int shapes[9][2] = {{2, 4096}, {8, 4096}, {16, 4096}, {64, 4096}, {128, 4096},
                            {2, 8192}, {2, 16384}, {2, 32768}, {2, 65536}};
  for (size_t i = 0; i < cases.size(); ++i) {
    const BenchCase& c = cases[i];
    CHECK(c.batch_size == shapes[i % 9][0]);
    CHECK(c.seq_len == shapes[i % 9][1]);
    CHECK(c.fwd_only == (i < 9));
    CHECK(c.causal);
    CHECK(c.dtype == ElemType::bf16);
    CHECK(c.nheads == 16);
    CHECK(c.nheads_k == 16);
    CHECK(c.head_size == 128);
  }
}

TEST_CASE("a single case comes from the flags", "[bench][flags]") {
  std::vector<BenchCase> cases = cases_from_flags(parse("--batch_size 4 --seq_len 256 --causal --fwd_only").flags);
  REQUIRE(cases.size() == 1);
  CHECK(cases[0].batch_size == 4);
  CHECK(cases[0].seq_len == 256);
  CHECK(cases[0].causal);
  CHECK(cases[0].fwd_only);
  CHECK(cases[0].describe() == "bs 4 seq 256 heads 16 d 128 bf16 causal fwd_only True");
}

TEST_CASE("--help documents every flag and the TFLOPS formula", "[bench][flags]") {
  ParseResult r = parse("--help");
  REQUIRE(r.ok);
  CHECK(r.flags.help);
  const std::string u = usage_text();
  for (const char* flag : {"--batch_size", "--seq_len", "--nheads", "--nheads_k", "--head_size", "--dtype", "--func",
                           "--causal", "--fwd_only", "--warmup", "--iters", "--profile", "--sweep seed", "--json",
                           "--out_dir", "--help"})
    CHECK(u.find(flag) != std::string::npos);
  CHECK(u.find("4*B*S^2*H*D") != std::string::npos);
  CHECK(u.find("x0.5 when causal") != std::string::npos);
  CHECK(u.find("x3.5 for forward+backward") != std::string::npos);
}
