// On the GPU: the runtime and the generated hand-written kernels end to end (back end -> cubin
// -> generated typed stub -> runtime launch), checked against the CPU with poisoned outputs and
// fresh random inputs (the seed is printed; TILE_SEED=<n> repeats a run).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/runtime/arg_pack.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/memory.h"
#include "dsl/runtime/module.h"
#include "dsl/runtime/stream.h"
#include "tests/backend/handwritten_kernels.h"

namespace rt = tile::rt;
namespace k = tile::kernels;

namespace {

constexpr uint32_t kPoison = 0x7fc0dead;  // a quiet NaN no kernel computes

uint64_t seed() {
  static const uint64_t s = [] {
    const char* env = std::getenv("TILE_SEED");
    const uint64_t value = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
    std::cout << "seed " << value << " (TILE_SEED=" << value << " repeats this run)\n";
    return value;
  }();
  return s;
}

std::vector<float> random_floats(size_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

bool is_poison(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  return bits == kPoison;
}

unsigned cdiv(size_t a, size_t b) { return static_cast<unsigned>((a + b - 1) / b); }

}  // namespace

TEST_CASE("device and context") {
  rt::Context& ctx = rt::Context::primary(0);
  std::cout << "device 0: " << ctx.device_name() << ", sm_" << ctx.compute_capability() << ", "
            << ctx.multiprocessor_count() << " SMs, max opt-in smem "
            << ctx.max_shared_memory_per_block_optin() << " B, driver "
            << rt::driver().driver_version << "\n";
  CHECK(rt::device_count() >= 1);
  CHECK(ctx.compute_capability() >= 90);
}

TEST_CASE("memory: round trip, fill, device copy, bounds") {
  std::mt19937_64 rng(seed());
  const std::vector<float> host = random_floats(4097, rng);
  rt::DeviceBuffer a(host.size() * 4), b(host.size() * 4);
  a.upload(host);
  b.fill_words(kPoison);
  CHECK(is_poison(b.download<float>()[100]));
  rt::copy_device_to_device(b.address(), a.address(), host.size() * 4);
  CHECK(b.download<float>() == host);
  CHECK_THROWS_AS(a.copy_from_host(host.data(), 8, host.size() * 4 - 4), std::out_of_range);
}

TEST_CASE("generated vector_add: every element written, nothing past n") {
  std::mt19937_64 rng(seed() + 1);
  const int32_t n = 1000003;  // not a multiple of the 128-thread block
  const int32_t slack = 256;  // poisoned elements after n that must stay poisoned
  const std::vector<float> x = random_floats(n, rng), y = random_floats(n, rng);
  rt::DeviceBuffer dx(n * 4), dy(n * 4), dc((n + slack) * 4);
  dx.upload(x);
  dy.upload(y);
  dc.fill_words(kPoison);
  rt::Stream stream;
  k::launch_vector_add(stream, rt::Dim3(cdiv(n, 128)), dx.as<float>(), dy.as<float>(),
                       dc.as<float>(), n);
  stream.synchronize();
  const std::vector<float> c = dc.download<float>();
  size_t wrong = 0, unwritten = 0, overrun = 0;
  for (int32_t i = 0; i < n; ++i) {
    if (is_poison(c[i])) ++unwritten;
    else if (c[i] != x[i] + y[i]) ++wrong;
  }
  for (int32_t i = n; i < n + slack; ++i) overrun += !is_poison(c[i]);
  std::cout << "vector_add n=" << n << ": wrong " << wrong << ", unwritten " << unwritten
            << ", written past n " << overrun << "\n";
  CHECK(wrong == 0);
  CHECK(unwritten == 0);
  CHECK(overrun == 0);
}

TEST_CASE("generated reverse_blocks: 64 KiB dynamic shared memory (opt-in above 48 KiB)") {
  std::mt19937_64 rng(seed() + 2);
  const unsigned blocks = 1024;
  const size_t n = blocks * 128;
  const std::vector<float> in = random_floats(n, rng);
  rt::DeviceBuffer din(n * 4), dout(n * 4);
  din.upload(in);
  dout.fill_words(kPoison);
  k::launch_reverse_blocks(rt::Stream::null_stream(), rt::Dim3(blocks), din.as<float>(),
                           dout.as<float>(), -0.5f);
  rt::Context::primary(0).synchronize();
  const std::vector<float> out = dout.download<float>();
  size_t bad = 0;
  for (size_t b = 0; b < blocks; ++b) {
    for (size_t t = 0; t < 128; ++t) bad += out[b * 128 + t] != in[b * 128 + 127 - t] * -0.5f;
  }
  CHECK(bad == 0);
}

TEST_CASE("generated mma_m16n8k16: tensor-core product matches the CPU exactly") {
  std::mt19937_64 rng(seed() + 3);
  std::uniform_int_distribution<int> small(-4, 4);  // exact in f16, sums exact in f32
  float a[16][16], b[16][8];
  for (auto& row : a) for (float& v : row) v = float(small(rng));
  for (auto& row : b) for (float& v : row) v = float(small(rng));
  // Per-lane fragments of mma.sync.m16n8k16.row.col (PTX ISA, "Matrix fragments for mma.m16n8k16").
  std::vector<uint16_t> a_frag(32 * 8), b_frag(32 * 4);
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 8; ++i) {
      const int row = g + 8 * ((i >> 1) & 1), col = 2 * t + (i & 1) + 8 * (i >> 2);
      a_frag[lane * 8 + i] = tile::f32_to_f16_bits(a[row][col]);
    }
    for (int i = 0; i < 4; ++i) {
      const int kk = 2 * t + (i & 1) + 8 * (i >> 1);
      b_frag[lane * 4 + i] = tile::f32_to_f16_bits(b[kk][g]);
    }
  }
  rt::DeviceBuffer da(a_frag.size() * 2), db(b_frag.size() * 2), dd(32 * 4 * 4);
  da.upload(a_frag);
  db.upload(b_frag);
  dd.fill_words(kPoison);
  rt::Stream stream;
  k::launch_mma_m16n8k16(stream, rt::Dim3(1), da.as<uint16_t>(), db.as<uint16_t>(),
                         dd.as<float>());
  stream.synchronize();
  const std::vector<float> d = dd.download<float>();
  int bad = 0;
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; ++i) {
      const int row = g + 8 * (i >> 1), col = 2 * t + (i & 1);
      float expect = 0;
      for (int kk = 0; kk < 16; ++kk) expect += a[row][kk] * b[kk][col];
      bad += d[lane * 4 + i] != expect;
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("PTX JIT fallback and ArgPack launch give the same result as the cubin") {
  std::mt19937_64 rng(seed() + 4);
  const int32_t n = 4096;
  const std::vector<float> x = random_floats(n, rng), y = random_floats(n, rng);
  rt::DeviceBuffer dx(n * 4), dy(n * 4), dc(n * 4);
  dx.upload(x);
  dy.upload(y);
  dc.fill_words(kPoison);
  rt::Module jit = rt::Module::load_ptx(k::vector_add_image.ptx);
  CHECK(jit.jit_compiled());
  rt::ArgPack args;
  args.pointer(dx.data()).pointer(dy.data()).pointer(dc.data()).i32(n);
  args.check_against(k::vector_add_image);
  rt::launch(jit.function(k::vector_add_image.entry), rt::Dim3(n / 128), rt::Dim3(128), 0,
             rt::Stream::null_stream(), args.pointers());
  rt::Context::primary(0).synchronize();
  const std::vector<float> c = dc.download<float>();
  size_t bad = 0;
  for (int32_t i = 0; i < n; ++i) bad += c[i] != x[i] + y[i];
  CHECK(bad == 0);
  // A wrong argument list is refused before anything reaches the GPU.
  rt::ArgPack short_args;
  short_args.pointer(dx.data());
  CHECK_THROWS_AS(rt::launch_kernel(k::vector_add_image, rt::Stream::null_stream(), rt::Dim3(1),
                                    short_args),
                  std::invalid_argument);
}

TEST_CASE("a failing driver call names the call, the site and the error") {
  rt::Stream stream;
  rt::DeviceBuffer dummy(1024);
  try {
    // A grid of zero blocks is invalid.
    k::launch_vector_add(stream, rt::Dim3(0), dummy.as<float>(), dummy.as<float>(),
                         dummy.as<float>(), 0);
    FAIL("launch with an empty grid succeeded");
  } catch (const rt::CudaError& e) {
    const std::string what = e.what();
    std::cout << "expected error: " << what << "\n";
    CHECK(what.find("cuLaunchKernel(") != std::string::npos);
    CHECK(what.find("CUDA_ERROR_INVALID_VALUE") != std::string::npos);
    CHECK(what.find("module.cc:") != std::string::npos);
  }
}

TEST_CASE("events time a kernel (median of 50 launches after warm-up)") {
  const int32_t n = 1 << 26;  // 256 MiB per operand: far past the 50 MB L2
  std::mt19937_64 rng(seed() + 5);
  std::vector<float> x = random_floats(n, rng);
  rt::DeviceBuffer dx(size_t(n) * 4), dy(size_t(n) * 4), dc(size_t(n) * 4);
  dx.upload(x);
  dy.upload(x);
  rt::Stream stream;
  rt::Event start, stop;
  std::vector<float> ms;
  for (int iter = 0; iter < 55; ++iter) {
    start.record(stream);
    k::launch_vector_add(stream, rt::Dim3(cdiv(n, 128)), dx.as<float>(), dy.as<float>(),
                         dc.as<float>(), n);
    stop.record(stream);
    const float t = rt::Event::elapsed_ms(start, stop);
    if (iter >= 5) ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double gbps = 3.0 * 4.0 * n / (median * 1e-3) / 1e9;
  std::cout << "vector_add n=2^26: median " << median << " ms, " << gbps << " GB/s\n";
  CHECK(median > 0);
}
