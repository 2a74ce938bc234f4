// Writing an attention variant: one file, one registration line (README, "Write a variant").
//
//   struct DocumentMask {
//     static constexpr const char* name = "document_mask";
//     static constexpr const char* summary = "query i sees key j only within its document";
//     static std::vector<ArgSpec> args();                        // declared once
//     static bool mask_ref(const RefArgs&, const RefIndex&);     // fp64 reference, scalar C++
//     static void generate(ArgGenerator&);                       // random valid arguments
//     struct Kernel : VariantMod {                               // the DSL side
//       void setup_queries(const QuerySide&) override;           // optional, once per program
//       Tile mask(const ScoreContext&) override;
//     };
//   };
//   TILE_ATTENTION_VARIANT(DocumentMask);
//
// A variant defines any of (static members of its struct):
//   mask_ref(args, index) -> bool         with Kernel::mask: FlexAttention's mask_mod
//   score_ref(args, index, s) -> double   with Kernel::apply: its score_mod (natural-log scores
//                                         after scale and softcap; the kernel's are log2: s*log2e)
//   score_grad_ref(args, index, s)        d score_ref / d s, with Kernel::grad, for mods that are
//                                         not additive (an additive bias needs neither)
//   compiled() -> CompiledFor             what the GPU build compiles ahead of time (default:
//                                         head_dim 128, bf16 and fp16, no softcap)
//   bench_args(ArgGenerator&)             realistic arguments for speed runs (default: generate)
//   reads_positions = false               (static constexpr bool) its mods read only the batch
//                                         and head indices and per-head/per-sequence arguments,
//                                         never token positions or lengths: a ring step, which
//                                         sees keys at offsets the call does not know, can run it
//                                         (default: true)
//
// The file is compiled twice (attention/variants/variants.bzl): for the host (registry, API,
// references, CLIs; no MLIR, the Kernel struct is never instantiated) and with
// TILE_ATTENTION_VARIANT_KERNELS for the DSL kernels.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "attention/kernels/attention_kernel.h"
#include "attention/variants/variant_spec.h"
#include "dsl/tile.h"

namespace tile::attention {

// A kernel argument index: a scalar (Int) or a tile of indices, broadcast together.
struct ArgIndex {
  ArgIndex(const Int& i) : scalar(i) {}
  ArgIndex(int i) : scalar(i) {}
  ArgIndex(const Tile& t) : tile(t), is_tile(true) {}
  Int scalar;
  Tile tile;
  bool is_tile = false;
};

// The base of a variant's Kernel struct: declares the variant's arguments as kernel arguments
// (a tensor `x` becomes the pointer `x` and i32 `x_stride<d>` and `x_size<d>` per declared dim,
// a scalar its own i32/f32 argument) and gives the hooks access to them by name.
class VariantMod : public ScoreMod {
 public:
  struct TensorArg {
    Ptr ptr;
    std::vector<Int> strides, sizes;  // per declared dim
    // Elements at one index per declared dim (at least one a tile); lanes where `mask` is false
    // read nothing and give `other`.
    Tile gather(const std::vector<ArgIndex>& index, const Tile& mask, double other = 0.0) const;
    Scalar at(const std::vector<Int>& index) const;
    // Adds `values` atomically at one index per declared dim (lanes where `mask` is false add
    // nothing): how a trainable argument's gradient accumulates.
    void scatter_add(const std::vector<ArgIndex>& index, const Tile& values, const Tile& mask) const;
  };

  void configure(std::vector<ArgSpec> specs, bool mask, bool modifies_scores);
  void declare_args(KernelBuilder& k) override;
  // Backward kernels: for each trainable tensor `x`, the f32 gradient `x_grad` (its strides as
  // `x_grad_stride<d>`).
  void declare_grad_args(KernelBuilder& k) override;
  bool has_arg_grads() const override;
  bool has_mask() const override { return has_mask_; }
  bool modifies_scores() const override { return modifies_scores_; }

  const TensorArg& tensor(const std::string& name) const;
  const Scalar& scalar(const std::string& name) const;
  // The gradient of trainable tensor `name` (declare_grad_args).
  const TensorArg& grad_of(const std::string& name) const;

 private:
  std::vector<ArgSpec> specs_;
  bool has_mask_ = false, modifies_scores_ = false;
  std::map<std::string, TensorArg> tensors_, grads_;
  std::map<std::string, Scalar> scalars_;
};

// ---- kernel-side registry (linked only where the DSL is) -------------------------------------
using VariantModFactory = std::function<std::unique_ptr<VariantMod>()>;
bool register_variant_kernel(const std::string& name, VariantModFactory factory);

namespace variant_detail {

template <class T, class = void> struct has_mask_ref : std::false_type {};
template <class T> struct has_mask_ref<T, std::void_t<decltype(&T::mask_ref)>> : std::true_type {};
template <class T, class = void> struct has_score_ref : std::false_type {};
template <class T> struct has_score_ref<T, std::void_t<decltype(&T::score_ref)>> : std::true_type {};
template <class T, class = void> struct has_score_grad_ref : std::false_type {};
template <class T> struct has_score_grad_ref<T, std::void_t<decltype(&T::score_grad_ref)>> : std::true_type {};
template <class T, class = void> struct has_arg_grad_ref : std::false_type {};
template <class T> struct has_arg_grad_ref<T, std::void_t<decltype(&T::arg_grad_ref)>> : std::true_type {};
template <class T, class = void> struct has_bench_args : std::false_type {};
template <class T> struct has_bench_args<T, std::void_t<decltype(&T::bench_args)>> : std::true_type {};
template <class T, class = void> struct has_reads_positions : std::false_type {};
template <class T> struct has_reads_positions<T, std::void_t<decltype(T::reads_positions)>> : std::true_type {};
template <class T, class = void> struct has_compiled : std::false_type {};
template <class T> struct has_compiled<T, std::void_t<decltype(&T::compiled)>> : std::true_type {};

// The host description of variant T.
template <class T>
VariantSpec describe() {
  VariantSpec s;
  s.name = T::name;
  s.summary = T::summary;
  s.args = T::args();
  if constexpr (has_mask_ref<T>::value) s.mask_mod = &T::mask_ref;
  if constexpr (has_score_ref<T>::value) s.score_mod = &T::score_ref;
  if constexpr (has_score_grad_ref<T>::value) s.score_mod_grad = &T::score_grad_ref;
  if constexpr (has_arg_grad_ref<T>::value) s.arg_grad = &T::arg_grad_ref;
  s.generate = &T::generate;
  if constexpr (has_bench_args<T>::value) s.bench_args = &T::bench_args;
  if constexpr (has_reads_positions<T>::value) s.reads_positions = T::reads_positions;
  if constexpr (has_compiled<T>::value) s.compiled = T::compiled();
  else s.compiled.head_dims = {HeadDims{128, 128, false}};
  return s;
}

template <class T>
bool register_type() {
#ifdef TILE_ATTENTION_VARIANT_KERNELS
  return register_variant_kernel(T::name, [] {
    auto m = std::make_unique<typename T::Kernel>();
    m->configure(T::args(), has_mask_ref<T>::value, has_score_ref<T>::value);
    return std::unique_ptr<VariantMod>(std::move(m));
  });
#else
  return register_variant(describe<T>());
#endif
}

}  // namespace variant_detail
}  // namespace tile::attention

#define TILE_ATTENTION_VARIANT_CONCAT_INNER(a, b) a##b
#define TILE_ATTENTION_VARIANT_CONCAT(a, b) TILE_ATTENTION_VARIANT_CONCAT_INNER(a, b)
// One line per variant, after its struct; the struct should live in an anonymous namespace.
#define TILE_ATTENTION_VARIANT(Type)                                                  \
  static const bool TILE_ATTENTION_VARIANT_CONCAT(tile_attention_variant_, __COUNTER__) = \
      ::tile::attention::variant_detail::register_type<Type>()
