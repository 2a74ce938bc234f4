// What the host side knows of an attention variant, without MLIR or the DSL: its name, its
// arguments (declared once, with names, dtypes and shapes), its fp64 reference as scalar C++,
// a generator of random valid arguments, and the specialisations compiled ahead of time. The
// registry maps names to these; the host API validates and binds arguments from them, the
// references evaluate them, the CLIs list them. The kernel side (variant.h) adds the DSL code.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "attention/kernels/kernel_table.h"
#include "dsl/core/dtype.h"
#include "dsl/core/tensor_view.h"

namespace tile::attention {

// A dimension of a tensor argument, resolved against the problem. `batch, seqlen_q` and
// `batch, seqlen_k` in that order are per-token dims: with varlen inputs they collapse into one
// dim of total tokens (the packed rows of q or k), like q and k themselves.
enum class ArgDim { batch, nheads, nheads_k, seqlen_q, seqlen_k, any };

struct ArgSpec {
  enum class Kind { tensor, scalar_i32, scalar_f32 };
  Kind kind = Kind::tensor;
  std::string name;
  DType dtype = DType::f32;       // tensors: the element type (scalars: i32 or f32)
  std::vector<ArgDim> dims;       // tensors only
  bool batch_optional = false;    // a leading `batch` dim may be left out (broadcast over batch)
  bool has_grad = false;          // the backward returns d loss / d this tensor (f32, its shape)
  std::string doc;

  // A trainable tensor (f32, no per-token or optional dims): see AttnGradViews::variant_grads.
  ArgSpec with_grad() const {
    ArgSpec a = *this;
    a.has_grad = true;
    return a;
  }

  static ArgSpec tensor(std::string name, DType dtype, std::vector<ArgDim> dims, std::string doc,
                        bool batch_optional = false);
  static ArgSpec i32(std::string name, std::string doc);
  static ArgSpec f32(std::string name, std::string doc);
  // "document_id: int32 (batch, seqlen_k), varlen (total_k)" for error messages and --help.
  std::string describe() const;
};

// A value the caller gives for one argument: a tensor (on the backend's device) or a number.
struct VariantArg {
  TensorView tensor;
  double number = 0.0;
  bool is_tensor = false;
  static VariantArg of(const TensorView& t) { return {t, 0.0, true}; }
  static VariantArg scalar(double v) { return {TensorView{}, v, false}; }
};
using VariantArgs = std::map<std::string, VariantArg>;

// The sizes an argument's dims resolve to.
struct ProblemDims {
  int64_t batch = 0, nheads = 0, nheads_k = 0, seqlen_q = 0, seqlen_k = 0;
  bool varlen = false;
  int64_t total_q = 0, total_k = 0;
};

// Indices of one (query, key) pair as a mod sees them: sequence b, q head h, query i and key j
// within the sequence (0-based), and the sequence's lengths. diag() = len_k - len_q: key j is
// on query i's diagonal (bottom-right aligned, like causal masks) when j == i + diag().
struct RefIndex {
  int64_t b = 0, h = 0, i = 0, j = 0, len_q = 0, len_k = 0;
  int64_t diag() const { return len_k - len_q; }
};

// The arguments' values as the fp64 reference reads them (host memory).
class RefArgs {
 public:
  RefArgs() = default;
  // Views of the caller's data: everything must outlive the RefArgs. q_start/k_start: each
  // sequence's first packed row (varlen).
  RefArgs(const std::vector<ArgSpec>* specs, const VariantArgs* values, const ProblemDims* dims,
          const std::vector<int64_t>* q_start, const std::vector<int64_t>* k_start);
  double scalar(const std::string& name) const;
  // Element of a tensor argument at one index per declared dim (omitted optional batch dims
  // included: the index is ignored). Per-token dims take the sequence-local position: (b, j)
  // reads key token j of sequence b, batched or varlen.
  double at(const std::string& name, std::vector<int64_t> index) const;
  // Size of declared dim `dim` of a tensor argument (free dims: as given).
  int64_t size(const std::string& name, int dim) const;

 private:
  const ArgSpec& spec(const std::string& name) const;
  const std::vector<ArgSpec>* specs_ = nullptr;
  const VariantArgs* values_ = nullptr;
  const ProblemDims* dims_ = nullptr;
  const std::vector<int64_t>*q_start_ = nullptr, *k_start_ = nullptr;
};

// Gradients of a variant's trainable tensors (ArgSpec::with_grad) as the references accumulate
// them: d loss / d element, one f64 array per tensor in its row-major shape.
class RefGrads {
 public:
  RefGrads() = default;
  explicit RefGrads(const VariantArgs& values, const std::vector<ArgSpec>& specs);
  void add(const std::string& name, const std::vector<int64_t>& index, double value);
  void merge(const RefGrads& other);
  // name -> f64 tensor shaped like the argument.
  std::map<std::string, HostTensor> tensors(DType dtype = DType::f64) const;

 private:
  struct Grad {
    std::vector<int64_t> shape;
    std::vector<double> data;
  };
  std::map<std::string, Grad> grads_;
};

// Random valid arguments for tests and the CLIs: the generator of a variant fills `args`
// (host tensors it owns) for the problem's dims.
class ArgGenerator {
 public:
  ArgGenerator(const ProblemDims& dims, const std::vector<int64_t>& len_q, const std::vector<int64_t>& len_k,
               uint64_t seed);
  const ProblemDims& dims() const { return dims_; }
  int64_t len_q(int64_t b) const { return len_q_[static_cast<size_t>(b)]; }
  int64_t len_k(int64_t b) const { return len_k_[static_cast<size_t>(b)]; }
  std::mt19937_64& rng() { return rng_; }
  int64_t uniform_int(int64_t lo, int64_t hi);  // inclusive
  double uniform(double lo, double hi);
  // A tensor of `spec`'s resolved shape, filled by fill(index per declared dim) -> value.
  // `free_sizes`: the sizes of the spec's ArgDim::any dims, in order.
  void tensor(const ArgSpec& spec, const std::function<double(const std::vector<int64_t>&)>& fill,
              const std::vector<int64_t>& free_sizes = {});
  void scalar(const std::string& name, double v);
  VariantArgs args() const;

 private:
  ProblemDims dims_;
  std::vector<int64_t> len_q_, len_k_;
  std::mt19937_64 rng_;
  std::map<std::string, HostTensor> tensors_;
  VariantArgs values_;
};

// Which specialisations of a variant are compiled ahead of time for the GPU (the interpreter
// builds any): head-dim shapes of kernel_table.h's block_shapes(), dtypes, softcap settings.
struct CompiledFor {
  std::vector<HeadDims> head_dims;
  std::vector<DType> dtypes{DType::bf16, DType::f16};
  std::vector<bool> softcaps{false};
};

struct VariantSpec {
  std::string name, summary;
  std::vector<ArgSpec> args;
  // fp64 reference, scalar C++ of the kernel's math. Scores are natural-log domain, after the
  // softmax scale and softcap. Null members: the identity / all visible.
  std::function<double(const RefArgs&, const RefIndex&, double score)> score_mod;
  std::function<double(const RefArgs&, const RefIndex&, double score)> score_mod_grad;  // d out / d score
  std::function<bool(const RefArgs&, const RefIndex&)> mask_mod;
  // Adds d loss / d (trainable arguments) of one pair, given d loss / d (this mod's output score).
  std::function<void(const RefArgs&, const RefIndex&, double dscore, RefGrads&)> arg_grad;
  std::function<void(ArgGenerator&)> generate;
  // Arguments for speed runs (//bench:flash_attn, bench/compare_flex.py mirrors them): a
  // realistic setting rather than a random one. Null: `generate`.
  std::function<void(ArgGenerator&)> bench_args;
  CompiledFor compiled;
  // Whether the mods read token positions (query/key indices, sequence lengths) or per-token
  // arguments. A ring step sees a block of keys at offsets its call does not know: the
  // distributed ring runs only variants that do not (distributed/README.md).
  bool reads_positions = true;

  // The expected shape of tensor argument `a` for a problem (a batch-optional dim included).
  std::vector<int64_t> shape_of(const ArgSpec& a, const ProblemDims& d, bool with_batch = true) const;
};

// ---- registry -----------------------------------------------------------------------------
bool register_variant(VariantSpec spec);
// Null when unknown.
const VariantSpec* find_variant(const std::string& name);
std::vector<std::string> variant_names();  // sorted

// A variant as a call names it: one registered name, or several joined by '+' (their score
// mods applied in order, their masks combined: a key is visible only if every mask keeps it).
struct VariantChain {
  std::vector<const VariantSpec*> parts;  // empty: plain attention
  std::string name;                       // "alibi+document_mask"
  bool empty() const { return parts.empty(); }
  bool has_mask() const;
  bool has_score_mod() const;
  bool has_arg_grads() const;
  // Every argument of every part; a name declared by two parts is an error at parse time.
  std::vector<ArgSpec> args() const;
};
// Throws std::invalid_argument naming `argument` on an unknown name or clashing arguments.
VariantChain parse_variant(const std::string& name, const char* argument = "variant");
// flash-attn's alibi_slopes option as a variant: `variant` with "alibi" chained first (unless
// it has it), and the slopes added to `args` (an error naming alibi_slopes if given twice).
std::string with_alibi(const std::string& variant, const TensorView& slopes, VariantArgs& args);

// The kernel-name suffix of a chain: "" for plain, "_alibi", "_alibi_and_document_mask".
std::string kernel_suffix(const VariantChain& chain);

// Checks `values` against the chain's arguments for a problem: every declared argument given,
// nothing else given, tensors with the declared dtype and shape on `device` (an unknown or
// misshapen one is std::invalid_argument naming it).
void check_variant_args(const VariantChain& chain, const VariantArgs& values, const ProblemDims& dims,
                        const Device& device);

}  // namespace tile::attention
