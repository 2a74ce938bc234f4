// Where attention kernels run. The host API plans kernel launches and hands them to a Backend:
// the CPU interpreter (attention/interp_backend) or the GPU runtime. The API never touches
// memory itself except through the backend, so the same planning code drives both.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/core/tensor_view.h"
#include "dsl/params.h"

namespace tile::attention {

// One kernel argument: a buffer (the elements [0, numel) from `data`) or a scalar, bound to the
// kernel's argument called `name` (or by position when a call names none of its arguments).
struct LaunchArg {
  enum class Kind : uint8_t { buffer, i32, f32 };
  std::string name;
  Kind kind = Kind::i32;
  void* data = nullptr;
  DType dtype = DType::f32;
  int64_t numel = 0;
  int32_t i = 0;
  float f = 0.0f;

  static LaunchArg buffer(void* data, DType dtype, int64_t numel) {
    LaunchArg a;
    a.kind = Kind::buffer;
    a.data = data;
    a.dtype = dtype;
    a.numel = numel;
    return a;
  }
  static LaunchArg i32(int64_t v);  // throws if v does not fit in 32 bits
  static LaunchArg f32(float v) {
    LaunchArg a;
    a.kind = Kind::f32;
    a.f = v;
    return a;
  }
  // The same value bound to the kernel argument `arg_name`.
  LaunchArg named(std::string arg_name) const {
    LaunchArg a = *this;
    a.name = std::move(arg_name);
    return a;
  }
};

struct KernelCall {
  std::string kernel;  // registered kernel name
  Params params;       // its specialisation
  std::array<int, 3> grid{1, 1, 1};
  std::vector<LaunchArg> args;  // all named (any order) or none (declaration order)
};

// The call's arguments in the kernel's declaration order (`declared`: its argument names): by
// name when they are named, each declared argument exactly once; as given when none is named.
// Backends call it with the signature of the kernel they run, so the host never mirrors a
// kernel's argument order by hand. Throws std::invalid_argument naming the kernel and the
// missing, unknown or repeated argument.
std::vector<LaunchArg> bind_arguments(const KernelCall& call, const std::vector<std::string>& declared);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;  // where tensors handed to this backend must live
  virtual std::string name() const = 0;
  // Workspace memory (zero-filled) for intermediate buffers such as delta or the dQ accumulator.
  virtual void* alloc_zeroed(size_t bytes) = 0;
  virtual void free(void* p) = 0;
  // Copies `bytes` from backend memory to the host (used to validate cu_seqlens), after the work
  // launched before it; the copy is complete when this returns.
  virtual void read(void* host_dst, const void* src, size_t bytes) = 0;
  // Copies `bytes` from the host into backend memory, after the work launched before it; the
  // host memory may be reused when this returns.
  virtual void write(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void launch(const KernelCall& call) = 0;
  // Waits for launched work (no-op for synchronous backends). The API's calls never call it:
  // like flash-attn's they return once their work is queued, and read() is in order with it.
  // A caller that gets at results in any other way calls it first.
  virtual void synchronize() {}
  // True when any specialisation of a kernel can be built on demand (the interpreter); false
  // when only the compiled table exists (the GPU).
  virtual bool builds_any_specialization() const { return false; }
  // How many programs of a persistent kernel (one that walks its tiles in a loop, such as the
  // forward) to launch: the programs that run at once (the GPU's multiprocessors, one block
  // each). By default no limit: a program per unit of work, as a kernel that is not persistent
  // would have (a backend that wraps another forwards its inner backend's count).
  virtual int persistent_programs() const { return std::numeric_limits<int>::max(); }
};

// Workspace buffer freed when it goes out of scope.
class Workspace {
 public:
  Workspace(Backend& backend, size_t bytes) : backend_(backend), ptr_(backend.alloc_zeroed(bytes)) {}
  ~Workspace() { backend_.free(ptr_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* get() const { return ptr_; }

 private:
  Backend& backend_;
  void* ptr_;
};

}  // namespace tile::attention
