// flash-attn's FLOP count: 4·B·S²·H·D, ×0.5 causal, ×3.5 forward+backward.
#include <catch2/catch.hpp>

#include "bench/bench_case.h"
#include "bench/flops.h"

using namespace tile::bench;

TEST_CASE("attention FLOPs follow flash-attn's count", "[bench][flops]") {
  const double full = 4.0 * 2 * 4096.0 * 4096.0 * 16 * 128;  // 274.9 GFLOP
  CHECK(attention_flops(2, 4096, 16, 128, false, true) == full);
  CHECK(attention_flops(2, 4096, 16, 128, true, true) == full * 0.5);
  CHECK(attention_flops(2, 4096, 16, 128, false, false) == full * 3.5);
  CHECK(attention_flops(2, 4096, 16, 128, true, false) == full * 1.75);
  // No int overflow at the sweep's largest case (2 x 65536).
  CHECK(attention_flops(2, 65536, 16, 128, true, false) == Approx(4.0 * 2 * 65536.0 * 65536.0 * 16 * 128 * 1.75));
}

TEST_CASE("TFLOPS from milliseconds: the seed's B=2 S=4096 causal forward", "[bench][flops]") {
  // flash-attn 2.6.3 on the H100 took 0.587 ms: 234 TFLOPS by this count.
  CHECK(tflops(attention_flops(2, 4096, 16, 128, true, true), 0.587) == Approx(234.1).epsilon(1e-3));
  BenchCase c;
  c.causal = true;
  c.fwd_only = false;
  CHECK(c.flops() == attention_flops(2, 4096, 16, 128, true, false));
}
