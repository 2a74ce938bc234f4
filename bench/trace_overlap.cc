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

// A rank's runs of compute labelled with one step, back to back in the lane's time order.
struct ComputeRun {
  int rank = 0, step = 0;
  double start_us = 0, end_us = 0;
};

std::vector<ComputeRun> compute_runs(const std::vector<KernelSpan>& spans) {
  std::map<int, std::vector<const KernelSpan*>> lanes;
  for (const KernelSpan& k : spans)
    if (!k.comm) lanes[k.rank].push_back(&k);
  std::vector<ComputeRun> runs;
  for (auto& [rank, lane] : lanes) {
    std::stable_sort(lane.begin(), lane.end(),
                     [](const KernelSpan* a, const KernelSpan* b) { return a->start_us < b->start_us; });
    bool open = false;
    for (const KernelSpan* k : lane) {
      if (open && k->step == runs.back().step) {
        runs.back().end_us = std::max(runs.back().end_us, k->start_us + k->duration_us);
        continue;
      }
      open = k->step >= 0;  // unlabelled work ends a run and starts none
      if (open) runs.push_back({rank, k->step, k->start_us, k->start_us + k->duration_us});
    }
  }
  return runs;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
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

std::vector<StepMiss> step_misses(const std::vector<KernelSpan>& spans) {
  std::vector<StepMiss> misses;
  for (const ComputeRun& run : compute_runs(spans)) {
    bool has_next = false, overlapped = false;
    StepMiss m{run.rank, run.step, run.start_us, run.end_us, false, 0.0};
    double nearest = -1;
    for (const KernelSpan& t : spans) {
      if (!t.comm || t.rank != run.rank || t.step != run.step + 1) continue;
      has_next = true;
      const double t_end = t.start_us + t.duration_us;
      if (std::min(t_end, run.end_us) - std::max(t.start_us, run.start_us) > 0) {
        overlapped = true;
        break;
      }
      const bool late = t.start_us >= run.end_us;
      const double gap = late ? t.start_us - run.end_us : run.start_us - t_end;
      if (nearest < 0 || gap < nearest) {
        nearest = gap;
        m.late = late;
        m.gap_us = gap;
      }
    }
    if (has_next && !overlapped) misses.push_back(m);
  }
  return misses;
}

std::vector<std::string> miss_summary_lines(const std::vector<KernelSpan>& spans) {
  std::map<int, std::vector<double>> late, early;
  std::set<int> ranks;
  for (const StepMiss& m : step_misses(spans)) {
    (m.late ? late : early)[m.rank].push_back(m.gap_us);
    ranks.insert(m.rank);
  }
  std::vector<std::string> lines;
  for (int r : ranks) {
    const size_t n = late[r].size() + early[r].size();
    std::string line = "rank " + std::to_string(r) + ": " + std::to_string(n) + " step" + (n == 1 ? "" : "s") +
                       " computed without their next transfer in flight:";
    char buf[96];
    if (!late[r].empty()) {
      std::snprintf(buf, sizeof buf, " %zu late (median %.1f us after)", late[r].size(), median(late[r]));
      line += buf;
    }
    if (!early[r].empty()) {
      std::snprintf(buf, sizeof buf, "%s %zu early (median %.1f us before)", late[r].empty() ? "" : ",",
                    early[r].size(), median(early[r]));
      line += buf;
    }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace tile::bench
