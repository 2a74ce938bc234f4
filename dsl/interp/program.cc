// Pre-walks a kernel's MLIR once into a Program: every SSA value gets a frame slot, every op a
// resolved OpCode with its element kinds and shapes, so that execution never looks at MLIR or
// op names. Unsupported ops and types are rejected here, with the op and its location.
// This is the only file of the interpreter that includes MLIR.
#include <string>

#include "dsl/interp/interp.h"
#include "dsl/interp/program.h"
#include "dsl/ir/TileDialect.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

namespace tile::interp {
namespace {

using mlir::Operation;
using mlir::Type;

std::string str(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

std::string opWhere(Operation* op) {
  std::string w = op->getName().getStringRef().str();
  if (auto fl = op->getLoc()->findInstanceOf<mlir::FileLineColLoc>())
    w += " at " + fl.getFilename().str() + ":" + std::to_string(fl.getLine()) + ":" +
         std::to_string(fl.getColumn());
  return w;
}

[[noreturn]] void fail(Operation* op, const std::string& what) {
  throw InterpError(opWhere(op) + ": " + what);
}

// The element-wise upstream ops and tile ops that need nothing beyond their types.
const llvm::StringMap<OpCode>& simpleOps() {
  static const llvm::StringMap<OpCode> table = {
      {"arith.addf", OpCode::addf}, {"arith.subf", OpCode::subf}, {"arith.mulf", OpCode::mulf},
      {"arith.divf", OpCode::divf}, {"arith.remf", OpCode::remf},
      {"arith.maximumf", OpCode::maximumf}, {"arith.minimumf", OpCode::minimumf},
      {"arith.maxnumf", OpCode::maxnumf}, {"arith.minnumf", OpCode::minnumf},
      {"math.powf", OpCode::powf}, {"math.copysign", OpCode::copysign},
      {"arith.negf", OpCode::negf}, {"math.absf", OpCode::absf}, {"math.exp2", OpCode::exp2},
      {"math.log2", OpCode::log2}, {"math.exp", OpCode::exp}, {"math.log", OpCode::log},
      {"math.tanh", OpCode::tanh}, {"math.sqrt", OpCode::sqrt}, {"math.rsqrt", OpCode::rsqrt},
      {"math.floor", OpCode::floor}, {"math.ceil", OpCode::ceil}, {"math.sin", OpCode::sin},
      {"math.cos", OpCode::cos}, {"math.erf", OpCode::erf}, {"math.log1p", OpCode::log1p},
      {"math.expm1", OpCode::expm1}, {"math.fma", OpCode::fma},
      {"arith.addi", OpCode::addi}, {"arith.subi", OpCode::subi}, {"arith.muli", OpCode::muli},
      {"arith.divsi", OpCode::divsi}, {"arith.divui", OpCode::divui}, {"arith.remsi", OpCode::remsi},
      {"arith.remui", OpCode::remui}, {"arith.ceildivsi", OpCode::ceildivsi},
      {"arith.floordivsi", OpCode::floordivsi}, {"arith.minsi", OpCode::minsi},
      {"arith.maxsi", OpCode::maxsi}, {"arith.minui", OpCode::minui}, {"arith.maxui", OpCode::maxui},
      {"arith.andi", OpCode::andi}, {"arith.ori", OpCode::ori}, {"arith.xori", OpCode::xori},
      {"math.absi", OpCode::absi}, {"arith.shli", OpCode::shli}, {"arith.shrsi", OpCode::shrsi}, {"arith.shrui", OpCode::shrui},
      {"arith.select", OpCode::select},
      {"arith.truncf", OpCode::truncf}, {"arith.extf", OpCode::extf}, {"arith.sitofp", OpCode::sitofp},
      {"arith.uitofp", OpCode::uitofp}, {"arith.fptosi", OpCode::fptosi},
      {"arith.fptoui", OpCode::fptoui}, {"arith.extsi", OpCode::extsi}, {"arith.extui", OpCode::extui},
      {"arith.trunci", OpCode::trunci}, {"arith.index_cast", OpCode::index_cast},
      {"arith.index_castui", OpCode::index_castui}, {"arith.bitcast", OpCode::bitcast},
      {"tile.splat", OpCode::splat}, {"tile.expand_dims", OpCode::expand_dims},
      {"tile.broadcast", OpCode::broadcast}, {"tile.trans", OpCode::trans},
  };
  return table;
}

struct TypeInfo {
  Elem elem = Elem::none;
  bool tile = false;
  std::vector<int64_t> shape;
  int64_t numel = 1;
  DType pointee = DType::f32;
};

Elem scalarElem(Type t) {
  if (t.isF32()) return Elem::f32;
  if (t.isF16()) return Elem::f16;
  if (t.isBF16()) return Elem::bf16;
  if (t.isInteger(1)) return Elem::i1;
  if (t.isInteger(32)) return Elem::i32;
  if (t.isInteger(64)) return Elem::i64;
  if (t.isIndex()) return Elem::index;
  if (llvm::isa<tile::ir::PtrType>(t)) return Elem::ptr;
  return Elem::none;
}

TypeInfo typeInfo(Operation* op, Type t) {
  TypeInfo info;
  if (auto rt = llvm::dyn_cast<mlir::RankedTensorType>(t)) {
    info.tile = true;
    info.elem = scalarElem(rt.getElementType());
    if (!(isFloatElem(info.elem) || info.elem == Elem::i1 || info.elem == Elem::i32))
      fail(op, "tiles of " + str(rt.getElementType()) + " are not supported (f16, bf16, f32, i32, i1)");
    if (rt.getRank() == 0) fail(op, "rank-0 tiles are not supported: " + str(t));
    info.shape.assign(rt.getShape().begin(), rt.getShape().end());
    for (int64_t d : info.shape) {
      if (d < 0) fail(op, "dynamic tile shapes are not supported: " + str(t));
      info.numel *= d;
    }
    return info;
  }
  info.elem = scalarElem(t);
  if (info.elem == Elem::none) fail(op, "values of type " + str(t) + " are not supported");
  if (auto p = llvm::dyn_cast<tile::ir::PtrType>(t)) {
    Type e = p.getPointee();
    if (e.isF32()) info.pointee = DType::f32;
    else if (e.isF16()) info.pointee = DType::f16;
    else if (e.isBF16()) info.pointee = DType::bf16;
    else if (e.isInteger(32)) info.pointee = DType::i32;
    else fail(op, "pointers to " + str(e) + " are not supported (f16, bf16, f32, i32)");
  }
  return info;
}

class Walker {
 public:
  explicit Walker(Program& p) : p_(p) {}

  void walkKernel(mlir::func::FuncOp f) {
    Operation* fop = f.getOperation();
    p_.name = f.getName().str();
    if (f.getBody().empty()) fail(fop, "kernel '" + p_.name + "' has no body");
    if (f.getFunctionType().getNumResults() != 0) fail(fop, "kernel '" + p_.name + "' must not return values");
    mlir::Block& entry = f.getBody().front();
    for (mlir::BlockArgument a : entry.getArguments()) {
      TypeInfo t = typeInfo(fop, a.getType());
      Param prm;
      prm.type = str(a.getType());
      prm.elem = t.elem;
      if (t.elem == Elem::ptr) {
        prm.kind = Arg::Kind::buffer;
        prm.dtype = t.pointee;
      } else if (t.tile) {
        fail(fop, "kernel argument #" + std::to_string(a.getArgNumber()) + " is a tensor; pass a pointer");
      } else if (t.elem == Elem::i32) {
        prm.kind = Arg::Kind::i32;
      } else if (t.elem == Elem::i64 || t.elem == Elem::index) {
        prm.kind = Arg::Kind::i64;
      } else if (isFloatElem(t.elem)) {
        prm.kind = Arg::Kind::f32;
      } else {
        fail(fop, "kernel argument #" + std::to_string(a.getArgNumber()) + " of type " + prm.type +
                      " is not supported");
      }
      if (auto d = f.getArgAttrOfType<mlir::IntegerAttr>(a.getArgNumber(), tile::ir::kDivisorAttr)) prm.assume.divisor = d.getInt();
      prm.assume.positive = bool(f.getArgAttr(a.getArgNumber(), tile::ir::kPositiveAttr));
      p_.params.push_back(prm);
      define(a);
    }
    p_.regions.emplace_back();
    Region body;
    walkBlock(entry, body);
    p_.regions[0] = std::move(body);
  }

 private:
  int32_t define(mlir::Value v) {
    const int32_t s = p_.numSlots++;
    slots_[v] = s;
    return s;
  }
  int32_t slot(Operation* op, mlir::Value v) {
    auto it = slots_.find(v);
    if (it == slots_.end()) fail(op, "uses a value defined outside the kernel");
    return it->second;
  }

  void walkBlock(mlir::Block& block, Region& r) {
    for (Operation& op : block) walkOp(&op, r);
  }

  // Walks a single-block region into a new Program region; block arguments get slots first.
  int32_t walkRegion(Operation* owner, mlir::Region& region) {
    if (region.empty()) return -1;
    if (!region.hasOneBlock()) fail(owner, "regions with several blocks are not supported");
    const int32_t index = static_cast<int32_t>(p_.regions.size());
    p_.regions.emplace_back();
    Region r;
    mlir::Block& block = region.front();
    for (mlir::BlockArgument a : block.getArguments()) {
      typeInfo(owner, a.getType());
      r.args.push_back(define(a));
    }
    walkBlock(block, r);
    p_.regions[static_cast<size_t>(index)] = std::move(r);
    return index;
  }

  void walkOp(Operation* op, Region& r) {
    Instr in;
    in.where = opWhere(op);
    for (mlir::Value v : op->getOperands()) in.operands.push_back(slot(op, v));
    if (op->getNumOperands() > 0) {
      TypeInfo src = typeInfo(op, op->getOperand(0).getType());
      in.src = src.elem;
      in.srcTile = src.tile;
      in.srcShape = src.shape;
    }
    if (op->getNumResults() == 1) {
      TypeInfo res = typeInfo(op, op->getResult(0).getType());
      in.elem = res.elem;
      in.tile = res.tile;
      in.shape = res.shape;
      in.numel = res.numel;
    }
    const llvm::StringRef name = op->getName().getStringRef();
    auto simple = simpleOps().find(name);
    if (simple != simpleOps().end()) {
      in.op = simple->second;
      checkSimple(op, in);
    } else if (!walkSpecial(op, in, r)) {
      fail(op, "op is not supported by the interpreter");
    }
    if (in.op == OpCode::ret) return;
    if (op->getNumResults() == 1 && in.op != OpCode::for_loop && in.op != OpCode::if_else)
      in.result = define(op->getResult(0));
    r.body.push_back(std::move(in));
  }

  void checkSimple(Operation* op, const Instr& in) {
    if (in.op == OpCode::bitcast) {
      const bool ok = (in.src == Elem::f32 && in.elem == Elem::i32) || (in.src == Elem::i32 && in.elem == Elem::f32);
      if (!ok) fail(op, "only f32 <-> i32 bitcasts are supported");
    }
    if (in.op >= OpCode::addi && in.op <= OpCode::absi && in.tile && !(in.elem == Elem::i32 || in.elem == Elem::i1))
      fail(op, "integer tiles must be i32 or i1");
  }

  // Ops with attributes, regions or several operand groups. Returns false if unknown.
  bool walkSpecial(Operation* op, Instr& in, Region& r) {
    using namespace tile::ir;
    if (auto c = llvm::dyn_cast<mlir::arith::ConstantOp>(op)) {
      in.op = OpCode::constant;
      in.attr = static_cast<int64_t>(p_.constants.size());
      p_.constants.push_back(constantValue(op, c.getValue(), in));
      return true;
    }
    if (auto c = llvm::dyn_cast<mlir::arith::CmpFOp>(op)) {
      in.op = OpCode::cmpf;
      in.attr = static_cast<int64_t>(c.getPredicate());
      return true;
    }
    if (auto c = llvm::dyn_cast<mlir::arith::CmpIOp>(op)) {
      in.op = OpCode::cmpi;
      in.attr = static_cast<int64_t>(c.getPredicate());
      return true;
    }
    if (auto o = llvm::dyn_cast<ProgramIdOp>(op)) {
      in.op = OpCode::program_id;
      in.attr = o.getAxis();
      return true;
    }
    if (auto o = llvm::dyn_cast<NumProgramsOp>(op)) {
      in.op = OpCode::num_programs;
      in.attr = o.getAxis();
      return true;
    }
    if (auto o = llvm::dyn_cast<ArangeOp>(op)) {
      in.op = OpCode::arange;
      in.attr = o.getStartAttr().getInt();
      return true;
    }
    if (llvm::isa<DotOp>(op)) {
      in.op = OpCode::dot;
      return true;
    }
    if (auto o = llvm::dyn_cast<ReduceOp>(op)) {
      in.op = OpCode::reduce;
      in.attr = o.getAxisAttr().getInt();
      const llvm::StringRef kind = o.getKind();
      if (kind == "max") in.attr2 = static_cast<int64_t>(ReduceKind::max);
      else if (kind == "min") in.attr2 = static_cast<int64_t>(ReduceKind::min);
      else if (kind == "sum") in.attr2 = static_cast<int64_t>(ReduceKind::sum);
      else fail(op, "unknown reduce kind '" + kind.str() + "'");
      return true;
    }
    if (auto o = llvm::dyn_cast<AddPtrOp>(op)) {
      in.op = OpCode::addptr;
      in.src = typeInfo(op, o.getOffset().getType()).elem;
      return true;
    }
    if (auto o = llvm::dyn_cast<LoadScalarOp>(op)) {
      in.op = OpCode::load_scalar;
      in.src = typeInfo(op, o.getIndex().getType()).elem;
      in.mem = typeInfo(op, o.getPtr().getType()).pointee;
      return true;
    }
    if (auto o = llvm::dyn_cast<LoadBlockOp>(op)) {
      in.op = OpCode::load_block;
      in.mem = typeInfo(op, o.getPtr().getType()).pointee;
      in.fattr = o.getPaddingAttr().getValueAsDouble();
      setOperands(op, in, o.getPtr(), o.getShape(), o.getStrides(), o.getOffsets(), {});
      return true;
    }
    // store_block and atomic_add_block: the same operands, the op code says store or add.
    auto blockStore = [&](auto o, OpCode code) {
      in.op = code;
      in.mem = typeInfo(op, o.getPtr().getType()).pointee;
      storedTile(op, in, o.getValue());
      setOperands(op, in, o.getPtr(), o.getShape(), o.getStrides(), o.getOffsets(), o.getValue());
      return true;
    };
    if (auto o = llvm::dyn_cast<StoreBlockOp>(op)) return blockStore(o, OpCode::store_block);
    if (auto o = llvm::dyn_cast<AtomicAddBlockOp>(op)) return blockStore(o, OpCode::atomic_add_block);
    if (auto o = llvm::dyn_cast<LoadOp>(op)) {
      in.op = OpCode::load;
      in.mem = typeInfo(op, o.getPtr().getType()).pointee;
      in.operands = {slot(op, o.getPtr()), slot(op, o.getOffsets())};
      if (o.getMask()) {
        in.operands.push_back(slot(op, o.getMask()));
        in.attr2 |= 1;
      }
      if (o.getOther()) {
        in.operands.push_back(slot(op, o.getOther()));
        in.attr2 |= 2;
      }
      return true;
    }
    if (auto o = llvm::dyn_cast<StoreOp>(op)) {
      in.op = OpCode::store;
      in.mem = typeInfo(op, o.getPtr().getType()).pointee;
      storedTile(op, in, o.getValue());
      in.operands = {slot(op, o.getPtr()), slot(op, o.getOffsets()), slot(op, o.getValue())};
      if (o.getMask()) in.operands.push_back(slot(op, o.getMask()));
      return true;
    }
    if (auto o = llvm::dyn_cast<AtomicAddOp>(op)) {
      in.op = OpCode::atomic_add;
      in.mem = typeInfo(op, o.getPtr().getType()).pointee;
      if (in.mem != DType::f32) fail(op, "atomic_add needs an f32 pointer");
      storedTile(op, in, o.getValue());
      in.operands = {slot(op, o.getPtr()), slot(op, o.getOffsets()), slot(op, o.getValue())};
      if (o.getMask()) in.operands.push_back(slot(op, o.getMask()));
      return true;
    }
    if (auto f = llvm::dyn_cast<mlir::scf::ForOp>(op)) {
      in.op = OpCode::for_loop;
      in.src = typeInfo(op, f.getInductionVar().getType()).elem;
      in.attr = op->hasAttr("unsignedCmp") ? 1 : 0;
      in.region0 = walkRegion(op, f.getRegion());
      for (mlir::Value res : op->getResults()) {
        typeInfo(op, res.getType());
        in.results.push_back(define(res));
      }
      return true;
    }
    if (auto f = llvm::dyn_cast<mlir::scf::IfOp>(op)) {
      in.op = OpCode::if_else;
      in.region0 = walkRegion(op, f.getThenRegion());
      in.region1 = walkRegion(op, f.getElseRegion());
      if (in.region1 < 0 && op->getNumResults() > 0) fail(op, "scf.if with results needs an else region");
      for (mlir::Value res : op->getResults()) {
        typeInfo(op, res.getType());
        in.results.push_back(define(res));
      }
      return true;
    }
    if (llvm::isa<mlir::scf::YieldOp>(op) || llvm::isa<mlir::func::ReturnOp>(op)) {
      in.op = OpCode::ret;
      r.yields = in.operands;
      return true;
    }
    return false;
  }

  void storedTile(Operation* op, Instr& in, mlir::Value v) {
    TypeInfo t = typeInfo(op, v.getType());
    in.elem = t.elem;
    in.tile = t.tile;
    in.shape = t.shape;
    in.numel = t.numel;
  }

  void setOperands(Operation* op, Instr& in, mlir::Value ptr, mlir::OperandRange shape,
                   mlir::OperandRange strides, mlir::OperandRange offsets, mlir::Value value) {
    if (in.shape.size() > 8) fail(op, "block accesses of rank > 8 are not supported");
    in.operands = {slot(op, ptr)};
    for (mlir::Value v : shape) in.operands.push_back(slot(op, v));
    for (mlir::Value v : strides) in.operands.push_back(slot(op, v));
    for (mlir::Value v : offsets) in.operands.push_back(slot(op, v));
    if (value) in.operands.push_back(slot(op, value));
  }

  Value constantValue(Operation* op, mlir::Attribute attr, const Instr& in) {
    Value v;
    if (!in.tile) {
      if (auto f = llvm::dyn_cast<mlir::FloatAttr>(attr)) {
        v.f = static_cast<float>(f.getValueAsDouble());  // exact: the value is of the f32/f16/bf16 type
      } else if (auto i = llvm::dyn_cast<mlir::IntegerAttr>(attr)) {
        v.i = normInt(in.elem, i.getValue().getSExtValue());
      } else {
        fail(op, "unsupported constant");
      }
      return v;
    }
    auto dense = llvm::dyn_cast<mlir::DenseElementsAttr>(attr);
    if (!dense) fail(op, "tile constants must be dense elements");
    v.tile = newTile(in.numel);
    if (isFloatElem(in.elem)) {
      float* o = v.tile->f();
      if (dense.isSplat()) {
        const float x = dense.getSplatValue<llvm::APFloat>().convertToFloat();
        for (int64_t k = 0; k < in.numel; ++k) o[k] = x;
      } else {
        int64_t k = 0;
        for (const llvm::APFloat& x : dense.getValues<llvm::APFloat>()) o[k++] = x.convertToFloat();
      }
    } else {
      int32_t* o = v.tile->i();
      auto toInt = [&](const llvm::APInt& x) {
        return static_cast<int32_t>(normInt(in.elem, in.elem == Elem::i1 ? int64_t(x.getZExtValue()) : x.getSExtValue()));
      };
      if (dense.isSplat()) {
        const int32_t x = toInt(dense.getSplatValue<llvm::APInt>());
        for (int64_t k = 0; k < in.numel; ++k) o[k] = x;
      } else {
        int64_t k = 0;
        for (const llvm::APInt& x : dense.getValues<llvm::APInt>()) o[k++] = toInt(x);
      }
    }
    return v;
  }

  Program& p_;
  llvm::DenseMap<mlir::Value, int32_t> slots_;
};

}  // namespace

std::shared_ptr<const Program> compile(mlir::func::FuncOp kernel) {
  auto program = std::make_shared<Program>();
  Walker(*program).walkKernel(kernel);
  return program;
}

void run(mlir::func::FuncOp kernel, Grid grid, const std::vector<Arg>& args, const Options& options) {
  run(*compile(kernel), grid, args, options);
}

}  // namespace tile::interp
