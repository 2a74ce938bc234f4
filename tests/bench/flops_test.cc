// flash-attn's FLOP count: 2·B·S²·H·(D+DV) = 4·B·S²·H·D, ×0.5 causal, ×3.5 forward+backward.
#include <catch2/catch.hpp>

#include "bench/bench_case.h"
#include "bench/flops.h"

using namespace tile::bench;

TEST_CASE("attention FLOPs follow flash-attn's count", "[bench][flops]") {
  const double full = 4.0 * 2 * 4096.0 * 4096.0 * 16 * 128;  // 274.9 GFLOP
  CHECK(attention_flops(2, 4096, 16, 128, 128, false, true) == full);
  CHECK(attention_flops(2, 4096, 16, 128, 128, true, true) == full * 0.5);
  CHECK(attention_flops(2, 4096, 16, 128, 128, false, false) == full * 3.5);
  CHECK(attention_flops(2, 4096, 16, 128, 128, true, false) == full * 1.75);
  // No int overflow at the sweep's largest case (2 x 65536).
  CHECK(attention_flops(2, 65536, 16, 128, 128, true, false) == Approx(4.0 * 2 * 65536.0 * 65536.0 * 16 * 128 * 1.75));
}

TEST_CASE("TFLOPS from milliseconds: the seed's B=2 S=4096 causal forward", "[bench][flops]") {
  // flash-attn 2.6.3 on the H100 took 0.587 ms: 234 TFLOPS by this count.
  CHECK(tflops(attention_flops(2, 4096, 16, 128, 128, true, true), 0.587) == Approx(234.1).epsilon(1e-3));
  BenchCase c;
  c.causal = true;
  c.fwd_only = false;
  CHECK(c.flops() == attention_flops(2, 4096, 16, 128, 128, true, false));
}

TEST_CASE("head_dim_v != head_dim counts QK^T at D and PV at DV", "[bench][flops]") {
  // Latent attention's (192, 128): 2*S^2*192 + 2*S^2*128 per head.
  CHECK(attention_flops(1, 1024, 1, 192, 128, false, true) == 2.0 * 1024 * 1024 * (192 + 128));
  BenchCase c;
  c.head_size = 192;
  c.head_size_v = 128;
  c.fwd_only = true;
  CHECK(c.flops() == attention_flops(2, 4096, 16, 192, 128, false, true));
}
