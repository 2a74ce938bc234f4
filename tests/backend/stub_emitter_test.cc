// The generated C++ text: typed stubs, embedded bytes, metadata, and refusal of unsafe names.
#include <catch2/catch.hpp>

#include "lowering/gen/stub_emitter.h"

namespace gen = tile::gen;
namespace be = tile::backend;

namespace {

gen::GeneratedKernel sample() {
  gen::GeneratedKernel k;
  k.instance = "vadd";
  k.spec = "vector_add:BLOCK=1024";
  k.entry = "vector_add";
  k.target = "sm_90a";
  k.ptx = ".version 8.0\n";
  k.cubin = {0x7f, 'E', 'L', 'F'};
  k.num_warps = 4;
  k.smem_bytes = 1024;
  k.args = {{be::ArgKind::kPointer, "x", "const float*"},
            {be::ArgKind::kPointer, "out", "float*"},
            {be::ArgKind::kI32, "new", "int32_t"}};
  k.resources.registers = 12;
  k.ir_hash = "0123456789abcdef";
  return k;
}

gen::EmitOptions options() {
  gen::EmitOptions o;
  o.library = "my_kernels";
  o.header_path = "pkg/my_kernels.h";
  o.origin = "//pkg:my_kernels";
  return o;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the header declares a typed stub and the image") {
  const std::string h = gen::emit_header(options(), {sample()});
  CHECK(contains(h, "#pragma once"));
  CHECK(contains(h, "#include \"dsl/runtime/kernel_image.h\""));
  CHECK(contains(h, "namespace tile::kernels {"));
  CHECK(contains(h, "extern const ::tile::rt::KernelImage vadd_image;"));
  // A keyword argument name gets a trailing underscore.
  CHECK(contains(h, "void launch_vadd(::tile::rt::Stream& stream, ::tile::rt::Dim3 grid, "
                    "const float* x, float* out, int32_t new_);"));
  CHECK(contains(h, "12 registers"));
  CHECK(contains(h, "my_kernels_num_kernels = 1;"));
  CHECK_FALSE(contains(h, "mlir"));
}

TEST_CASE("the source embeds the bytes and fills the image") {
  const std::string s = gen::emit_source(options(), {sample()});
  CHECK(contains(s, "#include \"pkg/my_kernels.h\""));
  CHECK(contains(s, "vadd_cubin[] = {\n    0x7f,0x45,0x4c,0x46,\n};"));
  CHECK(contains(s, "vadd_ptx[] = {"));
  CHECK(contains(s, "0x0a,0x00,"));  // PTX is NUL-terminated for the JIT
  CHECK(contains(s, "{\"new\", ::tile::rt::ParamKind::kI32}"));
  CHECK(contains(s, "/*num_warps=*/4, /*smem_bytes=*/1024"));
  CHECK(contains(s, "\"0123456789abcdef\", \"sm_90a\""));
  CHECK(contains(s, "void* args[] = {&x, &out, &new_};"));
  CHECK(contains(s, "::tile::rt::launch_kernel(vadd_image, stream, grid, args);"));
  CHECK(contains(s, "my_kernels_kernels[1] = {&vadd_image};"));
}

TEST_CASE("names and types that could inject code are refused") {
  auto bad_instance = sample();
  bad_instance.instance = "x; system(\"rm\")";
  CHECK_THROWS_WITH(gen::emit_header(options(), {bad_instance}),
                    Catch::Contains("not a C identifier"));
  auto bad_type = sample();
  bad_type.args[0].c_type = "float*) {} void f(";
  CHECK_THROWS_WITH(gen::emit_source(options(), {bad_type}), Catch::Contains("cannot have C type"));
  auto pointer_as_int = sample();
  pointer_as_int.args[2].c_type = "int32_t*";
  CHECK_THROWS_WITH(gen::emit_source(options(), {pointer_as_int}),
                    Catch::Contains("argument new of kind i32"));
  CHECK_THROWS_WITH(gen::emit_header(options(), {sample(), sample()}),
                    Catch::Contains("appears twice"));
}

TEST_CASE("fnv1a64_hex is the standard FNV-1a 64") {
  CHECK(gen::fnv1a64_hex("") == "cbf29ce484222325");
  CHECK(gen::fnv1a64_hex("a") == "af63dc4c8601ec8c");
}

TEST_CASE("TMA templates go into the image; the stub still passes only the kernel's own arguments") {
  gen::GeneratedKernel k = sample();
  k.tma_templates = {{0, 64, 128}, {1, 64, 32}};
  const std::string c = gen::emit_source(options(), {k});
  CHECK(contains(c, "const ::tile::rt::TmaTemplate vadd_tma[] = {"));
  CHECK(contains(c, "    {0, 64, 128},\n"));
  CHECK(contains(c, "    {1, 64, 32},\n"));
  CHECK(contains(c, "    vadd_tma, 2,\n"));
  // The workspace is appended by rt::launch_kernel, not by the stub.
  CHECK(contains(c, "void* args[] = {&x, &out, &new_};"));
  const std::string plain = gen::emit_source(options(), {sample()});
  CHECK(!contains(plain, "TmaTemplate"));
}
