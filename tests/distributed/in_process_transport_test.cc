// The in-process transport across threads: ring exchange, NCCL-like matching by posting order,
// rendezvous (the sender's buffer is read at the receiver's wait), collectives, abort, errors.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "distributed/in_process_transport.h"
#include "distributed/launcher.h"

using namespace tile::dist;

TEST_CASE("ring send/recv across threads, several hops") {
  for (int world : {1, 2, 3, 5}) {
    InProcessWorld w(world);
    std::vector<int> final_value(static_cast<size_t>(world));
    run_virtual_ranks(w, [&](int rank, Transport& t) {
      int cur = rank * 100, next = -1;
      for (int hop = 0; hop < world; ++hop) {
        auto req = t.post({P2POp::send(&cur, sizeof cur, t.next_rank()), P2POp::recv(&next, sizeof next, t.prev_rank())});
        req->wait();
        cur = next;
      }
      final_value[static_cast<size_t>(rank)] = cur;  // after world hops every value is home
    });
    for (int r = 0; r < world; ++r) CHECK(final_value[static_cast<size_t>(r)] == r * 100);
  }
}

TEST_CASE("receives match sends in posting order whatever the wait order") {
  InProcessWorld w(2);
  int a_got = 0, b_got = 0;
  run_virtual_ranks(w, [&](int rank, Transport& t) {
    if (rank == 0) {
      int a = 1, b = 2;
      auto r1 = t.post({P2POp::send(&a, sizeof a, 1)});
      auto r2 = t.post({P2POp::send(&b, sizeof b, 1)});
      r2->wait();
      r1->wait();
    } else {
      auto r1 = t.post({P2POp::recv(&a_got, sizeof a_got, 0)});
      auto r2 = t.post({P2POp::recv(&b_got, sizeof b_got, 0)});
      r2->wait();  // the second receive still gets the second send
      r1->wait();
    }
  });
  CHECK(a_got == 1);
  CHECK(b_got == 2);
}

TEST_CASE("a send's buffer is read when the receiver waits (rendezvous)") {
  InProcessWorld w(2);
  std::atomic<bool> posted{false}, changed{false};
  int got = 0;
  run_virtual_ranks(w, [&](int rank, Transport& t) {
    if (rank == 0) {
      int value = 7;
      auto r = t.post({P2POp::send(&value, sizeof value, 1)});
      posted = true;
      value = 8;  // a sender bug: reusing the buffer before wait(); the receiver sees it
      changed = true;
      r->wait();
    } else {
      auto r = t.post({P2POp::recv(&got, sizeof got, 0)});
      while (!changed) std::this_thread::yield();
      r->wait();
    }
  });
  CHECK(got == 8);
}

TEST_CASE("barrier, broadcast and all_gather") {
  const int world = 4;
  InProcessWorld w(world);
  std::atomic<int> arrived{0};
  std::vector<std::vector<int>> gathered(world);
  std::vector<int> bcast(world, 0);
  run_virtual_ranks(w, [&](int rank, Transport& t) {
    ++arrived;
    t.barrier();
    CHECK(arrived.load() == world);  // nobody passes the barrier before everyone arrived
    int v = rank == 2 ? 42 : -1;
    t.broadcast(&v, sizeof v, 2);
    bcast[static_cast<size_t>(rank)] = v;
    int mine = rank * rank;
    gathered[static_cast<size_t>(rank)].resize(world);
    t.all_gather(&mine, gathered[static_cast<size_t>(rank)].data(), sizeof mine);
  });
  for (int r = 0; r < world; ++r) {
    CHECK(bcast[static_cast<size_t>(r)] == 42);
    CHECK(gathered[static_cast<size_t>(r)] == std::vector<int>({0, 1, 4, 9}));
  }
}

TEST_CASE("a failing rank aborts its peers' waits and its own error is reported") {
  InProcessWorld w(3);
  CHECK_THROWS_WITH(run_virtual_ranks(w,
                                      [&](int rank, Transport& t) {
                                        if (rank == 1) throw std::runtime_error("rank one broke");
                                        int x = 0;
                                        t.post({P2POp::recv(&x, sizeof x, 1)})->wait();  // would wait forever
                                      }),
                    Catch::Contains("rank one broke"));
}

TEST_CASE("mismatched sizes, bad peers and timeouts are errors naming what happened") {
  {
    InProcessWorld w(2);
    CHECK_THROWS_WITH(run_virtual_ranks(w,
                                        [&](int rank, Transport& t) {
                                          long big = 0;
                                          int small = 0;
                                          if (rank == 0) t.post({P2POp::send(&big, sizeof big, 1)})->wait();
                                          else t.post({P2POp::recv(&small, sizeof small, 0)})->wait();
                                        }),
                      Catch::Contains("bytes"));
  }
  InProcessWorld w(2, InProcessWorld::default_copy(), std::chrono::milliseconds(50));
  int x = 0;
  CHECK_THROWS_AS(w.rank(0).post({P2POp::send(&x, sizeof x, 5)}), TransportError);
  CHECK_THROWS_WITH(w.rank(0).post({P2POp::recv(&x, sizeof x, 1)})->wait(), Catch::Contains("timed out"));
  CHECK_THROWS_AS(InProcessWorld(0), std::invalid_argument);
}
