// What a kernel assumes of its arguments (tile.divisor / tile.positive, the DSL's
// ArgAssumption) is checked before the interpreter runs it, as the GPU runtime checks it before
// a launch: a host that passes an unaligned buffer or stride to a kernel compiled without its
// fallback gets an error here, in CI, instead of wrong results on the GPU.
#include <catch2/catch.hpp>

#include "tests/interp/kernel_text.h"

using namespace tile;
using namespace tile::interp;
using namespace tile::interp::testing;

namespace {

const char* kCopy = R"(
func.func @copy(%x: !tile.ptr<f32> {tile.divisor = 16 : i64}, %o: !tile.ptr<f32>,
                %n: i32 {tile.divisor = 4 : i64, tile.positive}) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %a = tile.load_block %x shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f32> -> tensor<8xf32>
  tile.store_block %a, %o shape [%n] strides [%c1] offsets [%c0] : tensor<8xf32>, !tile.ptr<f32>
  return
}
)";

}  // namespace

TEST_CASE("arguments that meet the kernel's assumptions run", "[assumptions]") {
  alignas(16) float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<float> o(8, -1.0f);
  runText(kCopy, {1, 1, 1}, {Arg::buffer(x, DType::f32, 12), buf(o), Arg::i32(8)});
  for (int k = 0; k < 8; ++k) REQUIRE(o[k] == x[k]);
}

TEST_CASE("an argument that breaks an assumption is refused before the run", "[assumptions]") {
  alignas(16) float x[12] = {};
  std::vector<float> o(8, -1.0f);
  // An address 4 bytes past a 16-byte boundary.
  REQUIRE_THROWS_WITH(runText(kCopy, {1, 1, 1}, {Arg::buffer(x + 1, DType::f32, 8), buf(o), Arg::i32(8)}),
                      Catch::Contains("argument #0") && Catch::Contains("aligned to 16 bytes"));
  // Not a multiple of 4; not positive.
  REQUIRE_THROWS_WITH(runText(kCopy, {1, 1, 1}, {Arg::buffer(x, DType::f32, 12), buf(o), Arg::i32(6)}),
                      Catch::Contains("argument #2") && Catch::Contains("positive multiple of 4"));
  REQUIRE_THROWS_WITH(runText(kCopy, {1, 1, 1}, {Arg::buffer(x, DType::f32, 12), buf(o), Arg::i32(0)}),
                      Catch::Contains("argument #2"));
  for (float v : o) REQUIRE(v == -1.0f);  // nothing ran
}
