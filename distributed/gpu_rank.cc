#include "distributed/gpu_rank.h"

#include "dsl/runtime/context.h"

namespace tile {
namespace dist {
namespace {

// A zero-fill queued on the compute stream. Never labelled with a step, even inside one: the
// overlap check counts a transfer as in flight during a step only under the step's kernels.
TimelineSpan memset_span(size_t bytes) {
  TimelineSpan s;
  s.name = "memset";
  s.detail = std::to_string(bytes) + " bytes";
  return s;
}

// The rank's GpuBackend with each launch timed on the compute stream (while the timeline
// records); everything else passes through.
class TimedGpu : public attention::Backend {
 public:
  explicit TimedGpu(GpuRank& rank) : rank_(rank), gpu_(rank.gpu()) {}
  Device device() const override { return gpu_.device(); }
  std::string name() const override { return gpu_.name(); }
  // The API's workspace is zeroed on the compute stream (the backward's dQ accumulator at the
  // start of every step): a span of its own, or the lane would show the stream idle while it
  // works for the step.
  void* alloc_zeroed(size_t bytes) override {
    void* p = nullptr;
    rank_.timed(gpu_.stream(), [&] { return memset_span(bytes); }, [&] { p = gpu_.alloc_zeroed(bytes); });
    return p;
  }
  void free(void* p) override { gpu_.free(p); }
  void read(void* host_dst, const void* src, size_t bytes) override { gpu_.read(host_dst, src, bytes); }
  void write(void* dst, const void* host_src, size_t bytes) override { gpu_.write(dst, host_src, bytes); }
  void synchronize() override { gpu_.synchronize(); }
  int persistent_programs() const override { return gpu_.persistent_programs(); }
  void launch(const attention::KernelCall& call) override {
    auto describe = [&] {
      TimelineSpan s;
      s.name = call.kernel;
      s.detail = attention::instance_name(call.kernel, call.params);
      s.step = rank_.step();
      s.grid = call.grid;
      return s;
    };
    rank_.timed(gpu_.stream(), describe, [&] { gpu_.launch(call); });
  }

 private:
  GpuRank& rank_;
  attention::GpuBackend& gpu_;
};

}  // namespace

GpuRank::GpuRank(int ordinal, int rank, std::shared_ptr<StreamTimeline> timeline)
    : ordinal_(ordinal), rank_(rank), gpu_(ordinal), timeline_(std::move(timeline)) {
  timed_ = std::make_unique<TimedGpu>(*this);
}

GpuRank::~GpuRank() {
  // The last tensor may go on a thread without this device's context current. No throw from
  // here: a failed wait leaves nothing better to do than freeing.
  try {
    rt::Context::primary(ordinal_).make_current();
  } catch (...) {
  }
  rt::driver().cuStreamSynchronize(comm_.handle());
  rt::driver().cuStreamSynchronize(gpu_.stream().handle());
}

void* GpuRank::alloc(size_t bytes) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  rt::Context::primary(ordinal_).make_current();  // the caller's thread may have none current
  void* p = nullptr;
  timed(gpu_.stream(), [&] { return memset_span(bytes); },
        [&] { p = pool_.alloc_zeroed(bytes, gpu_.stream().handle()); });
  return p;
}

void GpuRank::free(void* p) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  pool_.free(p);
}

void GpuRank::synchronize() {
  comm_.synchronize();
  gpu_.stream().synchronize();
}

}  // namespace dist
}  // namespace tile
