"""Runs mlir-tblgen-22 from the machine's packages over an ODS file."""

def mlir_tblgen(name, td, out, flags):
    native.genrule(
        name = name,
        srcs = [td, "@llvm//:mlir_td"],
        outs = [out],
        tools = ["@llvm//:bin/mlir-tblgen"],
        cmd = "$(location @llvm//:bin/mlir-tblgen) %s -I external/llvm/include -I $$(dirname $(location %s)) $(location %s) -o $@" % (flags, td, td),
    )
