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

TEST_CASE("all_to_all: block p goes to rank p, for worlds 1..5") {
  for (int world : {1, 2, 3, 5}) {
    InProcessWorld w(world);
    std::vector<std::vector<int>> got(static_cast<size_t>(world));
    run_virtual_ranks(w, [&](int rank, Transport& t) {
      std::vector<int> send(static_cast<size_t>(2 * world)), recv(send.size(), -1);
      for (int p = 0; p < world; ++p) {  // two ints per peer: (from, to)
        send[static_cast<size_t>(2 * p)] = rank;
        send[static_cast<size_t>(2 * p + 1)] = p;
      }
      t.all_to_all(send.data(), recv.data(), 2 * sizeof(int));
      got[static_cast<size_t>(rank)] = recv;
    });
    for (int r = 0; r < world; ++r)
      for (int p = 0; p < world; ++p) {
        INFO("world " << world << " rank " << r << " block " << p);
        CHECK(got[static_cast<size_t>(r)][static_cast<size_t>(2 * p)] == p);      // came from rank p
        CHECK(got[static_cast<size_t>(r)][static_cast<size_t>(2 * p + 1)] == r);  // addressed to me
      }
  }
}

TEST_CASE("split: a 2 x 3 grid of groups, ordered by key, with their own message matching") {
  const int world = 6, cols = 3;
  InProcessWorld w(world);
  std::vector<int> row_rank(world), row_size(world), col_rank(world), col_size(world), row_sum(world), col_sum(world);
  run_virtual_ranks(w, [&](int rank, Transport& t) {
    // Rows: consecutive ranks (like Ulysses groups); columns: the same position in every row,
    // keyed in reverse to check the ordering by key.
    std::unique_ptr<Transport> row = t.split(rank / cols, rank);
    std::unique_ptr<Transport> col = t.split(rank % cols, -rank);
    REQUIRE(row);
    REQUIRE(col);
    row_rank[static_cast<size_t>(rank)] = row->rank();
    row_size[static_cast<size_t>(rank)] = row->world_size();
    col_rank[static_cast<size_t>(rank)] = col->rank();
    col_size[static_cast<size_t>(rank)] = col->world_size();
    // A parent message posted first and received last must not match a group message.
    int parent_value = 1000 + rank, parent_got = -1;
    auto parent = t.post({P2POp::send(&parent_value, sizeof parent_value, t.next_rank()),
                          P2POp::recv(&parent_got, sizeof parent_got, t.prev_rank())});
    std::vector<int> in_row(static_cast<size_t>(row->world_size())), in_col(static_cast<size_t>(col->world_size()));
    row->all_gather(&rank, in_row.data(), sizeof rank);
    col->all_gather(&rank, in_col.data(), sizeof rank);
    parent->wait();
    CHECK(parent_got == 1000 + t.prev_rank());
    int rs = 0, cs = 0;
    for (int x : in_row) rs += x;
    for (int x : in_col) cs += x;
    row_sum[static_cast<size_t>(rank)] = rs;
    col_sum[static_cast<size_t>(rank)] = cs;
  });
  for (int r = 0; r < world; ++r) {
    INFO("rank " << r);
    CHECK(row_rank[static_cast<size_t>(r)] == r % cols);
    CHECK(row_size[static_cast<size_t>(r)] == cols);
    CHECK(col_size[static_cast<size_t>(r)] == world / cols);
    CHECK(col_rank[static_cast<size_t>(r)] == (world / cols - 1) - r / cols);  // reversed by key
    CHECK(row_sum[static_cast<size_t>(r)] == (r / cols) * cols * cols + 3);   // e.g. 0+1+2, 3+4+5
    CHECK(col_sum[static_cast<size_t>(r)] == 2 * (r % cols) + cols);           // c + (c + 3)
  }
}

TEST_CASE("split: a negative color joins no group; nested splits work") {
  InProcessWorld w(4);
  std::vector<int> nested_size(4, -1);
  run_virtual_ranks(w, [&](int rank, Transport& t) {
    std::unique_ptr<Transport> g = t.split(rank == 3 ? -1 : 0, rank);
    if (rank == 3) {
      CHECK_FALSE(g);
      return;
    }
    REQUIRE(g);
    CHECK(g->world_size() == 3);
    std::unique_ptr<Transport> pair = g->split(g->rank() < 2 ? 0 : 1, 0);
    pair->barrier();
    nested_size[static_cast<size_t>(rank)] = pair->world_size();
  });
  CHECK(nested_size == std::vector<int>({2, 2, 1, -1}));
}

TEST_CASE("split: a rank that fails aborts its peers waiting inside a sub-group") {
  InProcessWorld w(3);
  CHECK_THROWS_WITH(run_virtual_ranks(w,
                                      [&](int rank, Transport& t) {
                                        std::unique_ptr<Transport> g = t.split(0, rank);
                                        if (rank == 2) throw std::runtime_error("rank two broke");
                                        int x = 0;
                                        g->post({P2POp::recv(&x, sizeof x, 2)})->wait();  // would wait forever
                                      }),
                    Catch::Contains("rank two broke"));
  // A rank that never calls split(): the others time out with a message, not a hang.
  InProcessWorld slow(2, InProcessWorld::default_copy(), std::chrono::milliseconds(50));
  CHECK_THROWS_WITH(slow.rank(0).split(0, 0), Catch::Contains("split()"));
}

namespace {

class NoGroupsTransport : public Transport {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string name() const override { return "plain"; }
  std::unique_ptr<CommRequest> post(const std::vector<P2POp>&) override { return nullptr; }
  void barrier() override {}
  void broadcast(void*, size_t, int) override {}
  void all_gather(const void*, void*, size_t) override {}
};

}  // namespace

TEST_CASE("a transport without sub-groups says so") {
  NoGroupsTransport t;
  CHECK_THROWS_WITH(t.split(0, 0), Catch::Contains("plain") && Catch::Contains("not supported"));
}
