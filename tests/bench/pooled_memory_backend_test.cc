// The benchmark's memory decorator over a host-memory fake backend: buffers are reused (and
// zeroed), the peak counts what was held at once, host syncs can be skipped.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <vector>

#include "bench/pooled_memory_backend.h"

using namespace tile;
using namespace tile::bench;

namespace {

class HostBackend : public attention::Backend {
 public:
  Device device() const override { return Device::cpu(); }
  std::string name() const override { return "host"; }
  void* alloc_zeroed(size_t bytes) override {
    ++allocs;
    auto buf = std::make_unique<std::vector<unsigned char>>(bytes, 0);
    void* p = buf->data();
    buffers[p] = std::move(buf);
    return p;
  }
  void free(void* p) override {
    ++frees;
    buffers.erase(p);
  }
  void read(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void write(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void launch(const attention::KernelCall&) override { ++launches; }
  void synchronize() override { ++syncs; }
  int persistent_programs() const override { return 5; }
  std::map<void*, std::unique_ptr<std::vector<unsigned char>>> buffers;
  int allocs = 0, frees = 0, launches = 0, syncs = 0;
};

}  // namespace

TEST_CASE("freed buffers are reused and zeroed; the peak counts what was held", "[bench][memory]") {
  HostBackend host;
  size_t zeroed = 0;
  {
    PooledMemoryBackend pool(host, [&](void* p, size_t n) {
      std::memset(p, 0, n);
      zeroed += n;
    });
    void* a = pool.alloc_zeroed(1000);
    void* b = pool.alloc_zeroed(24);
    CHECK(pool.held_bytes() == 1024);
    std::memset(a, 7, 1000);
    pool.free(a);
    CHECK(pool.live_bytes() == 24);
    CHECK(pool.held_bytes() == 1024);  // cached, still held
    void* a2 = pool.alloc_zeroed(1000);  // same size: reused
    CHECK(a2 == a);
    CHECK(zeroed == 1000);
    CHECK(static_cast<unsigned char*>(a2)[999] == 0);
    CHECK(pool.reuse_count() == 1);
    void* c = pool.alloc_zeroed(500);  // no cached buffer of that size
    CHECK(pool.held_bytes() == 1524);
    CHECK(pool.peak_held_bytes() == 1524);
    CHECK(host.allocs == 3);
    pool.free(b);
    pool.free(c);
    pool.free(a2);
    CHECK(pool.live_bytes() == 0);
    CHECK(pool.peak_held_bytes() == 1524);
    CHECK(host.frees == 0);  // nothing given back before the pool goes
    CHECK_THROWS_AS(pool.free(&zeroed), std::invalid_argument);
  }
  CHECK(host.frees == 3);
  CHECK(host.buffers.empty());
}

TEST_CASE("synchronisation, launches and the persistent program count pass through", "[bench][memory]") {
  HostBackend host;
  PooledMemoryBackend pool(host, [](void*, size_t) {});
  pool.synchronize();
  CHECK(host.syncs == 1);
  pool.launch(attention::KernelCall{});
  CHECK(host.launches == 1);
  CHECK(pool.name() == "host");
  // Not forwarded, the persistent forward would fall back to a program per pair of tiles (it
  // ran on one program per call before this was forwarded: 100x slower on the H100).
  CHECK(pool.persistent_programs() == 5);
}
