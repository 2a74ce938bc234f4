#include "tests/gpu/gpu_case.h"

#include <iostream>
#include <memory>
#include <sstream>

#include "attention/gpu/gpu_backend.h"
#include "tests/accuracy_lib/accuracy_cli.h"

namespace tile::gpu_tests {

std::string join(const std::vector<std::string>& flags) {
  std::string s;
  for (const std::string& f : flags) s += (s.empty() ? "" : " ") + f;
  return s;
}

CaseResult run_gpu_case(const std::vector<std::string>& flags) {
  static int case_number = 0;
  std::vector<std::string> args = flags;
  args.insert(args.end(), {"--backend", "gpu"});
  auto factory = [](const std::string& name, uint64_t, int) {
    accuracy::BackendHandle h;
    if (name == "gpu") h.backend = std::make_unique<attention::GpuBackend>(0);
    return h;
  };
  std::ostringstream out, err;
  CaseResult r;
  r.exit_code = accuracy::run_accuracy_cli(args, factory, out, err);
  r.output = out.str() + err.str();
  const std::string key = "Output rel-L2: ";
  if (size_t at = r.output.find(key); at != std::string::npos)
    r.rel_l2 = r.output.substr(at + key.size(), r.output.find('\n', at) - at - key.size());
  std::cout << "=== case " << ++case_number << ": " << join(flags) << "\n" << r.output << std::flush;
  return r;
}

}  // namespace tile::gpu_tests
