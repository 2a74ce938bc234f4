#include "bench/launch_timeline_backend.h"

namespace tile::bench {

LaunchTimelineBackend::LaunchTimelineBackend(attention::Backend& inner, rt::Stream& stream,
                                             std::function<std::string(const attention::KernelCall&)> instance_of)
    : inner_(inner), stream_(stream), instance_of_(std::move(instance_of)) {}

void LaunchTimelineBackend::launch(const attention::KernelCall& call) {
  if (!recording_) {
    inner_.launch(call);
    return;
  }
  Pending p;
  p.span.name = call.kernel;
  p.span.instance = instance_of_(call);
  for (int i = 0; i < 3; ++i) p.span.grid[i] = call.grid[size_t(i)];
  p.before = std::make_unique<rt::Event>();
  p.after = std::make_unique<rt::Event>();
  p.before->record(stream_);
  inner_.launch(call);
  p.after->record(stream_);
  pending_.push_back(std::move(p));
}

void LaunchTimelineBackend::begin() {
  pending_.clear();
  origin_ = std::make_unique<rt::Event>();
  origin_->record(stream_);
  recording_ = true;
}

std::vector<KernelSpan> LaunchTimelineBackend::end() {
  recording_ = false;
  stream_.synchronize();
  std::vector<KernelSpan> spans;
  for (Pending& p : pending_) {
    p.span.start_us = 1000.0 * rt::Event::elapsed_ms(*origin_, *p.before);
    p.span.duration_us = 1000.0 * rt::Event::elapsed_ms(*p.before, *p.after);
    spans.push_back(p.span);
  }
  pending_.clear();
  return spans;
}

}  // namespace tile::bench
