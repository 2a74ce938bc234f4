// The per-rank accuracy check of ring attention (ring-flash-attention's
// test_qkvpacked_func_dist, as the seed ran it): the same random inputs on every rank, the
// non-distributed result of the same backend over the whole sequence, each rank's shard of the
// distributed out, dq, dk, dv compared against it, and the verdict
//   each rank's max diff <= 2.5 x (non-distributed vs fp64 max diff) + 2e-3   (ANCHORS.md).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>

#include "attention/variants/variant_spec.h"
#include "distributed/check/dist_check_flags.h"
#include "distributed/launch_env.h"
#include "distributed/step_backend.h"
#include "distributed/transport.h"

namespace tile {
namespace dist {

constexpr double kDistributedFactor = 2.5;
constexpr double kDistributedSlack = 2e-3;

struct TensorDiff {
  double max = 0.0, mean = 0.0;
};

// Indexed out, dq, dk, dv.
constexpr int kCheckedTensors = 4;
const char* checked_tensor_name(int i);  // "out", "dq", "dk", "dv"

// The global inputs and the non-distributed results, identical on every rank.
struct CheckProblem {
  HostTensor q, k, v, dout;       // (b, s, h, d) in the check's dtype
  HostTensor nd[kCheckedTensors];  // non-distributed out, dq, dk, dv
  double single_max[kCheckedTensors] = {};  // non-distributed vs fp64, max |diff|
  double allowed(int i) const { return allowed_for(single_max[i]); }
  // --variant: its arguments (host memory, drawn by its generator from the seed, owned by
  // arg_owner) and the non-distributed gradients of its trainable ones (f32) with their
  // max |diff| against fp64, by name; checked like out, dq, dk, dv.
  std::shared_ptr<attention::ArgGenerator> arg_owner;
  attention::VariantArgs args;
  std::map<std::string, HostTensor> nd_arg_grads;
  std::map<std::string, double> arg_grad_single_max;
  static double allowed_for(double single) { return kDistributedFactor * single + kDistributedSlack; }
};

struct RankResult {
  int rank = 0;
  TensorDiff diff[kCheckedTensors];
  std::map<std::string, TensorDiff> arg_grads;  // the trainable variant arguments' gradients
  bool pass(const CheckProblem& p) const;
};

// Builds the inputs from the seed and runs `backend` over the whole sequence and the fp64 reference.
CheckProblem prepare_check_problem(const DistCheckConfig& config, AttentionStepBackend& backend);

// One rank: its shard through the ring (qkvpacked when nheads_k == nheads, else q, k, v), forward
// and backward, compared against its shard of the non-distributed results.
RankResult run_check_rank(const DistCheckConfig& config, const CheckProblem& problem, Transport& transport,
                          AttentionStepBackend& backend);

std::string format_header(const DistCheckConfig& config, const CheckProblem& problem);
// The seed's lines for one rank, plus a line per tensor over its bound.
std::string format_rank(const RankResult& result, const CheckProblem& problem);

// A backend per rank (each rank uses its own from its own thread).
using BackendFactory = std::function<std::unique_ptr<AttentionStepBackend>(int rank)>;

// --virtual_ranks: everything in this process; prints the header, every rank's lines in rank
// order and PASS or FAIL as the last line; returns 0 on PASS, 1 on FAIL.
int run_virtual_rank_check(const DistCheckConfig& config, const BackendFactory& make_backend, std::ostream& out);

// --nproc_per_node: one process per GPU over NCCL (launcher.h); same output; the launcher's
// parent prints the verdict from the ranks' exit codes.
int run_process_check(const DistCheckConfig& config, const BackendFactory& make_backend, std::ostream& out);

// Under torchrun / srun: this process is rank env.rank of env.world_size, on GPU env.gpu()
// (make_backend gets it); the NCCL id comes over the TCP rendezvous at
// MASTER_ADDR:MASTER_PORT. Same lines; rank 0 prints the verdict of all ranks, every rank
// returns it (0 PASS, 1 FAIL).
int run_launched_rank_check(const DistCheckConfig& config, const LaunchEnv& env, const BackendFactory& make_backend,
                            std::ostream& out);

}  // namespace dist
}  // namespace tile
