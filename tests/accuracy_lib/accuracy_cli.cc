#include "tests/accuracy_lib/accuracy_cli.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "attention/host/api.h"
#include "attention/reference/accuracy.h"
#include "attention/reference/random_inputs.h"
#include "attention/reference/reference.h"
#include "common/cli/flag_reader.h"

namespace tile::accuracy {
namespace {

struct Flags {
  std::string func = "flash_attn_func", backend = "interp";
  int batch_size = 1, seq_len = 128, seq_len_k = -1, nheads = 2, nheads_k = -1, head_size = 64, head_size_v = -1;
  bool causal = false, alibi = false, deterministic = false;
  int window_left = -1, window_right = -1;
  double softcap = 0.0;
  DType dtype = DType::bf16;
  uint64_t seed = 0;
  int threads = 0;
  std::optional<double> softmax_scale;
  std::vector<int64_t> seqlens, seqlens_k;
  std::string variant;  // registered name(s) joined by '+'; its arguments come from its generator
  bool list_variants = false;
  bool block_mask = false, block_mask_per_head = false;  // run the block-sparse kernels
  int row_pad = 0;  // elements between one head's row and the next head's (unaligned layouts)
};

bool is_varlen(const std::string& func) { return func.find("_varlen_") != std::string::npos; }

const char* kUsage =
    "usage: accuracy --func flash_attn_func|flash_attn_qkvpacked_func|flash_attn_varlen_func|\n"
    "                       flash_attn_varlen_qkvpacked_func\n"
    "                --backend interp|gpu --batch_size B --seq_len S [--seq_len_k SK] --nheads H\n"
    "                [--nheads_k HK] --head_size D [--head_size_v DV] [--causal] [--window L,R] [--softcap C]\n"
    "                [--alibi] [--variant NAME[+NAME...]] [--list_variants] [--block_mask] [--block_mask_per_head]\n"
    "                [--softmax_scale X] [--deterministic] [--row_pad P] --dtype bf16|fp16 --seed N [--threads T]\n"
    "                --row_pad: q, k, v, out, dout and the gradients with P spare elements after each head's\n"
    "                row (flash_attn_func and flash_attn_varlen_func), e.g. 1 for rows off 16-byte alignment\n"
    "                varlen: --seqlens 5,0,113 [--seqlens_k 7,3,0] (per-sequence lengths, 0 allowed)\n";

// The library's errors and this CLI's own checks are printed the same way, with the usage.
using UsageError = cli::FlagError;
using cli::IntRange;

Flags parse_flags(const std::vector<std::string>& args) {
  Flags f;
  bool seen_seq_len = false;
  cli::FlagReader r(args, /*split_equals=*/false);
  while (r.next()) {
    const std::string& a = r.name();
    if (a == "--func") {
      f.func = r.value();
      if (f.func != "flash_attn_func" && f.func != "flash_attn_qkvpacked_func" && f.func != "flash_attn_varlen_func" &&
          f.func != "flash_attn_varlen_qkvpacked_func")
        throw UsageError("--func: expected flash_attn_func, flash_attn_qkvpacked_func, flash_attn_varlen_func or "
                         "flash_attn_varlen_qkvpacked_func, got '" + f.func + "'");
    } else if (a == "--backend") {
      f.backend = r.value();
      if (f.backend != "interp" && f.backend != "gpu") throw UsageError("--backend: expected interp or gpu, got '" + f.backend + "'");
    } else if (a == "--batch_size") f.batch_size = int(r.integer(IntRange::at_least(1)));
    else if (a == "--seq_len") { f.seq_len = int(r.integer(IntRange::at_least(1))); seen_seq_len = true; }
    else if (a == "--seq_len_k") f.seq_len_k = int(r.integer(IntRange::at_least(1)));
    else if (a == "--nheads") f.nheads = int(r.integer(IntRange::at_least(1)));
    else if (a == "--nheads_k") f.nheads_k = int(r.integer(IntRange::at_least(1)));
    else if (a == "--head_size") f.head_size = int(r.integer(IntRange::between(1, 256)));
    else if (a == "--head_size_v") f.head_size_v = int(r.integer(IntRange::between(1, 256)));
    else if (a == "--causal") f.causal = r.boolean();
    else if (a == "--alibi") f.alibi = r.boolean();
    else if (a == "--variant") {
      f.variant = r.value();
      try {
        attention::parse_variant(f.variant, "--variant");
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      }
    } else if (a == "--list_variants") f.list_variants = r.boolean();
    else if (a == "--block_mask") f.block_mask = r.boolean();
    else if (a == "--block_mask_per_head") f.block_mask = f.block_mask_per_head = r.boolean();
    else if (a == "--deterministic") f.deterministic = r.boolean();
    else if (a == "--window") {
      std::string v = r.value();
      size_t comma = v.find(',');
      if (comma == std::string::npos) throw UsageError("--window: expected L,R (e.g. 64,0 or -1,32), got '" + v + "'");
      f.window_left = int(cli::parse_integer(a, v.substr(0, comma), IntRange::at_least(-1)));
      f.window_right = int(cli::parse_integer(a, v.substr(comma + 1), IntRange::at_least(-1)));
    } else if (a == "--softcap") f.softcap = r.number(0);
    else if (a == "--softmax_scale") f.softmax_scale = r.number();
    else if (a == "--dtype") {
      std::string v = r.value();
      if (v == "bf16" || v == "bfloat16") f.dtype = DType::bf16;
      else if (v == "fp16" || v == "float16" || v == "f16") f.dtype = DType::f16;
      else throw UsageError("--dtype: expected bf16 or fp16, got '" + v + "'");
    } else if (a == "--seed") f.seed = uint64_t(r.integer(IntRange::at_least(0)));
    else if (a == "--threads") f.threads = int(r.integer(IntRange::at_least(0)));
    else if (a == "--row_pad") f.row_pad = int(r.integer(IntRange::between(0, 64)));
    else if (a == "--seqlens") f.seqlens = r.integer_list(IntRange::at_least(0));
    else if (a == "--seqlens_k") f.seqlens_k = r.integer_list(IntRange::at_least(0));
    else if (a == "--help" || a == "-h") throw UsageError("");
    else throw UsageError("unknown flag '" + a + "'");
  }
  bool varlen = is_varlen(f.func);
  if (f.block_mask) {
    bool has_mask = false;
    try {
      has_mask = attention::parse_variant(f.variant, "--variant").has_mask();
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (!has_mask) throw UsageError("--block_mask: needs a --variant with a mask");
  }
  if (varlen && f.seqlens.empty()) throw UsageError("--seqlens: required with --func " + f.func);
  if (!varlen && !f.seqlens.empty()) throw UsageError("--seqlens: only for the varlen functions");
  if (!varlen && !f.seqlens_k.empty()) throw UsageError("--seqlens_k: only for the varlen functions");
  if (varlen && seen_seq_len) throw UsageError("--seq_len: not used with --seqlens (varlen)");
  if (f.row_pad && (f.func == "flash_attn_qkvpacked_func" || f.func == "flash_attn_varlen_qkvpacked_func"))
    throw UsageError("--row_pad: only for flash_attn_func and flash_attn_varlen_func (" + f.func + " packs q, k and v)");
  if (f.softmax_scale && !std::isfinite(*f.softmax_scale)) throw UsageError("--softmax_scale: expected a finite number");
  bool packed = f.func == "flash_attn_qkvpacked_func" || f.func == "flash_attn_varlen_qkvpacked_func";
  if (packed && !f.seqlens_k.empty() && f.seqlens_k != f.seqlens)
    throw UsageError("--seqlens_k: " + f.func + " packs q, k and v, so it must equal --seqlens");
  if (f.seqlens_k.empty()) f.seqlens_k = f.seqlens;
  if (f.seqlens_k.size() != f.seqlens.size())
    throw UsageError("--seqlens_k: expected " + std::to_string(f.seqlens.size()) + " lengths (one per --seqlens entry), got " +
                     std::to_string(f.seqlens_k.size()));
  if (packed && f.seq_len_k >= 0 && f.seq_len_k != f.seq_len)
    throw UsageError("--seq_len_k: " + f.func + " packs q, k and v, so it must equal --seq_len");
  if (packed && f.nheads_k >= 0 && f.nheads_k != f.nheads)
    throw UsageError("--nheads_k: " + f.func + " packs q, k and v, so it must equal --nheads");
  if (packed && f.head_size_v >= 0 && f.head_size_v != f.head_size)
    throw UsageError("--head_size_v: " + f.func + " packs q, k and v with one head_dim, so it must equal --head_size");
  if (f.head_size_v < 0) f.head_size_v = f.head_size;
  if (f.seq_len_k < 0) f.seq_len_k = f.seq_len;
  if (f.nheads_k < 0) f.nheads_k = f.nheads;
  if (f.nheads % f.nheads_k != 0) throw UsageError("--nheads_k: must divide --nheads (" + std::to_string(f.nheads) + ")");
  return f;
}

std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3e", x);
  return buf;
}

// Copies `src` into `dst` (same shape, any strides), element by element in row-major order.
void copy_elements(const TensorView& dst, const TensorView& src) {
  for (int64_t i = 0; i < src.numel(); ++i)
    store_from_double(dst.dtype, dst.data, dst.offset_of_linear(i), load_as_double(src.dtype, src.data, src.offset_of_linear(i)));
}

// Packs q, k, v ((..., nheads, d) each, same shape) into one (..., 3, nheads, d) tensor.
HostTensor pack3(const HostTensor& q, const HostTensor& k, const HostTensor& v) {
  std::vector<int64_t> shape = q.view().sizes();
  shape.insert(shape.end() - 2, 3);
  HostTensor packed(q.view().dtype, shape);
  auto slots = split_qkvpacked(packed.view());
  const HostTensor* src[3] = {&q, &k, &v};
  for (int s = 0; s < 3; ++s) copy_elements(slots[s], src[s]->view());
  return packed;
}

// Copies of host tensors in the backend's memory (identity copies for the interpreter, device
// memory for the GPU), so one flow serves every backend: views inside a mirrored host tensor
// map to the same offsets in its copy.
class Mirror {
 public:
  explicit Mirror(attention::Backend& be) : be_(be) {}
  void upload(const HostTensor& h) {
    size_t bytes = size_t(h.view().numel()) * dtype_size(h.view().dtype);
    copies_.push_back({h.view().data, bytes, std::make_unique<attention::Workspace>(be_, bytes)});
    be_.write(copies_.back().buffer->get(), h.view().data, bytes);
  }
  TensorView operator()(const TensorView& host_view) const {
    if (!host_view.defined()) return host_view;
    for (const Copy& c : copies_) {
      auto* base = static_cast<char*>(c.host);
      auto* p = static_cast<char*>(host_view.data);
      if (p >= base && p < base + c.bytes) {
        TensorView v = host_view;
        v.data = static_cast<char*>(c.buffer->get()) + (p - base);
        v.device = be_.device();
        return v;
      }
    }
    throw std::logic_error("accuracy: tensor was not uploaded");
  }
  void download(HostTensor& h) const {
    for (const Copy& c : copies_)
      if (c.host == h.view().data) return be_.read(h.view().data, c.buffer->get(), c.bytes);
    throw std::logic_error("accuracy: tensor was not uploaded");
  }

 private:
  struct Copy {
    void* host;
    size_t bytes;
    std::unique_ptr<attention::Workspace> buffer;
  };
  attention::Backend& be_;
  std::vector<Copy> copies_;
};

HostTensor poisoned(DType t, const std::vector<int64_t>& shape) {
  HostTensor h(t, shape);
  h.fill(std::nan(""));
  return h;
}

// `shape` stored with `pad` spare elements after each row of its last dimension (NaN there, so
// a kernel that reads or writes past a row shows), and the view of `shape` inside it. With
// pad = 0 the view is the whole tensor.
struct PaddedRows {
  HostTensor storage;
  TensorView view;
};
PaddedRows padded_rows(DType t, std::vector<int64_t> shape, int pad) {
  PaddedRows r;
  const int64_t row = shape.back();
  shape.back() += pad;
  r.storage = poisoned(t, shape);
  r.view = r.storage.view();
  r.view.shape[size_t(r.view.rank - 1)] = row;
  return r;
}

// How many of the spare elements after the rows are no longer NaN (written by a kernel).
int64_t spare_elements_written(const PaddedRows& r) {
  const TensorView& all = r.storage.view();
  const int64_t width = all.size(all.rank - 1), row = r.view.size(r.view.rank - 1);
  int64_t written = 0;
  for (int64_t i = 0; i < all.numel(); ++i)
    if (i % width >= row && !std::isnan(load_as_double(all.dtype, all.data, i))) ++written;
  return written;
}

// `src` copied into padded rows (see padded_rows).
PaddedRows padded_copy(const TensorView& src, int pad) {
  PaddedRows r = padded_rows(src.dtype, src.sizes(), pad);
  copy_elements(r.view, src);
  return r;
}

}  // namespace

int run_accuracy_cli(const std::vector<std::string>& args, const BackendFactory& make_backend, std::ostream& out,
                     std::ostream& err) {
  Flags f;
  try {
    f = parse_flags(args);
  } catch (const UsageError& e) {
    if (*e.what()) err << "error: " << e.what() << "\n";
    err << kUsage;
    return 2;
  }
  if (f.list_variants) {
    for (const std::string& name : attention::variant_names()) out << name << "\n";
    return 0;
  }
  BackendHandle handle = make_backend(f.backend, f.seed, f.threads);
  if (!handle.backend) {
    err << "error: --backend " << f.backend << " is not available in this binary"
        << (f.backend == "gpu" ? " (use the GPU-side accuracy_gpu binary)" : "") << "\n";
    return 2;
  }
  attention::Backend& be = *handle.backend;
  const bool varlen = is_varlen(f.func);
  const bool packed = f.func == "flash_attn_qkvpacked_func" || f.func == "flash_attn_varlen_qkvpacked_func";

  try {
    reference::AttnShape shape;
    shape.batch = varlen ? int64_t(f.seqlens.size()) : f.batch_size;
    shape.seqlen_q = f.seq_len;
    shape.seqlen_k = f.seq_len_k;
    shape.nheads_q = f.nheads;
    shape.nheads_k = f.nheads_k;
    shape.headdim = f.head_size;
    shape.headdim_v = f.head_size_v;
    shape.dtype = f.dtype;
    if (varlen) {
      shape.varlen_seqlens_q = f.seqlens;
      shape.varlen_seqlens_k = f.seqlens_k;
    }
    reference::OwnedInputs in = reference::make_random_inputs(shape, f.seed);
    out << "seed: " << f.seed << "\n";

    // The tensors the kernels see: packed layouts where the entry point packs.
    HostTensor qkv, dqkv;
    // With --row_pad every (token, head) row of q, k, v, dout, out and the gradients is
    // followed by spare elements (padded_rows); the kernels and the references see the views.
    PaddedRows q_p = padded_copy(in.q.view(), f.row_pad), k_p = padded_copy(in.k.view(), f.row_pad),
               v_p = padded_copy(in.v.view(), f.row_pad), dout_p = padded_copy(in.dout.view(), f.row_pad);
    TensorView q = q_p.view, k = k_p.view, v = v_p.view;
    const TensorView dout = dout_p.view;
    PaddedRows dq_p = padded_rows(f.dtype, q.sizes(), f.row_pad), dk_p = padded_rows(f.dtype, k.sizes(), f.row_pad),
               dv_p = padded_rows(f.dtype, v.sizes(), f.row_pad);
    HostTensor &dq_t = dq_p.storage, &dk_t = dk_p.storage, &dv_t = dv_p.storage;
    attention::AttnGradViews grads{dq_p.view, dk_p.view, dv_p.view};
    if (packed) {
      qkv = pack3(in.q, in.k, in.v);
      auto s = split_qkvpacked(qkv.view());
      q = s[0], k = s[1], v = s[2];
      std::vector<int64_t> dshape = qkv.view().sizes();
      dqkv = poisoned(f.dtype, dshape);
      auto d = split_qkvpacked(dqkv.view());
      grads = {d[0], d[1], d[2]};
    }
    std::vector<int64_t> out_shape = q.sizes();
    out_shape.back() = f.head_size_v;  // out has v's head_dim
    PaddedRows out_p = padded_rows(f.dtype, out_shape, f.row_pad);
    HostTensor& out_t = out_p.storage;
    const TensorView out_v = out_p.view;
    int64_t total_q = q.size(0) * (varlen ? 1 : q.size(1));
    HostTensor lse_t = poisoned(DType::f32, varlen ? std::vector<int64_t>{f.nheads, total_q}
                                                   : std::vector<int64_t>{f.batch_size, f.nheads, f.seq_len});
    HostTensor slopes;
    attention::FlashAttnOptions o;
    o.causal = f.causal;
    o.window_left = f.window_left;
    o.window_right = f.window_right;
    o.softcap = f.softcap;
    o.deterministic = f.deterministic;
    o.softmax_scale = f.softmax_scale;
    if (f.alibi) {
      slopes = HostTensor(DType::f32, {f.nheads});
      for (int h = 0; h < f.nheads; ++h) slopes.set_at(h, std::pow(2.0, -8.0 * (h + 1) / f.nheads));
      o.alibi_slopes = slopes.view();
    }

    // max_seqlen must be positive even when every sequence is empty.
    int max_len = 1, max_len_k = 1;
    for (int64_t s : f.seqlens) max_len = std::max<int>(max_len, int(s));
    for (int64_t s : f.seqlens_k) max_len_k = std::max<int>(max_len_k, int(s));
    // The variant's arguments, drawn by its generator(s) from the seed.
    const attention::VariantChain chain = attention::parse_variant(f.variant, "--variant");
    attention::ProblemDims dims;
    dims.batch = shape.batch;
    dims.nheads = f.nheads;
    dims.nheads_k = f.nheads_k;
    dims.varlen = varlen;
    std::vector<int64_t> len_q = varlen ? f.seqlens : std::vector<int64_t>(size_t(shape.batch), f.seq_len);
    std::vector<int64_t> len_k = varlen ? f.seqlens_k : std::vector<int64_t>(size_t(shape.batch), f.seq_len_k);
    for (size_t b = 0; b < len_q.size(); ++b) dims.total_q += len_q[b], dims.total_k += len_k[b];
    dims.seqlen_q = varlen ? max_len : f.seq_len;
    dims.seqlen_k = varlen ? max_len_k : f.seq_len_k;
    attention::ArgGenerator gen(dims, len_q, len_k, f.seed * 0x9e3779b97f4a7c15ull + 17);
    for (const attention::VariantSpec* part : chain.parts) part->generate(gen);
    const attention::VariantArgs host_args = gen.args();
    std::vector<HostTensor> arg_copies;  // the generator's tensors, for upload
    for (const auto& [name, value] : host_args)
      if (value.is_tensor) arg_copies.push_back(to_host_tensor(value.tensor, value.tensor.dtype));
    o.variant = f.variant;
    // Gradients of trainable arguments, poisoned like the other outputs.
    std::map<std::string, HostTensor> arg_grads;
    for (const attention::ArgSpec& a : chain.args())
      if (a.has_grad) arg_grads.emplace(a.name, poisoned(DType::f32, host_args.at(a.name).tensor.sizes()));

    // Inputs and poisoned outputs go to the backend's memory; outputs come back afterwards.
    Mirror dev(be);
    for (const HostTensor& t : arg_copies) dev.upload(t);
    for (const auto& [name, t] : arg_grads) dev.upload(t);
    {
      size_t next = 0;
      for (const auto& [name, value] : host_args)
        o.variant_args[name] = value.is_tensor ? attention::VariantArg::of(dev(arg_copies[next++].view())) : value;
    }
    HostTensor* grad_owners[3] = {&dq_t, &dk_t, &dv_t};
    for (const HostTensor* t : {&q_p.storage, &k_p.storage, &v_p.storage, &dout_p.storage, &in.cu_seqlens_q,
                                &in.cu_seqlens_k, &out_t, &lse_t})
      if (t->view().defined()) dev.upload(*t);
    if (packed) dev.upload(qkv), dev.upload(dqkv);
    else for (HostTensor* g : grad_owners) dev.upload(*g);
    if (f.alibi) {
      dev.upload(slopes);
      o.alibi_slopes = dev(slopes.view());
    }
    TensorView q_d = dev(q), k_d = dev(k), v_d = dev(v);
    attention::AttnGradViews dgrads{dev(grads.dq), dev(grads.dk), dev(grads.dv)};
    // The block mask, built once on the backend and used by the forward and the backward.
    std::optional<attention::BlockMask> block_mask;
    if (f.block_mask) {
      attention::VarlenSeqs mask_seqs{dev(in.cu_seqlens_q.view()), dev(in.cu_seqlens_k.view()), max_len, max_len_k};
      block_mask = attention::create_block_mask(be, q_d, k_d, v_d, varlen ? &mask_seqs : nullptr, o, f.block_mask_per_head);
      o.block_mask = &*block_mask;
    }
    for (const auto& [name, t] : arg_grads) dgrads.variant_grads[name] = attention::VariantArg::of(dev(t.view()));
    if (f.func == "flash_attn_func") attention::flash_attn_func(be, q_d, k_d, v_d, dev(out_v), dev(lse_t.view()), o);
    else if (f.func == "flash_attn_qkvpacked_func") attention::flash_attn_qkvpacked_func(be, dev(qkv.view()), dev(out_v), dev(lse_t.view()), o);
    else if (f.func == "flash_attn_varlen_qkvpacked_func") attention::flash_attn_varlen_qkvpacked_func(be, dev(qkv.view()), dev(in.cu_seqlens_q.view()), max_len, dev(out_v), dev(lse_t.view()), o);
    attention::VarlenSeqs seqs{dev(in.cu_seqlens_q.view()), dev(in.cu_seqlens_k.view()), max_len, max_len_k};
    if (f.func == "flash_attn_varlen_func") attention::flash_attn_varlen_func(be, q_d, k_d, v_d, seqs, dev(out_v), dev(lse_t.view()), o);
    if (varlen) {
      attention::flash_attn_varlen_backward(be, dev(dout), q_d, k_d, v_d, dev(out_v), dev(lse_t.view()), seqs, dgrads, o);
    } else {
      attention::flash_attn_backward(be, dev(dout), q_d, k_d, v_d, dev(out_v), dev(lse_t.view()), dgrads, o);
    }
    dev.download(out_t);
    for (auto& [name, t] : arg_grads) dev.download(t);
    dev.download(lse_t);
    if (packed) dev.download(dqkv);
    else for (HostTensor* g : grad_owners) dev.download(*g);
    o.alibi_slopes = slopes.view();

    // References on the same inputs (the kernel's views, packed or not).
    reference::AttnInputs ri{q, k, v, in.cu_seqlens_q.view(), in.cu_seqlens_k.view()};
    if (!varlen) ri.cu_seqlens_q = ri.cu_seqlens_k = TensorView();
    reference::AttnOptions ro;
    ro.causal = f.causal;
    ro.window_left = f.window_left;
    ro.window_right = f.window_right;
    ro.softcap = f.softcap;
    ro.softmax_scale = f.softmax_scale;
    ro.alibi_slopes = o.alibi_slopes;
    ro.variant = f.variant;
    ro.variant_args.clear();
    {
      size_t next = 0;
      for (const auto& [name, value] : host_args)
        ro.variant_args[name] = value.is_tensor ? attention::VariantArg::of(arg_copies[next++].view()) : value;
    }
    ro.num_threads = f.threads;
    auto ref = reference::attention_forward_backward(ri, ro, dout);
    auto naive = reference::naive_attention_forward_backward(ri, ro, dout);
    auto report = reference::check_attention_accuracy(
        {out_v, grads.dq, grads.dk, grads.dv},
        {naive.fwd.out.view(), naive.grads.dq.view(), naive.grads.dk.view(), naive.grads.dv.view()},
        {ref.fwd.out.view(), ref.grads.dq.view(), ref.grads.dk.view(), ref.grads.dv.view()}, f.dtype);
    reference::DiffStats lse_diff = reference::diff_stats(lse_t.view(), ref.fwd.lse.view());
    for (const auto& [name, t] : arg_grads)
      report.tensors.push_back(reference::check_tensor("d" + name, t.view(), naive.grads.variant_grads.at(name).view(),
                                                       ref.grads.variant_grads.at(name).view(), DType::f32,
                                                       reference::kGradientTolerance));

    const auto& t = report.tensors;  // Output, dQ, dK, dV
    out << "Output max diff: " << sci(t[0].kernel.max_abs) << "\n";
    out << "Output mean diff: " << sci(t[0].kernel.mean_abs) << "\n";
    for (int i = 1; i <= 3; ++i) out << t[i].name << " max diff: " << sci(t[i].kernel.max_abs) << "\n";
    for (int i = 1; i <= 3; ++i) out << t[i].name << " mean diff: " << sci(t[i].kernel.mean_abs) << "\n";
    for (size_t i = 4; i < t.size(); ++i) out << t[i].name << " max diff: " << sci(t[i].kernel.max_abs) << "\n";
    out << "Output rel-L2: " << sci(t[0].kernel.rel_l2) << "\n";
    out << "LSE max diff: " << sci(lse_diff.max_abs) << (lse_diff.new_nans ? " (NaN)" : "") << "\n";
    for (const auto& x : t)
      out << x.name << " bound: " << sci(x.bound) << " (naive max diff " << sci(x.naive.max_abs) << ")"
          << (x.kernel.new_nans ? ", " + std::to_string(x.kernel.new_nans) + " NaN/unwritten" : "")
          << (x.pass ? "" : "  FAILED") << "\n";
    bool lse_ok = lse_diff.new_nans == 0 && lse_diff.max_abs <= 1e-3;
    if (!lse_ok) out << "LSE FAILED (max diff above 1e-3 or NaN)\n";
    if (handle.kernel_lines)
      for (const std::string& line : handle.kernel_lines()) out << line << "\n";
    // Nothing may be written past a row (only the unpacked functions have spare elements).
    int64_t spare_written = 0;
    if (f.row_pad && !packed)
      for (const PaddedRows* r : {&out_p, &dq_p, &dk_p, &dv_p}) spare_written += spare_elements_written(*r);
    if (f.row_pad) out << "Row padding: " << spare_written << " spare elements written" << (spare_written ? "  FAILED" : "") << "\n";
    bool pass = report.pass() && lse_ok && spare_written == 0;
    out << (pass ? "PASS" : "FAIL") << "\n";
    return pass ? 0 : 1;
  } catch (const std::invalid_argument& e) {
    err << "error: " << e.what() << "\n";
    out << "FAIL\n";
    return 1;
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    out << "FAIL\n";
    return 1;
  }
}

}  // namespace tile::accuracy
