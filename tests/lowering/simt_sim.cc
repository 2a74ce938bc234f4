#include "tests/lowering/simt_sim.h"

#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "llvm/ADT/TypeSwitch.h"
#include "lowering/passes/async_ptx.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "tests/lowering/simt_async.h"

namespace tile::lowering::sim {

using namespace mlir;
namespace ptx = tile::lowering::ptx;

uint16_t toBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 0x40);
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}
float fromBf16(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t toF16(float f) {
  _Float16 h = _Float16(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
float fromF16(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return float(h);
}

namespace {

using async::kLanes;
using async::kSmemTag;
constexpr uint64_t kGlobalBase = uint64_t(1) << 40;
constexpr uint64_t kBufferStride = uint64_t(1) << 32;
// Each thread's local variables (llvm.alloca): [kLocalBase + t * kLocalStride, + kLocalStride).
constexpr uint64_t kLocalBase = uint64_t(1) << 39;
constexpr uint64_t kLocalStride = uint64_t(1) << 12;

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Per-thread storage of one SSA value: n words per thread (n > 1 for vectors and structs).
struct Val {
  int n = 1;
  std::vector<uint64_t> w;
  uint64_t& at(int t, int i = 0) { return w[size_t(t) * n + i]; }
};

Type elemOf(Type t) {
  if (auto v = dyn_cast<VectorType>(t)) return v.getElementType();
  return t;
}
int countOf(Type t) {
  if (auto v = dyn_cast<VectorType>(t)) return int(v.getNumElements());
  if (auto s = dyn_cast<LLVM::LLVMStructType>(t)) return int(s.getBody().size());
  return 1;
}
int bitsOf(Type t) {
  if (isa<LLVM::LLVMPointerType>(t) || t.isIndex()) return 64;
  return int(t.getIntOrFloatBitWidth());
}
int bytesOf(Type t) {
  if (auto v = dyn_cast<VectorType>(t)) return int(v.getNumElements()) * bytesOf(v.getElementType());
  return std::max(1, bitsOf(t) / 8);
}
uint64_t mask(int bits) { return bits >= 64 ? ~uint64_t(0) : ((uint64_t(1) << bits) - 1); }
int64_t sext(uint64_t w, int bits) {
  if (bits >= 64) return int64_t(w);
  uint64_t m = uint64_t(1) << (bits - 1);
  w &= mask(bits);
  return int64_t((w ^ m) - m);
}
double toF(Type t, uint64_t w) {
  if (t.isF32()) {
    uint32_t u = uint32_t(w);
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  if (t.isBF16()) return fromBf16(uint16_t(w));
  if (t.isF16()) return fromF16(uint16_t(w));
  if (t.isF64()) {
    double d;
    std::memcpy(&d, &w, 8);
    return d;
  }
  throw Error("not a float type");
}
uint64_t fromF(Type t, double d) {
  if (t.isF32()) {
    float f = float(d);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
  }
  if (t.isBF16()) return toBf16(float(d));
  if (t.isF16()) return toF16(float(d));
  if (t.isF64()) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    return u;
  }
  throw Error("not a float type");
}
// Arithmetic on 16- and 32-bit floats happens in f32, as on the GPU.
double f32(double d) { return double(float(d)); }

// The two roles of a warp-specialised kernel (the scf.if marked tile.warp_roles: then = the
// producer warpgroup, else = the consumers) run as two fibers, one at a time: the producer on
// the simulator's thread, the consumers on a helper thread. A role runs until it reaches a
// wait the other role must satisfy (an mbarrier phase, the block barrier), then hands over
// (async::Model::setYield). Deterministic: exactly one fiber runs at any time.
class Fibers {
 public:
  struct Aborted {};
  // Called by the running fiber: runs the other until it hands back or ends. False when there
  // is no other fiber to run (no roles, or it has ended).
  bool yieldOther() {
    std::unique_lock<std::mutex> l(m_);
    if (running_ < 0) return false;
    const int me = running_, other = 1 - me;
    if (ended_[other]) return false;
    running_ = other;
    cv_.notify_all();
    cv_.wait(l, [&] { return running_ == me || abort_; });
    if (abort_) throw Aborted{};
    return true;
  }
  // Runs `producer` here and `consumers` on a helper thread; rethrows the first error (the
  // consumers' when both failed: the producer's is then usually the deadlock it caused).
  void run(const std::function<void()>& producer, const std::function<void()>& consumers) {
    {
      std::lock_guard<std::mutex> l(m_);
      running_ = 0, ended_[0] = ended_[1] = false, abort_ = false;
    }
    std::exception_ptr consumerError, producerError;
    std::thread helper([&] {
      try {
        {
          std::unique_lock<std::mutex> l(m_);
          cv_.wait(l, [&] { return running_ == 1 || abort_; });
          if (abort_) throw Aborted{};
        }
        consumers();
      } catch (const Aborted&) {
      } catch (...) {
        consumerError = std::current_exception();
      }
      end(1);
    });
    try {
      producer();
    } catch (const Aborted&) {
    } catch (...) {
      producerError = std::current_exception();
    }
    {
      std::unique_lock<std::mutex> l(m_);
      if (producerError) abort_ = true;
      ended_[0] = true;
      running_ = 1;
      cv_.notify_all();
      cv_.wait(l, [&] { return ended_[1]; });
      running_ = -1;
    }
    helper.join();
    if (consumerError) std::rethrow_exception(consumerError);
    if (producerError) std::rethrow_exception(producerError);
  }

 private:
  void end(int me) {
    std::lock_guard<std::mutex> l(m_);
    ended_[me] = true;
    running_ = 1 - me;
    cv_.notify_all();
  }
  std::mutex m_;
  std::condition_variable cv_;
  int running_ = -1;
  bool ended_[2] = {false, false};
  bool abort_ = false;
};

class Sim : public async::Memory {
 public:
  Sim(std::vector<Buffer>& buffers, int threads) : buffers_(buffers), threads_(threads), async_(*this, threads) {
    async_.setYield([this] { return fibers_.yieldOther(); });
  }

  void runKernel(mlir::gpu::GPUFuncOp f, const std::vector<Arg>& args, int bx, int by, int bz, int gx, int gy, int gz,
                 int64_t smemBytes, uint64_t workspace, int templates) {
    block_[0] = bx, block_[1] = by, block_[2] = bz;
    grid_[0] = gx, grid_[1] = gy, grid_[2] = gz;
    smem_.assign(size_t(smemBytes), 0xCD);
    local_.assign(size_t(threads_) * kLocalStride, 0xCD);
    localUsed_ = 0;
    wgmmaInFlight_.assign(size_t(smemBytes) + 2, 0);
    order_.reset(size_t(smemBytes), threads_);
    committed_.assign(size_t(threads_), 0);
    pending_.assign(size_t(threads_), {});
    vals_.clear();
    std::vector<bool> active(size_t(threads_), true);
    for (auto [i, a] : llvm::enumerate(f.getArguments())) {
      Val v = make(1);
      uint64_t w = args[i].kind == Arg::kBuffer ? kGlobalBase + kBufferStride * uint64_t(args[i].buffer)
                   : args[i].kind == Arg::kI32 ? uint64_t(uint32_t(args[i].i))
                                               : fromF(Float32Type::get(f.getContext()), args[i].f);
      for (int t = 0; t < threads_; ++t) v.at(t) = w;
      vals_[a.getAsOpaquePointer()] = v;
    }
    if (templates) async_.setWorkspace(workspace, templates, bx + gx * (by + gy * bz));
    runBlock(f.getBody().front(), active);
    async_.finish();
  }

  // async::Memory, for the model of TMA copies and mbarriers.
  uint8_t* global(uint64_t a, int bytes) override {
    if (a & kSmemTag) throw Error("a global operand is a shared address");
    return addr(a, bytes);
  }
  void sharedRead(int t, uint64_t off, int bytes) override {
    addr(kSmemTag | off, bytes);
    smemRead(t, off, bytes);
  }
  void sharedWrite(int t, uint64_t off, const uint8_t* data, int bytes) override {
    addr(kSmemTag | off, bytes);
    smemWrite(t, off, data, bytes, false);
  }
  std::vector<uint8_t>& smem() override { return smem_; }
  async::Order& order() override { return order_; }
  bool wgmmaReading(uint64_t off) const override { return wgmmaInFlight_[off] > 0; }

 private:
  Val make(int n) {
    Val v;
    v.n = n;
    v.w.assign(size_t(threads_) * n, 0);
    return v;
  }
  Val& get(Value v) {
    auto it = vals_.find(v.getAsOpaquePointer());
    if (it == vals_.end()) throw Error("value used before definition");
    return it->second;
  }
  void set(Value v, Val x) { vals_[v.getAsOpaquePointer()] = std::move(x); }
  uint64_t uniform(Value v, const std::vector<bool>& active) {
    Val& x = get(v);
    for (int t = 0; t < threads_; ++t)
      if (active[t]) return x.at(t);
    return x.at(0);
  }

  // ---- shared-memory race checking ---------------------------------------------------------
  // Two accesses to a byte by different threads race unless one is ordered before the other
  // (async::Order: a gpu.barrier between them, or an mbarrier arrive -> wait chain). Flagged: a
  // read of another thread's write, a write over another thread's read, and a write of a
  // different value over another thread's write, with nothing ordering the earlier access
  // first; and any access to a byte a cp.async is still filling (its thread has not waited for
  // the group yet). Accesses to mbarriers and TMA destinations are checked by the async model
  // (simt_async.h).
  using ByteState = async::ByteState;
  struct Pending {
    uint64_t offset;
    int group, bytes;
  };
  void smemRead(int t, uint64_t off, int bytes) {
    async_.checkAccess(t, off, bytes, false);
    for (int i = 0; i < bytes; ++i) {
      ByteState& m = order_.byte(off + i);
      if (m.pendingThread >= 0) throw Error("shared memory read of a cp.async destination before its wait_group");
      if (!order_.writeOrdered(t, off + i))
        throw Error("shared memory race: read after another thread's write without a barrier (smem offset " +
                    std::to_string(off + i) + ", written by thread " + std::to_string(m.writer) + ", read by thread " +
                    std::to_string(t) + ")");
      order_.recordRead(t, off + i);
    }
  }
  void smemWrite(int t, uint64_t off, const uint8_t* data, int bytes, bool cpAsync) {
    async_.checkAccess(t, off, bytes, true);
    for (int i = 0; i < bytes; ++i) {
      ByteState& m = order_.byte(off + i);
      if (m.pendingThread >= 0 && m.pendingThread != t) throw Error("shared memory write over another thread's pending cp.async");
      if (wgmmaInFlight_[off + i] > 0)
        throw Error("shared memory write over bytes an in-flight wgmma reads, before its wait_group (smem offset " +
                    std::to_string(off + i) + ", thread " + std::to_string(t) + ")");
      int reader = order_.unorderedReader(t, off + i);
      if (reader >= 0)
        throw Error("shared memory race: write after another thread's read without a barrier (smem offset " +
                    std::to_string(off + i) + ", read by thread " + std::to_string(reader) + ", written by thread " +
                    std::to_string(t) + ")");
      if (!order_.writeOrdered(t, off + i) && smem_[off + i] != data[i])
        throw Error("shared memory race: two threads write different values without a barrier (smem offset " +
                    std::to_string(off + i) + ", threads " + std::to_string(m.writer) + " and " + std::to_string(t) + ")");
      smem_[off + i] = data[i];
      order_.recordWrite(t, off + i);
      if (cpAsync) m.pendingThread = t;
    }
    if (cpAsync) pending_[t].push_back({off, committed_[t], bytes});
  }
  // A cp.async of thread t lands: its bytes are no longer pending, and hold t's write.
  void land(int t, uint64_t off, int bytes) {
    for (int i = 0; i < bytes; ++i)
      if (off + i < order_.size() && order_.byte(off + i).pendingThread == t) {
        order_.byte(off + i).pendingThread = -1;
        order_.recordWrite(t, off + i);  // the data is there now
      }
  }
  void waitGroups(int t, int keep) {
    auto& list = pending_[t];
    std::vector<Pending> rest;
    for (const Pending& p : list) {
      if (p.group < committed_[t] - keep) {
        land(t, p.offset, p.bytes);
      } else {
        rest.push_back(p);
      }
    }
    list = rest;
  }

  // ---- memory -------------------------------------------------------------------------------
  // As on the GPU: an access of 2, 4, 8 or 16 bytes (a vector is one access) must be aligned to
  // its size.
  void checkAligned(uint64_t a, int bytes) {
    if ((bytes & (bytes - 1)) == 0 && (a & uint64_t(bytes - 1)))
      throw Error("misaligned " + std::to_string(bytes) + "-byte access at " +
                  ((a & kSmemTag) ? "shared byte " + std::to_string(a & ~kSmemTag) : "a global address"));
  }
  uint8_t* addr(uint64_t a, int bytes) {
    checkAligned(a, bytes);
    if (a & kSmemTag) {
      uint64_t off = a & ~kSmemTag;
      if (off + bytes > smem_.size()) throw Error("shared memory access out of bounds at " + std::to_string(off));
      return &smem_[off];
    }
    if (a >= kLocalBase && a < kGlobalBase) {
      uint64_t off = a - kLocalBase;
      if (off % kLocalStride + bytes > localUsed_) throw Error("local variable access out of bounds");
      return &local_[off];
    }
    if (a < kGlobalBase) throw Error("global access to a bad address");
    uint64_t idx = (a - kGlobalBase) / kBufferStride, off = (a - kGlobalBase) % kBufferStride;
    if (idx >= buffers_.size() || off + bytes > buffers_[idx].bytes.size())
      throw Error("global access out of bounds (buffer " + std::to_string(idx) + ", byte " + std::to_string(off) + ")");
    return &buffers_[idx].bytes[off];
  }
  uint64_t load(int t, uint64_t a, int bytes) {
    uint64_t w = 0;
    std::memcpy(&w, addr(a, bytes), size_t(bytes));
    if (a & kSmemTag) smemRead(t, a & ~kSmemTag, bytes);
    return w;
  }
  // A wgmma operand element for the warpgroup of threads [wg0, wg0 + 128): read now, but the
  // read counts (race checks) when the wgmma's commit group is waited for, until then the
  // tensor cores may still be reading it; and it counts as a read by each of the 4 warps (lane
  // 0), which each wait and hand the stage back on their own.
  uint64_t wgmmaLoad(int wg0, uint64_t a) {
    uint64_t w = 0;
    std::memcpy(&w, addr(a, 2), 2);
    for (int warp = 0; warp < 4; ++warp) wgmmaReads_[wgmmaCommitted_].push_back({wg0 + warp * kLanes, a & ~kSmemTag});
    uint64_t off = a & ~kSmemTag;
    ++wgmmaInFlight_[off], ++wgmmaInFlight_[off + 1];
    return w;
  }
  void store(int t, uint64_t a, uint64_t w, int bytes) {
    if (a & kSmemTag) {
      addr(a, bytes);
      smemWrite(t, a & ~kSmemTag, reinterpret_cast<const uint8_t*>(&w), bytes, false);
      return;
    }
    std::memcpy(addr(a, bytes), &w, size_t(bytes));
  }

  // ---- control flow -------------------------------------------------------------------------
  // Runs a block; returns the terminator's operands' values (scf.yield), or nothing.
  std::vector<Val> runBlock(Block& block, const std::vector<bool>& active) {
    for (Operation& op : block) {
      if (isa<scf::YieldOp>(op)) {
        checkNotInFlight(&op);
        std::vector<Val> out;
        for (Value v : op.getOperands()) out.push_back(get(v));
        return out;
      }
      if (isa<mlir::gpu::ReturnOp>(op)) return {};
      exec(&op, active);
    }
    return {};
  }

  // ---- asynchronous wgmma ------------------------------------------------------------------
  // A wgmma's outputs are in flight until a wgmma.wait_group has waited for their commit group:
  // they may feed another wgmma (accumulator chaining), a wgmma.fence or the wait that ties
  // them, nothing else. The wait's outputs are the registers' final values.
  static bool isWgmmaAsm(Operation* op, StringRef prefix) {
    auto as = dyn_cast<LLVM::InlineAsmOp>(op);
    return as && (prefix == "wgmma.mma_async" ? as.getAsmString().contains(prefix) : as.getAsmString().starts_with(prefix));
  }
  std::optional<int64_t> groupOf(Value v) {
    auto it = wgmmaGroup_.find(v.getAsOpaquePointer());
    if (it == wgmmaGroup_.end()) return std::nullopt;
    return it->second;
  }
  void checkNotInFlight(Operation* op) {
    for (Value v : op->getOperands())
      if (auto g = groupOf(v))
        throw Error(op->getName().getStringRef().str() + " reads a wgmma result of commit group " + std::to_string(*g) +
                    " before a wgmma.wait_group waited for it");
  }
  // Before `op` runs: whether it may read in-flight values, and what its results become.
  void trackWgmma(Operation* op) {
    if (isa<NVVM::WgmmaGroupSyncAlignedOp>(op)) {
      ++wgmmaCommitted_;
      return;
    }
    if (isWgmmaAsm(op, "wgmma.mma_async")) {
      wgmmaGroup_[op->getResult(0).getAsOpaquePointer()] = wgmmaCommitted_;
      return;
    }
    if (isWgmmaAsm(op, "wgmma.wait_group")) {
      auto as = cast<LLVM::InlineAsmOp>(op);
      StringRef text = as.getAsmString().drop_front(std::strlen("wgmma.wait_group.sync.aligned"));
      int64_t keep = std::stoll(text.trim().rtrim(';').str());
      for (Value v : op->getOperands())
        if (auto g = groupOf(v); g && *g >= wgmmaCommitted_ - keep)
          throw Error("wgmma.wait_group " + std::to_string(keep) + " returns registers of commit group " +
                      std::to_string(*g) + ", which it leaves in flight (" + std::to_string(wgmmaCommitted_) +
                      " groups committed)");
      // The shared-memory reads of the completed groups happen now, as far as ordering goes.
      for (auto it = wgmmaReads_.begin(); it != wgmmaReads_.end() && it->first < wgmmaCommitted_ - keep;) {
        for (auto [t, off] : it->second) smemRead(t, off, 2);
        for (size_t k = 0; k < it->second.size(); k += 4) {  // one entry per warp of the warpgroup
          uint64_t off = it->second[k].second;
          --wgmmaInFlight_[off], --wgmmaInFlight_[off + 1];
        }
        it = wgmmaReads_.erase(it);
      }
      return;
    }
    if (isWgmmaAsm(op, "wgmma.fence")) {
      std::optional<int64_t> newest;
      for (Value v : op->getOperands())
        if (auto g = groupOf(v)) newest = std::max(newest.value_or(*g), *g);
      if (newest) wgmmaGroup_[op->getResult(0).getAsOpaquePointer()] = *newest;
      return;
    }
    if (auto ev = dyn_cast<LLVM::ExtractValueOp>(op)) {
      if (auto g = groupOf(ev.getContainer())) wgmmaGroup_[ev.getResult().getAsOpaquePointer()] = *g;
      return;
    }
    checkNotInFlight(op);
  }

  void exec(Operation* op, const std::vector<bool>& active) {
    trackWgmma(op);
    if (auto f = dyn_cast<scf::ForOp>(op)) return execFor(f, active);
    if (auto i = dyn_cast<scf::IfOp>(op)) return execIf(i, active);
    StringRef name = op->getName().getStringRef();
    if (name.starts_with("arith.") || name.starts_with("math.")) return execArith(op);
    if (name.starts_with("llvm.")) return execLLVM(op, active);
    if (name.starts_with("gpu.")) return execGpu(op);
    if (name.starts_with("nvvm.")) return execNvvm(op, active);
    throw Error("unsupported op " + name.str());
  }

  void execFor(scf::ForOp f, const std::vector<bool>& active) {
    Type ivType = f.getInductionVar().getType();
    int bits = bitsOf(ivType);
    int64_t lb = sext(uniform(f.getLowerBound(), active), bits), ub = sext(uniform(f.getUpperBound(), active), bits),
            step = sext(uniform(f.getStep(), active), bits);
    std::vector<Val> carried;
    for (Value v : f.getInitArgs()) carried.push_back(get(v));
    for (int64_t iv = lb; iv < ub; iv += step) {
      Val ivv = make(1);
      for (int t = 0; t < threads_; ++t) ivv.at(t) = uint64_t(iv) & mask(bits);
      set(f.getInductionVar(), ivv);
      for (auto [arg, v] : llvm::zip(f.getRegionIterArgs(), carried)) set(arg, v);
      carried = runBlock(*f.getBody(), active);
    }
    for (auto [res, v] : llvm::zip(f.getResults(), carried)) set(res, v);
  }

  // The role split of a warp-specialised kernel: both roles run as fibers (class Fibers).
  void execRoles(scf::IfOp i, const std::vector<bool>& active) {
    Val& c = get(i.getCondition());
    std::vector<bool> producer(active.size()), consumers(active.size());
    for (int t = 0; t < threads_; ++t) {
      producer[t] = active[t] && (c.at(t) & 1);
      consumers[t] = active[t] && !(c.at(t) & 1);
    }
    fibers_.run([&] { runBlock(i.getThenRegion().front(), producer); },
                [&] { runBlock(i.getElseRegion().front(), consumers); });
  }

  void execIf(scf::IfOp i, const std::vector<bool>& active) {
    if (i->hasAttr(ptx::kWarpRolesAttr)) return execRoles(i, active);
    Val& c = get(i.getCondition());
    std::vector<bool> thenMask(active.size()), elseMask(active.size());
    bool anyThen = false, anyElse = false;
    for (int t = 0; t < threads_; ++t) {
      thenMask[t] = active[t] && (c.at(t) & 1);
      elseMask[t] = active[t] && !(c.at(t) & 1);
      anyThen |= thenMask[t];
      anyElse |= elseMask[t];
    }
    std::vector<Val> thenVals, elseVals;
    if (anyThen) thenVals = runBlock(i.getThenRegion().front(), thenMask);
    if (anyElse && !i.getElseRegion().empty()) elseVals = runBlock(i.getElseRegion().front(), elseMask);
    for (unsigned r = 0; r < i.getNumResults(); ++r) {
      Val out = make(countOf(i.getResult(r).getType()));
      for (int t = 0; t < threads_; ++t)
        for (int k = 0; k < out.n; ++k) {
          if (thenMask[t]) out.at(t, k) = thenVals[r].at(t, k);
          else if (elseMask[t]) out.at(t, k) = elseVals[r].at(t, k);
        }
      set(i.getResult(r), out);
    }
  }

  // ---- arith / math (elementwise over threads and vector elements) ---------------------------
  void execArith(Operation* op) {
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      Type t = c.getType();
      Val out = make(countOf(t));
      Attribute a = c.getValue();
      auto word = [&](Attribute e) -> uint64_t {
        if (auto i = dyn_cast<IntegerAttr>(e)) return i.getValue().getZExtValue() & mask(bitsOf(elemOf(t)));
        if (auto fl = dyn_cast<FloatAttr>(e)) return fromF(elemOf(t), fl.getValueAsDouble());
        throw Error("unsupported constant");
      };
      std::vector<uint64_t> ws;
      if (auto d = dyn_cast<DenseElementsAttr>(a))
        for (Attribute e : d.getValues<Attribute>()) ws.push_back(word(e));
      else
        ws.push_back(word(a));
      for (int t = 0; t < threads_; ++t)
        for (int k = 0; k < out.n; ++k) out.at(t, k) = ws[ws.size() == 1 ? 0 : k];
      set(c.getResult(), out);
      return;
    }
    Type rt = op->getResult(0).getType();
    Type re = elemOf(rt);
    Type oe = elemOf(op->getOperand(0).getType());
    int n = countOf(rt);
    Val out = make(n);
    std::vector<Val*> in;
    for (Value v : op->getOperands()) in.push_back(&get(v));
    int ob = bitsOf(oe), rb = bitsOf(re);
    for (int t = 0; t < threads_; ++t)
      for (int k = 0; k < n; ++k) {
        auto w = [&](int i) { return in[i]->at(t, in[i]->n == 1 ? 0 : k); };
        auto f = [&](int i) { return toF(oe, w(i)); };
        auto s = [&](int i) { return sext(w(i), ob); };
        auto u = [&](int i) { return w(i) & mask(ob); };
        uint64_t r = 0;
        llvm::TypeSwitch<Operation*>(op)
            .Case([&](arith::AddIOp) { r = u(0) + u(1); })
            .Case([&](arith::SubIOp) { r = u(0) - u(1); })
            .Case([&](arith::MulIOp) { r = u(0) * u(1); })
            .Case([&](arith::DivSIOp) { r = s(1) ? uint64_t(s(0) / s(1)) : 0; })
            .Case([&](arith::DivUIOp) { r = u(1) ? u(0) / u(1) : 0; })
            .Case([&](arith::RemSIOp) { r = s(1) ? uint64_t(s(0) % s(1)) : 0; })
            .Case([&](arith::RemUIOp) { r = u(1) ? u(0) % u(1) : 0; })
            .Case([&](arith::CeilDivSIOp) { r = s(1) ? uint64_t((s(0) + s(1) - 1) / s(1)) : 0; })
            .Case([&](arith::AndIOp) { r = u(0) & u(1); })
            .Case([&](arith::OrIOp) { r = u(0) | u(1); })
            .Case([&](arith::XOrIOp) { r = u(0) ^ u(1); })
            .Case([&](arith::ShLIOp) { r = u(1) >= uint64_t(ob) ? 0 : u(0) << u(1); })
            .Case([&](arith::ShRUIOp) { r = u(1) >= uint64_t(ob) ? 0 : u(0) >> u(1); })
            .Case([&](arith::ShRSIOp) { r = uint64_t(s(0) >> std::min<uint64_t>(u(1), 63)); })
            .Case([&](arith::MaxSIOp) { r = uint64_t(std::max(s(0), s(1))); })
            .Case([&](arith::MinSIOp) { r = uint64_t(std::min(s(0), s(1))); })
            .Case([&](arith::MaxUIOp) { r = std::max(u(0), u(1)); })
            .Case([&](arith::MinUIOp) { r = std::min(u(0), u(1)); })
            .Case([&](arith::CmpIOp c) {
              using P = arith::CmpIPredicate;
              switch (c.getPredicate()) {
                case P::eq: r = u(0) == u(1); break;
                case P::ne: r = u(0) != u(1); break;
                case P::slt: r = s(0) < s(1); break;
                case P::sle: r = s(0) <= s(1); break;
                case P::sgt: r = s(0) > s(1); break;
                case P::sge: r = s(0) >= s(1); break;
                case P::ult: r = u(0) < u(1); break;
                case P::ule: r = u(0) <= u(1); break;
                case P::ugt: r = u(0) > u(1); break;
                case P::uge: r = u(0) >= u(1); break;
              }
            })
            .Case([&](arith::CmpFOp c) {
              using P = arith::CmpFPredicate;
              double a = f(0), b = f(1);
              bool unord = std::isnan(a) || std::isnan(b);
              switch (c.getPredicate()) {
                case P::OEQ: r = !unord && a == b; break;
                case P::OGT: r = !unord && a > b; break;
                case P::OGE: r = !unord && a >= b; break;
                case P::OLT: r = !unord && a < b; break;
                case P::OLE: r = !unord && a <= b; break;
                case P::ONE: r = !unord && a != b; break;
                case P::ORD: r = !unord; break;
                case P::UEQ: r = unord || a == b; break;
                case P::UGT: r = unord || a > b; break;
                case P::UGE: r = unord || a >= b; break;
                case P::ULT: r = unord || a < b; break;
                case P::ULE: r = unord || a <= b; break;
                case P::UNE: r = unord || a != b; break;
                case P::UNO: r = unord; break;
                case P::AlwaysTrue: r = 1; break;
                case P::AlwaysFalse: r = 0; break;
              }
            })
            .Case([&](arith::SelectOp) { r = (w(0) & 1) ? w(1) : w(2); })
            .Case([&](arith::AddFOp) { r = fromF(re, f32(f(0) + f(1))); })
            .Case([&](arith::SubFOp) { r = fromF(re, f32(f(0) - f(1))); })
            .Case([&](arith::MulFOp) { r = fromF(re, f32(f(0) * f(1))); })
            .Case([&](arith::DivFOp) { r = fromF(re, f32(f(0) / f(1))); })
            .Case([&](arith::NegFOp) { r = fromF(re, -f(0)); })
            .Case([&](arith::MaximumFOp) {
              double a = f(0), b = f(1);
              r = fromF(re, std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b));
            })
            .Case([&](arith::MinimumFOp) {
              double a = f(0), b = f(1);
              r = fromF(re, std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b));
            })
            .Case([&](arith::MaxNumFOp) { r = fromF(re, std::fmax(f(0), f(1))); })
            .Case([&](arith::MinNumFOp) { r = fromF(re, std::fmin(f(0), f(1))); })
            .Case([&](arith::ExtFOp) { r = fromF(re, f(0)); })
            .Case([&](arith::TruncFOp) { r = fromF(re, f(0)); })
            .Case([&](arith::SIToFPOp) { r = fromF(re, double(s(0))); })
            .Case([&](arith::UIToFPOp) { r = fromF(re, double(u(0))); })
            .Case([&](arith::FPToSIOp) { r = uint64_t(int64_t(f(0))); })
            .Case([&](arith::ExtUIOp) { r = u(0); })
            .Case([&](arith::ExtSIOp) { r = uint64_t(s(0)); })
            .Case([&](arith::TruncIOp) { r = u(0); })
            .Case([&](arith::IndexCastOp) { r = uint64_t(s(0)); })
            .Case([&](arith::IndexCastUIOp) { r = u(0); })
            .Case([&](arith::BitcastOp) { r = w(0); })
            .Case([&](math::SqrtOp) { r = fromF(re, f32(std::sqrt(f(0)))); })
            .Case([&](math::AbsFOp) { r = fromF(re, std::fabs(f(0))); })
            .Case([&](math::Exp2Op) { r = fromF(re, f32(std::exp2(f(0)))); })
            .Case([&](math::ExpOp) { r = fromF(re, f32(std::exp(f(0)))); })
            .Case([&](math::Log2Op) { r = fromF(re, f32(std::log2(f(0)))); })
            .Case([&](math::LogOp) { r = fromF(re, f32(std::log(f(0)))); })
            .Case([&](math::AbsIOp) { r = uint64_t(std::llabs(s(0))); })
            .Default([&](Operation*) { throw Error("unsupported op " + op->getName().getStringRef().str()); });
        out.at(t, k) = r & mask(rb);
      }
    set(op->getResult(0), out);
  }

  // ---- llvm ---------------------------------------------------------------------------------
  void execLLVM(Operation* op, const std::vector<bool>& active) {
    auto unary = [&](const std::function<void(int, Val&)>& fn) {
      Val out = make(op->getNumResults() ? countOf(op->getResult(0).getType()) : 1);
      for (int t = 0; t < threads_; ++t) fn(t, out);
      if (op->getNumResults()) set(op->getResult(0), out);
    };
    if (isa<LLVM::AddressOfOp>(op)) return unary([&](int t, Val& o) { o.at(t) = kSmemTag; });
    // An f32 poison is NaN here, so that a kernel reading one (a wgmma accumulator entered
    // as poison but added to: scale-d 1) gives NaN instead of passing by chance on zeros.
    if (isa<LLVM::PoisonOp, LLVM::UndefOp>(op) && op->getResult(0).getType().isF32())
      return unary([](int t, Val& o) { o.at(t) = 0x7fc00000u; });
    if (isa<LLVM::PoisonOp, LLVM::UndefOp, LLVM::ZeroOp>(op)) return unary([](int, Val&) {});
    if (auto al = dyn_cast<LLVM::AllocaOp>(op)) {
      // One constant-sized variable per thread, placed once per block run.
      APInt count;
      if (!matchPattern(al.getArraySize(), m_ConstantInt(&count))) throw Error("alloca of a run-time size");
      uint64_t bytes = uint64_t(bytesOf(al.getElemType())) * count.getZExtValue();
      uint64_t off = (localUsed_ + 15) & ~uint64_t(15);
      if (off + bytes > kLocalStride) throw Error("local variables exceed the simulator's room");
      localUsed_ = off + bytes;
      return unary([&](int t, Val& o) { o.at(t) = kLocalBase + uint64_t(t) * kLocalStride + off; });
    }
    if (isa<LLVM::AddrSpaceCastOp>(op)) {
      Val& in = get(op->getOperand(0));
      return unary([&](int t, Val& o) { o.at(t) = in.at(t); });
    }
    // A ptr<3> is its tag plus the byte offset, so its low 32 bits are the 32-bit shared-window
    // address that asm operands take; an integer turned into a ptr<3> is such an offset.
    if (isa<LLVM::PtrToIntOp, LLVM::TruncOp, LLVM::ZExtOp>(op)) {
      Val& in = get(op->getOperand(0));
      int from = bitsOf(op->getOperand(0).getType()), to = bitsOf(op->getResult(0).getType());
      return unary([&](int t, Val& o) { o.at(t) = in.at(t) & mask(std::min(from, to)); });
    }
    if (isa<LLVM::SExtOp>(op)) {
      Val& in = get(op->getOperand(0));
      int from = bitsOf(op->getOperand(0).getType()), to = bitsOf(op->getResult(0).getType());
      return unary([&](int t, Val& o) { o.at(t) = uint64_t(sext(in.at(t), from)) & mask(to); });
    }
    if (auto i2p = dyn_cast<LLVM::IntToPtrOp>(op)) {
      Val& in = get(i2p.getArg());
      bool shared = cast<LLVM::LLVMPointerType>(i2p.getType()).getAddressSpace() == 3;
      return unary([&](int t, Val& o) { o.at(t) = shared ? kSmemTag | (in.at(t) & mask(32)) : in.at(t); });
    }
    if (auto gep = dyn_cast<LLVM::GEPOp>(op)) {
      Val& base = get(gep.getBase());
      int64_t size = bytesOf(gep.getElemType());
      auto indices = gep.getIndices();
      if (indices.size() != 1) throw Error("gep with several indices");
      return unary([&](int t, Val& o) {
        int64_t idx;
        auto i = indices[0];
        if (auto a = llvm::dyn_cast_if_present<IntegerAttr>(i)) idx = a.getInt();
        else {
          Value v = llvm::cast<Value>(i);
          idx = sext(get(v).at(t), bitsOf(v.getType()));
        }
        o.at(t) = base.at(t) + uint64_t(idx * size);
      });
    }
    if (auto ld = dyn_cast<LLVM::LoadOp>(op)) {
      Val& p = get(ld.getAddr());
      Type rt = ld.getResult().getType();
      int eb = bytesOf(elemOf(rt));
      return unary([&](int t, Val& o) {
        if (!active[t]) return;
        checkAligned(p.at(t), o.n * eb);
        for (int k = 0; k < o.n; ++k) o.at(t, k) = load(t, p.at(t) + uint64_t(k * eb), eb);
      });
    }
    if (auto st = dyn_cast<LLVM::StoreOp>(op)) {
      Val& p = get(st.getAddr());
      Val& v = get(st.getValue());
      int eb = bytesOf(elemOf(st.getValue().getType()));
      for (int t = 0; t < threads_; ++t)
        if (active[t]) {
          checkAligned(p.at(t), v.n * eb);
          for (int k = 0; k < v.n; ++k) store(t, p.at(t) + uint64_t(k * eb), v.at(t, k), eb);
        }
      return;
    }
    if (auto ins = dyn_cast<LLVM::InsertElementOp>(op)) {
      Val& vec = get(ins.getVector());
      Val& val = get(ins.getValue());
      Val& pos = get(ins.getPosition());
      return unary([&](int t, Val& o) {
        for (int k = 0; k < o.n; ++k) o.at(t, k) = vec.at(t, k);
        o.at(t, int(pos.at(t))) = val.at(t);
      });
    }
    if (auto ext = dyn_cast<LLVM::ExtractElementOp>(op)) {
      Val& vec = get(ext.getVector());
      Val& pos = get(ext.getPosition());
      return unary([&](int t, Val& o) { o.at(t) = vec.at(t, int(pos.at(t))); });
    }
    if (auto ev = dyn_cast<LLVM::ExtractValueOp>(op)) {
      Val& s = get(ev.getContainer());
      int k = int(ev.getPosition()[0]);
      return unary([&](int t, Val& o) { o.at(t) = s.at(t, k); });
    }
    if (auto bc = dyn_cast<LLVM::BitcastOp>(op)) {
      Val& in = get(bc.getArg());
      Type from = bc.getArg().getType(), to = bc.getType();
      int fb = bitsOf(elemOf(from)), tb = bitsOf(elemOf(to));
      return unary([&](int t, Val& o) {
        // Reinterpret the little-endian bit string.
        std::vector<uint8_t> raw(size_t(bytesOf(from)));
        for (int k = 0; k < in.n; ++k) {
          uint64_t w = in.at(t, k);
          std::memcpy(&raw[size_t(k * fb / 8)], &w, size_t(fb / 8));
        }
        for (int k = 0; k < o.n; ++k) {
          uint64_t w = 0;
          std::memcpy(&w, &raw[size_t(k * tb / 8)], size_t(tb / 8));
          o.at(t, k) = w;
        }
      });
    }
    if (auto as = dyn_cast<LLVM::InlineAsmOp>(op)) {
      StringRef text = as.getAsmString();
      if (text.starts_with(ptx::kSetMaxRegDec) || text.starts_with(ptx::kSetMaxRegInc)) return setMaxRegisters(text, active);
      if (async::isAsyncAsm(text)) {
        // mbarriers, TMA and tensor maps (async_ptx.h): side effects only.
        if (op->getNumResults()) throw Error("async asm with results: " + text.str());
        std::vector<std::vector<uint64_t>> ops;
        for (Value v : op->getOperands()) {
          Val& x = get(v);
          std::vector<uint64_t> perThread(static_cast<size_t>(threads_));
          for (int t = 0; t < threads_; ++t) perThread[size_t(t)] = x.at(t);
          ops.push_back(std::move(perThread));
        }
        async_.exec(text, ops, active);
        return;
      }
      if (text.contains("wgmma.mma_async")) return execWgmma(as, active);
      if (text.starts_with(tile::lowering::ptx::kRedGlobalAddVectorF32)) {
        // Vector f32 atomic add: one aligned access of the whole vector, each element added.
        Val& a = get(op->getOperand(0));
        int n = int(op->getNumOperands()) - 1;
        Type f32t = Float32Type::get(op->getContext());
        for (int t = 0; t < threads_; ++t) {
          if (!active[t]) continue;
          if (a.at(t) & kSmemTag) throw Error("red.global on a shared-memory address");
          addr(a.at(t), 4 * n);  // bounds and alignment of the whole vector
          for (int j = 0; j < n; ++j) {
            uint64_t at = a.at(t) + uint64_t(4 * j);
            uint64_t old = load(t, at, 4);
            store(t, at, fromF(f32t, f32(toF(f32t, old) + toF(f32t, get(op->getOperand(size_t(j + 1))).at(t)))), 4);
          }
        }
        return;
      }
      {
        namespace lp = tile::lowering::ptx;
        if (text == lp::kOpaqueB32 || text == lp::kOpaqueF32 || text == lp::kOpaqueB64) {
          // Copies LLVM may not look through: the value itself.
          Val& in = get(op->getOperand(0));
          return unary([&](int t, Val& o) { o.at(t) = in.at(t); });
        }
      }
      if (text.starts_with("wgmma.fence") || text.starts_with("wgmma.wait_group")) {
        // Register fences: every output is its tied input.
        Val out = make(countOf(op->getResult(0).getType()));
        for (int t = 0; t < threads_; ++t)
          for (int i = 0; i < out.n; ++i) out.at(t, i) = get(op->getOperand(size_t(i))).at(t);
        set(op->getResult(0), out);
        return;
      }
      Val& in = get(op->getOperand(0));
      Type f32t = Float32Type::get(op->getContext());
      return unary([&](int t, Val& o) {
        double x = toF(f32t, in.at(t));
        if (text.contains("ex2.approx")) {
          float r = std::exp2(float(x));
          // .ftz: subnormal results flush to zero.
          if (text.contains(".ftz") && std::fabs(r) < std::numeric_limits<float>::min()) r = 0.0f;
          o.at(t) = fromF(f32t, r);
        }
        else if (text.contains("lg2.approx")) o.at(t) = fromF(f32t, std::log2(float(x)));
        else throw Error("unsupported inline asm " + text.str());
      });
    }
    if (auto rmw = dyn_cast<LLVM::AtomicRMWOp>(op)) {
      if (rmw.getBinOp() != LLVM::AtomicBinOp::fadd) throw Error("unsupported atomic");
      Val& p = get(rmw.getPtr());
      Val& v = get(rmw.getVal());
      Type e = rmw.getVal().getType();
      return unary([&](int t, Val& o) {
        if (!active[t]) return;
        int eb = bytesOf(e);
        uint64_t old = load(t, p.at(t), eb);
        o.at(t) = old;
        store(t, p.at(t), fromF(e, f32(toF(e, old) + toF(e, v.at(t)))), eb);
      });
    }
    throw Error("unsupported op " + op->getName().getStringRef().str());
  }

  // setmaxnreg is .sync.aligned over a warpgroup: its four warps run it together, whole. The
  // count is a multiple of 8 in 24..256.
  void setMaxRegisters(StringRef text, const std::vector<bool>& active) {
    int n = std::stoi(text.drop_front(std::strlen(ptx::kSetMaxRegDec)).rtrim(';').str());
    if (n < 24 || n > 256 || n % 8) throw Error("setmaxnreg with " + std::to_string(n) + " registers (a multiple of 8 in 24..256)");
    for (int g = 0; g < threads_; g += 4 * kLanes) {
      int on = 0;
      for (int t = g; t < std::min(threads_, g + 4 * kLanes); ++t) on += active[t];
      if (on && on != 4 * kLanes)
        throw Error(text.str() + " reached by " + std::to_string(on) + " of the 128 threads of warpgroup " +
                    std::to_string(g / (4 * kLanes)));
    }
  }

  // ---- gpu ----------------------------------------------------------------------------------
  void execGpu(Operation* op) {
    auto fill = [&](const std::function<uint64_t(int)>& fn) {
      Val out = make(1);
      for (int t = 0; t < threads_; ++t) out.at(t) = fn(t);
      set(op->getResult(0), out);
    };
    if (isa<mlir::gpu::BarrierOp>(op)) {
      order_.barrier();
      return;
    }
    if (auto id = dyn_cast<mlir::gpu::ThreadIdOp>(op)) return fill([&](int t) { return uint64_t(id.getDimension() == mlir::gpu::Dimension::x ? t : 0); });
    if (auto id = dyn_cast<mlir::gpu::BlockIdOp>(op)) return fill([&](int) { return uint64_t(block_[int(id.getDimension())]); });
    if (auto id = dyn_cast<mlir::gpu::GridDimOp>(op)) return fill([&](int) { return uint64_t(grid_[int(id.getDimension())]); });
    if (auto id = dyn_cast<mlir::gpu::BlockDimOp>(op)) return fill([&](int) { return uint64_t(id.getDimension() == mlir::gpu::Dimension::x ? threads_ : 1); });
    if (auto sh = dyn_cast<mlir::gpu::ShuffleOp>(op)) {
      if (sh.getMode() != mlir::gpu::ShuffleMode::XOR) throw Error("only xor shuffles are simulated");
      Val& v = get(sh.getValue());
      Val& off = get(sh.getOffset());
      Val out = make(1), ok = make(1);
      for (int t = 0; t < threads_; ++t) {
        int src = (t & ~(kLanes - 1)) | ((t % kLanes) ^ int(off.at(t)));
        out.at(t) = v.at(src);
        ok.at(t) = 1;
      }
      set(sh.getShuffleResult(), out);
      set(sh.getValid(), ok);
      return;
    }
    throw Error("unsupported op " + op->getName().getStringRef().str());
  }

  // ---- wgmma (inline asm): m64nNk16, f32 += bf16/f16, B (and maybe A) via descriptors ------
  // Evaluated synchronously per warpgroup from the PTX ISA's fragment and descriptor rules;
  // shared memory is read as thread 0 of the warpgroup (so the race checker sees the reads).
  uint64_t descriptorElement(uint64_t desc, bool kMajor, int mn, int k) {
    if ((desc >> 62) != 1) throw Error("wgmma descriptor: only the 128B swizzle mode is modelled");
    uint64_t start = (desc & 0x3FFF) << 4, lead = ((desc >> 16) & 0x3FFF) << 4, stride = ((desc >> 32) & 0x3FFF) << 4;
    uint64_t off = kMajor ? start + uint64_t(mn / 8) * stride + uint64_t(mn % 8) * 128 + uint64_t(k) * 2
                          : start + uint64_t(mn / 64) * lead + uint64_t(k / 8) * stride + uint64_t(k % 8) * 128 +
                                uint64_t(mn % 64) * 2;
    return off ^ (((off >> 7) & 7) << 4);
  }
  void execWgmma(LLVM::InlineAsmOp as, const std::vector<bool>& active) {
    std::string text = as.getAsmString().str();
    size_t shapeAt = text.find(".m64n");
    int N = std::stoi(text.substr(shapeAt + 5));
    bool f16 = text.find(".f32.f16.f16") != std::string::npos;
    Type half = f16 ? Type(Float16Type::get(as.getContext())) : Type(BFloat16Type::get(as.getContext()));
    Type f32t = Float32Type::get(as.getContext());
    int n = countOf(as.getResult(0).getType());
    if (n != N / 2) throw Error("wgmma: accumulator count does not match the shape");
    int aCount = int(as.getNumOperands()) - n - 2;
    bool aDesc = aCount == 1;
    // The immediates after "p, 1, 1, ": [trans-a,] trans-b.
    std::string tail = text.substr(text.find("p, 1, 1, ") + 9);
    bool transA = aDesc && tail[0] == '1';
    bool transB = tail[aDesc ? 3 : 0] == '1';
    // "add.s64 da|db, $k, IMM;": the k-step's descriptor is operand k plus IMM (16-byte units).
    auto stepOf = [&](const char* reg) -> int64_t {
      size_t at = text.find(std::string("add.s64 ") + reg + ", $");
      if (at == std::string::npos) return 0;
      return std::stoll(text.substr(text.find(", ", text.find("$", at)) + 2));
    };
    const int64_t aStep = stepOf("da"), bStep = stepOf("db");
    // The scale-d operand (last): 0 makes D = A*B, the accumulator's registers unread.
    Val& scaleD = get(as.getOperand(size_t(n + aCount + 1)));
    Val out = make(n);
    for (int wg0 = 0; wg0 < threads_; wg0 += 4 * kLanes) {
      if (!active[size_t(wg0)]) continue;  // another role's warpgroup
      std::vector<double> A(64 * 16), B(16 * size_t(N)), C(64 * size_t(N));
      uint64_t bd = get(as.getOperand(size_t(n + aCount))).at(wg0) + uint64_t(bStep);
      for (int k = 0; k < 16; ++k)
        for (int c = 0; c < N; ++c)
          B[size_t(k * N + c)] = toF(half, wgmmaLoad(wg0, kSmemTag | descriptorElement(bd, !transB, c, k)));
      if (aDesc) {
        uint64_t ad = get(as.getOperand(size_t(n))).at(wg0) + uint64_t(aStep);
        for (int r = 0; r < 64; ++r)
          for (int k = 0; k < 16; ++k)
            A[size_t(r * 16 + k)] = toF(half, wgmmaLoad(wg0, kSmemTag | descriptorElement(ad, !transA, r, k)));
      }
      for (int t = wg0; t < wg0 + 4 * kLanes; ++t) {
        int w4 = (t / kLanes) % 4, l = t % kLanes, g = l / 4, q = l % 4;
        if (!aDesc)
          for (int p = 0; p < 4; ++p) {
            uint64_t word = get(as.getOperand(size_t(n + p))).at(t);
            for (int h = 0; h < 2; ++h)
              A[size_t((16 * w4 + g + 8 * (p & 1)) * 16 + 2 * q + 8 * (p >> 1) + h)] = toF(half, (word >> (16 * h)) & 0xffff);
          }
        const bool keep = scaleD.at(t) != 0;
        for (int i = 0; i < n; ++i)
          C[size_t((16 * w4 + g + 8 * ((i / 2) % 2)) * N + 8 * (i / 4) + 2 * q + i % 2)] =
              keep ? toF(f32t, get(as.getOperand(size_t(i))).at(t)) : 0.0;
      }
      for (int t = wg0; t < wg0 + 4 * kLanes; ++t) {
        int w4 = (t / kLanes) % 4, l = t % kLanes, g = l / 4, q = l % 4;
        for (int i = 0; i < n; ++i) {
          int r = 16 * w4 + g + 8 * ((i / 2) % 2), c = 8 * (i / 4) + 2 * q + i % 2;
          double acc = C[size_t(r * N + c)];
          for (int k = 0; k < 16; ++k) acc += A[size_t(r * 16 + k)] * B[size_t(k * N + c)];
          out.at(t, i) = fromF(f32t, acc);
        }
      }
    }
    set(as.getResult(0), out);
  }

  // ---- nvvm: ldmatrix, mma.sync, cp.async ---------------------------------------------------
  void execNvvm(Operation* op, const std::vector<bool>& active) {
    if (isa<NVVM::WgmmaGroupSyncAlignedOp, NVVM::FenceProxyOp>(op)) return;  // completion is immediate here
    if (isa<NVVM::CpAsyncCommitGroupOp>(op)) {
      for (int t = 0; t < threads_; ++t)
        if (active[t]) ++committed_[t];
      return;
    }
    if (auto w = dyn_cast<NVVM::CpAsyncWaitGroupOp>(op)) {
      for (int t = 0; t < threads_; ++t)
        if (active[t]) waitGroups(t, int(w.getN()));
      return;
    }
    if (auto cp = dyn_cast<NVVM::CpAsyncOp>(op)) {
      Val& dst = get(cp.getDst());
      Val& src = get(cp.getSrc());
      int size = int(cp.getSize());
      for (int t = 0; t < threads_; ++t) {
        if (!active[t]) continue;
        int srcBytes = cp.getCpSize() ? int(get(cp.getCpSize()).at(t)) : size;
        uint8_t data[16] = {};
        for (int b = 0; b < size; ++b) data[b] = b < srcBytes ? *addr(src.at(t) + uint64_t(b), 1) : 0;
        uint64_t d = dst.at(t);
        if (!(d & kSmemTag)) throw Error("cp.async destination is not shared memory");
        addr(d, size);
        smemWrite(t, d & ~kSmemTag, data, size, true);
      }
      return;
    }
    if (auto lm = dyn_cast<NVVM::LdMatrixOp>(op)) {
      Val& p = get(lm.getPtr());
      int num = int(lm.getNum());
      bool trans = lm.getLayout() == NVVM::MMALayout::col;
      Val out = make(num);
      for (int w0 = 0; w0 < threads_; w0 += kLanes)
        for (int l = 0; l < kLanes; ++l)
          for (int j = 0; j < num; ++j) {
            int g = l / 4, q = l % 4;
            uint64_t word = 0;
            for (int h = 0; h < 2; ++h) {
              int row = trans ? 2 * q + h : g, col = trans ? g : 2 * q + h;
              uint64_t rowAddr = p.at(w0 + j * 8 + row);
              word |= load(w0 + l, rowAddr + uint64_t(col * 2), 2) << (16 * h);
            }
            out.at(w0 + l, j) = word;
          }
      set(lm.getResult(), out);
      return;
    }
    if (auto mma = dyn_cast<NVVM::MmaOp>(op)) {
      auto aVals = mma.getOperandA(), bVals = mma.getOperandB(), cVals = mma.getOperandC();
      Type aType = aVals[0].getType();
      Type half = isa<VectorType>(aType) ? elemOf(aType) : Type(BFloat16Type::get(op->getContext()));
      auto ptx = mma.getMultiplicandAPtxType();
      if (ptx && *ptx == NVVM::MMATypes::f16) half = Float16Type::get(op->getContext());
      Type f32t = Float32Type::get(op->getContext());
      // 16-bit element i of a fragment given as 32-bit words or 2-element vectors.
      auto elem = [&](ValueRange regs, int t, int i) {
        Val& v = get(regs[i / 2]);
        uint64_t w = v.n == 2 ? v.at(t, i % 2) : (v.at(t) >> (16 * (i % 2))) & 0xffff;
        return toF(half, w);
      };
      Val out = make(4);
      for (int w0 = 0; w0 < threads_; w0 += kLanes) {
        double A[16][16], B[16][8], C[16][8];
        for (int l = 0; l < kLanes; ++l) {
          int g = l / 4, q = l % 4, t = w0 + l;
          for (int i = 0; i < 8; ++i) A[g + 8 * ((i / 2) % 2)][2 * q + i % 2 + 8 * (i / 4)] = elem(aVals, t, i);
          for (int i = 0; i < 4; ++i) B[2 * q + i % 2 + 8 * (i / 2)][g] = elem(bVals, t, i);
          for (int i = 0; i < 4; ++i) C[g + 8 * (i / 2)][2 * q + i % 2] = toF(f32t, get(cVals[i]).at(t));
        }
        for (int l = 0; l < kLanes; ++l) {
          int g = l / 4, q = l % 4;
          for (int i = 0; i < 4; ++i) {
            int m = g + 8 * (i / 2), n = 2 * q + i % 2;
            double acc = C[m][n];
            for (int k = 0; k < 16; ++k) acc += A[m][k] * B[k][n];
            out.at(w0 + l, i) = fromF(f32t, acc);
          }
        }
      }
      set(mma.getResult(), out);
      return;
    }
    throw Error("unsupported op " + op->getName().getStringRef().str());
  }

  std::vector<Buffer>& buffers_;
  int threads_;
  std::vector<uint8_t> smem_;
  std::vector<uint8_t> local_;  // every thread's local variables
  uint64_t localUsed_ = 0;      // bytes of them allocated per thread
  // Per shared-memory byte: element reads of wgmma's not yet waited for (the tensor cores may
  // still be reading it; nothing may write it until then).
  std::vector<int> wgmmaInFlight_;
  async::Order order_;
  std::vector<int> committed_;
  std::unordered_map<const void*, int64_t> wgmmaGroup_;  // in-flight wgmma outputs -> commit group
  std::map<int64_t, std::vector<std::pair<int, uint64_t>>> wgmmaReads_;  // group -> (thread, smem offset)
  int64_t wgmmaCommitted_ = 0;
  std::vector<std::vector<Pending>> pending_;
  std::unordered_map<const void*, Val> vals_;
  async::Model async_;
  Fibers fibers_;
  int block_[3] = {0, 0, 0}, grid_[3] = {1, 1, 1};
};

}  // namespace

std::string run(ModuleOp m, const std::string& kernel, const std::vector<Arg>& args, std::vector<Buffer>& buffers,
                int gridX, int gridY, int gridZ) {
  mlir::gpu::GPUFuncOp f;
  m.walk([&](mlir::gpu::GPUFuncOp g) {
    if (g.getName() == kernel) f = g;
  });
  if (!f) return "kernel " + kernel + " not found";
  // A kernel with TMA loads takes the runtime's workspace as a hidden last argument: its
  // templates, then a tensor-map slot per template for every block (async_ptx.h).
  auto templates = f->getAttrOfType<ArrayAttr>(ptx::kTmaTemplatesAttr);
  int n = templates ? int(templates.size()) : 0;
  if (f.getNumArguments() != args.size() + (n ? 1 : 0)) return "argument count differs";
  auto nw = f->getAttrOfType<IntegerAttr>("tile.num_warps");
  auto smem = f->getAttrOfType<IntegerAttr>("tile.smem_bytes");
  if (!nw || !smem) return "kernel attributes missing";
  std::vector<Arg> all = args;
  uint64_t workspace = 0;
  if (n) {
    if (!isa<LLVM::LLVMPointerType>(f.getArguments().back().getType())) return "the workspace argument is not a pointer";
    Buffer ws;
    ws.bytes.assign(size_t(n + gridX * gridY * gridZ * n) * ptx::kTensorMapBytes, 0);
    for (int k = 0; k < n; ++k) {
      auto t = dyn_cast<DenseI32ArrayAttr>(templates[size_t(k)]);
      if (!t || t.size() != 3 || (t[0] != ptx::kTmaBf16 && t[0] != ptx::kTmaF16))
        return std::string(ptx::kTmaTemplatesAttr) + " entry is not array<i32: bf16 or f16, box cols, box rows>";
      async::writeTemplate(&ws.bytes[size_t(k) * ptx::kTensorMapBytes], t[0], t[1], t[2]);
    }
    buffers.push_back(std::move(ws));
    all.push_back(Arg::buf(int(buffers.size()) - 1));
    workspace = kGlobalBase + kBufferStride * uint64_t(buffers.size() - 1);
  }
  std::string err;
  try {
    for (int z = 0; z < gridZ; ++z)
      for (int y = 0; y < gridY; ++y)
        for (int x = 0; x < gridX; ++x) {
          Sim sim(buffers, int(nw.getInt()) * kLanes);
          sim.runKernel(f, all, x, y, z, gridX, gridY, gridZ, smem.getInt(), workspace, n);
        }
  } catch (const std::exception& e) {
    err = e.what();
  }
  if (n) buffers.pop_back();  // the caller's buffers are as they were
  return err;
}

}  // namespace tile::lowering::sim
