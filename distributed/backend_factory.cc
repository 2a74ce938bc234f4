#include "distributed/backend_factory.h"

#include <map>
#include <mutex>

#include "distributed/reference_step_backend.h"

namespace tile {
namespace dist {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, StepBackendMaker> makers;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: registrations run during static init
  return *r;
}

}  // namespace

bool register_step_backend(const std::string& name, StepBackendMaker maker) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.makers[name] = std::move(maker);
  return true;
}

bool is_step_backend_name(const std::string& name) {
  return name == "reference" || name == "interp" || name == "gpu";
}

bool step_backend_available(const std::string& name, std::string* why) {
  std::string reason;
  if (name == "reference") return true;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.makers.count(name)) return true;
  }
  if (name == "interp")
    reason = "backend 'interp' is not built into this binary (it needs MLIR at run time: use "
             "//distributed:qkvpacked_dist_check)";
  else if (name == "gpu")
    reason = "backend 'gpu' is not built into this binary (use //distributed:qkvpacked_dist_check_gpu)";
  else
    reason = "unknown backend '" + name + "' (expected gpu, interp or reference)";
  if (why) *why = reason;
  return false;
}

std::unique_ptr<AttentionStepBackend> make_step_backend(const std::string& name, const StepBackendOptions& options) {
  std::string why;
  if (!step_backend_available(name, &why)) throw BackendUnavailable(why);
  if (name == "reference") return std::make_unique<ReferenceStepBackend>(options.num_threads);
  StepBackendMaker maker;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    maker = r.makers.at(name);
  }
  return maker(options);
}

}  // namespace dist
}  // namespace tile
