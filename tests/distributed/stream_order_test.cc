// The in-process transport on device streams (stream_order.h), checked on the host with
// HostStreamOrder: a message's copy is queued by the receiver in its post (waiting there for a
// sender that posts later), before anyone waits, on the receiver's stream after both sides'
// compute fences; so the ring queues step i + 1's copy before step i's compute on every rank,
// however late its sender is; waiting orders each side's compute after it; the ring and USP give
// the same bits as on host memory whether copies run at once or as late as the ordering allows;
// errors name what is wrong.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "distributed/in_process_transport.h"
#include "distributed/launcher.h"
#include "distributed/reference_step_backend.h"
#include "distributed/ring_attention.h"
#include "distributed/sequence_split.h"
#include "distributed/usp_attention.h"
#include "host_stream_order.h"
#include "ring_test_util.h"

using namespace tile;
using namespace tile::dist;
using testing::HostStreamOrder;
using testing::StreamLog;

namespace {

std::shared_ptr<StreamLog> use_host_streams(InProcessWorld& w, HostStreamOrder::When when) {
  auto log = std::make_shared<StreamLog>();
  for (int r = 0; r < w.world_size(); ++r) w.use_stream_order(r, std::make_shared<HostStreamOrder>(r, when, log));
  return log;
}

}  // namespace

TEST_CASE("device streams: the copy is queued when the second side posts, before anyone waits") {
  for (auto when : {HostStreamOrder::When::at_once, HostStreamOrder::When::late}) {
    InProcessWorld w(2);
    auto log = use_host_streams(w, when);
    std::atomic<bool> sender_posted{false}, receiver_posted{false};
    int value = 7, got = -1;
    size_t copies_before_wait = 0;
    run_virtual_ranks(w, [&](int rank, Transport& t) {
      if (rank == 0) {
        auto r = t.post({P2POp::send(&value, sizeof value, 1, 3)});
        sender_posted = true;
        while (!receiver_posted) std::this_thread::yield();
        r->wait();
      } else {
        while (!sender_posted) std::this_thread::yield();
        auto r = t.post({P2POp::recv(&got, sizeof got, 0, 3)});
        copies_before_wait = log->count("copy");  // queued by this post, nobody waited yet
        CHECK(log->count("wait") == 0);
        receiver_posted = true;
        r->wait();
        CHECK(got == 7);  // ordered after the copy once waited for
      }
    });
    CHECK(copies_before_wait == 1);
    const auto copies = log->copies_to(1);
    REQUIRE(copies.size() == 1);
    CHECK(copies[0].rank == 1);  // on the receiver's stream
    CHECK(copies[0].info.from == 0);
    CHECK(copies[0].info.step == 3);  // the receive's label
    CHECK(copies[0].fences == 2);     // after the sender's and the receiver's compute
    CHECK(log->count("wait", 0) == 1);  // the sender may reuse its buffer only after the copy
    CHECK(log->count("wait", 1) == 1);
  }
}

TEST_CASE("device streams: a receiver posting first waits in its post and queues the copy itself") {
  InProcessWorld w(2);
  auto log = use_host_streams(w, HostStreamOrder::When::late);
  std::atomic<bool> receiver_posting{false}, sender_posted{false};
  std::thread::id receiver_thread;
  bool returned_after_the_send = false;
  size_t copies_at_return = 0;
  int value = 11, got = -1;
  run_virtual_ranks(w, [&](int rank, Transport& t) {
    if (rank == 1) {
      receiver_thread = std::this_thread::get_id();
      receiver_posting = true;
      auto r = t.post({P2POp::recv(&got, sizeof got, 0)});
      returned_after_the_send = sender_posted;
      copies_at_return = log->count("copy");
      r->wait();
    } else {
      while (!receiver_posting) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the receiver is in its post
      sender_posted = true;
      auto r = t.post({P2POp::send(&value, sizeof value, 1)});
      r->wait();
    }
  });
  CHECK(got == 11);
  CHECK(returned_after_the_send);  // its post waited for the send ...
  CHECK(copies_at_return == 1);    // ... and queued the copy before returning
  REQUIRE(log->copies_to(1).size() == 1);
  CHECK(log->copies_to(1)[0].rank == 1);
  CHECK(log->copies_to(1)[0].thread == receiver_thread);  // nothing queued from the sender's thread
}

TEST_CASE("device streams: ring hops, collectives and sub-groups move the right data") {
  for (auto when : {HostStreamOrder::When::at_once, HostStreamOrder::When::late}) {
    const int world = 4;
    InProcessWorld w(world);
    auto log = use_host_streams(w, when);
    std::vector<int> final_value(world), bcast(world), row_sum(world);
    std::vector<std::vector<int>> gathered(world), all(world);
    run_virtual_ranks(w, [&](int rank, Transport& t) {
      int buf[2] = {rank * 100, -1};
      int cur = 0;
      for (int hop = 0; hop < world; ++hop) {
        auto req = t.post({P2POp::send(&buf[cur], sizeof(int), t.next_rank()),
                           P2POp::recv(&buf[1 - cur], sizeof(int), t.prev_rank())});
        req->wait();
        cur = 1 - cur;
      }
      final_value[static_cast<size_t>(rank)] = buf[cur];
      t.barrier();
      int v = rank == 2 ? 42 : -1;
      t.broadcast(&v, sizeof v, 2);
      bcast[static_cast<size_t>(rank)] = v;
      int mine = rank * rank;
      gathered[static_cast<size_t>(rank)].resize(world);
      t.all_gather(&mine, gathered[static_cast<size_t>(rank)].data(), sizeof mine);
      std::vector<int> send(world), recv(world, -1);
      for (int p = 0; p < world; ++p) send[static_cast<size_t>(p)] = 10 * rank + p;
      t.all_to_all(send.data(), recv.data(), sizeof(int));
      all[static_cast<size_t>(rank)] = recv;
      std::unique_ptr<Transport> row = t.split(rank / 2, rank);  // members keep their stream orders
      std::vector<int> in_row(2);
      row->all_gather(&rank, in_row.data(), sizeof rank);
      row_sum[static_cast<size_t>(rank)] = in_row[0] + in_row[1];
    });
    for (int r = 0; r < world; ++r) {
      INFO("rank " << r);
      CHECK(final_value[static_cast<size_t>(r)] == r * 100);
      CHECK(bcast[static_cast<size_t>(r)] == 42);
      CHECK(gathered[static_cast<size_t>(r)] == std::vector<int>({0, 1, 4, 9}));
      for (int p = 0; p < world; ++p) CHECK(all[static_cast<size_t>(r)][static_cast<size_t>(p)] == 10 * p + r);
      CHECK(row_sum[static_cast<size_t>(r)] == (r / 2) * 4 + 1);
    }
    // Every non-empty message was a queued copy (barrier tokens are empty: nothing to copy):
    // ring hops, broadcast, all_gather and all_to_all (a rank's own block included), the rows'
    // all_gathers.
    CHECK(log->count("copy") == size_t(world * world + (world - 1) + world * world + world * world + 2 * 2 * 2));
  }
}

TEST_CASE("device streams: a rank without a stream order, a size mismatch and aborts are errors") {
  {
    InProcessWorld w(2);
    w.use_stream_order(0, std::make_shared<HostStreamOrder>(0, HostStreamOrder::When::late, std::make_shared<StreamLog>()));
    std::atomic<int> failures{0};
    run_virtual_ranks(w, [&](int rank, Transport& t) {
      int x = 1;
      try {
        if (rank == 0) t.post({P2POp::send(&x, sizeof x, 1)})->wait();
        else t.post({P2POp::recv(&x, sizeof x, 0)})->wait();
      } catch (const TransportError& e) {
        CHECK_THAT(e.what(), Catch::Contains("rank 0") && Catch::Contains("rank 1 has none"));
        ++failures;
      }
    });
    CHECK(failures == 2);  // both sides learn it
  }
  {
    InProcessWorld w(2);
    use_host_streams(w, HostStreamOrder::When::late);
    CHECK_THROWS_WITH(run_virtual_ranks(w,
                                        [&](int rank, Transport& t) {
                                          long big = 0;
                                          int small = 0;
                                          if (rank == 0) t.post({P2POp::send(&big, sizeof big, 1)})->wait();
                                          else t.post({P2POp::recv(&small, sizeof small, 0)})->wait();
                                        }),
                      Catch::Contains("receive of 4 bytes") && Catch::Contains("sent 8"));
  }
  {
    InProcessWorld w(3);
    use_host_streams(w, HostStreamOrder::When::late);
    CHECK_THROWS_WITH(run_virtual_ranks(w,
                                        [&](int rank, Transport& t) {
                                          if (rank == 1) throw std::runtime_error("rank one broke");
                                          int x = 0;
                                          t.post({P2POp::recv(&x, sizeof x, 1)})->wait();
                                        }),
                      Catch::Contains("rank one broke"));
  }
  InProcessWorld w(2);
  CHECK_THROWS_AS(w.use_stream_order(2, nullptr), std::invalid_argument);
}

namespace {

// Every rank's out, lse, dq, dk, dv (forward and backward, fp64 CPU backend, f32 inputs) of one
// ring mode or USP, on host memory or on host "device streams".
std::vector<HostTensor> run_all(RingMode mode, int world, int ulysses, bool causal, const HostStreamOrder::When* when,
                                std::shared_ptr<StreamLog>* log_out = nullptr) {
  const int64_t B = 1, S = 48, H = 4, D = 8;
  auto in = testing::random_inputs(B, S, H, H, D, DType::f32, 77);
  InProcessWorld w(world);
  if (when) {
    auto log = use_host_streams(w, *when);
    if (log_out) *log_out = log;
  }
  std::vector<HostTensor> got(static_cast<size_t>(5 * world));
  run_virtual_ranks(w, [&](int rank, Transport& t) {
    ReferenceStepBackend backend(1);
    SequenceLayout layout;
    layout.ring_split = mode;
    layout.ulysses_degree = ulysses;
    layout.ring_degree = world / ulysses;
    auto shard = [&](const HostTensor& x) { return shard_sequence(x.view(), 1, layout, rank); };
    const HostTensor q = shard(in.q), k = shard(in.k), v = shard(in.v), dout = shard(in.dout);
    RingAttnOptions o;
    o.causal = causal;
    RingForwardResult f;
    RingGradients g;
    if (ulysses == 1) {
      RankContext ctx{t, backend};
      f = ring_attention_forward(mode, ctx, q.view(), k.view(), v.view(), o);
      g = ring_attention_backward(mode, ctx, dout.view(), q.view(), k.view(), v.view(), f.out.view, f.lse.view, o);
    } else {
      UspGroups groups = make_usp_groups(t, ulysses);
      const UspContext u{*groups.ulysses, *groups.ring, backend};
      f = usp_attention_forward(mode, u, q.view(), k.view(), v.view(), o);
      g = usp_attention_backward(mode, u, dout.view(), q.view(), k.view(), v.view(), f.out.view, f.lse.view, o);
    }
    const TensorView views[5] = {f.out.view, f.lse.view, g.dq.view, g.dk.view, g.dv.view};
    for (int i = 0; i < 5; ++i) got[static_cast<size_t>(5 * rank + i)] = to_host_tensor(views[i], views[i].dtype);
  });
  return got;
}

}  // namespace

TEST_CASE("the ring and USP on device streams give the host-memory bits, copies at once or late") {
  struct Case {
    RingMode mode;
    int world, ulysses;
    bool causal;
  };
  for (const Case& c : {Case{RingMode::ring, 3, 1, true}, Case{RingMode::zigzag, 4, 1, true},
                        Case{RingMode::stripe, 2, 1, false}, Case{RingMode::zigzag, 4, 2, true}}) {
    const std::vector<HostTensor> host = run_all(c.mode, c.world, c.ulysses, c.causal, nullptr);
    for (auto when : {HostStreamOrder::When::at_once, HostStreamOrder::When::late}) {
      INFO("mode " << ring_mode_name(c.mode) << ", world " << c.world << ", ulysses " << c.ulysses << ", "
                   << (when == HostStreamOrder::When::late ? "late" : "at once"));
      const std::vector<HostTensor> streams = run_all(c.mode, c.world, c.ulysses, c.causal, &when);
      for (size_t i = 0; i < host.size(); ++i) {
        INFO("rank " << i / 5 << " tensor " << i % 5);
        CHECK(testing::max_abs_diff(streams[i].view(), host[i].view()) == 0.0);
      }
    }
  }
}

TEST_CASE("the ring labels each block's copy with the step that computes on it") {
  const HostStreamOrder::When late = HostStreamOrder::When::late;
  std::shared_ptr<StreamLog> log;
  const int world = 4;
  run_all(RingMode::ring, world, 1, false, &late, &log);
  for (int r = 0; r < world; ++r) {
    INFO("rank " << r);
    // Forward: K and V for steps 1..W-1. Backward: K and V for steps 1..W-1, and dK/dV after
    // every step (labelled with the next one; W hops bring them home).
    std::vector<int> k_v_steps, all_steps;
    for (const auto& e : log->copies_to(r)) all_steps.push_back(e.info.step);
    const std::vector<int> forward(all_steps.begin(), all_steps.begin() + 2 * (world - 1));
    CHECK(forward == std::vector<int>({1, 1, 2, 2, 3, 3}));
    CHECK(all_steps.size() == size_t(2 * (world - 1) + 2 * (world - 1) + 2 * world));
    for (const auto& e : log->copies_to(r)) {
      CHECK(e.info.from == (r + world - 1) % world);
      CHECK(e.fences == 2);
    }
  }
}

namespace {

// The reference backend, logging each step it computes on `log` (what "forward" / "backward",
// the step as info.step) from the rank's thread; one rank computes slowly, so its posts come
// late and its receiver's would-be copies with them.
class LoggedSteps : public AttentionStepBackend {
 public:
  LoggedSteps(int rank, std::shared_ptr<StreamLog> log, std::chrono::milliseconds delay)
      : inner_(1), rank_(rank), log_(std::move(log)), delay_(delay) {}
  std::string name() const override { return "logged"; }
  TensorOps& ops() override { return inner_.ops(); }
  DType partial_dtype(DType io) const override { return inner_.partial_dtype(io); }
  void forward(const StepForwardArgs& a) override {
    std::this_thread::sleep_for(delay_);
    log_->add({"forward", rank_, {rank_, rank_, a.step}, 0});
    inner_.forward(a);
  }
  void backward(const StepBackwardArgs& a) override {
    std::this_thread::sleep_for(delay_);
    log_->add({"backward", rank_, {rank_, rank_, a.step}, 0});
    inner_.backward(a);
  }

 private:
  ReferenceStepBackend inner_;
  int rank_;
  std::shared_ptr<StreamLog> log_;
  std::chrono::milliseconds delay_;
};

}  // namespace

TEST_CASE("the ring queues each rank's next block before that rank's step, however late its sender") {
  // Rank 0 computes slowly, so rank 1 reaches every step before rank 0 posts the next block.
  // Each copy must still be queued by its receiver, before the receiver's compute of the step
  // the block is in flight for: step i + 1's copy before step i's compute, in the forward and
  // in the backward. (Queued by the sender's later post, it would come after.)
  const int world = 4;
  const int64_t B = 1, S = 32, H = 2, D = 8;
  auto in = testing::random_inputs(B, S, H, H, D, DType::f32, 5);
  InProcessWorld w(world);
  auto log = use_host_streams(w, HostStreamOrder::When::late);
  run_virtual_ranks(w, [&](int rank, Transport& t) {
    LoggedSteps backend(rank, log, std::chrono::milliseconds(rank == 0 ? 15 : 0));
    SequenceLayout layout;
    layout.ring_degree = world;
    auto shard = [&](const HostTensor& x) { return shard_sequence(x.view(), 1, layout, rank); };
    const HostTensor q = shard(in.q), k = shard(in.k), v = shard(in.v), dout = shard(in.dout);
    RankContext ctx{t, backend};
    RingAttnOptions o;
    RingForwardResult f = ring_attention_forward(RingMode::ring, ctx, q.view(), k.view(), v.view(), o);
    ring_attention_backward(RingMode::ring, ctx, dout.view(), q.view(), k.view(), v.view(), f.out.view, f.lse.view, o);
  });

  const std::vector<StreamLog::Entry> entries = log->all();
  for (int r = 0; r < world; ++r) {
    INFO("rank " << r);
    // Where each compute of the rank and each copy into it stands in the log. The first copy
    // labelled i + 1 in each pass is step i + 1's K (the backward posts dK/dV for i + 1 after
    // computing step i).
    std::map<int, size_t> fwd_compute, bwd_compute;
    std::vector<std::pair<int, size_t>> copies;  // (step, position)
    std::thread::id thread;
    for (size_t i = 0; i < entries.size(); ++i) {
      const StreamLog::Entry& e = entries[i];
      if (e.what == "forward" && e.rank == r) {
        fwd_compute[e.info.step] = i;
        thread = e.thread;
      }
      if (e.what == "backward" && e.rank == r) bwd_compute[e.info.step] = i;
      if (e.what == "copy" && e.info.to == r) copies.push_back({e.info.step, i});
    }
    REQUIRE(fwd_compute.size() == size_t(world));
    REQUIRE(bwd_compute.size() == size_t(world));
    for (const StreamLog::Entry& e : entries)
      if (e.what == "copy" && e.info.to == r) CHECK(e.thread == thread);  // queued by the receiver
    for (int step = 0; step + 1 < world; ++step) {
      INFO("step " << step);
      size_t fwd_copy = 0, bwd_copy = 0;  // the first copy labelled step + 1 in each pass
      for (const auto& [s, at] : copies) {
        if (s != step + 1) continue;
        if (at < fwd_compute.at(world - 1)) {
          if (!fwd_copy) fwd_copy = at;
        } else if (!bwd_copy) {
          bwd_copy = at;
        }
      }
      REQUIRE(fwd_copy > 0);
      REQUIRE(bwd_copy > 0);
      CHECK(fwd_copy < fwd_compute.at(step));  // in flight before step's compute was queued
      CHECK(fwd_copy > (step > 0 ? fwd_compute.at(step - 1) : 0));  // and not before the step ahead of it
      CHECK(bwd_copy < bwd_compute.at(step));
      CHECK(bwd_copy > (step > 0 ? bwd_compute.at(step - 1) : fwd_compute.at(world - 1)));
    }
  }
}
