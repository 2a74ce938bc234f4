#include "dsl/runtime/stream.h"

#include <utility>

#include "dsl/runtime/context.h"

namespace tile::rt {

Stream::Stream() : owned_(true) {
  ensure_current_context();
  TILE_CU_CHECK(cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING));
}

Stream::~Stream() {
  if (owned_ && stream_ != nullptr) driver().cuStreamDestroy(stream_);
}

Stream::Stream(Stream&& other) noexcept
    : stream_(std::exchange(other.stream_, nullptr)), owned_(std::exchange(other.owned_, false)) {}

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    if (owned_ && stream_ != nullptr) driver().cuStreamDestroy(stream_);
    stream_ = std::exchange(other.stream_, nullptr);
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

Stream& Stream::null_stream() {
  static Stream stream(nullptr, /*owned=*/false);
  return stream;
}

Stream Stream::borrow(CUstream handle) { return Stream(handle, /*owned=*/false); }

void Stream::synchronize() const { TILE_CU_CHECK(cuStreamSynchronize(stream_)); }

Event::Event() {
  ensure_current_context();
  TILE_CU_CHECK(cuEventCreate(&event_, CU_EVENT_DEFAULT));
}

Event::~Event() {
  if (event_ != nullptr) driver().cuEventDestroy(event_);
}

Event::Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    if (event_ != nullptr) driver().cuEventDestroy(event_);
    event_ = std::exchange(other.event_, nullptr);
  }
  return *this;
}

void Event::record(Stream& stream) { TILE_CU_CHECK(cuEventRecord(event_, stream.handle())); }

void Event::synchronize() const { TILE_CU_CHECK(cuEventSynchronize(event_)); }

float Event::elapsed_ms(const Event& start, const Event& end) {
  end.synchronize();
  float ms = 0.0f;
  TILE_CU_CHECK(cuEventElapsedTime(&ms, start.event_, end.event_));
  return ms;
}

}  // namespace tile::rt
