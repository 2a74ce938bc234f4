#include "lowering/gen/stub_emitter.h"

#include <cstdio>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace tile::gen {
namespace {

const char* runtime_kind(backend::ArgKind kind) {
  switch (kind) {
    case backend::ArgKind::kPointer: return "::tile::rt::ParamKind::kPointer";
    case backend::ArgKind::kI32: return "::tile::rt::ParamKind::kI32";
    case backend::ArgKind::kI64: return "::tile::rt::ParamKind::kI64";
    case backend::ArgKind::kF32: return "::tile::rt::ParamKind::kF32";
    case backend::ArgKind::kF64: return "::tile::rt::ParamKind::kF64";
  }
  return "";
}

bool is_identifier(const std::string& s) {
  static const std::regex kIdentifier("[A-Za-z_][A-Za-z0-9_]*");
  return std::regex_match(s, kIdentifier);
}

// Argument names come from kernels written by people; a few are C++ keywords.
std::string parameter_name(const std::string& name) {
  static const std::set<std::string> kKeywords = {
      "and", "auto", "bool", "break", "case", "char", "class", "const", "default", "delete",
      "do", "double", "else", "enum", "float", "for", "if", "int", "long", "new", "not",
      "operator", "or", "private", "public", "register", "return", "short", "signed", "sizeof",
      "static", "struct", "switch", "template", "this", "union", "unsigned", "void", "while",
      "grid", "stream", "args"};  // the last three are the stub's own names
  return kKeywords.count(name) ? name + "_" : name;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void write_bytes(std::ostringstream& out, const uint8_t* data, size_t size, bool nul_terminate) {
  char buf[8];
  for (size_t i = 0; i < size; ++i) {
    out << (i % 16 == 0 ? "\n    " : "");
    std::snprintf(buf, sizeof(buf), "0x%02x,", data[i]);
    out << buf;
  }
  if (nul_terminate) out << (size % 16 == 0 ? "\n    " : "") << "0x00,";
  out << "\n";
}

std::string signature(const GeneratedKernel& k) {
  std::string s = "::tile::rt::Stream& stream, ::tile::rt::Dim3 grid";
  for (const backend::KernelArg& a : k.args) s += ", " + a.c_type + " " + parameter_name(a.name);
  return s;
}

std::string describe(const GeneratedKernel& k) {
  std::ostringstream out;
  out << "// " << k.instance << ": " << k.spec << "\n"
      << "//   entry " << k.entry << " for " << k.target << "; block " << k.num_warps * 32
      << " threads (" << k.num_warps << (k.num_warps == 1 ? " warp); " : " warps); ")
      << k.smem_bytes << " B dynamic smem\n"
      << "//   ptxas: " << k.resources.registers << " registers, "
      << k.resources.spill_store_bytes << " B spill stores, " << k.resources.spill_load_bytes
      << " B spill loads, " << k.resources.static_smem_bytes << " B static smem; IR hash "
      << k.ir_hash << "\n";
  return out.str();
}

void open_namespace(std::ostringstream& out, const EmitOptions& options) {
  out << "namespace " << options.cpp_namespace << " {\n\n";
}

void close_namespace(std::ostringstream& out, const EmitOptions& options) {
  out << "}  // namespace " << options.cpp_namespace << "\n";
}

}  // namespace

std::string fnv1a64_hex(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void check_emittable(const EmitOptions& options, const std::vector<GeneratedKernel>& kernels) {
  static const std::regex kNamespace("[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*");
  static const std::regex kCType("(const )?[A-Za-z_][A-Za-z0-9_:]*( ?\\*)?");
  if (!is_identifier(options.library)) {
    throw std::invalid_argument("library name '" + options.library + "' is not a C identifier");
  }
  if (!std::regex_match(options.cpp_namespace, kNamespace)) {
    throw std::invalid_argument("namespace '" + options.cpp_namespace + "' is not valid C++");
  }
  std::set<std::string> instances;
  for (const GeneratedKernel& k : kernels) {
    if (!is_identifier(k.instance)) {
      throw std::invalid_argument("kernel instance name '" + k.instance +
                                  "' is not a C identifier");
    }
    if (!instances.insert(k.instance).second) {
      throw std::invalid_argument("kernel instance '" + k.instance + "' appears twice");
    }
    std::set<std::string> names;
    for (const backend::KernelArg& a : k.args) {
      if (!is_identifier(a.name) || !names.insert(a.name).second) {
        throw std::invalid_argument("kernel " + k.instance + ": argument name '" + a.name +
                                    "' is not a C identifier or is repeated");
      }
      if (!std::regex_match(a.c_type, kCType) ||
          (a.kind == backend::ArgKind::kPointer) != (a.c_type.back() == '*')) {
        throw std::invalid_argument("kernel " + k.instance + ": argument " + a.name +
                                    " of kind " + backend::arg_kind_name(a.kind) +
                                    " cannot have C type '" + a.c_type + "'");
      }
    }
  }
}

std::string emit_header(const EmitOptions& options, const std::vector<GeneratedKernel>& kernels) {
  check_emittable(options, kernels);
  std::ostringstream out;
  out << "// Generated from " << options.origin << " by the tile_kernel rule. Do not edit.\n"
      << "// Kernels compiled ahead of time (MLIR -> PTX -> ptxas); launching needs only the\n"
      << "// runtime in dsl/runtime.\n"
      << "#pragma once\n\n"
      << "#include <cstdint>\n\n"
      << "#include \"dsl/runtime/kernel_image.h\"\n"
      << "#include \"dsl/runtime/stream.h\"\n\n";
  open_namespace(out, options);
  for (const GeneratedKernel& k : kernels) {
    out << describe(k)
        << "extern const ::tile::rt::KernelImage " << k.instance << "_image;\n"
        << "void launch_" << k.instance << "(" << signature(k) << ");\n\n";
  }
  out << "// Every kernel of " << options.library << ", in the order the rule lists them.\n"
      << "inline constexpr int " << options.library << "_num_kernels = " << kernels.size()
      << ";\n"
      << "extern const ::tile::rt::KernelImage* const " << options.library << "_kernels["
      << (kernels.empty() ? 1 : kernels.size()) << "];\n\n";
  close_namespace(out, options);
  return out.str();
}

std::string emit_source(const EmitOptions& options, const std::vector<GeneratedKernel>& kernels) {
  check_emittable(options, kernels);
  std::ostringstream out;
  out << "// Generated from " << options.origin << " by the tile_kernel rule. Do not edit.\n"
      << "#include \"" << options.header_path << "\"\n\n"
      << "#include \"dsl/runtime/kernel_image.h\"\n\n";
  open_namespace(out, options);
  out << "namespace {\n\n";
  for (const GeneratedKernel& k : kernels) {
    out << "alignas(16) const unsigned char " << k.instance << "_cubin[] = {";
    write_bytes(out, k.cubin.data(), k.cubin.size(), /*nul_terminate=*/false);
    out << "};\n\n";
    if (options.embed_ptx) {
      // PTX as bytes too: string literals of this size trip some compilers' limits.
      out << "const char " << k.instance << "_ptx[] = {";
      write_bytes(out, reinterpret_cast<const uint8_t*>(k.ptx.data()), k.ptx.size(),
                  /*nul_terminate=*/true);
      out << "};\n\n";
    }
    if (!k.args.empty()) {
      out << "const ::tile::rt::KernelParam " << k.instance << "_params[] = {\n";
      for (const backend::KernelArg& a : k.args) {
        out << "    {" << quoted(a.name) << ", " << runtime_kind(a.kind);
        if (a.divisor > 1 || a.positive) out << ", {" << a.divisor << ", " << (a.positive ? "true" : "false") << "}";
        out << "},\n";
      }
      out << "};\n\n";
    }
    if (!k.tma_templates.empty()) {
      out << "const ::tile::rt::TmaTemplate " << k.instance << "_tma[] = {\n";
      for (const backend::TmaTemplate& t : k.tma_templates) {
        out << "    {" << t.elem << ", " << t.box_cols << ", " << t.box_rows << "},\n";
      }
      out << "};\n\n";
    }
  }
  out << "}  // namespace\n\n";
  for (const GeneratedKernel& k : kernels) {
    const int spills = k.resources.spill_store_bytes + k.resources.spill_load_bytes;
    out << "const ::tile::rt::KernelImage " << k.instance << "_image = {\n"
        << "    " << quoted(k.instance) << ", " << quoted(k.entry) << ",\n"
        << "    " << k.instance << "_cubin, sizeof(" << k.instance << "_cubin), "
        << (options.embed_ptx ? k.instance + "_ptx" : std::string("/*ptx=*/nullptr")) << ",\n"
        << "    /*num_warps=*/" << k.num_warps << ", /*smem_bytes=*/" << k.smem_bytes << ",\n"
        << "    " << (k.args.empty() ? "nullptr" : k.instance + "_params") << ", "
        << k.args.size() << ",\n"
        << "    " << quoted(k.ir_hash) << ", " << quoted(k.target) << ",\n"
        << "    /*registers=*/" << k.resources.registers << ", /*spill_bytes=*/" << spills
        << ",\n";
    if (!k.tma_templates.empty()) {
      out << "    " << k.instance << "_tma, " << k.tma_templates.size() << ",\n";
    }
    out << "};\n\n";
    out << "void launch_" << k.instance << "(" << signature(k) << ") {\n";
    if (k.args.empty()) {
      out << "  void** args = nullptr;\n";
    } else {
      out << "  void* args[] = {";
      for (size_t i = 0; i < k.args.size(); ++i) {
        out << (i ? ", " : "") << "&" << parameter_name(k.args[i].name);
      }
      out << "};\n";
    }
    out << "  ::tile::rt::launch_kernel(" << k.instance << "_image, stream, grid, args);\n"
        << "}\n\n";
  }
  out << "const ::tile::rt::KernelImage* const " << options.library << "_kernels["
      << (kernels.empty() ? 1 : kernels.size()) << "] = {";
  for (size_t i = 0; i < kernels.size(); ++i) {
    out << (i ? ", " : "") << "&" << kernels[i].instance << "_image";
  }
  if (kernels.empty()) out << "nullptr";
  out << "};\n\n";
  close_namespace(out, options);
  return out.str();
}

}  // namespace tile::gen
