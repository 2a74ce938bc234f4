// A Backend decorator that times every kernel launch of one iteration with CUDA events recorded
// on the launch stream just before and just after it (--profile). The events sit between
// kernels on the same stream, so each span is the kernel's own time on the GPU plus the few
// microseconds an event record costs; gaps between spans are host-side launch latency.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attention/host/backend.h"
#include "bench/chrome_trace.h"
#include "dsl/runtime/stream.h"

namespace tile::bench {

class LaunchTimelineBackend : public attention::Backend {
 public:
  // `instance_of` names the compiled specialisation of a call (for the trace's args).
  LaunchTimelineBackend(attention::Backend& inner, rt::Stream& stream,
                        std::function<std::string(const attention::KernelCall&)> instance_of);

  Device device() const override { return inner_.device(); }
  std::string name() const override { return inner_.name(); }
  void* alloc_zeroed(size_t bytes) override { return inner_.alloc_zeroed(bytes); }
  void free(void* p) override { inner_.free(p); }
  void read(void* host_dst, const void* src, size_t bytes) override { inner_.read(host_dst, src, bytes); }
  void write(void* dst, const void* host_src, size_t bytes) override { inner_.write(dst, host_src, bytes); }
  void launch(const attention::KernelCall& call) override;
  void synchronize() override { inner_.synchronize(); }
  int persistent_programs() const override { return inner_.persistent_programs(); }

  // Records the origin event; launches from here on are timed.
  void begin();
  // Waits for the stream and returns the spans since begin(), times relative to the origin.
  std::vector<KernelSpan> end();

 private:
  struct Pending {
    KernelSpan span;
    std::unique_ptr<rt::Event> before, after;
  };
  attention::Backend& inner_;
  rt::Stream& stream_;
  std::function<std::string(const attention::KernelCall&)> instance_of_;
  bool recording_ = false;
  std::unique_ptr<rt::Event> origin_;
  std::vector<Pending> pending_;
};

}  // namespace tile::bench
