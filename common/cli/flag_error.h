// The one error type of a bad command line, so a tool catches a single type whether the library
// or its own checks found the problem.
#pragma once

#include <stdexcept>

namespace tile::cli {

// what() starts with the flag it is about ("--seq_len: missing value"): tools print it as is.
class FlagError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tile::cli
