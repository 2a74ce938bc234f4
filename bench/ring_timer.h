// Times the ring (ring, zigzag or stripe split), Ulysses or USP forward, or forward + backward, of
// one rank over a Transport on its GPU: random shard inputs, --warmup untimed iterations, then --iters timed ones, each started
// after a barrier so every rank times the same round. Host wall time around an iteration: the
// flash-attn API synchronises its stream at the end of every call, so per-kernel CUDA events would
// not see the host waits that are part of the ring's cost today. No L2 flush between iterations
// (a rank's shard is what the ring keeps re-reading anyway).
#pragma once

#include <vector>

#include "attention/gpu/gpu_backend.h"
#include "bench/bench_case.h"
#include "bench/case_runner.h"
#include "bench/results_table.h"
#include "distributed/ring_schedule.h"
#include "distributed/sequence_split.h"
#include "distributed/transport.h"

namespace tile::bench {

// c is the whole case (global seq_len); the rank holds seq_len / world tokens. With
// options.profile one more iteration records the attention kernels' spans (CUDA events around
// each launch of the flash-attn API; the ring's element-wise kernels and NCCL are not in it).
// result.peak_memory_mb is the driver's used memory at the end of an iteration, before its
// results are released, minus what was used before the inputs were made.
// layout.ulysses_degree > 1: Ulysses (ring degree 1) or USP over two sub-groups of `transport`
// (made once, before the timed iterations).
CaseRun time_ring(attention::GpuBackend& gpu, int device, const dist::SequenceLayout& layout,
                  dist::Transport& transport, const BenchCase& c, const RunOptions& options);

}  // namespace tile::bench
