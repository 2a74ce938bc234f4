// A StreamOrder over host memory for CI (stream_order.h): what a GPU rank's copy stream does,
// with the host thread as the compute stream. A queued copy runs at the latest moment the
// ordering allows — when some compute stream first waits for it — or at once, so a ring that
// read a received block before waiting, or wrote a sent one before waiting, computes with wrong
// data either way. Every fence, queued copy and wait is logged with the thread that queued it,
// to check what was queued when and by whom.
#pragma once

#include <memory>
#include <mutex>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "distributed/stream_order.h"

namespace tile {
namespace dist {
namespace testing {

struct StreamLog {
  struct Entry {
    std::string what;  // "fence", "copy" or "wait" (tests may log their own, e.g. compute)
    int rank = 0;      // whose order
    StreamOrder::CopyInfo info;  // copies
    size_t fences = 0;           // copies: non-null fences they follow
    std::thread::id thread = std::this_thread::get_id();  // who queued it
  };
  std::mutex mu;
  std::vector<Entry> entries;

  void add(Entry e) {
    std::lock_guard<std::mutex> lock(mu);
    entries.push_back(std::move(e));
  }
  size_t count(const std::string& what, int rank = -1) {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const Entry& e : entries) n += e.what == what && (rank < 0 || e.rank == rank);
    return n;
  }
  std::vector<Entry> all() {
    std::lock_guard<std::mutex> lock(mu);
    return entries;
  }
  std::vector<Entry> copies_to(int rank) {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<Entry> out;
    for (const Entry& e : entries)
      if (e.what == "copy" && e.info.to == rank) out.push_back(e);
    return out;
  }
};

class HostStreamOrder : public StreamOrder {
 public:
  enum class When { at_once, late };
  HostStreamOrder(int rank, When when, std::shared_ptr<StreamLog> log) : rank_(rank), when_(when), log_(std::move(log)) {}

  Fence compute_fence() override {
    log_->add({"fence", rank_, {}, 0});
    return std::make_shared<int>(rank_);  // the host has done everything queued before it
  }
  Fence copy_after(void* dst, const void* src, size_t bytes, const std::vector<Fence>& after,
                   const CopyInfo& info) override {
    size_t fences = 0;
    for (const Fence& f : after) fences += f != nullptr;
    log_->add({"copy", rank_, info, fences});
    auto copy = std::make_shared<Copy>(dst, src, bytes);
    if (when_ == When::at_once) copy->run();
    return copy;
  }
  void compute_waits(const Fence& fence) override {
    log_->add({"wait", rank_, {}, 0});
    std::static_pointer_cast<const Copy>(fence)->run();
  }

 private:
  struct Copy {
    Copy(void* d, const void* s, size_t n) : dst(d), src(s), bytes(n) {}
    void run() const {
      std::lock_guard<std::mutex> lock(mu);
      if (done) return;
      std::memcpy(dst, src, bytes);
      done = true;
    }
    void* dst;
    const void* src;
    size_t bytes;
    mutable std::mutex mu;
    mutable bool done = false;
  };
  int rank_;
  When when_;
  std::shared_ptr<StreamLog> log_;
};

}  // namespace testing
}  // namespace dist
}  // namespace tile
