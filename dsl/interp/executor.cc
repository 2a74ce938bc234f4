// Runs one region of a pre-walked program: dispatches each instruction to its family's executor
// and implements scf.for / scf.if by recursion into their regions.
#include <string>
#include <utility>

#include "dsl/interp/program.h"

namespace tile::interp {

std::string Instance::pidText() const {
  return "program (" + std::to_string(pid[0]) + ", " + std::to_string(pid[1]) + ", " +
         std::to_string(pid[2]) + ")";
}

namespace {

inline bool inRange(OpCode op, OpCode first, OpCode last) { return op >= first && op <= last; }

void runFor(const Instance& inst, const Instr& in, Value* s) {
  const Region& body = inst.program.regions[static_cast<size_t>(in.region0)];
  const Elem ivElem = in.src;
  const int64_t lb = s[in.operands[0]].i, ub = s[in.operands[1]].i, step = s[in.operands[2]].i;
  const size_t nIter = in.operands.size() - 3;
  for (size_t k = 0; k < nIter; ++k) s[body.args[k + 1]] = s[in.operands[3 + k]];
  const bool isUnsigned = in.attr != 0;
  auto below = [&](int64_t iv) {
    return isUnsigned ? uval(ivElem, iv) < uval(ivElem, ub) : sval(ivElem, iv) < sval(ivElem, ub);
  };
  if (below(lb) && sval(ivElem, step) <= 0)
    throw InterpError(in.where + ": step " + std::to_string(sval(ivElem, step)) +
                      " is not positive in " + inst.pidText());
  std::vector<Value> carried(nIter);
  for (int64_t iv = lb; below(iv);) {
    s[body.args[0]].i = iv;
    runRegion(inst, in.region0, s);
    // Yields may name the iteration arguments themselves: copy out before writing back.
    for (size_t k = 0; k < nIter; ++k) carried[k] = s[body.yields[k]];
    for (size_t k = 0; k < nIter; ++k) s[body.args[k + 1]] = std::move(carried[k]);
    const int64_t next = normInt(ivElem, static_cast<int64_t>(static_cast<uint64_t>(iv) + static_cast<uint64_t>(step)));
    if (isUnsigned ? uval(ivElem, next) <= uval(ivElem, iv) : sval(ivElem, next) <= sval(ivElem, iv))
      break;  // the induction variable wrapped around: the loop is over
    iv = next;
  }
  for (size_t k = 0; k < nIter; ++k) s[in.results[k]] = s[body.args[k + 1]];
}

void runIf(const Instance& inst, const Instr& in, Value* s) {
  const int region = (s[in.operands[0]].i & 1) ? in.region0 : in.region1;
  if (region < 0) return;  // an scf.if without else has no results
  runRegion(inst, region, s);
  const Region& r = inst.program.regions[static_cast<size_t>(region)];
  for (size_t k = 0; k < in.results.size(); ++k) s[in.results[k]] = s[r.yields[k]];
}

}  // namespace

void runRegion(const Instance& inst, int region, Value* s) {
  const Region& r = inst.program.regions[static_cast<size_t>(region)];
  for (const Instr& in : r.body) {
    const OpCode op = in.op;
    if (inRange(op, OpCode::addf, OpCode::fma)) {
      execFloat(in, s);
    } else if (inRange(op, OpCode::addi, OpCode::absi)) {
      execInt(inst, in, s);
    } else if (inRange(op, OpCode::cmpf, OpCode::select)) {
      execCompareSelect(in, s);
    } else if (inRange(op, OpCode::truncf, OpCode::bitcast)) {
      execCast(in, s);
    } else if (inRange(op, OpCode::splat, OpCode::trans)) {
      execShape(in, s);
    } else if (op == OpCode::dot) {
      execDot(in, s);
    } else if (op == OpCode::reduce) {
      execReduce(in, s);
    } else if (inRange(op, OpCode::addptr, OpCode::atomic_add)) {
      execMemory(inst, in, s);
    } else {
      switch (op) {
        case OpCode::constant: s[in.result] = inst.program.constants[static_cast<size_t>(in.attr)]; break;
        case OpCode::program_id: s[in.result].i = inst.pid[in.attr]; break;
        case OpCode::num_programs: s[in.result].i = inst.grid[in.attr]; break;
        case OpCode::for_loop: runFor(inst, in, s); break;
        case OpCode::if_else: runIf(inst, in, s); break;
        case OpCode::ret: return;
        default: throw InterpError(in.where + ": internal error: op code without an executor");
      }
    }
  }
}

}  // namespace tile::interp
