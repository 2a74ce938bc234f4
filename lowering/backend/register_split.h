// The register split of a warp-specialised kernel. Its producer warpgroup starts with
// `setmaxnreg.dec P` and its consumer warpgroups with `setmaxnreg.inc C`: registers move through
// the block's pool, so C is bounded by what the block got at launch plus what the producer gave
// back (setmaxnreg.inc waits until the pool holds them: a split that asks for more hangs).
//
// Which split is best shows only after ptxas: a producer that walks many loops (a persistent
// kernel carrying its rings' counts from tile to tile) spills under 24 registers, a consumer
// holding a large accumulator under 232. The back end tries the candidates below on a kernel
// that spills and keeps the one ptxas reports the fewest spill bytes for.
// Plain functions of text and integers: no MLIR, no ptxas.
#pragma once

#include <string>
#include <vector>

namespace tile::backend {

struct RegisterSplit {
  int producer = 0;  // registers per thread of the producer warpgroup
  int consumer = 0;  // registers per thread of each consumer warpgroup
  bool operator==(const RegisterSplit& o) const { return producer == o.producer && consumer == o.consumer; }
};

// setmaxnreg's floor (PTX: a multiple of 8 in 24..256) and the consumers' cap (with two
// consumer warpgroups beside a producer at 24, 240 is exactly what the block holds at launch).
constexpr int kMinSplitRegisters = 24;
constexpr int kMaxConsumerRegisters = 240;

// Registers per thread a block of `threads` threads holds at launch when one block runs per
// multiprocessor (ptxas's cap under `.minnctapersm 1`: the 64K register file shared, rounded
// down to setmaxnreg's unit of 8, at most 255 addressable).
int launch_registers(int threads);

// The most each consumer thread may ask for once the producer warpgroup went down to
// `producer`: the block's launch registers less the producer's, shared among the consumers,
// rounded down to 8 and capped at kMaxConsumerRegisters.
int consumer_registers(int producer, int producer_threads, int consumer_threads);

// The default split: the consumers at the most the producer at setmaxnreg's floor leaves them,
// the producer at the most that still allows (24/240 beside two consumer warpgroups).
RegisterSplit default_register_split(int producer_threads, int consumer_threads);

// The splits worth trying, the default first: one per consumer level from the default's down
// by 8 (`levels` of them, at least 1), each with the largest producer count that level leaves room for;
// past the default only splits that still raise the consumers above their launch count.
std::vector<RegisterSplit> register_split_candidates(int producer_threads, int consumer_threads,
                                                     int levels);

// Rewrites entry `entry`'s split in `ptx` from `from` to `to`. Returns false, leaving `ptx` as
// it was, unless the entry's body holds exactly one `setmaxnreg.dec` and one `setmaxnreg.inc`,
// with `from`'s counts.
bool rewrite_register_split(std::string& ptx, const std::string& entry, RegisterSplit from,
                            RegisterSplit to);

}  // namespace tile::backend
