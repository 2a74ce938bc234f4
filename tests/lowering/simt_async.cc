#include "tests/lowering/simt_async.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>

#include "lowering/passes/async_ptx.h"

namespace tile::lowering::sim::async {

namespace ptx = tile::lowering::ptx;

namespace {

// The simulator's tensor map: fields at these byte offsets of its 128 bytes. Address, extents
// and stride 0 mean "not set" (a template the kernel did not fill in).
constexpr int kAddress = 0;    // u64 global address of element (0, 0)
constexpr int kDim0 = 8;       // u32 columns (ord 0, innermost)
constexpr int kDim1 = 12;      // u32 rows
constexpr int kStride0 = 16;   // u64 bytes from one row to the next
constexpr int kBoxCols = 24;   // u32
constexpr int kBoxRows = 28;   // u32
constexpr int kElemBytes = 32;  // u32
constexpr int kSwizzle = 36;   // u32 swizzle span in bytes (128)
constexpr int kMagic = 40;     // u32
constexpr uint32_t kMagicValue = 0x50414d54;  // "TMAP"

// PTX limits: arrival count and tx count are 20-bit.
constexpr int64_t kMaxCount = (int64_t(1) << 20) - 1;

template <typename T>
T field(const uint8_t* map, int off) {
  T v;
  std::memcpy(&v, map + off, sizeof(T));
  return v;
}
template <typename T>
void setField(uint8_t* map, int off, T v) {
  std::memcpy(map + off, &v, sizeof(T));
}

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
std::string at(uint64_t off) { return "smem offset " + std::to_string(off); }

}  // namespace

// ---- ordering -------------------------------------------------------------------------------
void Order::reset(size_t smemBytes, int threads) {
  n_ = threads;
  epoch_ = 0;
  clock_.assign(size_t(threads), 0);
  seen_.assign(size_t(threads) * size_t(threads), -1);
  bytes_.assign(smemBytes, ByteState{});
  readers_.clear();
}

void Order::barrier() {
  ++epoch_;
  readers_.clear();  // every list belongs to an earlier epoch now
}

void Order::release(int t, std::vector<int64_t>& into) {
  into.resize(size_t(n_), -1);
  const int64_t* row = &seen_[size_t(t) * size_t(n_)];
  for (int u = 0; u < n_; ++u) into[size_t(u)] = std::max(into[size_t(u)], row[u]);
  into[size_t(t)] = std::max(into[size_t(t)], clock_[size_t(t)]);
  ++clock_[size_t(t)];
}

void Order::acquire(int t, const std::vector<int64_t>& from) {
  int64_t* row = &seen_[size_t(t) * size_t(n_)];
  for (size_t u = 0; u < from.size(); ++u) row[u] = std::max(row[u], from[u]);
}

void Order::warpSync(int w0, int lanes) {
  std::vector<int64_t> all(size_t(n_), -1);
  for (int t = w0; t < w0 + lanes; ++t) release(t, all);
  for (int t = w0; t < w0 + lanes; ++t) acquire(t, all);
}

void Order::barrierAmong(const std::vector<int>& threads) {
  if (int(threads.size()) == n_) return barrier();
  std::vector<int64_t> all(size_t(n_), -1);
  for (int t : threads) release(t, all);
  for (int t : threads) acquire(t, all);
}

void Order::recordRead(int t, uint64_t i) {
  ByteState& m = bytes_[i];
  int64_t c = clock_[size_t(t)];
  if (m.readEpoch != epoch_) {
    m.readers = -1;
  } else if (m.readers < 0 && m.reader != t) {
    // A second reader: from now on the byte keeps them all, each with its latest read.
    readers_.push_back(Reader{m.reader, -1, m.readClock});
    m.readers = int32_t(readers_.size() - 1);
  }
  m.reader = t;
  m.readClock = c;
  m.readEpoch = epoch_;
  if (m.readers < 0) return;
  for (int32_t k = m.readers; k >= 0; k = readers_[size_t(k)].next)
    if (readers_[size_t(k)].thread == t) {
      readers_[size_t(k)].clock = c;
      return;
    }
  readers_.push_back(Reader{t, m.readers, c});
  m.readers = int32_t(readers_.size() - 1);
}

void Order::recordWrite(int t, uint64_t i) {
  ByteState& m = bytes_[i];
  m.writer = t;
  m.writeClock = clock_[size_t(t)];
  m.writeEpoch = epoch_;
}

int Order::unorderedReader(int t, uint64_t i) const {
  const ByteState& m = bytes_[i];
  if (m.readEpoch != epoch_) return -1;
  if (m.readers < 0) return ordered(m.reader, m.readClock, m.readEpoch, t) ? -1 : m.reader;
  for (int32_t k = m.readers; k >= 0; k = readers_[size_t(k)].next) {
    const Reader& r = readers_[size_t(k)];
    if (!ordered(r.thread, r.clock, m.readEpoch, t)) return r.thread;
  }
  return -1;
}

// ---- tensor map template --------------------------------------------------------------------
void writeTemplate(uint8_t* dst, int elemType, int boxCols, int boxRows) {
  std::memset(dst, 0, ptx::kTensorMapBytes);
  setField<uint32_t>(dst, kBoxCols, uint32_t(boxCols));
  setField<uint32_t>(dst, kBoxRows, uint32_t(boxRows));
  setField<uint32_t>(dst, kElemBytes, elemType == ptx::kTmaBf16 || elemType == ptx::kTmaF16 ? 2 : 0);
  setField<uint32_t>(dst, kSwizzle, 128);
  setField<uint32_t>(dst, kMagic, kMagicValue);
}

bool isAsyncAsm(llvm::StringRef text) {
  for (const char* s : {ptx::kMbarrierInit, ptx::kMbarrierInitFence, ptx::kMbarrierInval, ptx::kMbarrierArriveExpectTx, ptx::kMbarrierArrive,
                        ptx::kMbarrierWaitParity,
                        ptx::kTmaLoad2d, ptx::kTensorMapSetAddress, ptx::kTensorMapSetDim0, ptx::kTensorMapSetDim1,
                        ptx::kTensorMapSetStride0, ptx::kTensorMapPublish, ptx::kTensorMapAcquire, ptx::kWarpSync,
                        ptx::kNamedBarrierSync, ptx::kNamedBarrierArrive, ptx::kBarrierSyncUnaligned,
                        ptx::kFenceProxyAsyncShared, ptx::kBulkReduceAddF32, ptx::kBulkCommitGroup, ptx::kBulkWaitGroupRead0,
                        ptx::kBulkWaitGroup0})
    if (text == s) return true;
  return false;
}

// ---- bookkeeping ---------------------------------------------------------------------------
void Model::use() {
  if (used_) return;
  used_ = true;
  bytes_.assign(mem_.smem().size(), AsyncByte{});
  observed_.assign(size_t(threads_), {});
  acquired_.assign(size_t(threads_), {});
  bulk_.assign(size_t(threads_), {});
}

// A shared operand is a 32-bit shared-window address: the byte offset into shared memory
// (a truncated ptr<3>; a tagged pointer that was not truncated is accepted too).
uint64_t Model::smemOperand(uint64_t w, int bytes, const char* what) {
  w &= ~kSmemTag;
  if (w + uint64_t(bytes) > mem_.smem().size())
    throw Error(std::string(what) + " at " + at(w) + " is outside shared memory");
  return w;
}

int64_t Model::observed(int t, uint64_t bar) const {
  auto it = observed_[size_t(t)].find(bar);
  return it == observed_[size_t(t)].end() ? 0 : it->second;
}

// Ordinary accesses must not touch a live mbarrier or a TMA destination before the copy
// landed, and a thread may use landed bytes only once it has seen the phase complete (its own
// wait, or a gpu.barrier after someone's wait). Nothing may write the source of a bulk
// reduce-add before it was read.
void Model::checkAccessSlow(int t, uint64_t off, int bytes, bool write) {
  for (uint64_t i = off; i < off + uint64_t(bytes) && i < bytes_.size(); ++i) {
    const AsyncByte& a = bytes_[i];
    if (write && a.bulkReads > 0)
      throw Error("shared memory write to " + at(i) + " by thread " + std::to_string(t) + " while a bulk reduce-add (thread " +
                  std::to_string(bulkReader(i)) + ") still reads it: cp.async.bulk.wait_group.read missing");
    if (a.barrier >= 0)
      throw Error(std::string("ordinary shared memory ") + (write ? "write to" : "read of") + " the live mbarrier at " +
                  at(uint64_t(a.barrier)));
    if (a.tmaPending >= 0)
      throw Error(std::string("shared memory ") + (write ? "write to" : "read of") +
                  " a TMA destination before its mbarrier wait (" + at(i) + ", barrier at " +
                  at(uint64_t(a.tmaPending)) + ", thread " + std::to_string(t) + ")");
    if (a.landedEpoch == mem_.order().epoch() && observed(t, uint64_t(a.landedBarrier)) <= a.landedPhase)
      throw Error("shared memory access to TMA data (" + at(i) + ") by thread " + std::to_string(t) +
                  ", which neither waited on its mbarrier (" + at(uint64_t(a.landedBarrier)) +
                  ") nor passed a barrier since");
  }
}

Model::MBarrier& Model::barrier(int t, uint64_t off) {
  auto it = barriers_.find(off);
  if (it == barriers_.end() || !it->second.live)
    throw Error("use of an mbarrier that is not initialised (or was invalidated) at " + at(off));
  MBarrier& b = it->second;
  // mbarrier.init is an ordinary write of the object, released by the initialising thread's
  // fence.mbarrier_init: other threads see it after that fence and a barrier (or an mbarrier
  // wait) that orders the fence before them.
  if (t == b.initThread) return b;
  if (b.fenceClock < 0)
    throw Error("mbarrier at " + at(off) + " used by thread " + std::to_string(t) + " with no fence.mbarrier_init after its init by thread " +
                std::to_string(b.initThread));
  if (!mem_.order().ordered(b.initThread, b.fenceClock, b.fenceEpoch, t))
    throw Error("mbarrier at " + at(off) + " used by thread " + std::to_string(t) + " before a barrier after its init by thread " +
                std::to_string(b.initThread));
  return b;
}

// A phase completes when its arrivals are all in and its tx count is 0. A negative tx count is
// legal while arrivals are outstanding (complete_tx may overtake expect_tx), but with all
// arrivals in it means the copies brought more bytes than announced: on the GPU the phase would
// already have completed while they were still landing.
void Model::settle(uint64_t off, MBarrier& b) {
  if (b.pending != 0) return;
  if (b.tx < 0)
    throw Error("mbarrier transaction count went negative with all arrivals in (barrier at " + at(off) + ", phase " +
                std::to_string(b.phase) + ", tx " + std::to_string(b.tx) +
                "): arrive.expect_tx announced fewer bytes than the copies deliver, so the phase would complete early");
  if (b.tx == 0) {
    ++b.phase;
    b.pending = b.count;
    b.completed.push_back(b.released);
  }
}

// The copies queued on a barrier land, in issue order, each completing its bytes.
void Model::deliver(uint64_t off, MBarrier& b) {
  std::vector<Copy> copies = std::move(b.inflight);
  b.inflight.clear();
  std::vector<uint8_t>& smem = mem_.smem();
  Order& order = mem_.order();
  int64_t phase = b.phase;
  for (Copy& c : copies) {
    // All copies issued before the wait belong to the phase in progress; one landing after it
    // completed means the phase completed while copies were still landing.
    if (b.phase != phase)
      throw Error("mbarrier phase completed before all its TMA copies landed (barrier at " + at(off) + ", phase " +
                  std::to_string(phase) + "): arrive.expect_tx announced fewer bytes than the copies deliver");
    std::memcpy(&smem[c.dst], c.data.data(), c.data.size());
    for (uint64_t i = c.dst; i < c.dst + c.data.size(); ++i) {
      bytes_[i].tmaPending = -1;
      bytes_[i].landedBarrier = int32_t(off);
      bytes_[i].landedPhase = b.phase;
      bytes_[i].landedEpoch = order.epoch();
      // Ordered before the waiting threads' accesses by the mbarrier, not by a writer thread.
      order.byte(i).writer = -1;
      order.byte(i).writeEpoch = -1;
    }
    b.tx -= int64_t(c.data.size());
    settle(off, b);
  }
}

// ---- mbarrier ops --------------------------------------------------------------------------
// Re-initialising a live barrier is an error: the PTX ISA has mbarrier.inval end an object's
// life before its memory is used again, and an init over a live one would drop its phase and
// any copy still completing on it.
void Model::init(int t, uint64_t off, uint32_t count) {
  if (off % 8) throw Error("mbarrier at " + at(off) + " is not 8-byte aligned");
  for (uint64_t i = off; i < off + 8; ++i)
    if (bytes_[i].barrier >= 0)
      throw Error("mbarrier.init over the live mbarrier at " + at(uint64_t(bytes_[i].barrier)) + " (no mbarrier.inval before)");
  if (count < 1 || count > kMaxCount) throw Error("mbarrier.init with count " + std::to_string(count));
  uint64_t word = count;
  mem_.sharedWrite(t, off, reinterpret_cast<const uint8_t*>(&word), 8);  // races like any store
  for (uint64_t i = off; i < off + 8; ++i) bytes_[i].barrier = int32_t(off);
  MBarrier& b = barriers_[off];
  b = MBarrier{};
  b.live = true;
  b.count = b.pending = count;
  b.initThread = t;
  b.sightings.resize(size_t(threads_));
  for (auto& seen : observed_) seen.erase(off);
  ++progress_;
}

// fence.mbarrier_init: the barriers t initialised so far are released from here on.
void Model::fenceInits(int t) {
  for (auto& [off, b] : barriers_)
    if (b.live && b.initThread == t && b.fenceClock < 0) {
      b.fenceEpoch = mem_.order().epoch();
      b.fenceClock = mem_.order().clock(t);
    }
}

void Model::inval(int t, uint64_t off) {
  MBarrier& b = barrier(t, off);
  if (!b.inflight.empty()) throw Error("mbarrier.inval of the barrier at " + at(off) + " with a TMA copy still completing on it");
  b.live = false;
  for (uint64_t i = off; i < off + 8; ++i) bytes_[i].barrier = -1;
  uint64_t zero = 0;
  mem_.sharedWrite(t, off, reinterpret_cast<const uint8_t*>(&zero), 8);  // the bytes are ordinary again
}

// What threads saw of a barrier's completions. A thread sees no fewer than it saw itself
// before, or than any thread saw at a point ordered before it (a gpu.barrier since, or an
// mbarrier hand-over).
void Model::sighted(int t, MBarrier& b, int64_t completions, int64_t clock) {
  auto& list = b.sightings[size_t(t)];
  if (list.empty() || list.back().completions < completions)
    list.push_back(MBarrier::Sighting{completions, clock, mem_.order().epoch()});
}

int64_t Model::floor(int t, const MBarrier& b) const {
  const Order& order = mem_.order();
  int64_t f = 0;
  for (int u = 0; u < threads_; ++u) {
    const auto& list = b.sightings[size_t(u)];
    // Clocks and epochs grow along the list: the sightings ordered before t are a prefix.
    auto end = std::partition_point(list.begin(), list.end(), [&](const MBarrier::Sighting& s) {
      return order.ordered(u, s.clock, s.epoch, t);
    });
    if (end != list.begin()) f = std::max(f, std::prev(end)->completions);
  }
  return f;
}

// One arrival (releasing the thread's earlier accesses to whoever waits for the phase), with
// `tx` more transaction bytes expected.
void Model::arrive(int t, uint64_t off, int64_t tx) {
  MBarrier& b = barrier(t, off);
  b.tx += tx;
  if (b.tx > kMaxCount) throw Error("mbarrier tx count above 2^20 - 1 at " + at(off));
  if (b.pending == 0)
    throw Error("mbarrier arrival beyond its count at " + at(off) + " (count " + std::to_string(b.count) + ", phase " +
                std::to_string(b.phase) + ")");
  --b.pending;
  ++progress_;
  int64_t clock = mem_.order().clock(t);
  mem_.order().release(t, b.released);
  settle(off, b);
  sighted(t, b, b.phase, clock);
}

// try_wait.parity P passes once a completion whose phase has parity P is visible: completion c
// ends phase c - 1, and c = 0 (a fresh barrier) counts as the end of a phase of parity 1. On
// the GPU the wait may pass at the earliest such completion the thread can still see; it
// acquires what that completion released, the least ordering a real run can get. Threads step
// together, so a wait that no completion satisfies cannot be satisfied by a later op of
// another thread: first the copies already issued on the barrier land, then, if still no
// completion fits, the wait would spin forever.
void Model::wait(int t, uint64_t off, int parity) {
  MBarrier& b = barrier(t, off);
  int64_t lo = floor(t, b);
  auto earliest = [&]() -> int64_t {
    int64_t c = ((lo - 1) & 1) == parity ? lo : lo + 1;
    return c <= b.phase ? c : -1;
  };
  int64_t c = earliest();
  if (c < 0) {
    deliver(off, b);
    c = earliest();
  }
  // In a warp-specialised kernel the other role may still complete the phase.
  while (c < 0) {
    int64_t before = progress_;
    bool ran = yield_ && yield_();
    deliver(off, b);
    c = earliest();
    if (c >= 0) break;
    if (!ran || progress_ == before)
      throw Error("mbarrier wait can never complete: barrier at " + at(off) + ", parity " + std::to_string(parity) +
                  ", phase " + std::to_string(b.phase) + ", arrivals pending " + std::to_string(b.pending) +
                  ", tx pending " + std::to_string(b.tx) + " (thread " + std::to_string(t) + ")");
  }
  observed_[size_t(t)][off] = c;
  sighted(t, b, c, mem_.order().clock(t));
  if (c > 0) mem_.order().acquire(t, b.completed[size_t(c - 1)]);
}

// ---- tensor maps ---------------------------------------------------------------------------
void Model::editMap(int t, uint64_t map, int field, uint64_t value, int bytes) {
  if (map % ptx::kTensorMapBytes) throw Error("tensormap.replace on a tensor map at " + at(map) + ", not 128-byte aligned");
  mem_.sharedWrite(t, map + uint64_t(field), reinterpret_cast<const uint8_t*>(&value), bytes);
}

// tensormap.cp_fenceproxy is .sync.aligned: each warp that reaches it executes it once, with
// all its lanes, copying the map from shared memory to its global slot.
void Model::publish(const std::vector<std::vector<uint64_t>>& ops, const std::vector<bool>& active) {
  Order& order = mem_.order();
  for (int w0 = 0; w0 < threads_; w0 += kLanes) {
    int lanes = 0;
    for (int l = 0; l < kLanes; ++l) lanes += active[size_t(w0 + l)];
    if (lanes == 0) continue;
    int warp = w0 / kLanes;
    if (lanes != kLanes)
      throw Error("tensormap.cp_fenceproxy is warp-collective (.sync.aligned): warp " + std::to_string(warp) +
                  " executed it with " + std::to_string(lanes) + " of 32 lanes");
    for (int l = 1; l < kLanes; ++l)
      if (ops[0][size_t(w0 + l)] != ops[0][size_t(w0)] || ops[1][size_t(w0 + l)] != ops[1][size_t(w0)])
        throw Error("tensormap.cp_fenceproxy: the lanes of warp " + std::to_string(warp) + " disagree on its addresses");
    uint64_t dst = ops[0][size_t(w0)];
    uint64_t src = smemOperand(ops[1][size_t(w0)], ptx::kTensorMapBytes, "tensor map");
    if (src % ptx::kTensorMapBytes) throw Error("tensor map published from " + at(src) + ", not 128-byte aligned");
    if (wsTemplates_ == 0) throw Error("tensor map published by a kernel without the tile.tma_templates attribute");
    uint64_t rel = dst - wsBase_;
    uint64_t first = uint64_t(1 + wsBlock_) * uint64_t(wsTemplates_);
    if (dst < wsBase_ || rel % ptx::kTensorMapBytes || rel / ptx::kTensorMapBytes < first ||
        rel / ptx::kTensorMapBytes >= first + uint64_t(wsTemplates_))
      throw Error("tensor map published to " + hex(dst) + ", not one of block " + std::to_string(wsBlock_) +
                  "'s workspace slots");
    // The warp reads the map (as its first lane): lanes of the warp are ordered by
    // bar.warp.sync, other warps' writes need a gpu.barrier or an mbarrier hand-over.
    for (uint64_t i = src; i < src + ptx::kTensorMapBytes; ++i) {
      checkAccessSlow(w0, i, 1, false);
      ByteState& m = order.byte(i);
      if (m.pendingThread >= 0) throw Error("tensor map published from a cp.async destination still pending");
      if (m.writer >= 0 && m.writer / kLanes != warp && !order.writeOrdered(w0, i))
        throw Error("shared memory race: warp " + std::to_string(warp) + " publishes a tensor map that thread " +
                    std::to_string(m.writer) + " wrote without a barrier");
      order.recordRead(w0, i);
    }
    std::memcpy(mem_.global(dst, ptx::kTensorMapBytes), &mem_.smem()[src], ptx::kTensorMapBytes);
    published_[dst] = Published{++version_, warp, w0, order.epoch(), order.clock(w0)};
    ++progress_;
  }
}

// ---- TMA -----------------------------------------------------------------------------------
namespace {
std::atomic<int64_t> tmaCopies{0};
}  // namespace

int64_t tmaCopiesIssued() { return tmaCopies.load(); }

void Model::tmaLoad(int t, uint64_t dst, uint64_t map, int32_t col, int32_t row, uint64_t barOff) {
  ++tmaCopies;
  ++progress_;
  MBarrier& bar = barrier(t, barOff);
  auto pub = published_.find(map);
  if (pub == published_.end())
    throw Error("TMA through a tensor map that was not published/acquired: nothing was published to " + hex(map) +
                " in this block");
  auto acq = acquired_[size_t(t)].find(map);
  if (acq == acquired_[size_t(t)].end() || acq->second != pub->second.version)
    throw Error("TMA through a tensor map that was not published/acquired: thread " + std::to_string(t) +
                " did not acquire the map at " + hex(map) + " after its latest publish");
  const uint8_t* m = mem_.global(map, ptx::kTensorMapBytes);
  auto bad = [&](const std::string& why) { return Error("TMA through the tensor map at " + hex(map) + ": " + why); };
  if (field<uint32_t>(m, kMagic) != kMagicValue) throw bad("not a copy of a workspace template");
  uint64_t address = field<uint64_t>(m, kAddress), stride = field<uint64_t>(m, kStride0);
  int64_t dim0 = field<uint32_t>(m, kDim0), dim1 = field<uint32_t>(m, kDim1);
  int boxCols = int(field<uint32_t>(m, kBoxCols)), boxRows = int(field<uint32_t>(m, kBoxRows));
  int eb = int(field<uint32_t>(m, kElemBytes));
  if (address == 0) throw bad("global address not set");
  if (address % 16) throw bad("global address " + hex(address) + " not 16-byte aligned");
  if (dim0 < 1 || dim1 < 1) throw bad("global dims not set (" + std::to_string(dim0) + " x " + std::to_string(dim1) + ")");
  if (stride == 0 || stride % 16) throw bad("row stride " + std::to_string(stride) + " is not a non-zero multiple of 16");
  if (boxCols * eb != ptx::kTmaBoxBytes || field<uint32_t>(m, kSwizzle) != 128 || boxRows < 1 || boxRows > 256)
    throw bad("box is not 128-byte rows in the 128-byte swizzle");
  if (dst % 1024)
    throw Error("TMA destination at " + at(dst) + " is not 1024-byte aligned (the 128-byte swizzle would not match)");
  uint64_t size = uint64_t(boxRows) * ptx::kTmaBoxBytes;
  smemOperand(dst, int(size), "TMA destination");
  // The destination must be free: no copy or barrier there, and every other thread's access
  // ordered before the issue (the consumers' hand-over of the buffer: a gpu.barrier, or their
  // arrivals on a phase this thread waited for).
  Order& order = mem_.order();
  const char* unordered =
      " and nothing orders that before the issue (a gpu.barrier, or an arrive on an mbarrier phase this thread waited for)";
  for (uint64_t i = dst; i < dst + size; ++i) {
    if (bytes_[i].barrier >= 0) throw Error("TMA into the live mbarrier at " + at(uint64_t(bytes_[i].barrier)));
    if (bytes_[i].tmaPending >= 0) throw Error("TMA into " + at(i) + ", which another TMA copy is still filling");
    // A wgmma's operand reads count when its group is waited for; until then a copy into its
    // operand is a race the hand-back (an arrive after the wait) should have ordered.
    if (mem_.wgmmaReading(i))
      throw Error("TMA into " + at(i) + ", which a wgmma not yet waited for reads (stage handed back before the wait)");
    if (bytes_[i].bulkReads > 0)
      throw Error("TMA into " + at(i) + ", which a bulk reduce-add (thread " + std::to_string(bulkReader(i)) +
                  ") still reads: cp.async.bulk.wait_group.read missing");
    const ByteState& s = order.byte(i);
    if (s.pendingThread >= 0) throw Error("TMA into " + at(i) + ", a cp.async destination still pending");
    int reader = order.unorderedReader(t, i);
    if (reader >= 0)
      throw Error("shared memory race: TMA issued into " + at(i) + " by thread " + std::to_string(t) + ", which thread " +
                  std::to_string(reader) + " read," + unordered);
    if (!order.writeOrdered(t, i))
      throw Error("shared memory race: TMA issued into " + at(i) + " by thread " + std::to_string(t) + ", which thread " +
                  std::to_string(s.writer) + " wrote," + unordered);
  }
  // The box as it will land: row r at r * 128, its 16-byte unit u at unit u ^ (r % 8); zero
  // outside the tensor (those bytes still count as transaction bytes).
  Copy c{dst, std::vector<uint8_t>(size, 0), t};
  for (int r = 0; r < boxRows; ++r) {
    int64_t gr = int64_t(row) + r;
    if (gr < 0 || gr >= dim1) continue;
    for (int k = 0; k < boxCols; ++k) {
      int64_t gc = int64_t(col) + k;
      if (gc < 0 || gc >= dim0) continue;
      int byte = k * eb;
      size_t to = size_t(r) * 128 + size_t(((byte / 16) ^ (r % 8)) * 16 + byte % 16);
      std::memcpy(&c.data[to], mem_.global(address + uint64_t(gr) * stride + uint64_t(gc * eb), eb), size_t(eb));
    }
  }
  for (uint64_t i = dst; i < dst + size; ++i) bytes_[i].tmaPending = int32_t(barOff);
  bar.inflight.push_back(std::move(c));
}

// ---- bulk reduce-add ------------------------------------------------------------------------
namespace {
std::atomic<int64_t> bulkReduces{0};
}  // namespace

int64_t bulkReducesIssued() { return bulkReduces.load(); }

// fence.proxy.async.shared::cta: t's shared-memory writes so far are visible to the async proxy
// (for bulk ops issued where this fence is ordered before them).
void Model::fenceProxyAsync(int t) {
  BulkThread& b = bulk_[size_t(t)];
  b.fenceEpoch = mem_.order().epoch();
  b.fenceClock = mem_.order().mark(t);
}

// The thread whose pending bulk reduce-add reads shared byte i (for error messages).
int Model::bulkReader(uint64_t i) const {
  auto reads = [&](const BulkReduce& r) { return i >= r.src && i < r.src + r.bytes; };
  for (int t = 0; t < threads_; ++t) {
    const BulkThread& b = bulk_[size_t(t)];
    if (std::any_of(b.committed.begin() + int64_t(b.read), b.committed.end(), reads) ||
        std::any_of(b.open.begin(), b.open.end(), reads))
      return t;
  }
  return -1;
}

// Source byte i of a bulk reduce-add issued by t: no copy still filling it, its last ordinary
// write ordered before the issue and fenced for the async proxy by its writer.
void Model::checkBulkSource(int t, uint64_t i) {
  // Named only when something is wrong: this runs for every source byte.
  auto what = [&] { return "bulk reduce-add by thread " + std::to_string(t) + " reads " + at(i); };
  if (bytes_[i].tmaPending >= 0) throw Error(what() + ", which a TMA copy is still filling");
  Order& order = mem_.order();
  const ByteState& m = order.byte(i);
  if (m.pendingThread >= 0) throw Error(what() + ", which a cp.async is still filling");
  checkAccessSlow(t, i, 1, false);  // a live mbarrier, TMA data this thread has not waited for
  if (m.writer < 0) return;
  if (!order.writeOrdered(t, i))
    throw Error("shared memory race: " + what() + ", written by thread " + std::to_string(m.writer) +
                " with no bar.warp.sync or barrier between that write and the issue");
  const BulkThread& w = bulk_[size_t(m.writer)];
  if (m.writeClock > w.fenceClock || !order.ordered(m.writer, w.fenceClock, w.fenceEpoch, t))
    throw Error(what() + ", written by thread " + std::to_string(m.writer) +
                " with no fence.proxy.async.shared::cta of that thread between the write and the issue: "
                "the async proxy may not see the write");
}

// cp.reduce.async.bulk .add.f32 (src: a 32-bit shared-window address): checked at issue, read
// and applied at the waits (bulkWait).
void Model::bulkReduce(int t, uint64_t dst, uint64_t src, uint64_t bytes) {
  ++bulkReduces;
  const std::string who = "bulk reduce-add by thread " + std::to_string(t);
  if (bytes == 0 || bytes % 16) throw Error(who + ": byte count " + std::to_string(bytes) + " is not a positive multiple of 16");
  if (src % 16) throw Error(who + ": shared address " + at(src) + " is not 16-byte aligned");
  if (dst % 16) throw Error(who + ": global address " + hex(dst) + " is not 16-byte aligned");
  if (src + bytes > mem_.smem().size())
    throw Error(who + ": source " + at(src) + " + " + std::to_string(bytes) + " bytes is outside shared memory");
  // Whole 16-byte units, each inside a buffer: the buffers are far apart, so no unit straddles two.
  for (uint64_t k = 0; k < bytes; k += 16) {
    try {
      mem_.global(dst + k, 16);
    } catch (const std::exception& e) {
      throw Error(who + " into global " + hex(dst) + " (" + std::to_string(bytes) + " bytes): " + e.what());
    }
  }
  for (uint64_t i = src; i < src + bytes; ++i) checkBulkSource(t, i);
  for (uint64_t i = src; i < src + bytes; ++i) ++bytes_[i].bulkReads;
  bulk_[size_t(t)].open.push_back(BulkReduce{dst, src, bytes});
  ++progress_;
}

// cp.async.bulk.wait_group.read 0 (complete = false) or wait_group 0: covers t's committed
// groups. Their sources are read now, by t: the bytes may be written again by t, and by other
// threads ordered after this wait. A completion adds the source, f32 by f32, into global memory.
void Model::bulkWait(int t, bool complete) {
  BulkThread& b = bulk_[size_t(t)];
  const std::vector<uint8_t>& smem = mem_.smem();
  for (; b.read < b.committed.size(); ++b.read) {
    BulkReduce& r = b.committed[b.read];
    r.data.assign(smem.begin() + int64_t(r.src), smem.begin() + int64_t(r.src + r.bytes));
    for (uint64_t i = r.src; i < r.src + r.bytes; ++i) {
      --bytes_[i].bulkReads;
      mem_.order().recordRead(t, i);
    }
  }
  ++progress_;
  if (!complete) return;
  for (const BulkReduce& r : b.committed)
    for (uint64_t k = 0; k < r.bytes; k += 4) {
      float g, s;
      uint8_t* p = mem_.global(r.dst + k, 4);
      std::memcpy(&g, p, 4);
      std::memcpy(&s, &r.data[k], 4);
      g += s;
      std::memcpy(p, &g, 4);
    }
  b.committed.clear();
  b.read = 0;
}

// ---- dispatch ------------------------------------------------------------------------------
void Model::exec(llvm::StringRef text, const std::vector<std::vector<uint64_t>>& ops, const std::vector<bool>& active) {
  use();
  auto each = [&](const std::function<void(int)>& fn) {
    for (int t = 0; t < threads_; ++t)
      if (active[size_t(t)]) fn(t);
  };
  auto u = [&](int i, int t) { return ops[size_t(i)][size_t(t)]; };
  if (text == ptx::kWarpSync) {
    // Lock step already, but the mask -1 names every lane: all must reach it. It orders each
    // lane's earlier shared-memory accesses before every lane's later ones.
    for (int w0 = 0; w0 < threads_; w0 += kLanes) {
      int lanes = 0;
      for (int l = 0; l < kLanes; ++l) lanes += active[size_t(w0 + l)];
      if (lanes != 0 && lanes != kLanes)
        throw Error("bar.warp.sync -1 reached by " + std::to_string(lanes) + " of 32 lanes of warp " + std::to_string(w0 / kLanes));
      if (lanes) mem_.order().warpSync(w0, kLanes);
    }
    return;
  }
  if (text == ptx::kTensorMapPublish) return publish(ops, active);
  if (text == ptx::kFenceProxyAsyncShared) return each([&](int t) { fenceProxyAsync(t); });
  if (text == ptx::kBulkReduceAddF32)
    return each([&](int t) { bulkReduce(t, u(0, t), uint32_t(u(1, t)), uint32_t(u(2, t))); });
  if (text == ptx::kBulkCommitGroup)
    return each([&](int t) {
      BulkThread& b = bulk_[size_t(t)];
      for (BulkReduce& r : b.open) b.committed.push_back(std::move(r));
      b.open.clear();
    });
  if (text == ptx::kBulkWaitGroupRead0) return each([&](int t) { bulkWait(t, false); });
  if (text == ptx::kBulkWaitGroup0) return each([&](int t) { bulkWait(t, true); });
  if (text == ptx::kNamedBarrierSync || text == ptx::kNamedBarrierArrive || text == ptx::kBarrierSyncUnaligned)
    return namedBarrier(text, ops, active);
  if (text == ptx::kMbarrierInitFence) return each([&](int t) { fenceInits(t); });
  if (text == ptx::kMbarrierInit)
    return each([&](int t) { init(t, smemOperand(u(0, t), 8, "mbarrier"), uint32_t(u(1, t))); });
  if (text == ptx::kMbarrierInval) return each([&](int t) { inval(t, smemOperand(u(0, t), 8, "mbarrier")); });
  if (text == ptx::kMbarrierArriveExpectTx)
    return each([&](int t) { arrive(t, smemOperand(u(0, t), 8, "mbarrier"), int64_t(uint32_t(u(1, t)))); });
  if (text == ptx::kMbarrierArrive) return each([&](int t) { arrive(t, smemOperand(u(0, t), 8, "mbarrier"), 0); });
  if (text == ptx::kMbarrierWaitParity)
    return each([&](int t) { wait(t, smemOperand(u(0, t), 8, "mbarrier"), int(u(1, t) & 1)); });
  if (text == ptx::kTmaLoad2d)
    return each([&](int t) {
      tmaLoad(t, smemOperand(u(0, t), 1, "TMA destination"), u(1, t), int32_t(uint32_t(u(2, t))), int32_t(uint32_t(u(3, t))),
              smemOperand(u(4, t), 8, "mbarrier"));
    });
  if (text == ptx::kTensorMapAcquire)
    return each([&](int t) {
      // The acquire sees a publish by its own warp, or one ordered before it (a gpu.barrier
      // since, or an mbarrier hand-over).
      auto p = published_.find(u(0, t));
      if (p != published_.end() &&
          (p->second.warp == t / kLanes || mem_.order().ordered(p->second.thread, p->second.clock, p->second.epoch, t)))
        acquired_[size_t(t)][u(0, t)] = p->second.version;
    });
  struct Edit {
    const char* text;
    int field, bytes;
  };
  for (Edit e : {Edit{ptx::kTensorMapSetAddress, kAddress, 8}, Edit{ptx::kTensorMapSetDim0, kDim0, 4},
                 Edit{ptx::kTensorMapSetDim1, kDim1, 4}, Edit{ptx::kTensorMapSetStride0, kStride0, 8}})
    if (text == e.text)
      return each([&](int t) {
        editMap(t, smemOperand(u(0, t), ptx::kTensorMapBytes, "tensor map"), e.field, u(1, t) & (e.bytes == 8 ? ~uint64_t(0) : 0xffffffffu),
                e.bytes);
      });
  throw Error("unsupported async asm " + text.str());
}

// Named barriers. Barrier 0 over the whole block (a warp-specialised kernel's producer and
// consumers meeting) blocks: a role that arrives first runs the other role until the
// generation completes, which then orders every thread's earlier accesses before every later
// one. On the other ids threads step together, so a bar.sync cannot block here: what is
// checked is that every generation completes (no thread would wait forever) and that the
// barrier is used consistently; a generation that the threads of one bar.sync complete
// together (the consumers' block-wide barrier) orders their accesses among themselves, while
// the ordering of generations completed across instructions (the warpgroup turns, which order
// no data) is not modelled.
void Model::namedBarrier(llvm::StringRef text, const std::vector<std::vector<uint64_t>>& ops,
                         const std::vector<bool>& active) {
  const bool sync = text != ptx::kNamedBarrierArrive;
  std::map<uint64_t, std::vector<int>> byId;  // the arriving threads, by barrier
  for (int w0 = 0; w0 < threads_; w0 += kLanes) {
    int lanes = 0;
    for (int l = 0; l < kLanes; ++l) lanes += active[size_t(w0 + l)];
    if (lanes == 0) continue;
    const uint64_t id = ops[0][size_t(w0)], count = ops[1][size_t(w0)];
    if (lanes != kLanes) throw Error(text.str() + " reached by " + std::to_string(lanes) + " of 32 lanes of warp " + std::to_string(w0 / kLanes));
    for (int l = 1; l < kLanes; ++l)
      if (ops[0][size_t(w0 + l)] != id || ops[1][size_t(w0 + l)] != count)
        throw Error(text.str() + ": lanes of warp " + std::to_string(w0 / kLanes) + " name different barriers or counts");
    if (id > 15) throw Error(text.str() + ": barrier id " + std::to_string(id) + " (barriers are 0..15)");
    if (id == uint64_t(ptx::kBlockBarrier) && (!sync || count != uint64_t(threads_)))
      throw Error(text.str() + ": barrier 0 is the whole block's: bar.sync over all " + std::to_string(threads_) + " threads");
    if (count == 0 || count % kLanes || count > uint64_t(threads_))
      throw Error(text.str() + ": thread count " + std::to_string(count) + " (a multiple of 32, at most the block's)");
    Named& n = named_[id];
    if (n.arrived && n.count != count)
      throw Error("named barrier " + std::to_string(id) + " used with counts " + std::to_string(n.count) + " and " + std::to_string(count));
    n.count = count;
    for (int l = 0; l < kLanes; ++l) byId[id].push_back(w0 + l);
  }
  // bar.sync/bar.arrive are .aligned: a barrier that only some of the block's threads reach at
  // this instruction (the others at another one) must be barrier.sync. Barrier 0 spans the
  // whole block, so its aligned form must be reached by every thread here.
  if (text != ptx::kBarrierSyncUnaligned)
    if (auto b0 = byId.find(uint64_t(ptx::kBlockBarrier)); b0 != byId.end() && int(b0->second.size()) != threads_)
      throw Error(text.str() + " on barrier 0 reached by " + std::to_string(b0->second.size()) + " of " +
                  std::to_string(threads_) + " threads at this instruction: the aligned form needs every thread of "
                  "the block at the same instruction (barrier.sync where roles meet)");
  for (auto& [id, threads] : byId) {
    Named& n = named_[id];
    const bool together = n.arrived == 0 && threads.size() == n.count;
    n.arrived += threads.size();
    ++progress_;
    if (n.arrived < n.count) continue;
    while (n.arrived >= n.count) n.arrived -= n.count, ++n.generation;
    if (id == uint64_t(ptx::kBlockBarrier)) mem_.order().barrier();
    else if (sync && together) mem_.order().barrierAmong(threads);
  }
  auto block = byId.find(uint64_t(ptx::kBlockBarrier));
  if (block == byId.end() || named_[block->first].arrived == 0) return;
  const int64_t generation = named_[block->first].generation;
  while (named_[block->first].generation == generation) {
    int64_t before = progress_;
    bool ran = yield_ && yield_();
    const Named& n = named_[block->first];
    if (n.generation != generation) break;
    if (!ran || progress_ == before)
      throw Error("bar.sync 0: " + std::to_string(n.arrived) + " of " + std::to_string(n.count) +
                  " threads arrived and the others never come");
  }
}

void Model::finish() {
  for (auto& [id, n] : named_)
    if (n.arrived)
      throw Error("named barrier " + std::to_string(id) + " ended with " + std::to_string(n.arrived) + " of " +
                  std::to_string(n.count) + " threads arrived: a bar.sync on it would wait forever");
  for (auto& [off, b] : barriers_)
    if (!b.inflight.empty())
      throw Error("the kernel ended with a TMA copy in flight: no wait on the mbarrier at " + at(off) + " received it");
  for (size_t t = 0; t < bulk_.size(); ++t) {
    const BulkThread& b = bulk_[t];
    if (!b.committed.empty() || !b.open.empty())
      throw Error("kernel ended with a bulk reduce-add in flight: thread " + std::to_string(t) + " issued one" +
                  (b.committed.empty() ? " it never committed" : "") + " that no cp.async.bulk.wait_group 0 completed");
  }
}

}  // namespace tile::lowering::sim::async
