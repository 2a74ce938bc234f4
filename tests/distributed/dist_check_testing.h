// Helpers of the tests that drive the distributed check: its flags from one command-line string,
// and the last line it printed (PASS or FAIL).
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "distributed/check/dist_check_flags.h"

namespace tile::dist::testing {

inline DistCheckConfig parse(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> args;
  for (std::string a; in >> a;) args.push_back(a);
  return parse_dist_check_flags(args);
}

inline std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

}  // namespace tile::dist::testing
