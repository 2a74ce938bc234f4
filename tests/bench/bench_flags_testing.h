// Helpers of the //bench:flash_attn flag tests: parse a command line written as one string, and
// check that an error names its flag first.
#pragma once

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_flags.h"

namespace tile::bench::testing {

inline ParseResult parse(const std::string& line) {
  std::vector<std::string> args;
  std::istringstream ss(line);
  for (std::string a; ss >> a;) args.push_back(a);
  return parse_bench_flags(args);
}

// The error must start with the flag it is about.
inline void check_error(const std::string& line, const std::string& flag) {
  INFO(line);
  ParseResult r = parse(line);
  CHECK_FALSE(r.ok);
  CHECK(r.error.rfind(flag + ":", 0) == 0);
}

}  // namespace tile::bench::testing
