#include "bench/sweep_chart.h"

#include <algorithm>

#include "bench/svg_chart.h"

namespace tile::bench {

std::string sweep_chart_svg(const std::vector<CaseResult>& results, const std::string& title) {
  // The smallest batch in the results draws the line; other batches are single markers.
  int line_batch = 0;
  for (const CaseResult& r : results)
    if (line_batch == 0 || r.c.batch_size < line_batch) line_batch = r.c.batch_size;

  std::vector<ChartSeries> series;
  for (bool fwd_only : {true, false}) {
    const char* pass = fwd_only ? "fwd" : "fwd+bwd";
    ChartSeries line{std::string(pass) + " (B=" + std::to_string(line_batch) + ")", fwd_only ? "#1f77b4" : "#d62728", {}, true};
    ChartSeries others{std::string(pass) + " (other B)", fwd_only ? "#6baed6" : "#fc9272", {}, false};
    for (const CaseResult& r : results) {
      if (r.c.fwd_only != fwd_only) continue;
      if (r.c.batch_size == line_batch) line.points.push_back({double(r.c.seq_len), r.tflops(), ""});
      else others.points.push_back({double(r.c.seq_len), r.tflops(), "B=" + std::to_string(r.c.batch_size)});
    }
    std::sort(line.points.begin(), line.points.end(), [](const ChartPoint& a, const ChartPoint& b) { return a.x < b.x; });
    if (!line.points.empty()) series.push_back(line);
    if (!others.points.empty()) series.push_back(others);
  }
  ChartSpec spec;
  spec.title = title;
  spec.x_label = "seq_len";
  spec.y_label = "speed (TFLOPS)";
  return svg_line_chart(spec, series);
}

}  // namespace tile::bench
