#include "bench/trace_overlap.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace tile::bench {
namespace {

double intersection_us(const KernelSpan& a, const KernelSpan& b) {
  const double start = std::max(a.start_us, b.start_us);
  const double end = std::min(a.start_us + a.duration_us, b.start_us + b.duration_us);
  return end - start;
}

// Ranks with step-labelled spans of both kinds.
std::set<int> judged_ranks(const std::vector<KernelSpan>& spans) {
  std::set<int> compute, comm, both;
  for (const KernelSpan& k : spans)
    if (k.step >= 0) (k.comm ? comm : compute).insert(k.rank);
  for (int r : compute)
    if (comm.count(r)) both.insert(r);
  return both;
}

}  // namespace

std::vector<StepOverlap> step_overlaps(const std::vector<KernelSpan>& spans, double min_us) {
  std::vector<StepOverlap> found;
  for (const KernelSpan& compute : spans) {
    if (compute.comm || compute.step < 0) continue;
    for (const KernelSpan& comm : spans) {
      if (!comm.comm || comm.rank != compute.rank || comm.step != compute.step + 1) continue;
      const double us = intersection_us(compute, comm);
      if (us > min_us) found.push_back({compute.rank, compute.step, compute.name, comm.name, us});
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const StepOverlap& a, const StepOverlap& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.step < b.step;
  });
  return found;
}

std::vector<int> ranks_without_overlap(const std::vector<KernelSpan>& spans, double min_us) {
  std::set<int> overlapping;
  for (const StepOverlap& o : step_overlaps(spans, min_us)) overlapping.insert(o.rank);
  std::vector<int> missing;
  for (int r : judged_ranks(spans))
    if (!overlapping.count(r)) missing.push_back(r);
  return missing;
}

std::vector<std::string> overlap_summary_lines(const std::vector<KernelSpan>& spans) {
  std::map<int, std::vector<StepOverlap>> by_rank;
  for (const StepOverlap& o : step_overlaps(spans)) by_rank[o.rank].push_back(o);
  std::vector<std::string> lines;
  for (int r : judged_ranks(spans)) {
    const std::vector<StepOverlap>& o = by_rank[r];
    std::string line = "rank " + std::to_string(r) + ": ";
    if (o.empty()) {
      lines.push_back(line + "no communication overlapped compute");
      continue;
    }
    std::set<int> steps;
    double us = 0;
    for (const StepOverlap& x : o) {
      steps.insert(x.step);
      us += x.overlap_us;
    }
    line += std::to_string(o.size()) + " overlapping pair" + (o.size() == 1 ? "" : "s") + ", steps";
    for (int s : steps) line += " " + std::to_string(s);
    char buf[64];
    std::snprintf(buf, sizeof buf, ", %.1f us", us);
    lines.push_back(line + buf);
  }
  return lines;
}

}  // namespace tile::bench
