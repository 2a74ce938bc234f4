#include "attention/interp_backend/interp_backend.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "dsl/interp/interp.h"
#include "dsl/module.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace tile::attention {

struct InterpBackend::Compiled {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::shared_ptr<const interp::Program> program;
  std::vector<std::string> arg_names;  // the kernel's signature, for binding launch arguments
};

InterpBackend::InterpBackend() : InterpBackend(Options{}) {}
InterpBackend::InterpBackend(Options options) : options_(options) {}
InterpBackend::~InterpBackend() = default;

void* InterpBackend::alloc_zeroed(size_t bytes) {
  void* p = std::calloc(bytes ? bytes : 1, 1);
  if (!p) throw std::bad_alloc();
  return p;
}

void InterpBackend::free(void* p) { std::free(p); }

void InterpBackend::read(void* host_dst, const void* src, size_t bytes) { std::memcpy(host_dst, src, bytes); }
void InterpBackend::write(void* dst, const void* host_src, size_t bytes) { std::memcpy(dst, host_src, bytes); }

// The registered spec with exactly these parameters, else the kernel function of the first spec
// with this name specialised to them (the interpreter can run any specialisation).
static KernelSpec find_spec(const KernelCall& call) {
  std::vector<KernelSpec> specs = find_kernels(call.kernel);
  if (specs.empty()) throw std::invalid_argument("interp backend: no kernel named '" + call.kernel + "' is registered");
  for (const KernelSpec& s : specs)
    if (s.params == call.params) return s;
  KernelSpec s = specs.front();
  s.params = call.params;
  return s;
}

InterpBackend::Compiled& InterpBackend::compiled(const KernelCall& call) {
  std::string key = call.kernel + "(" + call.params.str() + ")";
  auto it = cache_.find(key);
  if (it != cache_.end()) return *it->second;
  auto c = std::make_unique<Compiled>();
  load_dialects(c->context);
  const KernelSpec spec = find_spec(call);
  c->module = spec.build(c->context);
  for (const KernelArg& a : spec.signature().args) c->arg_names.push_back(a.name);
  mlir::func::FuncOp fn;
  c->module->walk([&](mlir::func::FuncOp f) { fn = f; });
  c->program = interp::compile(fn);
  records_.push_back({call.kernel, call.params.str(), hex64(ir_hash(*c->module))});
  return *cache_.emplace(key, std::move(c)).first->second;
}

void InterpBackend::launch(const KernelCall& call) {
  Compiled& c = compiled(call);
  std::vector<interp::Arg> args;
  args.reserve(call.args.size());
  for (const LaunchArg& a : bind_arguments(call, c.arg_names)) {
    switch (a.kind) {
      case LaunchArg::Kind::buffer: args.push_back(interp::Arg::buffer(a.data, a.dtype, a.numel)); break;
      case LaunchArg::Kind::i32: args.push_back(interp::Arg::i32(a.i)); break;
      case LaunchArg::Kind::f32: args.push_back(interp::Arg::f32(a.f)); break;
    }
  }
  interp::Options o;
  o.seed = options_.seed + 0x9e3779b97f4a7c15ull * ++launches_;
  o.threads = options_.threads;
  interp::run(*c.program, interp::Grid{call.grid[0], call.grid[1], call.grid[2]}, args, o);
}

}  // namespace tile::attention
