// Kernel arguments and grid execution: checks the arguments against the kernel signature, then
// runs every program instance in a seeded shuffled order on one or more threads. The first
// exception from any instance stops the rest and is rethrown to the caller.
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <random>
#include <thread>

#include "dsl/core/dtype.h"
#include "dsl/interp/program.h"

namespace tile::interp {

Arg Arg::buffer(void* data, DType dtype, int64_t numel) {
  Arg a;
  a.kind = Kind::buffer;
  a.data = data;
  a.dtype = dtype;
  a.numel = numel;
  return a;
}

Arg Arg::buffer(const TensorView& view) {
  if (view.device.kind != DeviceKind::cpu)
    throw InterpError("interp: buffer on " + view.device.str() + "; the interpreter needs CPU memory");
  int64_t extent = 1;
  for (int d = 0; d < view.rank; ++d) {
    if (view.shape[d] == 0) return buffer(view.data, view.dtype, 0);
    if (view.strides[d] < 0)
      throw InterpError("interp: view with negative stride " + std::to_string(view.strides[d]) +
                        " in dim " + std::to_string(d) + " is not supported");
    extent += (view.shape[d] - 1) * view.strides[d];
  }
  return buffer(view.data, view.dtype, extent);
}

Arg Arg::i32(int32_t v) {
  Arg a;
  a.kind = Kind::i32;
  a.i = v;
  return a;
}
Arg Arg::i64(int64_t v) {
  Arg a;
  a.kind = Kind::i64;
  a.i = v;
  return a;
}
Arg Arg::f32(float v) {
  Arg a;
  a.kind = Kind::f32;
  a.f = v;
  return a;
}

std::string Arg::describe() const {
  switch (kind) {
    case Kind::buffer: return "buffer of " + std::to_string(numel) + " " + dtype_name(dtype);
    case Kind::i32: return "i32 scalar " + std::to_string(i);
    case Kind::i64: return "i64 scalar " + std::to_string(i);
    case Kind::f32: return "f32 scalar " + std::to_string(f);
  }
  return "?";
}

std::string signature(const Program& p) {
  std::string s = p.name + "(";
  for (size_t k = 0; k < p.params.size(); ++k) s += (k ? ", " : "") + p.params[k].type;
  return s + ")";
}

namespace {

std::string expected(const Param& p) {
  switch (p.kind) {
    case Arg::Kind::buffer: return std::string("a buffer of ") + dtype_name(p.dtype) + " (" + p.type + ")";
    case Arg::Kind::i32: return "an i32 scalar";
    case Arg::Kind::i64: return "an i64 scalar (" + p.type + ")";
    case Arg::Kind::f32: return "an f32 scalar (" + p.type + ")";
  }
  return "?";
}

void checkArgs(const Program& p, const std::vector<Arg>& args) {
  if (args.size() != p.params.size())
    throw InterpError("interp: kernel " + signature(p) + " takes " + std::to_string(p.params.size()) +
                      " arguments, got " + std::to_string(args.size()));
  for (size_t k = 0; k < args.size(); ++k) {
    const Param& want = p.params[k];
    const Arg& got = args[k];
    const bool ok = got.kind == want.kind && (got.kind != Arg::Kind::buffer || got.dtype == want.dtype);
    if (!ok)
      throw InterpError("interp: kernel " + signature(p) + " argument #" + std::to_string(k) +
                        ": expected " + expected(want) + ", got " + got.describe());
    if (got.kind == Arg::Kind::buffer && (got.numel < 0 || (got.numel > 0 && !got.data)))
      throw InterpError("interp: kernel " + p.name + " argument #" + std::to_string(k) +
                        ": invalid buffer (" + got.describe() + (got.data ? ")" : ", null data)"));
    // What the kernel was compiled assuming (as the GPU runtime's launch check).
    const int64_t value = got.kind == Arg::Kind::buffer ? int64_t(reinterpret_cast<uintptr_t>(got.data)) : got.i;
    const bool integral = got.kind != Arg::Kind::f32;
    if (integral && !meets(want.assume, value))
      throw InterpError("interp: kernel " + p.name + " argument #" + std::to_string(k) + ": the kernel assumes " +
                        (got.kind == Arg::Kind::buffer ? "an address aligned to " + std::to_string(want.assume.divisor) + " bytes"
                                                       : std::string(want.assume.positive ? "a positive " : "a ") + "multiple of " +
                                                             std::to_string(want.assume.divisor)) +
                        ", got " + got.describe());
  }
}

// Initial frame: the kernel arguments occupy slots 0..n-1.
void bindArgs(const Program& p, const std::vector<Arg>& args, std::vector<Value>& frame) {
  for (size_t k = 0; k < args.size(); ++k) {
    Value& v = frame[k];
    switch (args[k].kind) {
      case Arg::Kind::buffer: v.buf = static_cast<int32_t>(k); v.i = 0; break;
      case Arg::Kind::i32: v.i = normInt(Elem::i32, args[k].i); break;
      case Arg::Kind::i64: v.i = args[k].i; break;
      case Arg::Kind::f32:
        v.f = args[k].f;
        roundFloats(p.params[k].elem, &v.f, 1);  // an f16/bf16 scalar parameter
        break;
    }
  }
}

}  // namespace

void run(const Program& program, Grid grid, const std::vector<Arg>& args, const Options& options) {
  checkArgs(program, args);
  if (grid.x < 1 || grid.y < 1 || grid.z < 1)
    throw InterpError("interp: grid (" + std::to_string(grid.x) + ", " + std::to_string(grid.y) + ", " +
                      std::to_string(grid.z) + ") must be at least 1 along every axis");
  const int64_t total = int64_t(grid.x) * grid.y * grid.z;
  std::vector<int64_t> order(static_cast<size_t>(total));
  for (int64_t k = 0; k < total; ++k) order[static_cast<size_t>(k)] = k;
  if (options.shuffle) {
    std::mt19937_64 rng(options.seed);
    std::shuffle(order.begin(), order.end(), rng);
  }

  std::atomic<int64_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex errorMutex;
  std::exception_ptr firstError;

  auto worker = [&]() {
    std::vector<Value> frame;
    for (;;) {
      if (stop.load(std::memory_order_relaxed)) return;
      const int64_t k = next.fetch_add(1);
      if (k >= total) return;
      const int64_t id = order[static_cast<size_t>(k)];
      Instance inst{program, args,
                    {int(id % grid.x), int(id / grid.x % grid.y), int(id / (int64_t(grid.x) * grid.y))},
                    {grid.x, grid.y, grid.z}};
      frame.assign(static_cast<size_t>(program.numSlots), Value());
      try {
        bindArgs(program, args, frame);
        runRegion(inst, 0, frame.data());
      } catch (...) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!firstError) firstError = std::current_exception();
        stop = true;
        return;
      }
    }
  };

  int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  threads = int(std::min<int64_t>(threads, total));
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (firstError) std::rethrow_exception(firstError);
}

}  // namespace tile::interp
