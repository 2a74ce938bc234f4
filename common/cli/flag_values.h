// A flag's text turned into a typed value, or a FlagError that names the flag and says what was
// expected: "<flag>: expected <what>, got '<text>'".
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/cli/flag_error.h"

namespace tile::cli {

// The integers a flag accepts. Its description is the "expected ..." of the error, so the
// message always states the bound that was broken.
struct IntRange {
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();

  static IntRange any() { return {}; }
  static IntRange at_least(int64_t lo) { return {lo, std::numeric_limits<int64_t>::max()}; }
  static IntRange between(int64_t lo, int64_t hi) { return {lo, hi}; }

  bool contains(int64_t v) const { return v >= min && v <= max; }
  // "an integer", "an integer >= 1", "an integer <= 8", "an integer in [1, 64]".
  std::string describe() const;
};

// Base 10, the whole text (strtoll's leading blanks and sign allowed), no overflow, in range.
int64_t parse_integer(const std::string& flag, const std::string& text, IntRange range = IntRange::any());

// The whole text as strtod reads it, >= min; NaN never passes and neither does a value too large
// or too small for a double (rather than silently becoming inf or 0). "expected a number >= min"
// ("expected a number" when min is -inf).
double parse_number(const std::string& flag, const std::string& text,
                    double min = -std::numeric_limits<double>::infinity());

// "5,17,113": each item as parse_integer (an empty item is a malformed one). A single trailing
// comma is tolerated because the accuracy CLI always accepted "5,17,"; no items at all is
// "expected a comma-separated list".
std::vector<int64_t> parse_integer_list(const std::string& flag, const std::string& text,
                                        IntRange range = IntRange::any());

}  // namespace tile::cli
