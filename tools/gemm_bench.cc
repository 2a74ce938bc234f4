// Times the DSL's bf16 GEMMs (generated ahead of time; c = a @ b, f32 out) on square sizes with
// CUDA events: fresh random inputs per size, warm-up, median of the timed launches. A sample of
// output elements is checked against an fp64 product first, so a fast wrong kernel cannot pass.
// Two instances of the one DSL kernel: gemm_bf16 (128x128 tiles, two programs per multiprocessor)
// and gemm_bf16_ws (a producer warpgroup feeding 128x256 tiles).
//
//   gemm_bench [--sizes 4096,8192] [--warmup 10] [--iters 50]
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/memory.h"
#include "dsl/runtime/stream.h"
#include "tests/backend/dsl_gemm_instances.h"

namespace rt = tile::rt;
namespace k = tile::kernels;

namespace {

struct Options {
  std::vector<int> sizes = {4096, 8192};
  int warmup = 10;
  int iters = 50;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--sizes") {
      o.sizes.clear();
      std::stringstream in(value);
      std::string item;
      while (std::getline(in, item, ',')) o.sizes.push_back(std::stoi(item));
    } else if (flag == "--warmup") {
      o.warmup = std::stoi(value);
    } else if (flag == "--iters") {
      o.iters = std::stoi(value);
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  return o;
}

// xorshift: filling 2 x 8192^2 values with mt19937 would dominate the run.
struct Rng {
  uint64_t s;
  float uniform() {  // [-1, 1)
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return float((s >> 40) * (1.0 / (1ull << 23)) - 1.0);
  }
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "gemm_bench: " << e.what() << "\n";
    return 2;
  }
  try {
    rt::Context& ctx = rt::Context::primary(0);
    const uint64_t seed = std::random_device{}();
    std::cout << "device " << ctx.device_name() << "; seed " << seed << "\n";
    for (const k::DslGemmInstance& kernel : k::kDslGemmInstances) std::cout << "kernel " << rt::describe(*kernel.image) << "\n";
    Rng rng{seed | 1};
    int failed = 0;
    for (int n : options.sizes) {
      const size_t elems = size_t(n) * n;
      std::vector<uint16_t> a(elems), b(elems);
      for (auto& v : a) v = tile::f32_to_bf16_bits(rng.uniform());
      for (auto& v : b) v = tile::f32_to_bf16_bits(rng.uniform());
      rt::DeviceBuffer da(elems * 2), db(elems * 2), dc(elems * 4);
      da.upload(a);
      db.upload(b);
      rt::Stream stream;
      // 512 random elements and their fp64 values (with the sum of magnitudes for the bound),
      // computed once and checked against every instance.
      struct Sample {
        int i, j;
        double ref, mag;
      };
      std::vector<Sample> samples;
      std::mt19937 pick(seed);
      for (int s = 0; s < 512; ++s) {
        Sample x{int(pick() % n), int(pick() % n), 0, 0};
        for (int kk = 0; kk < n; ++kk) {
          const double p = double(tile::bf16_bits_to_f32(a[size_t(x.i) * n + kk])) *
                           tile::bf16_bits_to_f32(b[size_t(kk) * n + x.j]);
          x.ref += p;
          x.mag += std::abs(p);
        }
        samples.push_back(x);
      }
      for (const k::DslGemmInstance& kernel : k::kDslGemmInstances) {
        const rt::Dim3 grid(unsigned((n + kernel.block_m - 1) / kernel.block_m * ((n + kernel.block_n - 1) / kernel.block_n)));
        auto launch = [&] {
          kernel.launch(stream, grid, da.as<uint16_t>(), db.as<uint16_t>(), dc.as<float>(), n, n, n, n, n, n);
        };
        dc.fill_words(0x7fc0dead);  // poisoned: an element the kernel does not write fails the check
        launch();
        stream.synchronize();
        const std::vector<float> c = dc.download<float>();
        int bad = 0;
        double max_err = 0;
        for (const Sample& x : samples) {
          const double err = std::abs(c[size_t(x.i) * n + x.j] - x.ref);
          max_err = std::max(max_err, err);
          bad += !(err <= 2.0 * n * std::ldexp(1.0, -24) * x.mag + 1e-6);
        }
        for (int w = 0; w < options.warmup; ++w) launch();
        std::vector<float> ms;
        rt::Event start, stop;
        for (int it = 0; it < options.iters; ++it) {
          start.record(stream);
          launch();
          stop.record(stream);
          ms.push_back(rt::Event::elapsed_ms(start, stop));
        }
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2];
        const double tflops = 2.0 * n * n * double(n) / (median * 1e-3) / 1e12;
        std::cout << "dsl_" << kernel.name << " " << n << "^3: median " << median << " ms (min " << ms.front() << ", max "
                  << ms.back() << ") = " << tflops << " TFLOP/s; sample check " << (bad ? "FAILED" : "ok")
                  << " (max abs err " << max_err << ")\n";
        failed += bad != 0;
      }
    }
    return failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "gemm_bench: " << e.what() << "\n";
    return 1;
  }
}
