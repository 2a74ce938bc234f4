// Runs the accuracy CLI in-process on the interpreter backend and captures what it prints.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "attention/interp_backend/interp_backend.h"
#include "tests/accuracy_lib/accuracy_cli.h"

namespace tile::testing {

struct CliResult {
  int exit_code;
  std::string out, err;
  std::string last_line() const {
    std::string s = out;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
  }
};

// `make` builds the backend (an InterpBackend or a subclass of it).
template <class MakeBackend>
CliResult run_cli(const std::string& flags, MakeBackend make) {
  std::vector<std::string> args;
  std::istringstream ss(flags);
  for (std::string a; ss >> a;) args.push_back(a);
  auto factory = [&](const std::string& name, uint64_t seed, int threads) {
    accuracy::BackendHandle h;
    if (name == "interp") h.backend = make(attention::InterpBackend::Options{seed, threads});
    return h;
  };
  std::ostringstream out, err;
  int rc = accuracy::run_accuracy_cli(args, factory, out, err);
  return {rc, out.str(), err.str()};
}

inline CliResult run_cli(const std::string& flags) {
  return run_cli(flags, [](attention::InterpBackend::Options o) {
    return std::unique_ptr<attention::Backend>(new attention::InterpBackend(o));
  });
}

}  // namespace tile::testing
