// The kernel side of the variant registry: each variant's DSL hooks (registered by
// TILE_ATTENTION_VARIANT in the kernel build of its file), their combination into one score
// modification for a chain "a+b", and the kernel families attn_fwd_<suffix>,
// attn_bwd_dkdv_<suffix> and attn_bwd_dq_<suffix> built on demand for any chain.
#include <functional>
#include <map>
#include <stdexcept>

#include "attention/kernels/kernel_table.h"
#include "attention/variants/variant.h"

namespace tile::attention {

// ---- VariantMod -------------------------------------------------------------------------------

void VariantMod::configure(std::vector<ArgSpec> specs, bool mask, bool modifies_scores) {
  specs_ = std::move(specs);
  has_mask_ = mask;
  modifies_scores_ = modifies_scores;
}

void VariantMod::declare_args(KernelBuilder& k) {
  for (const ArgSpec& a : specs_) {
    switch (a.kind) {
      case ArgSpec::Kind::scalar_i32: scalars_[a.name] = k.arg_i32(a.name); break;
      case ArgSpec::Kind::scalar_f32: scalars_[a.name] = k.arg_f32(a.name); break;
      case ArgSpec::Kind::tensor: {
        TensorArg t;
        t.ptr = k.arg_ptr(a.name, a.dtype);
        for (size_t d = 0; d < a.dims.size(); ++d) {
          t.strides.push_back(k.arg_i32(a.name + "_stride" + std::to_string(d)));
          t.sizes.push_back(k.arg_i32(a.name + "_size" + std::to_string(d)));
        }
        tensors_[a.name] = t;
        break;
      }
    }
  }
}

void VariantMod::declare_grad_args(KernelBuilder& k) {
  for (const ArgSpec& a : specs_) {
    if (!a.has_grad) continue;
    TensorArg t;
    t.ptr = k.arg_ptr(a.name + "_grad", DType::f32);
    for (size_t d = 0; d < a.dims.size(); ++d) t.strides.push_back(k.arg_i32(a.name + "_grad_stride" + std::to_string(d)));
    t.sizes = tensor(a.name).sizes;
    grads_[a.name] = t;
  }
}

bool VariantMod::has_arg_grads() const {
  for (const ArgSpec& a : specs_)
    if (a.has_grad) return true;
  return false;
}

const VariantMod::TensorArg& VariantMod::grad_of(const std::string& name) const {
  auto it = grads_.find(name);
  if (it == grads_.end())
    throw std::logic_error("variant kernel reads the gradient of '" + name + "', which is not trainable or not declared here");
  return it->second;
}

const VariantMod::TensorArg& VariantMod::tensor(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw std::logic_error("variant kernel reads undeclared tensor argument '" + name + "'");
  return it->second;
}

const Scalar& VariantMod::scalar(const std::string& name) const {
  auto it = scalars_.find(name);
  if (it == scalars_.end()) throw std::logic_error("variant kernel reads undeclared scalar argument '" + name + "'");
  return it->second;
}

namespace {

// Element offsets of one index per declared dim: the scalar indices summed into `base`, the
// tile ones into `offsets` (at least one needed: `what` names the caller for the error).
struct Addresses {
  Int base;
  Tile offsets;
};
Addresses addresses(const std::vector<Int>& strides, const std::vector<ArgIndex>& index, const char* what) {
  if (index.size() != strides.size())
    throw std::logic_error(std::string("TensorArg::") + what + ": the argument takes " + std::to_string(strides.size()) +
                           " indices, got " + std::to_string(index.size()));
  Addresses a{Int(0), Tile()};
  bool have_tile = false;
  for (size_t d = 0; d < index.size(); ++d) {
    if (!index[d].is_tile) {
      a.base = a.base + index[d].scalar * strides[d];
      continue;
    }
    Tile part = index[d].tile * strides[d];
    a.offsets = have_tile ? a.offsets + part : part;
    have_tile = true;
  }
  if (!have_tile) throw std::logic_error(std::string("TensorArg::") + what + " needs at least one tile index (at() reads one element)");
  return a;
}

}  // namespace

Tile VariantMod::TensorArg::gather(const std::vector<ArgIndex>& index, const Tile& mask, double other) const {
  const Addresses a = addresses(strides, index, "gather");
  return load(ptr + a.base, a.offsets, mask, other);
}

void VariantMod::TensorArg::scatter_add(const std::vector<ArgIndex>& index, const Tile& values, const Tile& mask) const {
  const Addresses a = addresses(strides, index, "scatter_add");
  // The offsets broadcast to the values' shape.
  atomic_add(ptr + a.base, a.offsets + zeros(values.shape(), DType::i32), values, mask);
}

Scalar VariantMod::TensorArg::at(const std::vector<Int>& index) const {
  if (index.size() != strides.size())
    throw std::logic_error("variant tensor argument takes " + std::to_string(strides.size()) + " indices");
  Int offset = 0;
  for (size_t d = 0; d < index.size(); ++d) offset = offset + index[d] * strides[d];
  return load_scalar(ptr, offset);
}

// ---- registry ---------------------------------------------------------------------------------

namespace {

std::map<std::string, VariantModFactory>& factories() {
  static std::map<std::string, VariantModFactory> f;
  return f;
}

// Several variants as one: score mods in order, masks combined, gradients back through the
// chain in reverse.
class ChainMod : public ScoreMod {
 public:
  explicit ChainMod(std::vector<std::unique_ptr<VariantMod>> parts) : parts_(std::move(parts)) {}
  void declare_args(KernelBuilder& k) override {
    for (auto& p : parts_) p->declare_args(k);
  }
  void declare_grad_args(KernelBuilder& k) override {
    for (auto& p : parts_) p->declare_grad_args(k);
  }
  bool has_arg_grads() const override {
    for (auto& p : parts_)
      if (p->has_arg_grads()) return true;
    return false;
  }
  // Each part gets d loss / d (its own output): the chain rule back from the last part.
  void accumulate_arg_grads(const Tile& dscores, const Tile& scores_in, const ScoreContext& c) override {
    std::vector<Tile> inputs;
    std::vector<VariantMod*> mods;
    Tile s = scores_in;
    for (auto& p : parts_) {
      inputs.push_back(s);
      mods.push_back(p.get());
      if (p->modifies_scores()) s = p->apply(s, c);
    }
    Tile d = dscores;
    for (size_t i = mods.size(); i-- > 0;) {
      if (mods[i]->has_arg_grads()) mods[i]->accumulate_arg_grads(d, inputs[i], c);
      if (mods[i]->modifies_scores() && i > 0) d = mods[i]->grad(d, inputs[i], c);
    }
  }
  bool has_mask() const override {
    for (auto& p : parts_)
      if (p->has_mask()) return true;
    return false;
  }
  bool modifies_scores() const override {
    for (auto& p : parts_)
      if (p->modifies_scores()) return true;
    return false;
  }
  void setup_queries(const QuerySide& q) override {
    for (auto& p : parts_) p->setup_queries(q);
  }
  void setup_keys(const KeySide& k) override {
    for (auto& p : parts_) p->setup_keys(k);
  }
  Tile apply(const Tile& scores, const ScoreContext& c) override {
    Tile s = scores;
    for (auto& p : parts_)
      if (p->modifies_scores()) s = p->apply(s, c);
    return s;
  }
  Tile mask(const ScoreContext& c) override {
    Tile m;
    bool any = false;
    for (auto& p : parts_)
      if (p->has_mask()) {
        m = any ? m & p->mask(c) : p->mask(c);
        any = true;
      }
    return any ? m : ScoreMod::mask(c);
  }
  Tile grad(const Tile& dscores, const Tile& scores_in, const ScoreContext& c) override {
    // The inputs of each score-modifying part, then the chain rule from the last part back.
    std::vector<Tile> inputs;
    std::vector<VariantMod*> mods;
    Tile s = scores_in;
    for (auto& p : parts_)
      if (p->modifies_scores()) {
        inputs.push_back(s);
        mods.push_back(p.get());
        s = p->apply(s, c);
      }
    Tile d = dscores;
    for (size_t i = mods.size(); i-- > 0;) d = mods[i]->grad(d, inputs[i], c);
    return d;
  }

 private:
  std::vector<std::unique_ptr<VariantMod>> parts_;
};

// "alibi_and_document_mask" -> the parts' mods; null when a part is not a registered variant.
std::unique_ptr<ScoreMod> mod_for_suffix(const std::string& suffix) {
  std::vector<std::unique_ptr<VariantMod>> parts;
  size_t start = 0;
  while (true) {
    const size_t sep = suffix.find("_and_", start);
    const std::string name = suffix.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
    auto it = factories().find(name);
    if (it == factories().end()) return nullptr;
    parts.push_back(it->second());
    if (sep == std::string::npos) break;
    start = sep + 5;
  }
  if (parts.size() == 1) return std::move(parts.front());
  return std::make_unique<ChainMod>(std::move(parts));
}

// The kernel families of variants: attn_fwd_<suffix> and attn_fwd_blocks_<suffix> (block
// sparse), the same for attn_bwd_dkdv and attn_bwd_dq, and attn_block_mask_<suffix>.
std::optional<KernelSpec> resolve_variant_kernel(const std::string& name) {
  using Body = std::function<void(KernelBuilder&, const Params&, ScoreMod*)>;
  const BlockShape shape = block_shape_of({128, 128, false});
  struct Family {
    std::string prefix;
    Body body;
    Params defaults;  // the d=128 bf16 specialisation; callers override them
  };
  const Params fwd = fwd_params(shape, DType::bf16, false), bwd = bwd_params(shape, DType::bf16, false);
  const Family families[] = {
      {"attn_fwd_blocks_", [](KernelBuilder& k, const Params& p, ScoreMod* m) { attention_forward(k, p, m, true); }, fwd},
      {"attn_bwd_dkdv_blocks_", [](KernelBuilder& k, const Params& p, ScoreMod* m) { attention_bwd_dkdv(k, p, m, true); },
       dkdv_params(bwd, true)},
      {"attn_bwd_dq_blocks_", [](KernelBuilder& k, const Params& p, ScoreMod* m) { attention_bwd_dq(k, p, m, true); }, bwd},
      {std::string(kBlockMaskKernel) + "_", attention_block_mask, block_mask_params(shape.fwd)},
      {"attn_fwd_", [](KernelBuilder& k, const Params& p, ScoreMod* m) { attention_forward(k, p, m); }, fwd},
      {"attn_bwd_dkdv_", [](KernelBuilder& k, const Params& p, ScoreMod* m) { attention_bwd_dkdv(k, p, m); }, dkdv_params(bwd, true)},
      {"attn_bwd_dq_", [](KernelBuilder& k, const Params& p, ScoreMod* m) { attention_bwd_dq(k, p, m); }, bwd},
  };
  for (const Family& f : families) {
    if (name.compare(0, f.prefix.size(), f.prefix) != 0) continue;
    const std::string suffix = name.substr(f.prefix.size());
    if (!mod_for_suffix(suffix)) continue;
    Body body = f.body;
    return KernelSpec{name, f.defaults, [body, suffix](KernelBuilder& k, const Params& p) {
                        std::unique_ptr<ScoreMod> mod = mod_for_suffix(suffix);
                        body(k, p, mod.get());
                      }};
  }
  return std::nullopt;
}

const bool resolver_registered = register_kernel_resolver(resolve_variant_kernel);

}  // namespace

bool register_variant_kernel(const std::string& name, VariantModFactory factory) {
  if (!factories().emplace(name, std::move(factory)).second)
    throw std::logic_error("variant kernel '" + name + "' registered twice");
  return true;
}

}  // namespace tile::attention
