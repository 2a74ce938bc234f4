// Compile-time parameters that specialise a kernel (block sizes, head_dim, causal, dtype ...).
// They are plain C++ values while the kernel is built and are recorded in the kernel's
// `tile.params` dictionary.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>

#include "dsl/core/dtype.h"

namespace tile {

class ParamValue {
 public:
  enum class Kind { integer, boolean, real, text };

  ParamValue() = default;
  ParamValue(int v) : kind_(Kind::integer), int_(v) {}
  ParamValue(long v) : kind_(Kind::integer), int_(v) {}
  ParamValue(long long v) : kind_(Kind::integer), int_(v) {}
  ParamValue(bool v) : kind_(Kind::boolean), int_(v) {}
  ParamValue(double v) : kind_(Kind::real), real_(v) {}
  ParamValue(const char* v) : kind_(Kind::text), text_(v) {}
  ParamValue(std::string v) : kind_(Kind::text), text_(std::move(v)) {}
  ParamValue(DType v) : kind_(Kind::text), text_(dtype_name(v)) {}

  Kind kind() const { return kind_; }
  int64_t integer() const { return int_; }
  bool boolean() const { return int_ != 0; }
  double real() const { return real_; }
  const std::string& text() const { return text_; }
  std::string str() const;  // 128, true, 0.5, bf16

  // Parses `text` as a value of the same kind as `like` (throws BuildError if it cannot).
  static ParamValue parse_like(const ParamValue& like, const std::string& text);
  // Guesses the kind: integer, true/false, real, else text.
  static ParamValue parse(const std::string& text);

  bool operator==(const ParamValue& o) const;

 private:
  Kind kind_ = Kind::integer;
  int64_t int_ = 0;
  double real_ = 0;
  std::string text_;
};

class Params {
 public:
  Params() = default;
  Params(std::initializer_list<std::pair<const std::string, ParamValue>> items) : items_(items) {}

  Params& set(const std::string& name, ParamValue v);
  // "NAME=VALUE" (from a command line): keeps the kind of an existing parameter.
  Params& set_from_text(const std::string& assignment);

  bool has(const std::string& name) const { return items_.count(name) != 0; }
  // Typed getters throw BuildError naming the parameter when it is missing or of another kind.
  int64_t get_int(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  double get_float(const std::string& name) const;  // integers are accepted too
  std::string get_string(const std::string& name) const;
  DType get_dtype(const std::string& name) const;

  const std::map<std::string, ParamValue>& items() const { return items_; }
  std::string str() const;  // "BLOCK_M=128,CAUSAL=true" (sorted by name)
  bool operator==(const Params& o) const { return items_ == o.items_; }

 private:
  const ParamValue& get(const std::string& name) const;
  std::map<std::string, ParamValue> items_;
};

}  // namespace tile
