// One accuracy case on the GPU: the accuracy CLI's flow (random inputs, outputs poisoned with NaN
// before the launch, forward + backward, fp64 and naive references, the accuracy rule) with the
// GPU backend, printing the CLI's lines (the seed's diff lines) under a header naming the case.
#pragma once

#include <string>
#include <vector>

namespace tile::gpu_tests {

struct CaseResult {
  int exit_code = 1;     // the CLI's: 0 PASS, 1 FAIL, 2 bad flags
  std::string output;    // its stdout and stderr
  std::string rel_l2;    // the "Output rel-L2" value, for the summary
};

// `flags` as for //tests:accuracy_gpu (without --backend). Prints "=== case N: flags", the
// CLI's lines and stderr to stdout.
CaseResult run_gpu_case(const std::vector<std::string>& flags);

// "flash_attn_func --seq_len 97 ..." for messages.
std::string join(const std::vector<std::string>& flags);

}  // namespace tile::gpu_tests
