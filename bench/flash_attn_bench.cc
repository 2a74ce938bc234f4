// Times flash_attn_qkvpacked_func / flash_attn_func forward (and forward+backward) on the GPU
// with CUDA events: warm-up, then the median of --iters runs, fresh random inputs (never zeros),
// outputs poisoned before the first launch. Prints flash-attn's benchmark row:
//   batch_size | seq_len | nheads | head_size | fwd_only | iters/s | ms/iter | TFLOPS
// TFLOPS = 4·B·S²·H·D, ×0.5 causal, ×3.5 forward+backward (flash-attn's count).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "attention/gpu/gpu_backend.h"
#include "attention/host/api.h"
#include "dsl/core/dtype.h"
#include "dsl/runtime/cuda_driver.h"
#include "dsl/runtime/stream.h"

using namespace tile;

namespace {

struct Flags {
  int batch_size = 2, seq_len = 4096, nheads = 16, head_size = 128, warmup = 5, iters = 20;
  bool fwd_only = false, causal = false;
  DType dtype = DType::bf16;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "error: %s\nusage: flash_attn_bench --batch_size B --seq_len S --nheads H --head_size D "
                       "[--fwd_only] [--causal] [--dtype bf16|fp16] [--warmup N] [--iters N]\n", why.c_str());
  std::exit(2);
}

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto num = [&]() {
      if (i + 1 >= argc) usage(a + ": missing value");
      char* end = nullptr;
      long v = std::strtol(argv[++i], &end, 10);
      if (*end || v < 1) usage(a + ": expected a positive integer, got '" + argv[i] + "'");
      return int(v);
    };
    if (a == "--batch_size") f.batch_size = num();
    else if (a == "--seq_len") f.seq_len = num();
    else if (a == "--nheads") f.nheads = num();
    else if (a == "--head_size") f.head_size = num();
    else if (a == "--warmup") f.warmup = num();
    else if (a == "--iters") f.iters = num();
    else if (a == "--fwd_only") f.fwd_only = true;
    else if (a == "--causal") f.causal = true;
    else if (a == "--dtype") {
      if (i + 1 >= argc) usage("--dtype: missing value");
      std::string v = argv[++i];
      if (v == "bf16") f.dtype = DType::bf16;
      else if (v == "fp16") f.dtype = DType::f16;
      else usage("--dtype: expected bf16 or fp16, got '" + v + "'");
    } else usage("unknown flag '" + a + "'");
  }
  return f;
}

// A device tensor filled from the host with uniform(-1, 1) values in `dtype`.
struct DeviceTensor {
  attention::GpuBackend& be;
  void* ptr;
  TensorView view;
  DeviceTensor(attention::GpuBackend& b, DType t, std::vector<int64_t> shape, std::mt19937& rng, bool poison)
      : be(b) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<uint8_t> host(size_t(n) * dtype_size(t));
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < n; ++i) {
      float x = poison ? std::nanf("") : u(rng);
      if (t == DType::f32) std::memcpy(&host[size_t(i) * 4], &x, 4);
      else {
        uint16_t h = t == DType::bf16 ? f32_to_bf16_bits(x) : f32_to_f16_bits(x);
        std::memcpy(&host[size_t(i) * 2], &h, 2);
      }
    }
    ptr = be.alloc_zeroed(host.size());
    be.write(ptr, host.data(), host.size());
    view = TensorView::contiguous(ptr, t, shape, Device::cuda(0));
  }
  ~DeviceTensor() { be.free(ptr); }
};

double median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Flags f = parse(argc, argv);
  try {
    attention::GpuBackend be(0);
    std::mt19937 rng(1234);
    const int64_t B = f.batch_size, S = f.seq_len, H = f.nheads, D = f.head_size;
    DeviceTensor qkv(be, f.dtype, {B, S, 3, H, D}, rng, false), dout(be, f.dtype, {B, S, H, D}, rng, false);
    DeviceTensor out(be, f.dtype, {B, S, H, D}, rng, true), lse(be, DType::f32, {B, H, S}, rng, true);
    DeviceTensor dqkv(be, f.dtype, {B, S, 3, H, D}, rng, true);
    auto q = split_qkvpacked(qkv.view), d = split_qkvpacked(dqkv.view);
    attention::FlashAttnOptions o;
    o.causal = f.causal;
    auto step = [&] {
      attention::flash_attn_qkvpacked_func(be, qkv.view, out.view, lse.view, o);
      if (!f.fwd_only) attention::flash_attn_backward(be, dout.view, q[0], q[1], q[2], out.view, lse.view, {d[0], d[1], d[2]}, o);
    };
    for (int i = 0; i < f.warmup; ++i) step();
    std::vector<float> ms;
    rt::Event start, stop;
    for (int i = 0; i < f.iters; ++i) {
      start.record(be.stream());
      step();
      stop.record(be.stream());
      ms.push_back(rt::Event::elapsed_ms(start, stop));
    }
    double t = median(ms);
    double flops = 4.0 * B * S * S * H * D * (f.causal ? 0.5 : 1.0) * (f.fwd_only ? 1.0 : 3.5);
    std::printf("| batch_size | seq_len | nheads | head_size | fwd_only | causal | throughput(iters/s) | latency(ms/iter) | speed(TFLOPS) |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    std::printf("| %lld | %lld | %lld | %lld | %s | %s | %.2f | %.3f | %.1f |\n", (long long)B, (long long)S, (long long)H,
                (long long)D, f.fwd_only ? "True" : "False", f.causal ? "True" : "False", 1000.0 / t, t, flops / (t * 1e9));
    return 0;
  } catch (const rt::DriverUnavailable& e) {
    std::fprintf(stderr, "error: no GPU: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
