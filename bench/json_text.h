// The little JSON the bench writes (results, Chrome traces): string escaping and numbers that
// are always valid JSON (no NaN/Inf literals, which JSON lacks).
#pragma once

#include <string>

namespace tile::bench {

// `text` as a quoted JSON string.
std::string json_string(const std::string& text);
// `v` with up to `digits` significant digits; non-finite values become null.
std::string json_number(double v, int digits = 9);

}  // namespace tile::bench
