#include "distributed/nccl_transport.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "distributed/nccl_library.h"
#include "distributed/nccl_unique_id_file.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/memory.h"

namespace tile {
namespace dist {
namespace {

// cuStreamWaitEvent is not (yet) in dsl/runtime's driver table: resolve it from the libcuda that
// table already loaded. (Moves into dsl/runtime once it offers stream-on-event waits.)
using StreamWaitEventFn = CUresult (*)(CUstream, CUevent, unsigned int);
StreamWaitEventFn stream_wait_event() {
  static StreamWaitEventFn fn = [] {
    rt::driver();  // throws DriverUnavailable without a GPU
    void* handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    void* sym = handle ? dlsym(handle, "cuStreamWaitEvent") : nullptr;
    if (sym == nullptr) throw TransportError("libcuda.so.1 has no cuStreamWaitEvent");
    return reinterpret_cast<StreamWaitEventFn>(sym);
  }();
  return fn;
}

void wait_on(CUstream stream, const rt::Event& event) {
  const CUresult r = stream_wait_event()(stream, event.handle(), 0);
  if (r != CUDA_SUCCESS) rt::detail::throw_cuda_error(r, "cuStreamWaitEvent", __FILE__, __LINE__);
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

NcclTransport::NcclTransport(const NcclTransportConfig& config) : config_(config) {
  if (config.world_size < 1 || config.rank < 0 || config.rank >= config.world_size)
    throw std::invalid_argument("NcclTransport: rank " + std::to_string(config.rank) + " outside world of " +
                                std::to_string(config.world_size));
  if (config.unique_id_file.empty()) throw std::invalid_argument("NcclTransport: unique_id_file is empty");
  rt::Context::primary(config.device);  // the GPU first: "no GPU" is the clearer message
  nccl();                               // then the library
  impl_ = std::make_unique<Impl>(config.compute_stream);

  ncclUniqueId id{};
  if (config.rank == 0) {
    TILE_NCCL_CHECK(ncclGetUniqueId(&id));
    publish_bytes(config.unique_id_file, std::vector<char>(id.internal, id.internal + sizeof(id.internal)));
  } else {
    const std::vector<char> bytes = wait_for_bytes(config.unique_id_file, sizeof(id.internal), config.bootstrap_timeout);
    std::memcpy(id.internal, bytes.data(), sizeof(id.internal));
  }
  TILE_NCCL_CHECK(ncclCommInitRank(&impl_->comm, config.world_size, id, config.rank));
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
  TILE_NCCL_CHECK(ncclGroupStart());
  for (const P2POp& op : ops) {
    if (op.kind == P2POp::Kind::send)
      TILE_NCCL_CHECK(ncclSend(op.data, op.bytes, ncclUint8, op.peer, impl_->comm, impl_->comm_stream.handle()));
    else
      TILE_NCCL_CHECK(ncclRecv(op.data, op.bytes, ncclUint8, op.peer, impl_->comm, impl_->comm_stream.handle()));
  }
  TILE_NCCL_CHECK(ncclGroupEnd());
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
  if (!rank || !world || !file) return false;
  config->rank = std::atoi(rank);
  config->world_size = std::atoi(world);
  config->device = local ? std::atoi(local) : config->rank;
  config->unique_id_file = file;
  return true;
}

}  // namespace dist
}  // namespace tile
