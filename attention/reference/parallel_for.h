// Splits [0, n) into chunks handed out to std::threads on demand.
#pragma once

#include <cstdint>
#include <functional>

namespace tile {
namespace reference {

// Calls body(begin, end) on disjoint chunks covering [0, n). num_threads <= 0 means
// hardware_concurrency. Exceptions thrown by body are rethrown (the first one) after all threads join.
void parallel_for(int64_t n, int num_threads, const std::function<void(int64_t, int64_t)>& body);

}  // namespace reference
}  // namespace tile
