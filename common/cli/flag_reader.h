// Walks a tool's arguments one flag at a time: "--flag value", optionally "--flag=value", and
// booleans that are on when present. What counts as an unknown or repeated flag, and how that is
// worded, stays with each tool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/cli/flag_values.h"

namespace tile::cli {

class FlagReader {
 public:
  // split_equals: whether "--flag=value" carries its value. Off, "--seed=5" stays one flag name,
  // which is how the accuracy CLI has always read it. Only arguments starting with "--" split, so
  // a stray "a=b" is reported whole.
  explicit FlagReader(std::vector<std::string> args, bool split_equals = true);

  // Moves to the next argument; false when there is none.
  bool next();

  const std::string& name() const { return name_; }  // the argument up to any split '='
  const std::string& arg() const { return arg_; }  // the argument as given
  bool has_inline_value() const { return has_inline_value_; }
  bool has_double_dash() const { return arg_.rfind("--", 0) == 0; }

  // The text after '=', else the next argument (consumed, so call this once per flag), even one
  // that starts with "--": the tools never guessed whether a value was meant.
  // "<name>: missing value" when the arguments ran out.
  std::string value();

  int64_t integer(IntRange range = IntRange::any()) { return parse_integer(name_, value(), range); }
  double number(double min = -std::numeric_limits<double>::infinity()) { return parse_number(name_, value(), min); }
  std::vector<int64_t> integer_list(IntRange range = IntRange::any()) {
    return parse_integer_list(name_, value(), range);
  }

  // On when present; a boolean takes no value, so "--flag=..." is "<name>: <detail>" (each tool
  // words this its own way).
  bool boolean(const std::string& detail = "takes no value");

 private:
  std::vector<std::string> args_;
  bool split_equals_;
  size_t pos_ = 0;
  bool started_ = false;
  std::string arg_, name_, inline_value_;
  bool has_inline_value_ = false;
};

}  // namespace tile::cli
