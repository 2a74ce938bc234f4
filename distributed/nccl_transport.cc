#include "distributed/nccl_transport.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "distributed/nccl_library.h"
#include "distributed/launch_env.h"
#include "distributed/nccl_unique_id_file.h"
#include "distributed/tcp_rendezvous.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/memory.h"

namespace tile {
namespace dist {
namespace {

void wait_on(CUstream stream, const rt::Event& event) {
  TILE_CU_CHECK(cuStreamWaitEvent(stream, event.handle(), 0));
}

size_t total_bytes(const std::vector<P2POp>& ops) {
  size_t n = 0;
  for (const P2POp& op : ops) n += op.bytes;
  return n;
}

}  // namespace

struct NcclTransport::Impl {
  ncclComm_t comm = nullptr;
  rt::Stream comm_stream;
  rt::Stream compute_stream;  // borrowed
  rt::DeviceBuffer barrier_word{sizeof(float)};

  explicit Impl(CUstream compute) : compute_stream(rt::Stream::borrow(compute)) {}
  void check_async_error() const {
    ncclResult_t async = ncclSuccess;
    TILE_NCCL_CHECK(ncclCommGetAsyncError(comm, &async));
    nccl_check(async, "NCCL communication (asynchronous error)");
  }
};

namespace {

class NcclRequest : public CommRequest {
 public:
  NcclRequest(NcclTransport::Impl* impl, rt::Event done) : impl_(impl), done_(std::move(done)) {}
  void wait() override {
    impl_->check_async_error();
    wait_on(impl_->compute_stream.handle(), done_);
  }

 private:
  NcclTransport::Impl* impl_;
  rt::Event done_;
};

}  // namespace

NcclTransport::NcclTransport(const NcclTransportConfig& config) : config_(config), lane_rank_(config.rank) {
  if (config.world_size < 1 || config.rank < 0 || config.rank >= config.world_size)
    throw std::invalid_argument("NcclTransport: rank " + std::to_string(config.rank) + " outside world of " +
                                std::to_string(config.world_size));
  if (config.world_size > 1 && config.unique_id_file.empty() && config.master_port <= 0)
    throw std::invalid_argument("NcclTransport: unique_id_file is empty and no master_port is given");
  rt::Context::primary(config.device);  // the GPU first: "no GPU" is the clearer message
  nccl();                               // then the library
  impl_ = std::make_unique<Impl>(config.compute_stream);

  ncclUniqueId id{};
  if (config.rank == 0) TILE_NCCL_CHECK(ncclGetUniqueId(&id));
  const std::vector<char> mine = config.rank == 0 ? std::vector<char>(id.internal, id.internal + sizeof(id.internal))
                                                  : std::vector<char>();
  if (config.world_size == 1) {
    // Nobody to tell.
  } else if (config.master_port > 0) {
    RendezvousConfig rc;
    rc.master_addr = config.master_addr;
    rc.master_port = config.master_port;
    rc.rank = config.rank;
    rc.world_size = config.world_size;
    rc.timeout = config.bootstrap_timeout;
    const std::vector<char> bytes = exchange_blob(rc, mine, sizeof(id.internal));
    std::memcpy(id.internal, bytes.data(), sizeof(id.internal));
  } else if (config.rank == 0) {
    publish_bytes(config.unique_id_file, mine);
  } else {
    const std::vector<char> bytes = wait_for_bytes(config.unique_id_file, sizeof(id.internal), config.bootstrap_timeout);
    std::memcpy(id.internal, bytes.data(), sizeof(id.internal));
  }
  TILE_NCCL_CHECK(ncclCommInitRank(&impl_->comm, config.world_size, id, config.rank));
}

NcclTransport::NcclTransport(const NcclTransportConfig& config, ncclComm_t comm)
    : config_(config), lane_rank_(config.rank) {
  impl_ = std::make_unique<Impl>(config.compute_stream);
  impl_->comm = comm;
}

std::unique_ptr<Transport> NcclTransport::split(int color, int key) {
  if (nccl().ncclCommSplit == nullptr)
    throw TransportError("NCCL " + std::to_string(nccl().version) +
                         " has no ncclCommSplit (sub-groups need NCCL >= 2.18)");
  ncclComm_t sub = nullptr;
  TILE_NCCL_CHECK(ncclCommSplit(impl_->comm, color < 0 ? NCCL_SPLIT_NOCOLOR : color, key, &sub, nullptr));
  if (color < 0 || sub == nullptr) return nullptr;
  NcclTransportConfig c = config_;
  TILE_NCCL_CHECK(ncclCommCount(sub, &c.world_size));
  TILE_NCCL_CHECK(ncclCommUserRank(sub, &c.rank));
  std::unique_ptr<NcclTransport> t(new NcclTransport(c, sub));
  t->lane_rank_ = lane_rank_;
  return t;
}

NcclTransport::~NcclTransport() {
  if (impl_ && impl_->comm) {
    // Queued communication must finish before the communicator goes.
    try {
      impl_->comm_stream.synchronize();
    } catch (...) {
    }
    nccl().ncclCommDestroy(impl_->comm);
  }
}

std::unique_ptr<CommRequest> NcclTransport::post(const std::vector<P2POp>& ops) {
  rt::Event ready;
  ready.record(impl_->compute_stream);
  wait_on(impl_->comm_stream.handle(), ready);
  // With a timeline (--profile) the group is one span on this rank's "comm" lane.
  StreamTimeline* timeline = config_.timeline;
  long span = -1;
  if (timeline) {
    TimelineSpan t;
    t.name = "nccl send/recv";
    t.detail = std::to_string(total_bytes(ops)) + " bytes";
    t.rank = lane_rank_;
    t.stream = "comm";
    t.comm = true;
    t.step = ops.empty() ? -1 : ops.front().step;
    span = timeline->begin(impl_->comm_stream, t);
  }
  TILE_NCCL_CHECK(ncclGroupStart());
  for (const P2POp& op : ops) {
    if (op.kind == P2POp::Kind::send)
      TILE_NCCL_CHECK(ncclSend(op.data, op.bytes, ncclUint8, op.peer, impl_->comm, impl_->comm_stream.handle()));
    else
      TILE_NCCL_CHECK(ncclRecv(op.data, op.bytes, ncclUint8, op.peer, impl_->comm, impl_->comm_stream.handle()));
  }
  TILE_NCCL_CHECK(ncclGroupEnd());
  if (timeline) timeline->end(span, impl_->comm_stream);
  rt::Event done;
  done.record(impl_->comm_stream);
  return std::make_unique<NcclRequest>(impl_.get(), std::move(done));
}

void NcclTransport::barrier() {
  impl_->compute_stream.synchronize();
  float* word = impl_->barrier_word.as<float>();
  TILE_NCCL_CHECK(ncclAllReduce(word, word, 1, ncclFloat32, ncclSum, impl_->comm, impl_->comm_stream.handle()));
  impl_->comm_stream.synchronize();
}

void NcclTransport::broadcast(void* data, size_t bytes, int root) {
  impl_->compute_stream.synchronize();
  TILE_NCCL_CHECK(ncclBroadcast(data, data, bytes, ncclUint8, root, impl_->comm, impl_->comm_stream.handle()));
  impl_->comm_stream.synchronize();
}

void NcclTransport::all_gather(const void* send, void* recv, size_t bytes) {
  impl_->compute_stream.synchronize();
  TILE_NCCL_CHECK(ncclAllGather(send, recv, bytes, ncclUint8, impl_->comm, impl_->comm_stream.handle()));
  impl_->comm_stream.synchronize();
}

bool nccl_config_from_environment(NcclTransportConfig* config) {
  const char* rank = std::getenv("TILE_RANK");
  const char* world = std::getenv("TILE_WORLD_SIZE");
  const char* local = std::getenv("TILE_LOCAL_RANK");
  const char* file = std::getenv("TILE_NCCL_ID_FILE");
  if (!rank || !world || !file) {
    const std::optional<LaunchEnv> env = launch_env_from_process();
    if (!env) return false;
    config->rank = env->rank;
    config->world_size = env->world_size;
    config->device = env->local_rank;
    config->master_addr = env->master_addr;
    config->master_port = env->master_port;
    config->unique_id_file.clear();
    return true;
  }
  config->rank = std::atoi(rank);
  config->world_size = std::atoi(world);
  config->device = local ? std::atoi(local) : config->rank;
  config->unique_id_file = file;
  return true;
}

}  // namespace dist
}  // namespace tile
