// Streams and events (for ordering and CUDA-event timing).
#pragma once

#include "dsl/runtime/cuda_driver.h"

namespace tile::rt {

class Stream {
 public:
  // Creates a new non-blocking stream in the current context.
  Stream();
  ~Stream();
  Stream(Stream&& other) noexcept;
  Stream& operator=(Stream&& other) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // The legacy default (null) stream; shared, never destroyed.
  static Stream& null_stream();
  // Wraps a stream owned elsewhere (e.g. PyTorch's current stream); not destroyed here.
  static Stream borrow(CUstream handle);

  CUstream handle() const { return stream_; }
  void synchronize() const;

 private:
  Stream(CUstream handle, bool owned) : stream_(handle), owned_(owned) {}
  CUstream stream_ = nullptr;
  bool owned_ = false;
};

class Event {
 public:
  Event();
  ~Event();
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record(Stream& stream);
  void synchronize() const;
  CUevent handle() const { return event_; }

  // Milliseconds between two recorded events (waits for `end`).
  static float elapsed_ms(const Event& start, const Event& end);

 private:
  CUevent event_ = nullptr;
};

}  // namespace tile::rt
