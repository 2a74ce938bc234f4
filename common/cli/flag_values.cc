#include "common/cli/flag_values.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace tile::cli {
namespace {

[[noreturn]] void expected(const std::string& flag, const std::string& what, const std::string& text) {
  throw FlagError(flag + ": expected " + what + ", got '" + text + "'");
}

}  // namespace

std::string IntRange::describe() const {
  const bool low = min != std::numeric_limits<int64_t>::min();
  const bool high = max != std::numeric_limits<int64_t>::max();
  if (low && high) return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (low) return "an integer >= " + std::to_string(min);
  if (high) return "an integer <= " + std::to_string(max);
  return "an integer";
}

int64_t parse_integer(const std::string& flag, const std::string& text, IntRange range) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(begin, &end, 10);
  // Comparing with the size, not just *end == '\0', also rejects text with an embedded NUL.
  if (end == begin || end != begin + text.size() || errno != 0 || !range.contains(v))
    expected(flag, range.describe(), text);
  return v;
}

double parse_number(const std::string& flag, const std::string& text, double min) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  // `!(v >= min)` is also true for NaN.
  if (end == begin || end != begin + text.size() || errno != 0 || !(v >= min)) {
    std::ostringstream what;
    what << "a number";
    if (min != -std::numeric_limits<double>::infinity()) what << " >= " << min;
    expected(flag, what.str(), text);
  }
  return v;
}

std::vector<int64_t> parse_integer_list(const std::string& flag, const std::string& text, IntRange range) {
  std::vector<int64_t> out;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
    out.push_back(parse_integer(flag, text.substr(start, comma - start), range));
  // What follows the last comma is an item only when it is not empty: "5,17," is two items.
  if (start < text.size()) out.push_back(parse_integer(flag, text.substr(start), range));
  if (out.empty()) expected(flag, "a comma-separated list", text);
  return out;
}

}  // namespace tile::cli
