// Whether a distributed trace shows communication overlapping compute: for a rank, the next
// step's transfer (a communication span labelled step i + 1) running while that rank computes
// step i (a kernel span labelled step i). This is what "the next block is in flight while the
// current one is computed" looks like on the GPU timeline; a loop that waited on the host, or
// issued the transfer after the compute, shows none. Pure: works on any list of spans.
#pragma once

#include <string>
#include <vector>

#include "bench/chrome_trace.h"

namespace tile::bench {

struct StepOverlap {
  int rank = 0;
  int step = 0;            // the compute's step; the transfer feeds step + 1
  std::string compute, comm;  // the two spans' names
  double overlap_us = 0;   // how long they ran at the same time
};

// Every (compute span of step i, communication span of step i + 1) pair of one rank whose
// intervals intersect for more than `min_us`, by rank, then step, then start of the compute.
std::vector<StepOverlap> step_overlaps(const std::vector<KernelSpan>& spans, double min_us = 0.0);

// The ranks (in increasing order) that have both compute and communication spans with steps but
// no overlap at all: the check a trace must pass for every rank to overlap. Ranks without step-
// labelled spans of both kinds are not judged (a world of one moves nothing).
std::vector<int> ranks_without_overlap(const std::vector<KernelSpan>& spans, double min_us = 0.0);

// One line per rank for a report: "rank 1: 3 overlapping pairs, steps 0 1 2, 412.5 us" or
// "rank 1: no communication overlapped compute".
std::vector<std::string> overlap_summary_lines(const std::vector<KernelSpan>& spans);

// Where the next step's transfers ran when they did not run under a step's compute, so a failed
// check says which way the schedule is off. A step's compute is one run of its rank's compute
// spans labelled with the step, back to back on the lane (the backward's kernels of one step
// form one; another step's, or unlabelled work between them, ends it). A miss is such a run of
// step i on a rank with transfers of step i + 1, none of which intersects it; the nearest one
// tells whether they ran after it (late: gap_us from its end to the transfer's start) or before
// it (early: gap_us from the transfer's end to its start).
struct StepMiss {
  int rank = 0;
  int step = 0;
  double start_us = 0, end_us = 0;  // the run of compute
  bool late = false;
  double gap_us = 0;
};
std::vector<StepMiss> step_misses(const std::vector<KernelSpan>& spans);

// One line per rank with misses: "rank 0: 3 steps computed without their next transfer in
// flight: 2 late (median 85.2 us after), 1 early (median 3.1 us before)".
std::vector<std::string> miss_summary_lines(const std::vector<KernelSpan>& spans);

}  // namespace tile::bench
