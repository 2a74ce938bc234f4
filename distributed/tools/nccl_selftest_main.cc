// nccl_selftest --nproc_per_node N: checks the NCCL transport on real GPUs, one rank per GPU —
// a ring exchange of device buffers (with N = 1, a send/recv of a rank to itself), barrier,
// broadcast and all_gather. Prints one line per rank and PASS or FAIL last; exit 0, 1, or 2 for
// bad flags / fewer GPUs than ranks.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "distributed/gpu_probe.h"
#include "distributed/launcher.h"
#include "distributed/nccl_transport.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/memory.h"
#include "dsl/runtime/stream.h"

namespace {

using namespace tile;
using namespace tile::dist;

std::vector<uint32_t> pattern(int rank, size_t n) {
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint32_t>(rank) * 1000003u + static_cast<uint32_t>(i);
  return v;
}

int run_rank(const RankEnv& env) {
  NcclTransportConfig c;
  c.rank = env.rank;
  c.world_size = env.world_size;
  c.device = env.local_rank;
  c.unique_id_file = env.nccl_id_file;
  NcclTransport t(c);
  const size_t n = 1 << 20;  // 4 MiB, above NCCL's small-message paths
  rt::DeviceBuffer send(n * 4), recv(n * 4), gathered(n * 4 * static_cast<size_t>(env.world_size)), bcast(16);
  send.upload(pattern(env.rank, n));
  recv.fill_bytes(0xff);
  // Two hops in flight one after the other, as the ring posts them.
  auto req = t.post({P2POp::send(send.data(), n * 4, t.next_rank()), P2POp::recv(recv.data(), n * 4, t.prev_rank())});
  req->wait();
  rt::Stream::null_stream().synchronize();
  const bool ring_ok = recv.download<uint32_t>() == pattern(t.prev_rank(), n);
  t.barrier();
  t.all_gather(send.data(), gathered.data(), n * 4);
  const std::vector<uint32_t> all = gathered.download<uint32_t>();
  bool gather_ok = true;
  for (int r = 0; r < env.world_size; ++r)
    gather_ok = gather_ok && std::vector<uint32_t>(all.begin() + static_cast<long>(r * n), all.begin() + static_cast<long>((r + 1) * n)) == pattern(r, n);
  bcast.upload(std::vector<uint32_t>(4, env.rank == 0 ? 77u : 0u));
  t.broadcast(bcast.data(), 16, 0);
  const bool bcast_ok = bcast.download<uint32_t>() == std::vector<uint32_t>(4, 77u);
  std::ostringstream line;
  line << "rank " << env.rank << " (" << rt::Context::primary(env.local_rank).device_name() << "): ring send/recv "
       << (ring_ok ? "ok" : "WRONG") << ", all_gather " << (gather_ok ? "ok" : "WRONG") << ", broadcast "
       << (bcast_ok ? "ok" : "WRONG") << "\n";
  std::cout << line.str() << std::flush;
  return ring_ok && gather_ok && bcast_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int nproc = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--nproc_per_node" && i + 1 < argc) nproc = std::atoi(argv[++i]);
    else {
      std::cerr << "error: " << a << ": unknown flag or missing value\nusage: nccl_selftest --nproc_per_node N\n";
      return 2;
    }
  }
  if (nproc < 1) {
    std::cerr << "error: --nproc_per_node: expected N >= 1\nusage: nccl_selftest --nproc_per_node N\n";
    return 2;
  }
  // The ranks are forked: CUDA must not be initialised in this process, so a child counts the GPUs.
  const GpuProbe gpus = probe_gpus_in_child();
  if (nproc > gpus.count) {
    std::cerr << "error: --nproc_per_node: " << nproc << " ranks need as many GPUs, " << gpus.count << " found"
              << (gpus.why.empty() ? "" : " (" + gpus.why + ")") << "\n";
    return 2;
  }
  const int code = launch_processes(nproc, run_rank);
  std::cout << (code == 0 ? "PASS" : "FAIL") << std::endl;
  return code == 0 ? 0 : 1;
}
