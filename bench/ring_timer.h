// Times the ring (ring, zigzag or stripe split), Ulysses or USP forward, or forward + backward, of
// one rank over a Transport on its GPU: random shard inputs, --warmup untimed iterations, then
// --iters timed ones, each started after a barrier so every rank times the same round. Host wall
// time around an iteration that ends by waiting for the rank's streams: nothing inside the ring
// waits on the host, and the host clock is the one that spans every rank's streams. No L2 flush
// between iterations (a rank's shard is what the ring keeps re-reading anyway).
#pragma once

#include <memory>
#include <vector>

#include "bench/bench_case.h"
#include "bench/case_runner.h"
#include "bench/results_table.h"
#include "distributed/gpu_rank.h"
#include "distributed/ring_schedule.h"
#include "distributed/sequence_split.h"
#include "distributed/stream_timeline.h"
#include "distributed/transport.h"

namespace tile::bench {

// c is the whole case (global seq_len); the rank holds seq_len / world tokens and runs on `gpu`
// (its own streams and pools). With options.profile one more iteration is recorded on the rank's
// timeline (gpu->timeline(), required then): attention and element-wise kernels on its "compute"
// lane, transfers on its "comm" lane (the in-process transport's copies; NCCL's groups when the
// transport was given the timeline); a step's attention kernels and transfers carry its step. `starts_timeline`: this
// rank starts the timeline and returns its spans — each rank where every rank has a timeline of
// its own (a process per GPU), rank 0 alone where virtual ranks share one (the others return
// none). result.peak_memory_mb is the driver's used memory at the end of an iteration, before
// its results are released, minus what was used before the inputs were made (the whole GPU's:
// virtual ranks share it).
// layout.ulysses_degree > 1: Ulysses (ring degree 1) or USP over two sub-groups of `transport`
// (made once, before the timed iterations).
CaseRun time_ring(const std::shared_ptr<dist::GpuRank>& gpu, const dist::SequenceLayout& layout,
                  dist::Transport& transport, const BenchCase& c, const RunOptions& options,
                  bool starts_timeline = true);

// The timeline's spans as the trace's spans (instance = the span's detail).
std::vector<KernelSpan> kernel_spans(const std::vector<dist::TimelineSpan>& spans);

}  // namespace tile::bench
