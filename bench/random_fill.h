// Fast fresh random inputs for large benchmark tensors (a 128 x 4096 qkv is 805M elements):
// uniform(-1, 1) rounded to bf16/fp16, generated on all host cores. Each 1M-element chunk has
// its own stream seeded from (seed, chunk), so the values do not depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bench/bench_flags.h"

namespace tile::bench {

void fill_uniform(uint16_t* dst, size_t n, ElemType type, uint64_t seed);

}  // namespace tile::bench
