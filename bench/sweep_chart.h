// The sweep's chart: TFLOPS against seq_len, forward and forward+backward. The B=2 cases make
// the lines (seq_len doubles from 4096 to 65536); the larger batches at seq_len 4096 are
// labelled markers on their own.
#pragma once

#include <string>
#include <vector>

#include "bench/results_table.h"

namespace tile::bench {

std::string sweep_chart_svg(const std::vector<CaseResult>& results, const std::string& title);

// "flash_attn_seed_sweep_tflops.svg"
inline constexpr const char* kSweepChartFile = "flash_attn_seed_sweep_tflops.svg";

}  // namespace tile::bench
