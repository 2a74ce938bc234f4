// Catch2 expectations over the accuracy CLI on the interpreter, shared by the interpreter suites:
// a case passes the accuracy rule, or a command line is a usage error naming its flag.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "tests/attention/cli_runner.h"

namespace tile::testing {

// Forward + backward under the accuracy rule: exit 0, the seed's diff lines, PASS last.
inline void expect_pass(const std::string& flags) {
  auto r = run_cli(flags + " --backend interp --threads 2");
  INFO(flags << "\n" << r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.last_line() == "PASS");
  CHECK(r.out.find("Output max diff: ") != std::string::npos);
  CHECK(r.out.find("dV mean diff: ") != std::string::npos);
}

// Bad flags: exit 2 with an error naming `named`, nothing run.
inline void expect_usage_error(const std::string& flags, const std::string& named) {
  auto r = run_cli(flags);
  INFO(flags << "\n" << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(named) != std::string::npos);
  CHECK(r.out.empty());
}

}  // namespace tile::testing
