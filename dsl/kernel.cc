// Building a kernel into a verified module, the kernel registry, and the module text/hash helpers.
#include "dsl/kernel.h"

#include "dsl/builder_state.h"
#include "dsl/module.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

namespace tile {

using detail::fail;

// --- KernelBuilder -----------------------------------------------------------------------------

namespace {

mlir::Value add_argument(KernelBuilder::State& s, mlir::Type type, KernelArg arg) {
  for (const KernelArg& a : s.signature.args)
    if (a.name == arg.name) fail("kernel argument", "'" + arg.name + "' is declared twice");
  const int64_t d = arg.assume.divisor;
  if (d < 1 || (d & (d - 1)) != 0 || d > (int64_t(1) << 16))
    fail("kernel argument", "'" + arg.name + "': assumed divisor must be a power of two up to 65536, got " + std::to_string(d));
  if (arg.assume.positive && arg.kind != ArgKind::i32)
    fail("kernel argument", "'" + arg.name + "': only an i32 can be assumed positive");
  s.signature.args.push_back(std::move(arg));
  return s.entry->addArgument(type, s.loc);
}

}  // namespace

Ptr KernelBuilder::arg_ptr(const std::string& name, DType pointee, ArgAssumption assume) {
  if (!(pointee == DType::f16 || pointee == DType::bf16 || pointee == DType::f32 || pointee == DType::i32))
    fail("arg_ptr", "'" + name + "': pointee must be f16, bf16, f32 or i32, got " + dtype_name(pointee));
  mlir::MLIRContext* ctx = state_->builder.getContext();
  auto type = ir::PtrType::get(ctx, detail::element_type(pointee, ctx));
  return Ptr(detail::wrap(add_argument(*state_, type, {name, ArgKind::ptr, pointee, assume})));
}

Int KernelBuilder::arg_i32(const std::string& name, ArgAssumption assume) {
  return Int(detail::wrap(add_argument(*state_, state_->builder.getI32Type(), {name, ArgKind::i32, DType::i32, assume})));
}

Float KernelBuilder::arg_f32(const std::string& name) {
  return Float(detail::wrap(add_argument(*state_, state_->builder.getF32Type(), {name, ArgKind::f32, DType::f32})));
}

void KernelBuilder::set_num_warps(int n) {
  if (n <= 0 || n > 32) fail("set_num_warps", "need 1..32 warps, got " + std::to_string(n));
  state_->signature.num_warps = n;
}

void KernelBuilder::set_min_blocks_per_sm(int n) {
  if (n <= 0 || n > 32) fail("set_min_blocks_per_sm", "need 1..32 blocks, got " + std::to_string(n));
  state_->signature.min_blocks_per_sm = n;
}

void KernelBuilder::set_warpgroup_turns(bool on) { state_->signature.warpgroup_turns = on; }
void KernelBuilder::set_warp_specialized(bool on) { state_->signature.warp_specialized = on; }

const std::string& KernelBuilder::name() const { return state_->name; }
const Params& KernelBuilder::params() const { return state_->params; }

// --- building ----------------------------------------------------------------------------------

namespace {

mlir::DictionaryAttr params_attr(mlir::OpBuilder& b, const Params& params) {
  mlir::SmallVector<mlir::NamedAttribute> items;
  for (const auto& [name, v] : params.items()) {
    mlir::Attribute a;
    switch (v.kind()) {
      case ParamValue::Kind::integer: a = b.getI64IntegerAttr(v.integer()); break;
      case ParamValue::Kind::boolean: a = b.getBoolAttr(v.boolean()); break;
      case ParamValue::Kind::real: a = b.getF64FloatAttr(v.real()); break;
      case ParamValue::Kind::text: a = b.getStringAttr(v.text()); break;
    }
    items.push_back(b.getNamedAttr(name, a));
  }
  return b.getDictionaryAttr(items);
}

mlir::OwningOpRef<mlir::ModuleOp> build_module(const KernelSpec& spec, mlir::MLIRContext& ctx,
                                               KernelSignature* signature) {
  load_dialects(ctx);
  KernelBuilder::State state(ctx, spec.name, spec.params);
  state.signature.name = spec.name;
  mlir::OpBuilder& b = state.builder;
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(state.loc);
  b.setInsertionPointToEnd(module->getBody());
  auto func = mlir::func::FuncOp::create(b, state.loc, spec.name, b.getFunctionType({}, {}));
  state.entry = func.addEntryBlock();
  b.setInsertionPointToStart(state.entry);
  try {
    if (!spec.define) fail("kernel", "no kernel function");
    detail::CurrentKernel current(&state);
    KernelBuilder kb(&state);
    spec.define(kb, spec.params);
    b.setInsertionPointToEnd(state.entry);
    mlir::func::ReturnOp::create(b, state.loc);
    mlir::SmallVector<mlir::Type> arg_types(state.entry->getArgumentTypes());
    func.setFunctionType(b.getFunctionType(arg_types, {}));
    func->setAttr(ir::kKernelAttr, b.getUnitAttr());
    func->setAttr(ir::kNumWarpsAttr, b.getI32IntegerAttr(state.signature.num_warps));
    if (state.signature.warpgroup_turns) func->setAttr(ir::kWarpgroupTurnsAttr, b.getUnitAttr());
    if (state.signature.warp_specialized) func->setAttr(ir::kWarpSpecializedAttr, b.getUnitAttr());
    if (state.signature.min_blocks_per_sm > 0)
      func->setAttr(ir::kMinBlocksPerSmAttr, b.getI32IntegerAttr(state.signature.min_blocks_per_sm));
    func->setAttr(ir::kParamsAttr, params_attr(b, spec.params));
    for (auto [i, arg] : llvm::enumerate(state.signature.args)) {
      if (arg.assume.divisor > 1) func.setArgAttr(unsigned(i), ir::kDivisorAttr, b.getI64IntegerAttr(arg.assume.divisor));
      if (arg.assume.positive) func.setArgAttr(unsigned(i), ir::kPositiveAttr, b.getUnitAttr());
    }

    std::string diagnostics;
    mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic& d) {
      diagnostics += (diagnostics.empty() ? "" : "; ") + d.str();
      return mlir::success();
    });
    if (mlir::failed(mlir::verify(*module))) fail("verify", diagnostics.empty() ? "module is invalid" : diagnostics);
  } catch (const BuildError& e) {
    throw BuildError("kernel '" + spec.name + "' {" + spec.params.str() + "}: " + e.what());
  }
  if (signature) *signature = state.signature;
  return module;
}

}  // namespace

mlir::OwningOpRef<mlir::ModuleOp> KernelSpec::build(mlir::MLIRContext& ctx) const {
  return build_module(*this, ctx, nullptr);
}

KernelSignature KernelSpec::signature() const {
  mlir::MLIRContext ctx;
  KernelSignature sig;
  build_module(*this, ctx, &sig);
  return sig;
}

KernelSpec KernelSpec::with(const std::vector<std::string>& assignments) const {
  KernelSpec copy = *this;
  for (const std::string& a : assignments) copy.params.set_from_text(a);
  return copy;
}

// --- registry ----------------------------------------------------------------------------------

namespace {
std::vector<KernelSpec>& registry() {
  static std::vector<KernelSpec> specs;  // function-local: safe during static initialisation
  return specs;
}
}  // namespace

bool register_kernel(KernelSpec spec) {
  registry().push_back(std::move(spec));
  return true;
}

const std::vector<KernelSpec>& registered_kernels() { return registry(); }

namespace {
std::vector<KernelResolver>& resolvers() {
  static std::vector<KernelResolver> r;
  return r;
}
}  // namespace

bool register_kernel_resolver(KernelResolver resolver) {
  resolvers().push_back(std::move(resolver));
  return true;
}

std::vector<KernelSpec> find_kernels(const std::string& name) {
  std::vector<KernelSpec> out;
  for (const KernelSpec& s : registry())
    if (s.name == name) out.push_back(s);
  for (size_t i = 0; out.empty() && i < resolvers().size(); ++i)
    if (std::optional<KernelSpec> s = resolvers()[i](name)) out.push_back(std::move(*s));
  return out;
}

// --- module helpers ----------------------------------------------------------------------------

void load_dialects(mlir::MLIRContext& ctx) {
  mlir::DialectRegistry registry;
  ir::registerTileDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
}

std::string ir_text(mlir::ModuleOp module) {
  std::string s;
  llvm::raw_string_ostream os(s);
  module->print(os);
  return s;
}

uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t ir_hash(mlir::ModuleOp module) { return fnv1a64(ir_text(module)); }

std::string hex64(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[i] = digits[v & 15];
  return s;
}

}  // namespace tile
