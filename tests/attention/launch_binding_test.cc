// Launch arguments are bound by name to the kernel's own signature (backend.h, bind_arguments):
// the host's order does not matter, and a missing, unknown or repeated name is an error naming it.
#include <catch2/catch.hpp>

#include <algorithm>

#include "attention/host/backend.h"
#include "attention/interp_backend/interp_backend.h"
#include "tests/attention/cli_runner.h"

using namespace tile;
using namespace tile::attention;

namespace {

KernelCall call_with(std::vector<LaunchArg> args) {
  KernelCall c;
  c.kernel = "k";
  c.args = std::move(args);
  return c;
}

std::string error_of(const KernelCall& c, const std::vector<std::string>& declared) {
  try {
    bind_arguments(c, declared);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// Hands every call to the interpreter with its arguments in reverse order.
class ReversingBackend : public InterpBackend {
 public:
  using InterpBackend::InterpBackend;
  void launch(const KernelCall& call) override {
    KernelCall c = call;
    std::reverse(c.args.begin(), c.args.end());
    InterpBackend::launch(c);
  }
};

}  // namespace

TEST_CASE("named arguments are put in declaration order", "[api][binding]") {
  KernelCall c = call_with({LaunchArg::i32(2).named("b"), LaunchArg::f32(1.5f).named("a")});
  std::vector<LaunchArg> bound = bind_arguments(c, {"a", "b"});
  REQUIRE(bound.size() == 2);
  CHECK(bound[0].f == 1.5f);
  CHECK(bound[1].i == 2);
  // Unnamed arguments are positional.
  CHECK(bind_arguments(call_with({LaunchArg::i32(7), LaunchArg::i32(8)}), {"a", "b"})[1].i == 8);
}

TEST_CASE("missing, unknown, repeated or partly named arguments are errors naming them", "[api][binding]") {
  CHECK(error_of(call_with({LaunchArg::i32(1).named("a")}), {"a", "b"}).find("expected argument 'b'") != std::string::npos);
  CHECK(error_of(call_with({LaunchArg::i32(1).named("a"), LaunchArg::i32(1).named("z")}), {"a"}).find("'z'") !=
        std::string::npos);
  CHECK(error_of(call_with({LaunchArg::i32(1).named("a"), LaunchArg::i32(1).named("a")}), {"a"}).find("twice") !=
        std::string::npos);
  CHECK(error_of(call_with({LaunchArg::i32(1).named("a"), LaunchArg::i32(1)}), {"a", "b"}).find("every launch argument named") !=
        std::string::npos);
  CHECK(error_of(call_with({LaunchArg::i32(1)}), {"a", "b"}).find("expected 2 arguments") != std::string::npos);
}

TEST_CASE("the attention kernels run with their arguments in any order", "[api][binding]") {
  for (const char* flags : {"--func flash_attn_func --batch_size 1 --seq_len 40 --seq_len_k 70 --nheads 4 --nheads_k 2 "
                            "--head_size 64 --causal --alibi --dtype bf16 --seed 5",
                            "--func flash_attn_varlen_func --seqlens 9,30 --seqlens_k 20,3 --nheads 2 --head_size 80 "
                            "--softcap 4 --dtype fp16 --seed 6 --deterministic"}) {
    auto r = testing::run_cli(std::string(flags) + " --backend interp --threads 2", [](InterpBackend::Options o) {
      return std::unique_ptr<Backend>(new ReversingBackend(o));
    });
    INFO(flags << "\n" << r.out << r.err);
    CHECK(r.last_line() == "PASS");
  }
}
