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

struct SendSlot {
  const void* data = nullptr;
  size_t bytes = 0;
  bool consumed = false;
};

// Sends from one rank to another, by sequence number.
struct Channel {
  uint64_t sends_posted = 0, recvs_posted = 0;
  std::map<uint64_t, std::shared_ptr<SendSlot>> pending;
};

// One collective split() call: every rank's (color, key), then the groups' worlds.
struct SplitRound {
  std::vector<std::pair<int, int>> color_key;
  int arrived = 0, left = 0;
  bool built = false;
  std::map<int, std::shared_ptr<InProcessWorld>> worlds;  // by color
  std::map<int, int> sub_rank;                            // parent rank -> rank in its group
};

}  // namespace

struct InProcessWorld::State {
  int world = 0;
  ByteCopy copy;
  std::chrono::milliseconds timeout;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Channel> channels;  // [src * world + dst]
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
};

namespace {

class InProcessRequest : public CommRequest {
 public:
  struct Recv {
    void* data;
    size_t bytes;
    int peer;
    uint64_t seq;
  };
  InProcessRequest(InProcessWorld::State* s, int rank) : s_(s), rank_(rank) {}

  void wait() override {
    if (done_) return;
    for (const Recv& r : recvs_) {
      std::shared_ptr<SendSlot> slot;
      {
        std::unique_lock<std::mutex> lock(s_->mu);
        Channel& ch = s_->channel(r.peer, rank_);
        s_->wait_for(lock, [&] { return ch.pending.count(r.seq) > 0; },
                     "rank " + std::to_string(rank_) + " waiting for a send from rank " + std::to_string(r.peer));
        slot = ch.pending[r.seq];
        ch.pending.erase(r.seq);
      }
      if (slot->bytes != r.bytes) {
        std::lock_guard<std::mutex> lock(s_->mu);
        slot->consumed = true;  // let the sender go; the mismatch is reported here
        s_->cv.notify_all();
        throw TransportError("in-process transport: rank " + std::to_string(rank_) + " posted a receive of " +
                             std::to_string(r.bytes) + " bytes from rank " + std::to_string(r.peer) +
                             ", which sent " + std::to_string(slot->bytes));
      }
      s_->copy(r.data, slot->data, r.bytes);
      std::lock_guard<std::mutex> lock(s_->mu);
      slot->consumed = true;
      s_->cv.notify_all();
    }
    for (auto& slot : sends_) {
      std::unique_lock<std::mutex> lock(s_->mu);
      s_->wait_for(lock, [&] { return slot.first->consumed; },
                   "rank " + std::to_string(rank_) + " waiting for rank " + std::to_string(slot.second) +
                       " to receive");
    }
    done_ = true;
  }

  std::vector<Recv> recvs_;
  std::vector<std::pair<std::shared_ptr<SendSlot>, int>> sends_;

 private:
  InProcessWorld::State* s_;
  int rank_;
  bool done_ = false;
};

class InProcessTransport : public Transport {
 public:
  InProcessTransport(InProcessWorld::State* s, int rank) : s_(s), rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return s_->world; }
  std::string name() const override { return "in-process"; }

  std::unique_ptr<CommRequest> post(const std::vector<P2POp>& ops) override {
    auto req = std::make_unique<InProcessRequest>(s_, rank_);
    std::lock_guard<std::mutex> lock(s_->mu);
    for (const P2POp& op : ops) {
      if (op.peer < 0 || op.peer >= s_->world)
        throw TransportError("in-process transport: peer " + std::to_string(op.peer) + " outside world of " +
                             std::to_string(s_->world));
      if (op.kind == P2POp::Kind::send) {
        Channel& ch = s_->channel(rank_, op.peer);
        auto slot = std::make_shared<SendSlot>();
        slot->data = op.data;
        slot->bytes = op.bytes;
        ch.pending[ch.sends_posted++] = slot;
        req->sends_.emplace_back(slot, op.peer);
      } else {
        Channel& ch = s_->channel(op.peer, rank_);
        req->recvs_.push_back({op.data, op.bytes, op.peer, ch.recvs_posted++});
      }
    }
    s_->cv.notify_all();
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
    std::vector<P2POp> ops;
    char* out = static_cast<char*>(recv);
    for (int p = 0; p < s_->world; ++p)
      if (p != rank_) {
        ops.push_back(P2POp::send(send, bytes, p));
        ops.push_back(P2POp::recv(out + static_cast<size_t>(p) * bytes, bytes, p));
      }
    s_->copy(out + static_cast<size_t>(rank_) * bytes, send, bytes);
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
      for (size_t i = 0; i < m.second.size(); ++i) round.sub_rank[m.second[i].second] = static_cast<int>(i);
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
