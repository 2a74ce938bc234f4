// Plans the kernel launches of each flash-attn entry point (see api.h) and hands them to the
// backend. Launch arguments carry the names the kernels declare them by (attention/kernels:
// HeadTensor, AttnScalars, BwdArgs, a variant's VariantMod::declare_args); backends bind them to the
// kernel's own signature.
#include "attention/host/api.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "attention/host/problem.h"
#include "attention/variants/arg_layout.h"

namespace tile::attention {

LaunchArg LaunchArg::i32(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) throw std::invalid_argument("kernel argument " + std::to_string(v) + " exceeds 32 bits");
  LaunchArg a;
  a.kind = Kind::i32;
  a.i = int32_t(v);
  return a;
}

namespace {

constexpr double kLog2e = 1.4426950408889634;

// Arguments are bound by name to the kernels' own declarations (HeadTensor::declare,
// AttnScalars::declare, BwdArgs, VariantMod::declare_args), so their order here is free.
using Args = std::vector<LaunchArg>;

// A (batch, seqlen, heads, head_dim) tensor `name`: the pointer and its three strides.
void push_head(Args& args, const std::string& name, const HeadOperand& t) {
  args.push_back(LaunchArg::buffer(t.data, t.dtype, t.extent).named(name));
  args.push_back(LaunchArg::i32(t.batch_stride).named(name + "_batch_stride"));
  args.push_back(LaunchArg::i32(t.row_stride).named(name + "_row_stride"));
  args.push_back(LaunchArg::i32(t.head_stride).named(name + "_head_stride"));
}

// Buffers a plan owns for the duration of one API call.
struct Scratch {
  explicit Scratch(Backend& backend) : be(backend) {}
  Backend& be;
  std::vector<std::unique_ptr<Workspace>> buffers;
  void* get(size_t bytes) {
    if (bytes == 0) return nullptr;  // empty problems: nothing reads it
    buffers.push_back(std::make_unique<Workspace>(be, bytes));
    return buffers.back()->get();
  }
};

// A pointer argument the kernel never dereferences in this configuration: an empty range (the
// interpreter reports any read of it as out of bounds), so no workspace is allocated per call.
LaunchArg unused_buffer(const AttnProblem& p, DType t) { return LaunchArg::buffer(p.lse.data, t, 0); }

// AttnScalars.
void push_scalars(Args& args, const AttnProblem& p) {
  auto i32 = [&](const char* name, int64_t v) { args.push_back(LaunchArg::i32(v).named(name)); };
  auto f32 = [&](const char* name, double v) { args.push_back(LaunchArg::f32(float(v)).named(name)); };
  i32("head_dim", p.head_dim);
  i32("head_dim_v", p.head_dim_v);
  if (p.varlen) {
    args.push_back(LaunchArg::buffer(p.cu_seqlens_q.data, DType::i32, p.cu_seqlens_q.numel()).named("cu_seqlens_q"));
    args.push_back(LaunchArg::buffer(p.cu_seqlens_k.data, DType::i32, p.cu_seqlens_k.numel()).named("cu_seqlens_k"));
  } else {  // read only when is_varlen != 0
    args.push_back(unused_buffer(p, DType::i32).named("cu_seqlens_q"));
    args.push_back(unused_buffer(p, DType::i32).named("cu_seqlens_k"));
  }
  i32("is_varlen", p.varlen ? 1 : 0);
  i32("seqlen_q", p.seqlen_q);
  i32("seqlen_k", p.seqlen_k);
  i32("nheads", p.nheads);
  i32("heads_per_kv", p.nheads / p.nheads_k);
  f32("softmax_scale", p.softmax_scale);
  const bool cap = p.softcap > 0;
  f32("qk_scale", cap ? p.softmax_scale / p.softcap : p.softmax_scale * kLog2e);
  f32("cap_scale", cap ? p.softcap * kLog2e : 0.0);
  i32("window_left", p.window_left);
  i32("window_right", p.window_right);
  // LSE / delta are (batch, nheads, seqlen_q), or (nheads, total_q) for varlen.
  i32("lse_batch_stride", p.varlen ? 0 : int64_t(p.nheads) * p.seqlen_q);
  i32("lse_head_stride", p.varlen ? p.total_q : p.seqlen_q);
}

// The variant's arguments (variant_spec.h): a tensor `x` as the pointer `x` with i32 `x_stride<d>`
// and `x_size<d>` per declared dim (VariantMod::declare_args), scalars by their names.
void push_variant_args(Args& args, const AttnProblem& p) {
  for (const ArgSpec& a : p.variant.args()) {
    const VariantArg& value = p.variant_args.at(a.name);
    if (a.kind == ArgSpec::Kind::scalar_i32) {
      args.push_back(LaunchArg::i32(int64_t(value.number)).named(a.name));
      continue;
    }
    if (a.kind == ArgSpec::Kind::scalar_f32) {
      args.push_back(LaunchArg::f32(float(value.number)).named(a.name));
      continue;
    }
    const TensorView& t = value.tensor;
    const bool with_batch = int(a.dims.size()) == t.rank || !a.batch_optional;
    int64_t extent = t.numel() == 0 ? 0 : 1;
    for (int d = 0; d < t.rank && extent > 0; ++d) extent += (t.size(d) - 1) * t.stride(d);
    args.push_back(LaunchArg::buffer(t.data, a.dtype, extent).named(a.name));
    const std::vector<DimLayout> layout = dim_layouts(a, p.dims, with_batch, &t);
    for (size_t d = 0; d < layout.size(); ++d) {
      args.push_back(LaunchArg::i32(layout[d].stride).named(a.name + "_stride" + std::to_string(d)));
      args.push_back(LaunchArg::i32(layout[d].size).named(a.name + "_size" + std::to_string(d)));
    }
  }
}

// The gradients of trainable arguments: the caller's f32 tensors (zeroed here, then accumulated
// by the dK/dV kernel) or scratch, as `x_grad` and `x_grad_stride<d>`.
void push_variant_grads(Args& args, const AttnProblem& p, const VariantArgs& grads, Scratch& scratch,
                        const std::vector<NamedView>& inputs) {
  for (const auto& [name, value] : grads) {
    bool trainable = false;
    for (const ArgSpec& a : p.variant.args()) trainable = trainable || (a.name == name && a.has_grad);
    if (!trainable)
      throw std::invalid_argument("variant_grads: expected only trainable arguments of " +
                                  (p.variant.empty() ? std::string("plain attention (none)") : p.variant.name) + ", got '" + name + "'");
  }
  // Every given gradient is checked before any is written.
  std::vector<std::pair<const ArgSpec*, TensorView>> outputs;  // undefined view: scratch
  const std::vector<ArgSpec> specs = p.variant.args();
  for (const ArgSpec& a : specs) {
    if (!a.has_grad) continue;
    auto it = grads.find(a.name);
    if (it == grads.end()) {
      outputs.push_back({&a, TensorView()});
      continue;
    }
    const TensorView& arg = p.variant_args.at(a.name).tensor;
    const TensorView& g = it->second.tensor;
    const std::string what = a.name + " gradient (variant_grads[\"" + a.name + "\"])";
    if (!it->second.is_tensor || (!g.defined() && g.numel() > 0)) throw std::invalid_argument(what + ": expected a tensor");
    if (g.device != arg.device) throw std::invalid_argument(what + ": expected a tensor on " + arg.device.str() + ", got one on " + g.device.str());
    if (g.dtype != DType::f32) throw std::invalid_argument(what + ": expected f32, got " + dtype_name(g.dtype));
    if (g.sizes() != arg.sizes() || !g.is_contiguous())
      throw std::invalid_argument(what + ": expected a contiguous tensor of shape " + arg.shape_str() + ", got " + g.shape_str());
    const std::string out_name = "variant_grads[\"" + a.name + "\"]";
    check_output_overlap(g, out_name.c_str(), inputs);
    outputs.push_back({&a, g});
  }
  for (auto& [a, g] : outputs) {
    const TensorView& arg = p.variant_args.at(a->name).tensor;
    if (g.defined()) {  // the dK/dV kernel accumulates into it
      if (g.numel() == 0) continue;
      std::vector<float> zeros(size_t(g.numel()), 0.0f);
      scratch.be.write(g.data, zeros.data(), zeros.size() * sizeof(float));
    } else {
      g = TensorView::contiguous(scratch.get(size_t(arg.numel()) * sizeof(float)), DType::f32, arg.sizes(), arg.device);
    }
    args.push_back(LaunchArg::buffer(g.data, DType::f32, g.numel()).named(a->name + "_grad"));
    for (int d = 0; d < g.rank; ++d) args.push_back(LaunchArg::i32(g.stride(d)).named(a->name + "_grad_stride" + std::to_string(d)));
  }
}

// A block mask level's arguments (block_mask_args.h).
void push_block_mask(Args& args, const BlockMaskLevel& l, int heads) {
  auto i32_buffer = [&](const char* name, const std::shared_ptr<Workspace>& w, int64_t n) {
    args.push_back(LaunchArg::buffer(w->get(), DType::i32, n).named(name));
  };
  i32_buffer("bm_cls", l.cls, l.cls_elements);
  i32_buffer("bm_kv_list", l.kv_list, l.kv_list_elements);
  i32_buffer("bm_q_list", l.q_list, l.q_list_elements);
  args.push_back(LaunchArg::i32(heads).named("bm_heads"));
  args.push_back(LaunchArg::i32(l.m_blocks).named("bm_m_blocks"));
  args.push_back(LaunchArg::i32(l.n_blocks).named("bm_n_blocks"));
}

// Kernel-name suffix of a call: the variant's, block sparse with a block mask.
std::string call_suffix(const AttnProblem& p) {
  const std::string v = kernel_suffix(p.variant);
  return p.block_mask ? block_sparse_suffix(v) : v;
}

Params fwd_params_of(const AttnProblem& p) { return fwd_params(p.blocks, p.dtype, p.softcap > 0); }
Params bwd_params_of(const AttnProblem& p) { return bwd_params(p.blocks, p.dtype, p.softcap > 0); }

int cdiv(int a, int b) { return (a + b - 1) / b; }

// Empty batches or sequences give empty grids: nothing to run (CUDA refuses a zero grid).
void launch_nonempty(Backend& be, const KernelCall& call) {
  if (call.grid[0] > 0 && call.grid[1] > 0 && call.grid[2] > 0) be.launch(call);
}

// Programs of the persistent forward: the backend's, or TILE_FWD_PROGRAMS when set (a
// benchmarking knob, read once per process: a number at least the count of tile pairs gives one
// pair per program).
int64_t forward_programs(const Backend& be) {
  static const int64_t forced = [] {
    const char* env = std::getenv("TILE_FWD_PROGRAMS");
    return env ? std::max<int64_t>(0, std::atoll(env)) : 0;
  }();
  return forced > 0 ? forced : be.persistent_programs();
}

void run_forward(Backend& be, const AttnProblem& p) {
  KernelCall call;
  call.kernel = fwd_kernel_name(call_suffix(p));
  call.params = fwd_params_of(p);
  const int m_blocks = cdiv(p.seqlen_q, p.blocks.fwd.block_m);
  if (forward_is_persistent(p.block_mask != nullptr)) {
    // Each program walks pairs of tiles (fwd.cc): no more programs than pairs.
    const int64_t pairs = (int64_t(m_blocks) * p.batch * p.nheads + 1) / 2;
    call.grid = {int(std::min<int64_t>(pairs, forward_programs(be))), pairs > 0 ? 1 : 0, 1};
  } else {
    call.grid = {m_blocks, p.batch * p.nheads, 1};
  }
  call.args.push_back(LaunchArg::i32(p.batch).named("batch"));
  push_head(call.args, "q", p.q);
  push_head(call.args, "k", p.k);
  push_head(call.args, "v", p.v);
  push_head(call.args, "o", p.out);
  call.args.push_back(LaunchArg::buffer(p.lse.data, DType::f32, p.lse.numel()).named("lse"));
  push_scalars(call.args, p);
  push_variant_args(call.args, p);
  if (p.block_mask) push_block_mask(call.args, p.block_mask->fwd, p.block_mask->heads);
  launch_nonempty(be, call);
}

// `p` by value: the callers' problems are temporaries (moved, not copied), and the gradients'
// layouts may move it to the ragged kernels.
void run_backward(Backend& be, AttnProblem p, const TensorView& dout, const AttnGradViews& g,
                  const TensorView& q, const TensorView& k, const TensorView& v, const TensorView& out) {
  HeadOperand d_out = check_like(be, dout, "dout", q, "q", p.varlen, p.head_dim_v);
  HeadOperand dq = check_like(be, g.dq, "dq", q, "q", p.varlen);
  HeadOperand dk = check_like(be, g.dk, "dk", k, "k", p.varlen);
  HeadOperand dv = check_like(be, g.dv, "dv", v, "v", p.varlen);
  use_ragged_unless_aligned(p, {{&d_out, "dout"}, {&dq, "dq"}, {&dk, "dk"}, {&dv, "dv"}});
  // Gradients are written by programs that read every input: they may share memory with none
  // of them, nor with each other.
  const std::vector<NamedView> inputs = {{q, "q"},       {k, "k"},           {v, "v"},
                                         {out, "out"},   {dout, "dout"},     {p.lse, "softmax_lse"},
                                         {p.cu_seqlens_q, "cu_seqlens_q"}, {p.cu_seqlens_k, "cu_seqlens_k"}};
  auto with = [&](std::initializer_list<NamedView> outputs) {
    std::vector<NamedView> all = inputs;
    for (const NamedView& t : variant_tensors(p)) all.push_back(t);
    for (const NamedView& o : outputs) all.push_back(o);
    return all;
  };
  check_output_overlap(g.dq, "dq", with({{g.dk, "dk"}, {g.dv, "dv"}}));
  check_output_overlap(g.dk, "dk", with({{g.dv, "dv"}}));
  check_output_overlap(g.dv, "dv", with({}));

  Scratch scratch{be};
  const bool atomic = !p.deterministic;
  const int64_t rows_q = p.total_q, hd = p.head_dim;
  HeadOperand dq_accum;
  dq_accum.dtype = DType::f32;
  if (atomic) {
    // f32 (rows, nheads, head_dim), zero-filled: the dK/dV kernel adds dQ contributions into it.
    dq_accum.extent = rows_q * p.nheads * hd;
    dq_accum.data = scratch.get(size_t(dq_accum.extent) * sizeof(float));
    dq_accum.row_stride = int64_t(p.nheads) * hd;
    dq_accum.head_stride = hd;
    dq_accum.batch_stride = p.varlen ? 0 : int64_t(p.seqlen_q) * dq_accum.row_stride;
  } else {  // the deterministic dK/dV kernel never touches it: an empty range at dq's address,
    // which meets rows_aligned wherever the kernels assume it (dq then has aligned rows)
    dq_accum.data = dq.data;
    dq_accum.extent = 0;
    dq_accum.row_stride = kRowAlignBytes / sizeof(float);
  }
  void* delta = scratch.get(size_t(p.lse.numel()) * sizeof(float));
  void* lse_log2 = scratch.get(size_t(p.lse.numel()) * sizeof(float));  // written by the preprocess

  Args shared;
  const std::pair<const char*, const HeadOperand*> heads[] = {{"q", &p.q},    {"k", &p.k},   {"v", &p.v},
                                                              {"o", &p.out},  {"dout", &d_out}, {"dq", &dq},
                                                              {"dk", &dk},    {"dv", &dv},   {"dq_accum", &dq_accum}};
  for (auto [name, t] : heads) push_head(shared, name, *t);
  shared.push_back(LaunchArg::buffer(p.lse.data, DType::f32, p.lse.numel()).named("lse"));
  shared.push_back(LaunchArg::buffer(delta, DType::f32, p.lse.numel()).named("delta"));
  shared.push_back(LaunchArg::buffer(lse_log2, DType::f32, p.lse.numel()).named("lse_log2"));
  push_scalars(shared, p);
  Args with_variant = shared;
  push_variant_args(with_variant, p);
  push_variant_grads(with_variant, p, g.variant_grads, scratch, with({{g.dq, "dq"}, {g.dk, "dk"}, {g.dv, "dv"}}));

  const Params params = bwd_params_of(p);
  const Blocks& blocks = p.blocks.bwd_for(p.softcap > 0);
  const std::array<int, 3> q_grid{cdiv(p.seqlen_q, blocks.block_m), p.batch * p.nheads, 1};
  const std::array<int, 3> k_grid{cdiv(p.seqlen_k, blocks.block_n), p.batch * p.nheads_k, 1};
  const std::string var = call_suffix(p);
  if (p.block_mask) push_block_mask(with_variant, p.block_mask->bwd, p.block_mask->heads);
  launch_nonempty(be, KernelCall{kPreprocessKernel, params, q_grid, shared});
  launch_nonempty(be, KernelCall{dkdv_kernel_name(var), dkdv_params(params, atomic), k_grid, with_variant});
  if (atomic)
    launch_nonempty(be, KernelCall{kDqConvertKernel, params, q_grid, shared});
  else
    launch_nonempty(be, KernelCall{dq_kernel_name(var), params, q_grid, with_variant});
}

// (batch, seqlen, n, nheads, head_dim) packed tensor -> the view of slot `i`.
TensorView packed_slot(const TensorView& t, int slot_dim, int i, const char* name, int slots) {
  if (t.rank <= slot_dim || t.size(slot_dim) != slots)
    throw std::invalid_argument(std::string(name) + ": expected dimension " + std::to_string(slot_dim) + " of size " +
                                std::to_string(slots) + ", got shape " + t.shape_str());
  return t.select(slot_dim, i);
}

}  // namespace

void flash_attn_func(Backend& be, const TensorView& q, const TensorView& k, const TensorView& v,
                     const TensorView& out, const TensorView& lse, const FlashAttnOptions& o) {
  run_forward(be, make_problem(be, q, k, v, out, lse, nullptr, o));
}

void flash_attn_qkvpacked_func(Backend& be, const TensorView& qkv, const TensorView& out,
                               const TensorView& lse, const FlashAttnOptions& o) {
  if (qkv.rank != 5) throw std::invalid_argument("qkv: expected rank 5 (batch, seqlen, 3, nheads, head_dim), got shape " + qkv.shape_str());
  flash_attn_func(be, packed_slot(qkv, 2, 0, "qkv", 3), packed_slot(qkv, 2, 1, "qkv", 3),
                  packed_slot(qkv, 2, 2, "qkv", 3), out, lse, o);
}

void flash_attn_kvpacked_func(Backend& be, const TensorView& q, const TensorView& kv, const TensorView& out,
                              const TensorView& lse, const FlashAttnOptions& o) {
  if (kv.rank != 5) throw std::invalid_argument("kv: expected rank 5 (batch, seqlen, 2, nheads_k, head_dim), got shape " + kv.shape_str());
  if (q.rank == 4 && kv.size(4) != q.size(3))
    throw std::invalid_argument("kv: expected head_dim " + std::to_string(q.size(3)) +
                                " like q (kv packing stores k and v with one head_dim, so head_dim_v must equal head_dim; "
                                "use flash_attn_func for head_dim_v != head_dim), got " + std::to_string(kv.size(4)));
  flash_attn_func(be, q, packed_slot(kv, 2, 0, "kv", 2), packed_slot(kv, 2, 1, "kv", 2), out, lse, o);
}

void flash_attn_varlen_func(Backend& be, const TensorView& q, const TensorView& k, const TensorView& v,
                            const VarlenSeqs& seqs, const TensorView& out, const TensorView& lse,
                            const FlashAttnOptions& o) {
  run_forward(be, make_problem(be, q, k, v, out, lse, &seqs, o));
}

void flash_attn_varlen_qkvpacked_func(Backend& be, const TensorView& qkv, const TensorView& cu_seqlens,
                                      int max_seqlen, const TensorView& out, const TensorView& lse,
                                      const FlashAttnOptions& o) {
  if (qkv.rank != 4) throw std::invalid_argument("qkv: expected rank 4 (total_tokens, 3, nheads, head_dim), got shape " + qkv.shape_str());
  VarlenSeqs seqs{cu_seqlens, cu_seqlens, max_seqlen, max_seqlen};
  flash_attn_varlen_func(be, packed_slot(qkv, 1, 0, "qkv", 3), packed_slot(qkv, 1, 1, "qkv", 3),
                         packed_slot(qkv, 1, 2, "qkv", 3), seqs, out, lse, o);
}

void flash_attn_backward(Backend& be, const TensorView& dout, const TensorView& q, const TensorView& k,
                         const TensorView& v, const TensorView& out, const TensorView& lse,
                         const AttnGradViews& grads, const FlashAttnOptions& o) {
  run_backward(be, make_problem(be, q, k, v, out, lse, nullptr, o), dout, grads, q, k, v, out);
}

void flash_attn_varlen_backward(Backend& be, const TensorView& dout, const TensorView& q, const TensorView& k,
                                const TensorView& v, const TensorView& out, const TensorView& lse,
                                const VarlenSeqs& seqs, const AttnGradViews& grads, const FlashAttnOptions& o) {
  run_backward(be, make_problem(be, q, k, v, out, lse, &seqs, o), dout, grads, q, k, v, out);
}

BlockMask create_block_mask(Backend& be, const TensorView& q, const TensorView& k, const TensorView& v,
                            const VarlenSeqs* seqs, const FlashAttnOptions& o, bool per_head) {
  if (o.block_mask) throw std::invalid_argument("block_mask: expected none when creating one, got a mask");
  AttnProblem p = make_problem(be, q, k, v, TensorView(), TensorView(), seqs, o, /*with_outputs=*/false);
  if (!p.variant.has_mask())
    throw std::invalid_argument("variant: expected a variant with a mask (block masks come from mask_mod), got " +
                                (p.variant.empty() ? std::string("plain attention") : "'" + p.variant.name + "'"));
  BlockMask m;
  m.variant = p.variant.name;
  m.backend = &be;
  m.batch = p.batch;
  m.nheads = p.nheads;
  m.heads = per_head ? p.nheads : 1;
  m.seqlen_q = p.seqlen_q;
  m.seqlen_k = p.seqlen_k;
  m.varlen = p.varlen;
  m.window_left = p.window_left;
  m.window_right = p.window_right;
  m.dims = p.blocks.dims;
  // The builders read no tensor of q's layout; an empty range stands for unused pointers.
  p.lse = TensorView::contiguous(q.data, DType::f32, {0}, q.device);
  for (BlockMaskLevel* l : {&m.fwd, &m.bwd}) {
    l->blocks = l == &m.fwd ? p.blocks.fwd : p.blocks.bwd_for(p.softcap > 0);
    l->m_blocks = cdiv(std::max(p.seqlen_q, 1), l->blocks.block_m);
    l->n_blocks = cdiv(std::max(p.seqlen_k, 1), l->blocks.block_n);
    const int64_t lines = int64_t(p.batch) * m.heads;
    l->cls_elements = lines * l->m_blocks * l->n_blocks;
    l->kv_list_elements = lines * l->m_blocks * block_list_stride<int64_t>(l->n_blocks);
    l->q_list_elements = lines * l->n_blocks * block_list_stride<int64_t>(l->m_blocks);
    auto zeroed = [&](int64_t n) { return std::make_shared<Workspace>(be, size_t(std::max<int64_t>(n, 1)) * sizeof(int32_t)); };
    // Zero: empty classes and empty lists, so lines no program writes (past a sequence's
    // length) are never visited.
    l->cls = zeroed(l->cls_elements);
    l->kv_list = zeroed(l->kv_list_elements);
    l->q_list = zeroed(l->q_list_elements);
    Args columns;  // the columns program reads the classes only
    push_scalars(columns, p);
    push_block_mask(columns, *l, m.heads);
    Args rows = columns;
    push_variant_args(rows, p);
    const Params params = block_mask_params(l->blocks);
    launch_nonempty(be, KernelCall{kBlockMaskKernel + kernel_suffix(p.variant), params, {l->m_blocks, p.batch * m.heads, 1}, rows});
    launch_nonempty(be, KernelCall{kBlockMaskColumnsKernel, params, {l->n_blocks, p.batch * m.heads, 1}, columns});
  }
  return m;
}

}  // namespace tile::attention
