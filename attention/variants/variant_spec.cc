#include "attention/variants/variant_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "attention/variants/arg_layout.h"

namespace tile::attention {

namespace {

[[noreturn]] void bad(const std::string& arg, const std::string& expected, const std::string& actual) {
  throw std::invalid_argument(arg + ": expected " + expected + ", got " + actual);
}

const char* dim_name(ArgDim d) {
  switch (d) {
    case ArgDim::batch: return "batch";
    case ArgDim::nheads: return "nheads";
    case ArgDim::nheads_k: return "nheads_k";
    case ArgDim::seqlen_q: return "seqlen_q";
    case ArgDim::seqlen_k: return "seqlen_k";
    case ArgDim::any: return "n";
  }
  return "?";
}

std::string dims_str(const std::vector<int64_t>& d) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < d.size(); ++i) os << (i ? ", " : "") << (d[i] < 0 ? std::string("any") : std::to_string(d[i]));
  os << ")";
  return os.str();
}

std::map<std::string, VariantSpec>& registry() {
  static std::map<std::string, VariantSpec> r;
  return r;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.find("_and_") != std::string::npos) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

ArgSpec ArgSpec::tensor(std::string name, DType dtype, std::vector<ArgDim> dims, std::string doc, bool batch_optional) {
  ArgSpec a;
  a.kind = Kind::tensor;
  a.name = std::move(name);
  a.dtype = dtype;
  a.dims = std::move(dims);
  a.doc = std::move(doc);
  a.batch_optional = batch_optional;
  return a;
}

ArgSpec ArgSpec::i32(std::string name, std::string doc) {
  ArgSpec a;
  a.kind = Kind::scalar_i32;
  a.name = std::move(name);
  a.dtype = DType::i32;
  a.doc = std::move(doc);
  return a;
}

ArgSpec ArgSpec::f32(std::string name, std::string doc) {
  ArgSpec a = i32(std::move(name), std::move(doc));
  a.kind = Kind::scalar_f32;
  a.dtype = DType::f32;
  return a;
}

std::string ArgSpec::describe() const {
  if (kind == Kind::scalar_i32) return name + ": an integer";
  if (kind == Kind::scalar_f32) return name + ": a number";
  std::string s = name + ": " + dtype_name(dtype) + " (";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::string(dim_name(dims[i]));
  s += ")";
  if (batch_optional) s += " or without the batch dim";
  for (size_t i = 0; i + 1 < dims.size(); ++i)
    if (dims[i] == ArgDim::batch && (dims[i + 1] == ArgDim::seqlen_q || dims[i + 1] == ArgDim::seqlen_k))
      s += std::string(", varlen: (total_") + (dims[i + 1] == ArgDim::seqlen_q ? "q" : "k") + ") in place of (batch, " +
           dim_name(dims[i + 1]) + ")";
  return s;
}

std::vector<int64_t> VariantSpec::shape_of(const ArgSpec& a, const ProblemDims& d, bool with_batch) const {
  std::vector<int64_t> shape;
  for (const DimLayout& l : dim_layouts(a, d, with_batch))
    if (!l.omitted && !l.collapsed) shape.push_back(l.size);
  return shape;
}

// ---- RefArgs ----------------------------------------------------------------------------------

RefArgs::RefArgs(const std::vector<ArgSpec>* specs, const VariantArgs* values, const ProblemDims* dims,
                 const std::vector<int64_t>* q_start, const std::vector<int64_t>* k_start)
    : specs_(specs), values_(values), dims_(dims), q_start_(q_start), k_start_(k_start) {}

const ArgSpec& RefArgs::spec(const std::string& name) const {
  if (specs_)
    for (const ArgSpec& a : *specs_)
      if (a.name == name) return a;
  throw std::logic_error("variant reference reads undeclared argument '" + name + "'");
}

double RefArgs::scalar(const std::string& name) const {
  const ArgSpec& a = spec(name);
  if (a.kind == ArgSpec::Kind::tensor) throw std::logic_error("variant argument '" + name + "' is a tensor");
  return values_->at(name).number;
}

double RefArgs::at(const std::string& name, std::vector<int64_t> index) const {
  const ArgSpec& a = spec(name);
  const VariantArg& v = values_->at(name);
  if (a.kind != ArgSpec::Kind::tensor) throw std::logic_error("variant argument '" + name + "' is a scalar");
  if (index.size() != a.dims.size())
    throw std::logic_error("variant argument '" + name + "' takes " + std::to_string(a.dims.size()) + " indices");
  const bool with_batch = int(a.dims.size()) == v.tensor.rank || !a.batch_optional;
  const std::vector<DimLayout> layout = dim_layouts(a, *dims_, with_batch, &v.tensor);
  // Per-token positions are sequence-local here; the layout indexes packed rows.
  for (size_t d = 0; d < index.size(); ++d) {
    if (layout[d].token_of == ArgDim::seqlen_q && dims_->varlen) index[d] += q_start_->at(static_cast<size_t>(index[d - 1]));
    if (layout[d].token_of == ArgDim::seqlen_k && dims_->varlen) index[d] += k_start_->at(static_cast<size_t>(index[d - 1]));
  }
  int64_t offset = 0;
  for (size_t d = 0; d < index.size(); ++d) {
    if (index[d] < 0 || (layout[d].size >= 0 && index[d] >= layout[d].size && !layout[d].omitted && !layout[d].collapsed))
      throw std::out_of_range("variant argument '" + name + "': index " + std::to_string(index[d]) + " out of range in dim " +
                              std::to_string(d));
    offset += index[d] * layout[d].stride;
  }
  return load_as_double(v.tensor.dtype, v.tensor.data, offset);
}

int64_t RefArgs::size(const std::string& name, int dim) const {
  const ArgSpec& a = spec(name);
  const VariantArg& v = values_->at(name);
  const bool with_batch = int(a.dims.size()) == v.tensor.rank || !a.batch_optional;
  return dim_layouts(a, *dims_, with_batch, &v.tensor).at(size_t(dim)).size;
}

// ---- RefGrads ---------------------------------------------------------------------------------

RefGrads::RefGrads(const VariantArgs& values, const std::vector<ArgSpec>& specs) {
  for (const ArgSpec& a : specs) {
    if (!a.has_grad) continue;
    Grad g;
    g.shape = values.at(a.name).tensor.sizes();
    int64_t n = 1;
    for (int64_t s : g.shape) n *= s;
    g.data.assign(size_t(n), 0.0);
    grads_[a.name] = std::move(g);
  }
}

void RefGrads::add(const std::string& name, const std::vector<int64_t>& index, double value) {
  Grad& g = grads_.at(name);
  if (index.size() != g.shape.size()) throw std::logic_error("RefGrads::add(" + name + "): wrong number of indices");
  int64_t flat = 0;
  for (size_t d = 0; d < index.size(); ++d) {
    if (index[d] < 0 || index[d] >= g.shape[d]) throw std::out_of_range("RefGrads::add(" + name + "): index out of range");
    flat = flat * g.shape[d] + index[d];
  }
  g.data[size_t(flat)] += value;
}

void RefGrads::merge(const RefGrads& other) {
  for (const auto& [name, g] : other.grads_) {
    Grad& mine = grads_.at(name);
    for (size_t i = 0; i < g.data.size(); ++i) mine.data[i] += g.data[i];
  }
}

std::map<std::string, HostTensor> RefGrads::tensors(DType dtype) const {
  std::map<std::string, HostTensor> out;
  for (const auto& [name, g] : grads_) {
    HostTensor t(dtype, g.shape);
    for (size_t i = 0; i < g.data.size(); ++i) t.set_at(int64_t(i), g.data[i]);
    out.emplace(name, std::move(t));
  }
  return out;
}

// ---- ArgGenerator -----------------------------------------------------------------------------

ArgGenerator::ArgGenerator(const ProblemDims& dims, const std::vector<int64_t>& len_q, const std::vector<int64_t>& len_k,
                           uint64_t seed)
    : dims_(dims), len_q_(len_q), len_k_(len_k), rng_(seed) {}

int64_t ArgGenerator::uniform_int(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
double ArgGenerator::uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }

void ArgGenerator::tensor(const ArgSpec& spec, const std::function<double(const std::vector<int64_t>&)>& fill,
                          const std::vector<int64_t>& free_sizes) {
  VariantSpec shape_only;
  std::vector<int64_t> shape = shape_only.shape_of(spec, dims_);
  size_t next_free = 0;
  for (int64_t& s : shape)
    if (s < 0) {
      if (next_free >= free_sizes.size())
        throw std::logic_error("ArgGenerator::tensor(" + spec.name + "): a free dim needs an explicit size");
      s = free_sizes[next_free++];
    }
  HostTensor t(spec.dtype, shape);
  const int64_t n = t.numel();
  // Index per declared dim; with varlen a per-token dim's packed row is mapped back to (b, j).
  std::vector<int64_t> starts_q{0}, starts_k{0};
  for (int64_t l : len_q_) starts_q.push_back(starts_q.back() + l);
  for (int64_t l : len_k_) starts_k.push_back(starts_k.back() + l);
  const std::vector<DimLayout> layout = dim_layouts(spec, dims_, true);
  for (int64_t flat = 0; flat < n; ++flat) {
    std::vector<int64_t> idx(shape.size());
    int64_t rest = flat;
    for (size_t d = shape.size(); d-- > 0;) idx[d] = rest % shape[d], rest /= shape[d];
    std::vector<int64_t> declared;
    size_t s = 0;
    for (const DimLayout& l : layout) {
      if (l.collapsed) {  // the batch dim of a varlen token pair: found from the row below
        declared.push_back(0);
        continue;
      }
      declared.push_back(idx[s++]);
      if (l.token_of != ArgDim::any && dims_.varlen) {
        const std::vector<int64_t>& starts = l.token_of == ArgDim::seqlen_q ? starts_q : starts_k;
        const int64_t row = declared.back();
        const int64_t b = int64_t(std::upper_bound(starts.begin(), starts.end(), row) - starts.begin()) - 1;
        declared[declared.size() - 2] = b;
        declared.back() = row - starts[static_cast<size_t>(b)];
      }
    }
    t.set_at(flat, fill(declared));
  }
  tensors_[spec.name] = std::move(t);
  values_[spec.name] = VariantArg::of(tensors_[spec.name].view());
}

void ArgGenerator::scalar(const std::string& name, double v) { values_[name] = VariantArg::scalar(v); }

VariantArgs ArgGenerator::args() const {
  VariantArgs out = values_;
  for (auto& [name, v] : out)
    if (v.is_tensor) v.tensor = tensors_.at(name).view();  // views of this generator's storage
  return out;
}

// ---- registry ---------------------------------------------------------------------------------

bool register_variant(VariantSpec spec) {
  if (!valid_name(spec.name))
    throw std::logic_error("variant name '" + spec.name + "': lower-case letters, digits and '_', without \"_and_\"");
  for (const ArgSpec& a : spec.args) {
    bool plain_dims = a.kind == ArgSpec::Kind::tensor && a.dtype == DType::f32 && !a.batch_optional;
    for (ArgDim d : a.dims) plain_dims = plain_dims && d != ArgDim::seqlen_q && d != ArgDim::seqlen_k;
    if (a.has_grad && !plain_dims)
      throw std::logic_error("variant '" + spec.name + "': trainable argument '" + a.name +
                             "' must be an f32 tensor without per-token or optional dims");
    if (a.has_grad && !spec.arg_grad)
      throw std::logic_error("variant '" + spec.name + "': trainable argument '" + a.name + "' needs arg_grad_ref");
  }
  const std::string name = spec.name;
  if (!registry().emplace(name, std::move(spec)).second) throw std::logic_error("variant '" + name + "' registered twice");
  return true;
}

const VariantSpec* find_variant(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> variant_names() {
  std::vector<std::string> names;
  for (const auto& [name, spec] : registry()) names.push_back(name);
  return names;
}

bool VariantChain::has_mask() const {
  return std::any_of(parts.begin(), parts.end(), [](const VariantSpec* s) { return bool(s->mask_mod); });
}
bool VariantChain::has_arg_grads() const {
  for (const VariantSpec* s : parts)
    for (const ArgSpec& a : s->args)
      if (a.has_grad) return true;
  return false;
}

bool VariantChain::has_score_mod() const {
  return std::any_of(parts.begin(), parts.end(), [](const VariantSpec* s) { return bool(s->score_mod); });
}

std::vector<ArgSpec> VariantChain::args() const {
  std::vector<ArgSpec> all;
  for (const VariantSpec* s : parts)
    for (const ArgSpec& a : s->args) all.push_back(a);
  return all;
}

VariantChain parse_variant(const std::string& name, const char* argument) {
  VariantChain chain;
  chain.name = name;
  if (name.empty() || name == "plain") {
    chain.name.clear();
    return chain;
  }
  size_t start = 0;
  std::vector<std::string> seen_args;
  while (true) {
    const size_t plus = name.find('+', start);
    const std::string part = name.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    const VariantSpec* spec = find_variant(part);
    if (!spec) {  // the list of names only on the error path: this runs on every call
      std::string known;
      for (const std::string& n : variant_names()) known += (known.empty() ? "" : ", ") + n;
      bad(argument, "a registered variant (" + known + "), or several joined by '+'", "'" + part + "'");
    }
    if (std::find(chain.parts.begin(), chain.parts.end(), spec) != chain.parts.end())
      bad(argument, "each variant at most once", "'" + part + "' twice in '" + name + "'");
    for (const ArgSpec& a : spec->args) {
      if (std::find(seen_args.begin(), seen_args.end(), a.name) != seen_args.end())
        bad(argument, "variants whose arguments have distinct names", "two declaring '" + a.name + "' in '" + name + "'");
      seen_args.push_back(a.name);
    }
    chain.parts.push_back(spec);
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  return chain;
}

std::string with_alibi(const std::string& variant, const TensorView& slopes, VariantArgs& args) {
  if (args.count("alibi_slopes")) bad("alibi_slopes", "either the option or variant_args[\"alibi_slopes\"]", "both");
  args["alibi_slopes"] = VariantArg::of(slopes);
  if (variant.empty()) return "alibi";
  if (("+" + variant + "+").find("+alibi+") != std::string::npos) return variant;
  return "alibi+" + variant;
}

std::string kernel_suffix(const VariantChain& chain) {
  std::string s;
  for (const VariantSpec* p : chain.parts) s += (s.empty() ? "_" : "_and_") + p->name;
  return s;
}

void check_variant_args(const VariantChain& chain, const VariantArgs& values, const ProblemDims& dims,
                        const Device& device) {
  const std::vector<ArgSpec> specs = chain.args();
  const std::string who = chain.empty() ? std::string("plain attention") : "variant " + chain.name;
  for (const auto& [name, value] : values) {
    const bool declared = std::any_of(specs.begin(), specs.end(), [&](const ArgSpec& a) { return a.name == name; });
    if (!declared) {
      std::string list;
      for (const ArgSpec& a : specs) list += (list.empty() ? "" : ", ") + a.name;
      bad("variant_args", "only the arguments of " + who + (list.empty() ? std::string(" (none)") : " (" + list + ")"),
          "'" + name + "'");
    }
  }
  VariantSpec shapes;
  for (const ArgSpec& a : specs) {
    auto it = values.find(a.name);
    if (it == values.end()) bad(a.name, "an argument of " + who + " (" + a.describe() + ")", "nothing");
    const VariantArg& v = it->second;
    if (a.kind != ArgSpec::Kind::tensor) {
      if (v.is_tensor) bad(a.name, a.kind == ArgSpec::Kind::scalar_i32 ? "an integer" : "a number", "a tensor");
      if (!std::isfinite(v.number)) bad(a.name, "a finite number", std::to_string(v.number));
      if (a.kind == ArgSpec::Kind::scalar_i32 && (v.number != double(int32_t(v.number))))
        bad(a.name, "an integer within 32 bits", std::to_string(v.number));
      continue;
    }
    if (!v.is_tensor) bad(a.name, "a tensor (" + a.describe() + ")", "a number");
    const TensorView& t = v.tensor;
    const bool empty = t.rank > 0 && t.numel() == 0;
    if (!t.defined() && !empty) bad(a.name, "a tensor (" + a.describe() + ")", "an undefined view (null data)");
    if (t.device != device) bad(a.name, "a tensor on " + device.str(), "one on " + t.device.str());
    if (t.dtype != a.dtype) bad(a.name, dtype_name(a.dtype), dtype_name(t.dtype));
    std::vector<int64_t> want = shapes.shape_of(a, dims, true);
    std::vector<int64_t> short_want = a.batch_optional ? shapes.shape_of(a, dims, false) : want;
    auto matches = [&](const std::vector<int64_t>& w) {
      if (int(w.size()) != t.rank) return false;
      for (int d = 0; d < t.rank; ++d)
        if (w[size_t(d)] >= 0 ? t.size(d) != w[size_t(d)] : t.size(d) < 1) return false;
      return true;
    };
    if (!matches(want) && !matches(short_want))
      bad(a.name, "shape " + dims_str(want) + (a.batch_optional ? " or " + dims_str(short_want) : std::string()) + " (" +
                      a.describe() + ")",
          t.shape_str());
    for (int d = 0; d < t.rank; ++d) {
      if (t.stride(d) < 0) bad(a.name, "non-negative strides", "stride " + std::to_string(t.stride(d)) + " in dim " + std::to_string(d));
      if (t.stride(d) > INT32_MAX) bad(a.name, "strides within 32 bits", std::to_string(t.stride(d)));
    }
  }
}

}  // namespace tile::attention
