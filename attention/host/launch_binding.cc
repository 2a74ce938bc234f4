// bind_arguments (backend.h): name-based binding of launch arguments to a kernel's signature.
#include <map>
#include <stdexcept>

#include "attention/host/backend.h"

namespace tile::attention {

std::vector<LaunchArg> bind_arguments(const KernelCall& call, const std::vector<std::string>& declared) {
  const std::string kernel = "kernel " + call.kernel + " {" + call.params.str() + "}";
  size_t named = 0;
  for (const LaunchArg& a : call.args) named += a.name.empty() ? 0 : 1;
  if (named == 0) {
    if (call.args.size() != declared.size())
      throw std::invalid_argument(kernel + ": expected " + std::to_string(declared.size()) + " arguments, got " +
                                  std::to_string(call.args.size()));
    return call.args;
  }
  // The host names its arguments in declaration order: then there is nothing to reorder.
  bool in_order = named == declared.size();
  for (size_t i = 0; in_order && i < declared.size(); ++i) in_order = call.args[i].name == declared[i];
  if (in_order) return call.args;
  if (named != call.args.size())
    throw std::invalid_argument(kernel + ": expected every launch argument named or none, got " +
                                std::to_string(named) + " of " + std::to_string(call.args.size()) + " named");
  std::map<std::string, const LaunchArg*> by_name;
  for (const LaunchArg& a : call.args)
    if (!by_name.emplace(a.name, &a).second)
      throw std::invalid_argument(kernel + ": argument '" + a.name + "' given twice");
  std::vector<LaunchArg> ordered;
  ordered.reserve(declared.size());
  for (const std::string& name : declared) {
    auto it = by_name.find(name);
    if (it == by_name.end()) throw std::invalid_argument(kernel + ": expected argument '" + name + "', not given");
    ordered.push_back(*it->second);
    by_name.erase(it);
  }
  if (!by_name.empty())
    throw std::invalid_argument(kernel + ": got argument '" + by_name.begin()->first + "', which the kernel does not declare");
  return ordered;
}

}  // namespace tile::attention
