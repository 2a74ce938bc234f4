// //common/cli:flags: typed values, the reader's "--flag value" / "--flag=value" handling, and
// errors that name the flag and say what was expected.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "common/cli/flag_reader.h"
#include "common/cli/flag_values.h"

using namespace tile::cli;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const FlagError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("integers: whole text, base 10, in range", "[cli]") {
  CHECK(parse_integer("--n", "42") == 42);
  CHECK(parse_integer("--n", "-7") == -7);
  CHECK(parse_integer("--n", "+3") == 3);
  CHECK(parse_integer("--n", "010") == 10);  // not octal
  CHECK(parse_integer("--n", "9223372036854775807") == std::numeric_limits<int64_t>::max());
  CHECK(parse_integer("--n", "5", IntRange::between(5, 5)) == 5);
}

TEST_CASE("a malformed or out-of-range integer names the flag and the range", "[cli]") {
  auto err = [](const std::string& text, IntRange range) {
    return error_of([&] { parse_integer("--seq_len", text, range); });
  };
  CHECK(err("4k", IntRange::any()) == "--seq_len: expected an integer, got '4k'");
  CHECK(err("", IntRange::any()) == "--seq_len: expected an integer, got ''");
  CHECK(err("1.5", IntRange::any()) == "--seq_len: expected an integer, got '1.5'");
  CHECK(err("0x10", IntRange::any()) == "--seq_len: expected an integer, got '0x10'");
  CHECK(err("64 ", IntRange::any()) == "--seq_len: expected an integer, got '64 '");
  CHECK(err("99999999999999999999", IntRange::any()) == "--seq_len: expected an integer, got '99999999999999999999'");
  CHECK(err(std::string("6\0" "4", 3), IntRange::any()).rfind("--seq_len: expected an integer", 0) == 0);
  CHECK(err("0", IntRange::at_least(1)) == "--seq_len: expected an integer >= 1, got '0'");
  CHECK(err("65", IntRange::between(1, 64)) == "--seq_len: expected an integer in [1, 64], got '65'");
  CHECK(err("9", IntRange{std::numeric_limits<int64_t>::min(), 8}) == "--seq_len: expected an integer <= 8, got '9'");
}

TEST_CASE("numbers: whole text, >= min, never NaN or out of a double's range", "[cli]") {
  CHECK(parse_number("--softcap", "0") == 0.0);
  CHECK(parse_number("--softcap", "2.5e1", 0) == 25.0);
  CHECK(parse_number("--x", "-0.25") == -0.25);
  CHECK(std::isinf(parse_number("--softcap", "inf", 0)));
  auto err = [](const std::string& text, double min) { return error_of([&] { parse_number("--softcap", text, min); }); };
  CHECK(err("-1", 0) == "--softcap: expected a number >= 0, got '-1'");
  CHECK(err("0.5", 1.5) == "--softcap: expected a number >= 1.5, got '0.5'");
  CHECK(err("abc", 0) == "--softcap: expected a number >= 0, got 'abc'");
  CHECK(err("1.5x", 0) == "--softcap: expected a number >= 0, got '1.5x'");
  CHECK(err("", 0) == "--softcap: expected a number >= 0, got ''");
  CHECK(err("nan", -std::numeric_limits<double>::infinity()) == "--softcap: expected a number, got 'nan'");
  CHECK(err("1e999", 0) == "--softcap: expected a number >= 0, got '1e999'");
}

TEST_CASE("integer lists: comma-separated, each item checked", "[cli]") {
  CHECK(parse_integer_list("--seqlens", "5,17,113", IntRange::at_least(1)) == std::vector<int64_t>{5, 17, 113});
  CHECK(parse_integer_list("--seqlens", "7") == std::vector<int64_t>{7});
  CHECK(parse_integer_list("--seqlens", "5,17,") == std::vector<int64_t>{5, 17});
  auto err = [](const std::string& text) {
    return error_of([&] { parse_integer_list("--seqlens", text, IntRange::at_least(1)); });
  };
  CHECK(err("") == "--seqlens: expected a comma-separated list, got ''");
  CHECK(err("5,,6") == "--seqlens: expected an integer >= 1, got ''");
  CHECK(err(",5") == "--seqlens: expected an integer >= 1, got ''");
  CHECK(err(",") == "--seqlens: expected an integer >= 1, got ''");
  CHECK(err("5,0") == "--seqlens: expected an integer >= 1, got '0'");
  CHECK(err("5;6") == "--seqlens: expected an integer >= 1, got '5;6'");
}

TEST_CASE("the reader: typed getters over --flag value and --flag=value", "[cli]") {
  FlagReader r({"--n", "3", "--x=0.5", "--list", "1,2", "--on", "--name", "--looks-like-a-flag", "pos"});
  REQUIRE(r.next());
  CHECK(r.name() == "--n");
  CHECK_FALSE(r.has_inline_value());
  CHECK(r.integer(IntRange::at_least(1)) == 3);
  REQUIRE(r.next());
  CHECK(r.name() == "--x");
  CHECK(r.arg() == "--x=0.5");
  CHECK(r.has_inline_value());
  CHECK(r.number(0) == 0.5);
  REQUIRE(r.next());
  CHECK(r.integer_list() == std::vector<int64_t>{1, 2});
  REQUIRE(r.next());
  CHECK(r.name() == "--on");
  CHECK(r.boolean());
  REQUIRE(r.next());
  CHECK(r.value() == "--looks-like-a-flag");  // a value is never second-guessed
  REQUIRE(r.next());
  CHECK(r.name() == "pos");
  CHECK_FALSE(r.has_double_dash());
  CHECK_FALSE(r.next());
  CHECK_FALSE(r.next());
}

TEST_CASE("the reader: a missing value names the flag", "[cli]") {
  FlagReader r({"--causal", "--iters"});
  REQUIRE(r.next());
  CHECK(r.boolean());
  REQUIRE(r.next());
  CHECK(error_of([&] { r.integer(); }) == "--iters: missing value");
  FlagReader empty_inline({"--seq_len="});
  REQUIRE(empty_inline.next());
  CHECK(empty_inline.value().empty());  // given, but empty: the tool decides what that means
}

TEST_CASE("the reader: a malformed number names the flag", "[cli]") {
  FlagReader r({"--seq_len", "four", "--softcap=x"});
  REQUIRE(r.next());
  CHECK(error_of([&] { r.integer(IntRange::between(1, 16)); }) == "--seq_len: expected an integer in [1, 16], got 'four'");
  REQUIRE(r.next());
  CHECK(error_of([&] { r.number(0); }) == "--softcap: expected a number >= 0, got 'x'");
}

TEST_CASE("the reader: booleans take no value", "[cli]") {
  FlagReader r({"--causal=1", "--fwd_only=True"});
  REQUIRE(r.next());
  CHECK(error_of([&] { r.boolean(); }) == "--causal: takes no value");
  REQUIRE(r.next());
  CHECK(error_of([&] { r.boolean("is off unless given"); }) == "--fwd_only: is off unless given");
}

TEST_CASE("the reader: '=' splits only double-dash arguments, and only when asked", "[cli]") {
  FlagReader split({"a=b", "-x=5", "--=5"});
  REQUIRE(split.next());
  CHECK(split.name() == "a=b");
  REQUIRE(split.next());
  CHECK(split.name() == "-x=5");
  REQUIRE(split.next());
  CHECK(split.name() == "--");
  CHECK(split.value() == "5");
  FlagReader whole({"--seed=5"}, /*split_equals=*/false);
  REQUIRE(whole.next());
  CHECK(whole.name() == "--seed=5");
  CHECK_FALSE(whole.has_inline_value());
}

TEST_CASE("an unknown flag is the tool's to reject, by the name the reader gives", "[cli]") {
  // The library keeps no flag table: a tool compares name() with its flags and throws FlagError
  // for the rest, so its own wording reaches the user through the same catch.
  auto parse = [](const std::vector<std::string>& args) {
    FlagReader r(args);
    int n = 0;
    while (r.next()) {
      if (r.name() == "--n") n = int(r.integer());
      else throw FlagError(r.name() + ": unknown flag");
    }
    return n;
  };
  CHECK(parse({"--n=4"}) == 4);
  CHECK(error_of([&] { parse({"--n", "4", "--bogus=1"}); }) == "--bogus: unknown flag");
}
