#include "distributed/api_step_backend.h"

#include "attention/host/api.h"

namespace tile {
namespace dist {
namespace {

attention::FlashAttnOptions api_options(bool causal, double softmax_scale, const StepVariant& v) {
  attention::FlashAttnOptions o;
  o.causal = causal;
  o.softmax_scale = softmax_scale;
  o.window_left = v.window_left;
  o.window_right = v.window_right;
  o.softcap = v.softcap;
  o.alibi_slopes = v.alibi_slopes;
  o.variant = v.registered;
  o.variant_args = v.args;
  return o;
}

attention::VarlenSeqs varlen_seqs(const StepVarlen& v) {
  attention::VarlenSeqs s;
  s.cu_seqlens_q = v.cu_seqlens_q;
  s.cu_seqlens_k = v.cu_seqlens_k;
  s.max_seqlen_q = v.max_seqlen_q;
  s.max_seqlen_k = v.max_seqlen_k;
  return s;
}

}  // namespace

ApiStepBackend::ApiStepBackend(std::string name, std::shared_ptr<attention::Backend> backend,
                               std::unique_ptr<TensorOps> ops, void* stream)
    : name_(std::move(name)), backend_(std::move(backend)), ops_(std::move(ops)), stream_(stream) {}

void ApiStepBackend::forward(const StepForwardArgs& a) {
  DeviceTensor scratch;
  TensorView lse = a.lse;
  if (!lse.is_contiguous()) {
    scratch = ops_->empty(DType::f32, a.lse.sizes());
    lse = scratch.view;
  }
  if (a.varlen.defined())
    attention::flash_attn_varlen_func(*backend_, a.q, a.k, a.v, varlen_seqs(a.varlen), a.out, lse,
                                      api_options(a.causal, a.softmax_scale, a.variant));
  else
    attention::flash_attn_func(*backend_, a.q, a.k, a.v, a.out, lse, api_options(a.causal, a.softmax_scale, a.variant));
  if (scratch.defined()) ops_->copy(a.lse, lse);
}

void ApiStepBackend::backward(const StepBackwardArgs& a) {
  DeviceTensor scratch;
  TensorView lse = a.lse;
  if (!lse.is_contiguous()) {
    scratch = ops_->empty(DType::f32, a.lse.sizes());
    ops_->copy(scratch.view, a.lse);
    lse = scratch.view;
  }
  if (a.varlen.defined())
    attention::flash_attn_varlen_backward(*backend_, a.dout, a.q, a.k, a.v, a.out, lse, varlen_seqs(a.varlen),
                                          {a.dq, a.dk, a.dv, a.variant_grads}, api_options(a.causal, a.softmax_scale, a.variant));
  else
    attention::flash_attn_backward(*backend_, a.dout, a.q, a.k, a.v, a.out, lse, {a.dq, a.dk, a.dv, a.variant_grads},
                                   api_options(a.causal, a.softmax_scale, a.variant));
}

}  // namespace dist
}  // namespace tile
