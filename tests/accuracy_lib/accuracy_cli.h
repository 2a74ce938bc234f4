// The accuracy check CLI (flash-attn's tests/test_flash_attn.py, one case per run): random
// inputs, one of the flash-attn entry points forward and backward on a backend, every output
// compared with the fp64 reference under the accuracy rule. Prints the seed's lines, one line
// per kernel run, and PASS or FAIL last. Exit 0 PASS, 1 FAIL, 2 bad flags.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "attention/host/backend.h"

namespace tile::accuracy {

struct BackendHandle {
  std::unique_ptr<attention::Backend> backend;
  // Lines describing the kernels that ran ("kernel attn_fwd {...} ir 0123..."), after the run.
  std::function<std::vector<std::string>()> kernel_lines;
};
// Makes the backend named by --backend ("interp", "gpu"), with the run's seed and thread count;
// returns an empty handle for a backend this binary does not have.
using BackendFactory = std::function<BackendHandle(const std::string& name, uint64_t seed, int threads)>;

int run_accuracy_cli(const std::vector<std::string>& args, const BackendFactory& make_backend,
                     std::ostream& out, std::ostream& err);

}  // namespace tile::accuracy
