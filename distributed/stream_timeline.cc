#include "distributed/stream_timeline.h"

#include <stdexcept>

namespace tile {
namespace dist {

void StreamTimeline::start(rt::Stream& stream) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.clear();
  origin_ = std::make_unique<rt::Event>();
  origin_->record(stream);
  recording_ = true;
}

bool StreamTimeline::recording() const { return recording_; }

long StreamTimeline::begin(rt::Stream& stream, TimelineSpan span) {
  if (!recording_) return -1;
  std::lock_guard<std::mutex> lock(mu_);
  if (!recording_) return -1;
  Pending p;
  p.span = std::move(span);
  p.before = std::make_unique<rt::Event>();
  p.after = std::make_unique<rt::Event>();
  p.before->record(stream);
  pending_.push_back(std::move(p));
  return static_cast<long>(pending_.size()) - 1;
}

void StreamTimeline::end(long id, rt::Stream& stream) {
  if (id < 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<size_t>(id) >= pending_.size())
    throw std::logic_error("StreamTimeline::end: span " + std::to_string(id) + " was not begun since start()");
  pending_[static_cast<size_t>(id)].after->record(stream);
}

std::vector<TimelineSpan> StreamTimeline::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  recording_ = false;
  std::vector<TimelineSpan> spans;
  for (Pending& p : pending_) {
    p.span.start_us = 1000.0 * rt::Event::elapsed_ms(*origin_, *p.before);
    p.span.duration_us = 1000.0 * rt::Event::elapsed_ms(*p.before, *p.after);
    spans.push_back(std::move(p.span));
  }
  pending_.clear();
  return spans;
}

}  // namespace dist
}  // namespace tile
