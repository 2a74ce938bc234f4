// Runs NVIDIA's ptxas on PTX text (a subprocess) and parses its -v resource report.
// No MLIR: usable from tests that only check that PTX assembles.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lowering/backend/kernel_info.h"

namespace tile::backend {

struct PtxasOptions {
  std::string ptxas_path = "/usr/local/cuda/bin/ptxas";
  std::string arch = "sm_90a";
  int opt_level = 3;
  std::vector<std::string> extra_flags;  // e.g. {"-lineinfo"}, {"--maxrregcount=128"}
};

struct PtxasResult {
  bool ok = false;
  std::vector<uint8_t> cubin;
  std::string log;         // everything ptxas printed (with -v: the resource report)
  std::string command;     // the command line, for error messages
  std::map<std::string, ResourceUsage> usage;  // per entry function
};

// Assembles `ptx` into a cubin. Never throws on an assembly error: ok=false and the log say why.
PtxasResult run_ptxas(const std::string& ptx, const PtxasOptions& options);

// Parses ptxas -v output ("Function properties for f", "Used N registers, ...") per function.
std::map<std::string, ResourceUsage> parse_ptxas_report(const std::string& log);

}  // namespace tile::backend
