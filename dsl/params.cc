#include "dsl/params.h"

#include <cstdlib>
#include <sstream>

#include "dsl/errors.h"

namespace tile {

std::string ParamValue::str() const {
  switch (kind_) {
    case Kind::integer: return std::to_string(int_);
    case Kind::boolean: return int_ ? "true" : "false";
    case Kind::real: {
      std::ostringstream os;
      os << real_;
      return os.str();
    }
    case Kind::text: return text_;
  }
  return "";
}

bool ParamValue::operator==(const ParamValue& o) const {
  return kind_ == o.kind_ && int_ == o.int_ && real_ == o.real_ && text_ == o.text_;
}

static bool parse_int(const std::string& t, int64_t* out) {
  if (t.empty()) return false;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (*end) return false;
  *out = v;
  return true;
}

static bool parse_real(const std::string& t, double* out) {
  if (t.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (*end) return false;
  *out = v;
  return true;
}

ParamValue ParamValue::parse(const std::string& t) {
  int64_t i;
  double d;
  if (parse_int(t, &i)) return ParamValue((long long)i);
  if (t == "true") return ParamValue(true);
  if (t == "false") return ParamValue(false);
  if (parse_real(t, &d)) return ParamValue(d);
  return ParamValue(t);
}

ParamValue ParamValue::parse_like(const ParamValue& like, const std::string& t) {
  int64_t i;
  double d;
  switch (like.kind()) {
    case Kind::integer:
      if (parse_int(t, &i)) return ParamValue((long long)i);
      break;
    case Kind::boolean:
      if (t == "true" || t == "1") return ParamValue(true);
      if (t == "false" || t == "0") return ParamValue(false);
      break;
    case Kind::real:
      if (parse_real(t, &d)) return ParamValue(d);
      break;
    case Kind::text: return ParamValue(t);
  }
  throw BuildError("param: '" + t + "' is not a valid value (the parameter holds " + like.str() + ")");
}

Params& Params::set(const std::string& name, ParamValue v) {
  items_[name] = std::move(v);
  return *this;
}

Params& Params::set_from_text(const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw BuildError("param: expected NAME=VALUE, got '" + assignment + "'");
  std::string name = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  auto it = items_.find(name);
  items_[name] = it == items_.end() ? ParamValue::parse(text) : ParamValue::parse_like(it->second, text);
  return *this;
}

const ParamValue& Params::get(const std::string& name) const {
  auto it = items_.find(name);
  if (it == items_.end()) throw BuildError("param: '" + name + "' is not set (have: " + str() + ")");
  return it->second;
}

static void wrong_kind(const std::string& name, const ParamValue& v, const char* want) {
  throw BuildError("param: '" + name + "' is " + v.str() + ", not " + want);
}

int64_t Params::get_int(const std::string& name) const {
  const ParamValue& v = get(name);
  if (v.kind() != ParamValue::Kind::integer) wrong_kind(name, v, "an integer");
  return v.integer();
}

bool Params::get_bool(const std::string& name) const {
  const ParamValue& v = get(name);
  if (v.kind() != ParamValue::Kind::boolean) wrong_kind(name, v, "a boolean");
  return v.boolean();
}

double Params::get_float(const std::string& name) const {
  const ParamValue& v = get(name);
  if (v.kind() == ParamValue::Kind::integer) return double(v.integer());
  if (v.kind() != ParamValue::Kind::real) wrong_kind(name, v, "a number");
  return v.real();
}

std::string Params::get_string(const std::string& name) const {
  const ParamValue& v = get(name);
  if (v.kind() != ParamValue::Kind::text) wrong_kind(name, v, "a string");
  return v.text();
}

DType Params::get_dtype(const std::string& name) const {
  std::string t = get_string(name);
  try {
    return parse_dtype(t);
  } catch (const std::exception&) {
    throw BuildError("param: '" + name + "' is " + t + ", not a dtype");
  }
}

std::string Params::str() const {
  std::string s;
  for (const auto& [k, v] : items_) s += (s.empty() ? "" : ",") + k + "=" + v.str();
  return s;
}

}  // namespace tile
