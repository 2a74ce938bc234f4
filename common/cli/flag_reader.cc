#include "common/cli/flag_reader.h"

#include <utility>

namespace tile::cli {

FlagReader::FlagReader(std::vector<std::string> args, bool split_equals)
    : args_(std::move(args)), split_equals_(split_equals) {}

bool FlagReader::next() {
  if (started_) ++pos_;
  started_ = true;
  if (pos_ >= args_.size()) return false;
  arg_ = name_ = args_[pos_];
  inline_value_.clear();
  has_inline_value_ = false;
  const size_t eq = name_.find('=');
  if (split_equals_ && has_double_dash() && eq != std::string::npos) {
    inline_value_ = name_.substr(eq + 1);
    name_.resize(eq);
    has_inline_value_ = true;
  }
  return true;
}

std::string FlagReader::value() {
  if (has_inline_value_) return inline_value_;
  if (pos_ + 1 >= args_.size()) throw FlagError(name_ + ": missing value");
  return args_[++pos_];
}

bool FlagReader::boolean(const std::string& detail) {
  if (has_inline_value_) throw FlagError(name_ + ": " + detail);
  return true;
}

}  // namespace tile::cli
