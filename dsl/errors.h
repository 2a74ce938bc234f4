// The one exception the DSL throws: a kernel that cannot be built (bad shapes, dtypes, argument
// counts, or IR that fails verification). Messages start with the op name, e.g.
// "dot: inner dims 64 vs 128", so the author sees the mistake at build time, not at launch.
#pragma once

#include <stdexcept>
#include <string>

namespace tile {

class BuildError : public std::runtime_error {
 public:
  explicit BuildError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace tile
