// nccl_selftest --nproc_per_node N: checks the NCCL transport on real GPUs, one rank per GPU —
// a ring exchange of device buffers (with N = 1, a send/recv of a rank to itself), barrier,
// broadcast, all_gather, all_to_all and a split into even and odd ranks. Prints one line per
// rank and PASS or FAIL last; exit 0, 1, or 2 for bad flags / fewer GPUs than ranks.
// Without --nproc_per_node, under torchrun or srun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT), this process is one rank: `torchrun --nproc_per_node=8 nccl_selftest`.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <sstream>
#include <string>
#include <vector>

#include "distributed/gpu_probe.h"
#include "distributed/launch_env.h"
#include "distributed/launcher.h"
#include "distributed/nccl_transport.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"
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

// Rank r sends (r, p) words to rank p; sub-groups of even and odd ranks all_gather their ranks.
bool all_to_all_and_split_ok(Transport& t) {
  const int world = t.world_size();
  std::vector<uint32_t> mine(static_cast<size_t>(2 * world));
  for (int p = 0; p < world; ++p) {
    mine[static_cast<size_t>(2 * p)] = static_cast<uint32_t>(t.rank());
    mine[static_cast<size_t>(2 * p + 1)] = static_cast<uint32_t>(p);
  }
  rt::DeviceBuffer send(mine.size() * 4), recv(mine.size() * 4);
  send.upload(mine);
  t.all_to_all(send.data(), recv.data(), 8);
  rt::Stream::null_stream().synchronize();
  const std::vector<uint32_t> got = recv.download<uint32_t>();
  bool ok = true;
  for (int p = 0; p < world; ++p)
    ok = ok && got[static_cast<size_t>(2 * p)] == static_cast<uint32_t>(p) &&
         got[static_cast<size_t>(2 * p + 1)] == static_cast<uint32_t>(t.rank());
  std::unique_ptr<Transport> half = t.split(t.rank() % 2, t.rank());
  rt::DeviceBuffer one(4), all(4 * static_cast<size_t>(half->world_size()));
  one.upload(std::vector<uint32_t>{static_cast<uint32_t>(t.rank())});
  half->all_gather(one.data(), all.data(), 4);
  const std::vector<uint32_t> members = all.download<uint32_t>();
  for (int i = 0; i < half->world_size(); ++i) ok = ok && members[static_cast<size_t>(i)] == static_cast<uint32_t>(2 * i + t.rank() % 2);
  return ok;
}

int run_rank(const NcclTransportConfig& c) {
  const struct {
    int rank, world_size, local_rank;
  } env{c.rank, c.world_size, c.device};
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
  std::string split_text;
  bool split_ok = false;
  try {
    split_ok = all_to_all_and_split_ok(t);
    split_text = split_ok ? "ok" : "WRONG";
  } catch (const TransportError& e) {  // an NCCL without ncclCommSplit: say so, count as failure
    split_text = std::string("unavailable (") + e.what() + ")";
  }
  std::ostringstream line;
  line << "rank " << env.rank << " (" << rt::Context::primary(env.local_rank).device_name() << "): ring send/recv "
       << (ring_ok ? "ok" : "WRONG") << ", all_gather " << (gather_ok ? "ok" : "WRONG") << ", broadcast "
       << (bcast_ok ? "ok" : "WRONG") << ", all_to_all + split " << split_text << "\n";
  std::cout << line.str() << std::flush;
  return ring_ok && gather_ok && bcast_ok && split_ok ? 0 : 1;
}

int run_forked_rank(const RankEnv& env) {
  NcclTransportConfig c;
  c.rank = env.rank;
  c.world_size = env.world_size;
  c.device = env.local_rank;
  c.unique_id_file = env.nccl_id_file;
  return run_rank(c);
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
  if (nproc == 0) {
    // Started by torchrun / srun: this process is one rank; the NCCL id goes over TCP.
    NcclTransportConfig c;
    try {
      std::optional<LaunchEnv> env = launch_env_from_process();
      if (!env || !nccl_config_from_environment(&c)) {
        std::cerr << "error: --nproc_per_node: expected N >= 1 (or a torchrun/srun environment)\n"
                     "usage: nccl_selftest --nproc_per_node N\n";
        return 2;
      }
    } catch (const std::invalid_argument& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 2;
    }
    try {
      // LOCAL_RANK modulo the GPUs this process sees (srun may show each task only its own).
      const int visible = rt::device_count();
      if (visible > 0) c.device %= visible;
      const int code = run_rank(c);
      std::cout << "rank " << c.rank << ": " << (code == 0 ? "PASS" : "FAIL") << std::endl;
      return code;
    } catch (const std::exception& e) {
      std::cout << "rank " << c.rank << ": error: " << e.what() << "\nFAIL" << std::endl;
      return 1;
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
  const int code = launch_processes(nproc, run_forked_rank);
  std::cout << (code == 0 ? "PASS" : "FAIL") << std::endl;
  return code == 0 ? 0 : 1;
}
