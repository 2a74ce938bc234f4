#include "distributed/check/dist_check.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "attention/reference/random_inputs.h"
#include "attention/reference/reference.h"
#include "distributed/in_process_transport.h"
#include "distributed/launcher.h"
#include "distributed/nccl_transport.h"
#include "distributed/ring_attention.h"
#include "distributed/sequence_split.h"
#include "distributed/usp_attention.h"

namespace tile {
namespace dist {
namespace {

// Host tensor -> backend memory.
DeviceTensor to_backend(TensorOps& ops, const TensorView& host) {
  DeviceTensor t = ops.empty(host.dtype, host.sizes());
  ops.upload(t.view, host);
  return t;
}

// Backend memory -> host tensor of the same dtype.
HostTensor to_host(TensorOps& ops, const TensorView& dev) {
  HostTensor h(dev.dtype, dev.sizes());
  ops.download(h.view(), dev);
  return h;
}

// Backend memory of any dtype -> host tensor of `dtype` (how flash-attn hands results back).
HostTensor to_host_as(TensorOps& ops, const TensorView& dev, DType dtype) {
  if (dev.dtype == dtype) return to_host(ops, dev);
  DeviceTensor converted = ops.empty(dtype, dev.sizes());
  ops.copy(converted.view, dev);
  return to_host(ops, converted.view);
}

TensorDiff diff_of(const TensorView& a, const TensorView& ref) {
  const reference::DiffStats s = reference::diff_stats(a, ref);
  return {s.new_nans > 0 ? std::numeric_limits<double>::infinity() : s.max_abs, s.mean_abs};
}

std::string num(double x) {
  std::ostringstream o;
  o << x;
  return o.str();
}

// The variant's arguments on a backend's memory; `owned` keeps the uploaded tensors alive.
attention::VariantArgs args_on_backend(TensorOps& ops, const attention::VariantArgs& host, std::vector<DeviceTensor>& owned) {
  attention::VariantArgs out = host;
  for (auto& [name, arg] : out)
    if (arg.is_tensor) {
      owned.push_back(to_backend(ops, arg.tensor));
      arg.tensor = owned.back().view;
    }
  return out;
}

// f32 buffers for the gradients of the variant's trainable arguments, shaped like them.
attention::VariantArgs arg_grad_buffers(TensorOps& ops, const std::string& variant, const attention::VariantArgs& args,
                                        std::map<std::string, DeviceTensor>& owned) {
  attention::VariantArgs out;
  for (const attention::ArgSpec& a : attention::parse_variant(variant).args())
    if (a.has_grad) {
      owned[a.name] = ops.empty(DType::f32, args.at(a.name).tensor.sizes());
      out[a.name] = attention::VariantArg::of(owned[a.name].view);
    }
  return out;
}

bool has_trainable_args(const std::string& variant) { return attention::parse_variant(variant).has_arg_grads(); }

HostTensor pack_qkv(const HostTensor& q, const HostTensor& k, const HostTensor& v) {
  const std::vector<int64_t> s = q.shape();
  HostTensor qkv(q.dtype(), {s[0], s[1], 3, s[2], s[3]});
  const auto parts = split_qkvpacked(qkv.view());
  const HostTensor* src[3] = {&q, &k, &v};
  for (int i = 0; i < 3; ++i)
    for (int64_t e = 0; e < src[i]->numel(); ++e)
      store_from_double(qkv.dtype(), parts[static_cast<size_t>(i)].data, parts[static_cast<size_t>(i)].offset_of_linear(e), src[i]->at(e));
  return qkv;
}

}  // namespace

const char* checked_tensor_name(int i) {
  static const char* names[] = {"out", "dq", "dk", "dv"};
  return names[i];
}

bool RankResult::pass(const CheckProblem& p) const {
  for (int i = 0; i < kCheckedTensors; ++i)
    if (!(diff[i].max <= p.allowed(i))) return false;
  if (arg_grads.size() != p.nd_arg_grads.size()) return false;
  for (const auto& [name, d] : arg_grads)
    if (!(d.max <= CheckProblem::allowed_for(p.arg_grad_single_max.at(name)))) return false;
  return true;
}

CheckProblem prepare_check_problem(const DistCheckConfig& c, AttentionStepBackend& backend) {
  reference::AttnShape shape;
  shape.batch = c.batch_size;
  shape.seqlen_q = shape.seqlen_k = c.seq_len;
  shape.nheads_q = c.nheads;
  shape.nheads_k = c.kv_heads();
  shape.headdim = c.head_size;
  shape.dtype = c.dtype;
  reference::OwnedInputs in = reference::make_random_inputs(shape, c.seed);
  CheckProblem p;
  p.q = in.q;
  p.k = in.k;
  p.v = in.v;
  p.dout = in.dout;
  if (!c.variant.empty()) {
    attention::ProblemDims dims;
    dims.batch = c.batch_size;
    dims.nheads = c.nheads;
    dims.nheads_k = c.kv_heads();
    dims.seqlen_q = dims.seqlen_k = c.seq_len;
    const std::vector<int64_t> lens(static_cast<size_t>(c.batch_size), c.seq_len);
    p.arg_owner = std::make_shared<attention::ArgGenerator>(dims, lens, lens, c.seed * 0x9e3779b97f4a7c15ull + 17);
    for (const attention::VariantSpec* part : attention::parse_variant(c.variant).parts) part->generate(*p.arg_owner);
    p.args = p.arg_owner->args();
  }

  // The non-distributed result: the same backend over the whole sequence (flash-attn's single-GPU
  // call), results rounded to the inputs' dtype as flash-attn returns them.
  TensorOps& ops = backend.ops();
  const DType partial = backend.partial_dtype(c.dtype);
  DeviceTensor q = to_backend(ops, p.q.view()), k = to_backend(ops, p.k.view()), v = to_backend(ops, p.v.view()),
               dout = to_backend(ops, p.dout.view());
  StepForwardArgs f;
  f.q = q.view;
  f.k = k.view;
  f.v = v.view;
  f.causal = c.causal;
  std::vector<DeviceTensor> arg_storage;
  f.variant.registered = c.variant;
  f.variant.args = args_on_backend(ops, p.args, arg_storage);
  f.softmax_scale = 1.0 / std::sqrt(static_cast<double>(c.head_size));
  DeviceTensor out_partial = ops.empty(partial, p.q.shape());
  DeviceTensor lse = ops.empty(DType::f32, {c.batch_size, c.nheads, c.seq_len});
  f.out = out_partial.view;
  f.lse = lse.view;
  backend.forward(f);
  DeviceTensor out = ops.empty(c.dtype, p.q.shape());
  ops.copy(out.view, out_partial.view);

  StepBackwardArgs b;
  b.dout = dout.view;
  b.q = q.view;
  b.k = k.view;
  b.v = v.view;
  b.out = out.view;
  b.lse = lse.view;
  b.causal = c.causal;
  b.variant = f.variant;
  std::map<std::string, DeviceTensor> arg_grads;
  b.variant_grads = arg_grad_buffers(ops, c.variant, p.args, arg_grads);
  b.softmax_scale = f.softmax_scale;
  DeviceTensor dq = ops.empty(partial, p.q.shape()), dk = ops.empty(partial, p.k.shape()),
               dv = ops.empty(partial, p.v.shape());
  b.dq = dq.view;
  b.dk = dk.view;
  b.dv = dv.view;
  backend.backward(b);
  ops.synchronize();
  p.nd[0] = to_host(ops, out.view);
  p.nd[1] = to_host_as(ops, dq.view, c.dtype);
  p.nd[2] = to_host_as(ops, dk.view, c.dtype);
  p.nd[3] = to_host_as(ops, dv.view, c.dtype);
  for (const auto& [name, g] : arg_grads) p.nd_arg_grads[name] = to_host(ops, g.view);

  reference::AttnOptions opt;
  opt.causal = c.causal;
  opt.variant = c.variant;
  opt.variant_args = p.args;
  const reference::AttnForwardBackward ref = reference::attention_forward_backward(in.inputs(), opt, p.dout.view());
  const HostTensor* ref64[kCheckedTensors] = {&ref.fwd.out, &ref.grads.dq, &ref.grads.dk, &ref.grads.dv};
  for (int i = 0; i < kCheckedTensors; ++i) p.single_max[i] = diff_of(p.nd[i].view(), ref64[i]->view()).max;
  for (const auto& [name, g] : p.nd_arg_grads)
    p.arg_grad_single_max[name] = diff_of(g.view(), ref.grads.variant_grads.at(name).view()).max;
  return p;
}

RankResult run_check_rank(const DistCheckConfig& c, const CheckProblem& p, Transport& transport,
                          AttentionStepBackend& backend) {
  const int rank = transport.rank();
  TensorOps& ops = backend.ops();
  const SequenceLayout layout = c.layout();
  auto shard = [&](const HostTensor& t) { return shard_sequence(t.view(), 1, layout, rank); };
  const HostTensor q = shard(p.q), k = shard(p.k), v = shard(p.v), dout_host = shard(p.dout);
  RingAttnOptions opt;
  opt.causal = c.causal;
  std::vector<DeviceTensor> arg_storage;
  opt.variant = c.variant;
  opt.variant_args = args_on_backend(ops, p.args, arg_storage);
  DeviceTensor dout = to_backend(ops, dout_host.view());
  // The ring alone runs on the whole transport; Ulysses and USP on its two sub-groups.
  const bool ring_only = c.ulysses_degree == 1;
  UspGroups groups;
  if (!ring_only) groups = make_usp_groups(transport, c.ulysses_degree);
  RankContext ctx{transport, backend};

  HostTensor got[kCheckedTensors];
  std::map<std::string, DeviceTensor> got_arg_grads;
  // The packed backward returns dqkv alone: trainable variant arguments take the q, k, v path.
  if (c.kv_heads() == c.nheads && !has_trainable_args(c.variant)) {  // the seed's qkvpacked path
    DeviceTensor qkv = to_backend(ops, pack_qkv(q, k, v).view());
    RingForwardResult f;
    DeviceTensor dqkv;
    if (ring_only) {
      f = ring_attention_qkvpacked_forward(c.mode, ctx, qkv.view, opt);
      dqkv = ring_attention_qkvpacked_backward(c.mode, ctx, dout.view, qkv.view, f.out.view, f.lse.view, opt);
    } else {
      const UspContext usp{*groups.ulysses, *groups.ring, backend};
      f = usp_attention_qkvpacked_forward(c.mode, usp, qkv.view, opt);
      dqkv = usp_attention_qkvpacked_backward(c.mode, usp, dout.view, qkv.view, f.out.view, f.lse.view, opt);
    }
    got[0] = to_host(ops, f.out.view);
    const HostTensor packed = to_host(ops, dqkv.view);
    const auto parts = split_qkvpacked(packed.view());
    for (int i = 0; i < 3; ++i) got[i + 1] = to_host_tensor(parts[static_cast<size_t>(i)], c.dtype);
  } else {  // GQA: separate q, k, v
    DeviceTensor dq_in = to_backend(ops, q.view()), dk_in = to_backend(ops, k.view()), dv_in = to_backend(ops, v.view());
    RingForwardResult f;
    RingGradients g;
    if (ring_only) {
      f = ring_attention_forward(c.mode, ctx, dq_in.view, dk_in.view, dv_in.view, opt);
      g = ring_attention_backward(c.mode, ctx, dout.view, dq_in.view, dk_in.view, dv_in.view, f.out.view, f.lse.view,
                                  opt);
    } else {
      const UspContext usp{*groups.ulysses, *groups.ring, backend};
      f = usp_attention_forward(c.mode, usp, dq_in.view, dk_in.view, dv_in.view, opt);
      g = usp_attention_backward(c.mode, usp, dout.view, dq_in.view, dk_in.view, dv_in.view, f.out.view, f.lse.view,
                                 opt);
    }
    got[0] = to_host(ops, f.out.view);
    got[1] = to_host(ops, g.dq.view);
    got[2] = to_host(ops, g.dk.view);
    got[3] = to_host(ops, g.dv.view);
    got_arg_grads = g.variant_grads;
  }
  RankResult r;
  r.rank = rank;
  for (int i = 0; i < kCheckedTensors; ++i) r.diff[i] = diff_of(got[i].view(), shard(p.nd[i]).view());
  for (const auto& [name, g] : got_arg_grads)  // the whole argument's gradient on every rank
    r.arg_grads[name] = diff_of(to_host(ops, g.view).view(), p.nd_arg_grads.at(name).view());
  return r;
}

std::string format_header(const DistCheckConfig& c, const CheckProblem& p) {
  std::ostringstream o;
  o << "qkvpacked_dist_check: mode " << c.mode_name();
  if (c.parallel == ParallelMode::usp)
    o << " (ulysses " << c.ulysses_degree << " x " << ring_mode_name(c.mode) << " " << c.ring_degree() << ")";
  o << ", world " << c.world_size()
    << (c.nproc_per_node > 0 ? " (processes, nccl)" : " (virtual ranks, in-process)") << ", backend " << c.backend
    << ", batch_size " << c.batch_size << ", seq_len " << c.seq_len << ", nheads " << c.nheads << ", nheads_k "
    << c.kv_heads() << ", head_size " << c.head_size << ", causal " << (c.causal ? 1 : 0) << ", dtype "
    << (c.dtype == DType::bf16 ? "bf16" : "fp16") << ", seed " << c.seed
    << (c.variant.empty() ? std::string() : ", variant " + c.variant) << "\n";
  o << "non-distributed vs fp64 max diff:";
  for (int i = 0; i < kCheckedTensors; ++i) o << " " << checked_tensor_name(i) << " " << num(p.single_max[i]);
  for (const auto& [name, d] : p.arg_grad_single_max) o << " d" << name << " " << num(d);
  o << "\nallowed per-rank max diff (" << kDistributedFactor << " x non-distributed + " << kDistributedSlack << "):";
  for (int i = 0; i < kCheckedTensors; ++i) o << " " << checked_tensor_name(i) << " " << num(p.allowed(i));
  for (const auto& [name, d] : p.arg_grad_single_max) o << " d" << name << " " << num(CheckProblem::allowed_for(d));
  o << "\n";
  return o.str();
}

std::string format_rank(const RankResult& r, const CheckProblem& p) {
  std::ostringstream o;
  o << "rank " << r.rank << " out (distributed) - out_ref (non-distributed) diff: " << num(r.diff[0].max) << "\n";
  for (int i = 1; i < kCheckedTensors; ++i)
    o << checked_tensor_name(i) << " diff:\nRank[" << r.rank << "] max " << num(r.diff[i].max) << ", mean "
      << num(r.diff[i].mean) << "\n";
  for (const auto& [name, d] : r.arg_grads)
    o << "d" << name << " diff:\nRank[" << r.rank << "] max " << num(d.max) << ", mean " << num(d.mean) << "\n";
  for (int i = 0; i < kCheckedTensors; ++i)
    if (!(r.diff[i].max <= p.allowed(i)))
      o << "rank " << r.rank << " " << checked_tensor_name(i) << " max diff " << num(r.diff[i].max)
        << " exceeds the allowed " << num(p.allowed(i)) << "\n";
  for (const auto& [name, d] : r.arg_grads) {
    const double allowed = CheckProblem::allowed_for(p.arg_grad_single_max.at(name));
    if (!(d.max <= allowed))
      o << "rank " << r.rank << " d" << name << " max diff " << num(d.max) << " exceeds the allowed " << num(allowed)
        << "\n";
  }
  if (r.arg_grads.size() != p.nd_arg_grads.size())
    o << "rank " << r.rank << " returned " << r.arg_grads.size() << " variant argument gradients, expected "
      << p.nd_arg_grads.size() << "\n";
  return o.str();
}

int run_virtual_rank_check(const DistCheckConfig& c, const BackendFactory& make_backend, std::ostream& out) {
  const int world = c.virtual_ranks;
  // This backend computes the non-distributed result. On host memory its copy_bytes also moves
  // the ranks' blocks; on a GPU each rank has its own streams, and its ops' stream order moves
  // them as copies ordered by events (gpu_step_backend.h).
  std::unique_ptr<AttentionStepBackend> main_backend = make_backend(0);
  const CheckProblem problem = prepare_check_problem(c, *main_backend);
  out << format_header(c, problem) << std::flush;
  std::vector<RankResult> results(static_cast<size_t>(world));
  TensorOps& world_ops = main_backend->ops();
  InProcessWorld transports(world, [&world_ops](void* dst, const void* src, size_t bytes) {
    world_ops.copy_bytes(dst, src, bytes);
  });
  run_virtual_ranks(transports, [&](int rank, Transport& t) {
    std::unique_ptr<AttentionStepBackend> backend = make_backend(rank);
    transports.use_stream_order(rank, backend->ops().stream_order());  // before the rank posts
    results[static_cast<size_t>(rank)] = run_check_rank(c, problem, t, *backend);
  });
  bool pass = true;
  for (const RankResult& r : results) {
    out << format_rank(r, problem);
    pass = pass && r.pass(problem);
  }
  out << (pass ? "PASS" : "FAIL") << std::endl;
  return pass ? 0 : 1;
}

namespace {

// One rank over NCCL: the check, its lines printed in rank order, and every rank's verdict
// gathered (on the backend's memory, where NCCL moves data) so that rank 0 can print the last line.
struct NcclRankOutcome {
  bool pass = false, all_pass = false;
};

NcclRankOutcome run_nccl_rank(const DistCheckConfig& c, NcclTransportConfig nc, AttentionStepBackend& backend) {
  // Communication is ordered after (and before) the work on the backend's stream.
  nc.compute_stream = static_cast<CUstream>(backend.compute_stream());
  NcclTransport transport(nc);
  const CheckProblem problem = prepare_check_problem(c, backend);
  const RankResult r = run_check_rank(c, problem, transport, backend);
  transport.barrier();  // lines of one rank at a time, rank 0 first
  const std::string text = (nc.rank == 0 ? format_header(c, problem) : std::string()) + format_rank(r, problem);
  for (int turn = 0; turn < nc.world_size; ++turn) {
    if (turn == nc.rank) std::cout << text << std::flush;
    transport.barrier();
  }
  TensorOps& ops = backend.ops();
  HostTensor mine(DType::f32, {1});
  mine.set_at(0, r.pass(problem) ? 1.0 : 0.0);
  DeviceTensor flag = to_backend(ops, mine.view());
  DeviceTensor flags = ops.empty(DType::f32, {nc.world_size});
  transport.all_gather(flag.view.data, flags.view.data, sizeof(float));
  const HostTensor all = to_host(ops, flags.view);
  NcclRankOutcome o;
  o.pass = r.pass(problem);
  o.all_pass = true;
  for (int i = 0; i < nc.world_size; ++i) o.all_pass = o.all_pass && all.at(i) == 1.0;
  return o;
}

}  // namespace

int run_process_check(const DistCheckConfig& c, const BackendFactory& make_backend, std::ostream& out) {
  const int code = launch_processes(c.nproc_per_node, [&](const RankEnv& env) {
    std::unique_ptr<AttentionStepBackend> backend = make_backend(env.rank);
    NcclTransportConfig nc;
    nc.rank = env.rank;
    nc.world_size = env.world_size;
    nc.device = env.local_rank;
    nc.unique_id_file = env.nccl_id_file;
    return run_nccl_rank(c, nc, *backend).pass ? 0 : 1;
  });
  out << (code == 0 ? "PASS" : "FAIL") << std::endl;
  return code == 0 ? 0 : 1;
}

int run_launched_rank_check(const DistCheckConfig& c, const LaunchEnv& env, const BackendFactory& make_backend,
                            std::ostream& out) {
  std::unique_ptr<AttentionStepBackend> backend = make_backend(env.gpu());
  NcclTransportConfig nc;
  nc.rank = env.rank;
  nc.world_size = env.world_size;
  nc.device = env.gpu();
  nc.master_addr = env.master_addr;
  nc.master_port = env.master_port;
  const NcclRankOutcome o = run_nccl_rank(c, nc, *backend);
  if (env.rank == 0) out << (o.all_pass ? "PASS" : "FAIL") << std::endl;
  return o.all_pass ? 0 : 1;
}

}  // namespace dist
}  // namespace tile
