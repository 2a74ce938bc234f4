#include "distributed/in_process_transport.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace tile {
namespace dist {
namespace {

// One message, from the first post of either side until both requests are done with it.
struct Transfer {
  int from = 0, to = 0;
  bool sent = false, received = false;  // which sides posted
  const void* src = nullptr;
  size_t send_bytes = 0;
  void* dst = nullptr;
  size_t recv_bytes = 0;
  int step = -1;  // the receiver's label (P2POp::step)
  StreamOrder::Fence send_fence, recv_fence;  // device streams: each side's compute at its post
  // Host memory: the receiver copied (or gave up on a size mismatch). Device streams: the copy
  // was queued (its fence in `copied`; none for an empty message) or could not be.
  bool done = false;
  StreamOrder::Fence copied;
  std::string error;           // set when the message cannot move
  bool error_for_sender = true;  // a size mismatch is reported by the receiver only
};

// Messages from one rank to another, by sequence number: the n-th send meets the n-th receive.
struct Channel {
  uint64_t sends_posted = 0, recvs_posted = 0;
  std::map<uint64_t, std::shared_ptr<Transfer>> open;  // posted by one side only so far
};

// One collective split() call: every rank's (color, key), then the groups' worlds.
struct SplitRound {
  std::vector<std::pair<int, int>> color_key;
  int arrived = 0, left = 0;
  bool built = false;
  std::map<int, std::shared_ptr<InProcessWorld>> worlds;  // by color
  std::map<int, int> sub_rank;                            // parent rank -> rank in its group
};

std::string size_mismatch(const Transfer& t) {
  return "in-process transport: rank " + std::to_string(t.to) + " posted a receive of " +
         std::to_string(t.recv_bytes) + " bytes from rank " + std::to_string(t.from) + ", which sent " +
         std::to_string(t.send_bytes);
}

}  // namespace

struct InProcessWorld::State {
  int world = 0;
  ByteCopy copy;
  std::chrono::milliseconds timeout;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Channel> channels;  // [src * world + dst]
  std::vector<std::shared_ptr<StreamOrder>> orders;  // per rank; null: host memory
  std::string abort_reason;       // non-empty once aborted
  std::vector<std::unique_ptr<Transport>> transports;
  std::map<uint64_t, SplitRound> splits;               // by split call number
  std::vector<std::weak_ptr<InProcessWorld>> groups;   // aborted with this world

  Channel& channel(int src, int dst) { return channels[static_cast<size_t>(src * world + dst)]; }

  // Waits on cv until pred() holds; throws when aborted or after the timeout.
  template <typename Pred>
  void wait_for(std::unique_lock<std::mutex>& lock, Pred pred, const std::string& what) {
    const bool ok = cv.wait_for(lock, timeout, [&] { return !abort_reason.empty() || pred(); });
    if (!abort_reason.empty()) throw TransportError("in-process transport: " + what + " aborted: " + abort_reason);
    if (!ok) throw TransportError("in-process transport: timed out " + what);
  }

  // Device streams, with mu held, once both sides posted: queue the copy on the receiver's
  // communication stream after both sides' compute fences. Errors stay in the transfer, for
  // both requests to report.
  void issue(Transfer& t) {
    StreamOrder* sender = orders[static_cast<size_t>(t.from)].get();
    StreamOrder* receiver = orders[static_cast<size_t>(t.to)].get();
    t.done = true;
    if (!sender || !receiver) {
      const int with = sender ? t.from : t.to, without = sender ? t.to : t.from;
      t.error = "in-process transport: rank " + std::to_string(with) +
                " moves messages on device streams (a stream order) but rank " + std::to_string(without) +
                " has none; every rank of a world needs one, or none does";
      return;
    }
    if (t.send_bytes != t.recv_bytes) {
      t.error = size_mismatch(t);
      t.error_for_sender = false;
      return;
    }
    if (t.send_bytes == 0) return;  // nothing to order after (a barrier's token)
    try {
      t.copied = receiver->copy_after(t.dst, t.src, t.send_bytes, {t.send_fence, t.recv_fence},
                                      StreamOrder::CopyInfo{t.from, t.to, t.step});
    } catch (const std::exception& e) {
      t.error = "in-process transport: copy from rank " + std::to_string(t.from) + " to rank " + std::to_string(t.to) +
                " failed: " + e.what();
    }
  }
};

namespace {

class InProcessRequest : public CommRequest {
 public:
  InProcessRequest(InProcessWorld::State* s, int rank, std::shared_ptr<StreamOrder> order)
      : s_(s), rank_(rank), order_(std::move(order)) {}

  // Receives first (a rank's own send may be among them), then sends.
  void wait() override {
    if (done_) return;
    for (const auto& t : recvs_) receive(*t);
    for (const auto& t : sends_) {
      std::unique_lock<std::mutex> lock(s_->mu);
      s_->wait_for(lock, [&] { return t->done; },
                   "rank " + std::to_string(rank_) + " waiting for rank " + std::to_string(t->to) + " to receive");
      if (!t->error.empty() && t->error_for_sender) throw TransportError(t->error);
      // Device streams: the send buffer may be written again only after the copy read it.
      if (t->copied) order_->compute_waits(t->copied);
    }
    done_ = true;
  }

  std::vector<std::shared_ptr<Transfer>> recvs_, sends_;

 private:
  void receive(Transfer& t) {
    const std::string what = "rank " + std::to_string(rank_) + " waiting for a send from rank " + std::to_string(t.from);
    std::unique_lock<std::mutex> lock(s_->mu);
    s_->wait_for(lock, [&] { return t.sent; }, what);
    if (t.send_fence || t.recv_fence) {  // device streams: the last side to post queued the copy
      if (!t.error.empty()) throw TransportError(t.error);
      if (t.copied) order_->compute_waits(t.copied);
      return;
    }
    if (t.send_bytes != t.recv_bytes) {
      t.done = true;  // let the sender go; the mismatch is reported here
      t.error_for_sender = false;
      t.error = size_mismatch(t);
      s_->cv.notify_all();
      throw TransportError(t.error);
    }
    lock.unlock();
    s_->copy(t.dst, t.src, t.recv_bytes);
    lock.lock();
    t.done = true;
    s_->cv.notify_all();
  }

  InProcessWorld::State* s_;
  int rank_;
  std::shared_ptr<StreamOrder> order_;  // this rank's at the post; null: host memory
  bool done_ = false;
};

class InProcessTransport : public Transport {
 public:
  InProcessTransport(InProcessWorld::State* s, int rank) : s_(s), rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return s_->world; }
  std::string name() const override { return "in-process"; }

  std::unique_ptr<CommRequest> post(const std::vector<P2POp>& ops) override {
    std::shared_ptr<StreamOrder> order;
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      order = s_->orders[static_cast<size_t>(rank_)];
    }
    auto req = std::make_unique<InProcessRequest>(s_, rank_, order);
    // Device streams: one fence after this rank's compute so far orders every copy of the batch
    // (the host does not wait for it).
    const StreamOrder::Fence fence = order && !ops.empty() ? order->compute_fence() : nullptr;
    std::unique_lock<std::mutex> lock(s_->mu);
    for (const P2POp& op : ops)
      if (op.peer < 0 || op.peer >= s_->world)
        throw TransportError("in-process transport: peer " + std::to_string(op.peer) + " outside world of " +
                             std::to_string(s_->world));
    std::vector<std::shared_ptr<Transfer>> incoming;  // device streams: this rank queues their copies
    for (const P2POp& op : ops) {
      const bool send = op.kind == P2POp::Kind::send;
      Channel& ch = send ? s_->channel(rank_, op.peer) : s_->channel(op.peer, rank_);
      const uint64_t seq = send ? ch.sends_posted++ : ch.recvs_posted++;
      std::shared_ptr<Transfer>& slot = ch.open[seq];
      if (!slot) {
        slot = std::make_shared<Transfer>();
        slot->from = send ? rank_ : op.peer;
        slot->to = send ? op.peer : rank_;
      }
      std::shared_ptr<Transfer> t = slot;
      if (send) {
        t->sent = true;
        t->src = op.data;
        t->send_bytes = op.bytes;
        t->send_fence = fence;
        req->sends_.push_back(t);
      } else {
        t->received = true;
        t->dst = op.data;
        t->recv_bytes = op.bytes;
        t->recv_fence = fence;
        t->step = op.step;
        req->recvs_.push_back(t);
        if (order) incoming.push_back(t);
      }
      if (t->sent && t->received) {
        ch.open.erase(seq);
        // Device streams: a receiver with a stream order queues its own copies (below); the
        // sender queues nothing on a peer's streams, it only reports a world that mixes paths.
        const bool receiver_queues = send && t->to != rank_ && s_->orders[static_cast<size_t>(t->to)];
        if ((t->send_fence || t->recv_fence) && !receiver_queues) s_->issue(*t);
      }
    }
    s_->cv.notify_all();
    // Device streams: every incoming copy is queued on this rank's copy stream before post()
    // returns, so before the caller queues the compute it should overlap (the ring posts step
    // i + 1 and then queues step i). Queued instead by a sender posting later, it would follow
    // that compute in submission order, which is the order a GPU whose streams share hardware
    // queues runs them in. A sender that has not posted yet is waited for here: the host threads
    // meet, the device is not waited for. Every send of this batch was registered above, so two
    // ranks waiting here for each other's sends both go on.
    for (const std::shared_ptr<Transfer>& t : incoming) {
      s_->wait_for(lock, [&] { return t->sent; },
                   "rank " + std::to_string(rank_) + " waiting for rank " + std::to_string(t->from) + " to post a send");
      if (!t->done) s_->issue(*t);
    }
    if (!incoming.empty()) s_->cv.notify_all();
    return req;
  }

  void barrier() override {
    // Every rank sends a zero-byte message to every other and receives one from each.
    std::vector<P2POp> ops;
    for (int p = 0; p < s_->world; ++p)
      if (p != rank_) {
        ops.push_back(P2POp::send(&token_, 0, p));
        ops.push_back(P2POp::recv(&token_, 0, p));
      }
    post(ops)->wait();
  }

  void broadcast(void* data, size_t bytes, int root) override {
    std::vector<P2POp> ops;
    if (rank_ == root) {
      for (int p = 0; p < s_->world; ++p)
        if (p != root) ops.push_back(P2POp::send(data, bytes, p));
    } else {
      ops.push_back(P2POp::recv(data, bytes, root));
    }
    post(ops)->wait();
  }

  void all_gather(const void* send, void* recv, size_t bytes) override {
    // Every rank's block, this rank's own included (a message to itself: on device streams it is
    // a copy ordered like the others).
    std::vector<P2POp> ops;
    char* out = static_cast<char*>(recv);
    for (int p = 0; p < s_->world; ++p) {
      ops.push_back(P2POp::send(send, bytes, p));
      ops.push_back(P2POp::recv(out + static_cast<size_t>(p) * bytes, bytes, p));
    }
    post(ops)->wait();
  }

  std::unique_ptr<Transport> split(int color, int key) override;

 private:
  InProcessWorld::State* s_;
  int rank_;
  char token_ = 0;
  uint64_t splits_called_ = 0;
};

// A rank's transport in a sub-group's world; keeps that world alive.
class GroupTransport : public Transport {
 public:
  GroupTransport(std::shared_ptr<InProcessWorld> world, int rank) : world_(std::move(world)), t_(world_->rank(rank)) {}
  int rank() const override { return t_.rank(); }
  int world_size() const override { return t_.world_size(); }
  std::string name() const override { return t_.name(); }
  std::unique_ptr<CommRequest> post(const std::vector<P2POp>& ops) override { return t_.post(ops); }
  void barrier() override { t_.barrier(); }
  void broadcast(void* data, size_t bytes, int root) override { t_.broadcast(data, bytes, root); }
  void all_gather(const void* send, void* recv, size_t bytes) override { t_.all_gather(send, recv, bytes); }
  std::unique_ptr<Transport> split(int color, int key) override { return t_.split(color, key); }

 private:
  std::shared_ptr<InProcessWorld> world_;
  Transport& t_;
};

// The (color, key) pairs meet in the shared state (host memory: the world's copy function may
// move device memory only); the last rank to arrive sees a complete round, and the first to see
// it builds one world per color, with its ranks ordered by (key, parent rank).
std::unique_ptr<Transport> InProcessTransport::split(int color, int key) {
  const uint64_t call = splits_called_++;
  std::unique_lock<std::mutex> lock(s_->mu);
  SplitRound& round = s_->splits[call];
  if (round.color_key.empty()) round.color_key.resize(static_cast<size_t>(s_->world));
  round.color_key[static_cast<size_t>(rank_)] = {color, key};
  ++round.arrived;
  s_->cv.notify_all();
  s_->wait_for(lock, [&] { return round.arrived == s_->world; },
               "rank " + std::to_string(rank_) + " waiting for every rank to call split()");
  if (!round.built) {
    std::map<int, std::vector<std::pair<int, int>>> members;  // color -> (key, rank)
    for (int r = 0; r < s_->world; ++r) {
      const auto& ck = round.color_key[static_cast<size_t>(r)];
      if (ck.first >= 0) members[ck.first].push_back({ck.second, r});
    }
    for (auto& m : members) {
      std::sort(m.second.begin(), m.second.end());
      auto world = std::make_shared<InProcessWorld>(static_cast<int>(m.second.size()), s_->copy, s_->timeout);
      for (size_t i = 0; i < m.second.size(); ++i) {
        const int parent = m.second[i].second;
        round.sub_rank[parent] = static_cast<int>(i);
        world->use_stream_order(static_cast<int>(i), s_->orders[static_cast<size_t>(parent)]);
      }
      round.worlds[m.first] = world;
      s_->groups.push_back(world);
    }
    round.built = true;
  }
  std::shared_ptr<InProcessWorld> world = color >= 0 ? round.worlds[color] : nullptr;
  const int sub_rank = color >= 0 ? round.sub_rank[rank_] : -1;
  if (++round.left == s_->world) s_->splits.erase(call);  // the groups live on in their transports
  lock.unlock();
  if (!world) return nullptr;
  return std::make_unique<GroupTransport>(std::move(world), sub_rank);
}

}  // namespace

InProcessWorld::InProcessWorld(int world_size, ByteCopy copy, std::chrono::milliseconds timeout)
    : state_(std::make_shared<State>()) {
  if (world_size < 1) throw std::invalid_argument("InProcessWorld: world_size must be >= 1, got " + std::to_string(world_size));
  state_->world = world_size;
  state_->copy = std::move(copy);
  state_->timeout = timeout;
  state_->channels.resize(static_cast<size_t>(world_size * world_size));
  state_->orders.resize(static_cast<size_t>(world_size));
  for (int r = 0; r < world_size; ++r) state_->transports.push_back(std::make_unique<InProcessTransport>(state_.get(), r));
}

InProcessWorld::~InProcessWorld() = default;

int InProcessWorld::world_size() const { return state_->world; }

Transport& InProcessWorld::rank(int r) {
  if (r < 0 || r >= state_->world)
    throw std::invalid_argument("InProcessWorld: rank " + std::to_string(r) + " outside world of " +
                                std::to_string(state_->world));
  return *state_->transports[static_cast<size_t>(r)];
}

void InProcessWorld::use_stream_order(int r, std::shared_ptr<StreamOrder> order) {
  rank(r);  // range check
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->orders[static_cast<size_t>(r)] = std::move(order);
}

void InProcessWorld::abort(const std::string& reason) {
  std::vector<std::shared_ptr<InProcessWorld>> groups;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->abort_reason.empty()) state_->abort_reason = reason.empty() ? "aborted" : reason;
    state_->cv.notify_all();
    for (auto& g : state_->groups)
      if (auto live = g.lock()) groups.push_back(std::move(live));
  }
  // A peer waiting inside a sub-group must stop too.
  for (auto& g : groups) g->abort(reason);
}

}  // namespace dist
}  // namespace tile
