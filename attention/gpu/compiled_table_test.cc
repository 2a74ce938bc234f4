// The compiled kernel table against the specialisation table (kernel_table.h): the host API picks
// kernels from kernel_table.h, kernel_instances.bzl decides what is compiled; a difference would
// surface only on the GPU machine, as "not among the compiled specialisations".
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "attention/gpu/gpu_backend.h"
#include "attention/host/api.h"
#include "attention/kernels/kernel_table.h"
#include "catch2/catch.hpp"

namespace tile::attention {
namespace {

// Every (kernel, params) the host API can launch (api.cc: forward, backward with either dQ
// strategy): plain attention at every specialisation and softcap setting, and each registered
// variant at what its file's compiled() declares.
std::set<std::string> instances_the_host_can_ask_for() {
  std::set<std::string> names;
  auto family = [&](const std::string& suffix, const Params& f, const Params& p) {
    names.insert(instance_name(fwd_kernel_name(suffix), f));
    names.insert(instance_name(dq_kernel_name(suffix), p));
    for (bool atomic : {false, true}) names.insert(instance_name(dkdv_kernel_name(suffix), dkdv_params(p, atomic)));
  };
  for (const BlockShape& shape : block_shapes())
    for (DType dtype : kernel_dtypes())
      for (bool softcap : {false, true}) {
        if (softcap && shape.plain_only) continue;
        const Params f = fwd_params(shape, dtype, softcap), p = bwd_params(shape, dtype, softcap);
        names.insert(instance_name(kPreprocessKernel, p));
        names.insert(instance_name(kDqConvertKernel, p));
        family("", f, p);
      }
  for (const std::string& v : variant_names()) {
    const CompiledFor& c = find_variant(v)->compiled;
    for (const HeadDims& dims : c.head_dims)
      for (DType dtype : c.dtypes)
        for (bool softcap : c.softcaps) {
          const BlockShape shape = block_shape_of(dims);
          family("_" + v, fwd_params(shape, dtype, softcap), bwd_params(shape, dtype, softcap));
          if (!find_variant(v)->mask_mod) continue;
          family(block_sparse_suffix("_" + v), fwd_params(shape, dtype, softcap), bwd_params(shape, dtype, softcap));
          for (const Blocks& b : {shape.fwd, shape.bwd}) {
            names.insert(instance_name(kBlockMaskKernel + std::string("_") + v, block_mask_params(b)));
            names.insert(instance_name(kBlockMaskColumnsKernel, block_mask_params(b)));
          }
        }
  }
  return names;
}

TEST_CASE("every kernel the host API can launch is compiled") {
  const std::set<std::string> wanted = instances_the_host_can_ask_for();
  // Plain: per head-dim specialisation, dtype and softcap, preprocess and dq_convert, the
  // forward, dQ and both dK/dV kernels: 6 x 2 x 2 x 6 = 144 with every feature and 3 x 2 x 6 = 36
  // for the head_dim_v pairs; the block-mask columns program at the 2 block shapes of d=128.
  // ALiBi: 6 x 2 x 2 x 4 = 96. Every other variant: 2 dtypes x 4, and with a mask 2 x 4
  // block-sparse kernels and its block-mask builder at the 2 block shapes of d=128.
  size_t masks = 0;
  for (const std::string& v : variant_names()) masks += find_variant(v)->mask_mod ? 1 : 0;
  CHECK(wanted.size() == 144 + 36 + 2 + 96 + 8 * (variant_names().size() - 1) + 10 * masks);
  for (const std::string& name : wanted) {
    INFO(name);
    const rt::KernelImage* image = compiled_image(name);
    REQUIRE(image != nullptr);
    CHECK(std::string(image->name) == name);
    CHECK(image->cubin_size > 0);
  }
}

TEST_CASE("nothing is compiled that the host API cannot launch") {
  const std::set<std::string> wanted = instances_the_host_can_ask_for();
  for (const std::string& name : compiled_instances()) {
    INFO(name);
    CHECK(wanted.count(name) == 1);
  }
}

TEST_CASE("instance names follow kernel_instances.bzl") {
  const Params p = fwd_params(*block_shape_for(128, 128), DType::bf16, false);
  CHECK(instance_name("attn_fwd", p) ==
        "attn_fwd__block_m128_block_n128_dtypebf16_head_dim128_head_dim_v128_num_warps8_raggedfalse_softcapfalse");
  CHECK(compiled_image("attn_fwd__no_such_params") == nullptr);
}

// Host memory; each launch is bound by name to the parameters of the compiled image the GPU
// backend would launch (what GpuBackend::launch does), and nothing runs.
class BindingBackend : public Backend {
 public:
  std::set<std::string> bound;
  Device device() const override { return Device::cpu(); }
  std::string name() const override { return "binding"; }
  void* alloc_zeroed(size_t bytes) override { return std::calloc(bytes ? bytes : 1, 1); }
  void free(void* p) override { std::free(p); }
  void read(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void write(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void launch(const KernelCall& call) override {
    const std::string name = instance_name(call.kernel, call.params);
    const rt::KernelImage* image = compiled_image(name);
    REQUIRE(image != nullptr);
    std::vector<std::string> declared;
    for (int i = 0; i < image->num_params; ++i) declared.push_back(image->params[i].name);
    CHECK(bind_arguments(call, declared).size() == declared.size());
    bound.insert(name);
  }
};

// Each registered variant other than ALiBi at head_dim 128 (its default compiled set), with
// arguments from its generator, through the forward and the backward.
void bind_every_variant(Backend& be, DType dtype, bool deterministic) {
  const int64_t B = 2, S = 3, H = 2, D = 128;
  for (const std::string& name : variant_names()) {
    if (name == "alibi") continue;
    ProblemDims dims;
    dims.batch = B, dims.nheads = H, dims.nheads_k = H, dims.seqlen_q = S, dims.seqlen_k = S;
    dims.total_q = dims.total_k = B * S;
    ArgGenerator gen(dims, {S, S}, {S, S}, 7);
    find_variant(name)->generate(gen);
    HostTensor q(dtype, {B, S, H, D}), k(dtype, {B, S, H, D}), v(dtype, {B, S, H, D}), out(dtype, {B, S, H, D}),
        dout(dtype, {B, S, H, D}), dq(dtype, {B, S, H, D}), dk(dtype, {B, S, H, D}), dvt(dtype, {B, S, H, D});
    HostTensor lse(DType::f32, {B, H, S});
    FlashAttnOptions o;
    o.deterministic = deterministic;
    o.variant = name;
    o.variant_args = gen.args();
    INFO("variant " << name);
    flash_attn_func(be, q.view(), k.view(), v.view(), out.view(), lse.view(), o);
    flash_attn_backward(be, dout.view(), q.view(), k.view(), v.view(), out.view(), lse.view(),
                        {dq.view(), dk.view(), dvt.view()}, o);
    if (!find_variant(name)->mask_mod) continue;
    const BlockMask mask = create_block_mask(be, q.view(), k.view(), v.view(), nullptr, o);
    o.block_mask = &mask;
    flash_attn_func(be, q.view(), k.view(), v.view(), out.view(), lse.view(), o);
    flash_attn_backward(be, dout.view(), q.view(), k.view(), v.view(), out.view(), lse.view(),
                        {dq.view(), dk.view(), dvt.view()}, o);
  }
}

TEST_CASE("the host API's launch arguments bind to every compiled kernel's parameters") {
  BindingBackend be;
  for (const BlockShape& shape : block_shapes())
    for (DType dtype : kernel_dtypes())
      for (bool softcap : {false, true})
        for (bool alibi : {false, true})
          for (bool deterministic : {false, true}) {
            if (shape.plain_only && (softcap || alibi)) continue;
            if (!shape.plain_only && !shape.dims.ragged && shape.dims.dim == 128 && !softcap && !alibi)
              bind_every_variant(be, dtype, deterministic);
            // A head dim that selects exactly this specialisation (81 for ragged 128, ...).
            const int d = shape.dims.ragged ? shape.dims.dim * 5 / 8 + 1 : shape.dims.dim;
            const int dv = shape.dims.ragged ? shape.dims.dim_v * 5 / 8 + 1 : shape.dims.dim_v;
            HostTensor q(dtype, {1, 3, 2, d}), k(dtype, {1, 3, 2, d}), v(dtype, {1, 3, 2, dv}), out(dtype, {1, 3, 2, dv}),
                dout(dtype, {1, 3, 2, dv}), dq(dtype, {1, 3, 2, d}), dk(dtype, {1, 3, 2, d}), dvt(dtype, {1, 3, 2, dv});
            HostTensor lse(DType::f32, {1, 2, 3}), slopes(DType::f32, {2});
            FlashAttnOptions o;
            o.softcap = softcap ? 2.0 : 0.0;
            o.deterministic = deterministic;
            if (alibi) o.alibi_slopes = slopes.view();
            INFO("head_dim " << d << ", head_dim_v " << dv);
            flash_attn_func(be, q.view(), k.view(), v.view(), out.view(), lse.view(), o);
            flash_attn_backward(be, dout.view(), q.view(), k.view(), v.view(), out.view(), lse.view(),
                                {dq.view(), dk.view(), dvt.view()}, o);
          }
  CHECK(be.bound.size() == compiled_instances().size());  // every compiled kernel was bound
}

}  // namespace
}  // namespace tile::attention
