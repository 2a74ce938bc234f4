// Test helpers: build a kernel body into IR text without the test including MLIR headers.
#pragma once

#include <string>

#include "dsl/tile.h"

namespace tile::testing {

// Builds a kernel named `name` from `fn` and returns its verified IR text (throws BuildError).
std::string build_ir(const KernelFn& fn, const Params& params = {}, const std::string& name = "k");
// Parses `ir` with the tile dialects registered and prints it again.
std::string round_trip(const std::string& ir);
// Occurrences of `needle` in `text`.
int count(const std::string& text, const std::string& needle);

}  // namespace tile::testing
