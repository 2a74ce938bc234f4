// Backend that runs the attention kernels on the CPU interpreter: tensors are host memory, each
// launch builds (once, cached) the kernel's tile IR from the DSL and executes it over the grid in
// a seeded shuffled order on several threads. MLIR-dependent: CI and the accuracy CLI use it,
// GPU-side binaries do not.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/host/backend.h"

namespace tile::attention {

class InterpBackend : public Backend {
 public:
  struct Options {
    uint64_t seed = 0;  // program-instance order
    int threads = 0;    // 0: all hardware threads
  };
  // A kernel this backend ran: its name, specialisation and the hash of its tile IR.
  struct KernelRecord {
    std::string kernel, params, ir_hash;
  };

  explicit InterpBackend(Options options);
  InterpBackend();
  ~InterpBackend() override;

  Device device() const override { return Device::cpu(); }
  std::string name() const override { return "interp"; }
  void* alloc_zeroed(size_t bytes) override;
  void free(void* p) override;
  void read(void* host_dst, const void* src, size_t bytes) override;
  void write(void* dst, const void* host_src, size_t bytes) override;
  void launch(const KernelCall& call) override;
  bool builds_any_specialization() const override { return true; }
  // Few programs, so that each walks several tiles of a persistent kernel (and unevenly).
  int persistent_programs() const override { return 7; }

  // Distinct kernels launched so far, in first-launch order.
  const std::vector<KernelRecord>& kernels_run() const { return records_; }

 private:
  struct Compiled;
  Compiled& compiled(const KernelCall& call);

  Options options_;
  std::map<std::string, std::unique_ptr<Compiled>> cache_;  // by "name(params)"
  std::vector<KernelRecord> records_;
  uint64_t launches_ = 0;
};

}  // namespace tile::attention
