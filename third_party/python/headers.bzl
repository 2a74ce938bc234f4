"""python_headers: the C headers (Python.h) of the interpreter the tests run on, /usr/bin/python3,
found through its own sysconfig rather than a versioned path (Debian 12 has 3.11; the next
release another). Only the tileattn._fastpath extension uses them, with the limited API, so
the module it builds loads on any CPython >= 3.8."""

def _python_headers_impl(rctx):
    result = rctx.execute([rctx.attr.interpreter, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"])
    if result.return_code != 0:
        fail("python_headers: %s failed: %s" % (rctx.attr.interpreter, result.stderr))
    include = result.stdout.strip()
    if not rctx.path(include + "/Python.h").exists:
        fail("python_headers: no Python.h in %s (install python3-dev; ./setup.sh does)" % include)
    rctx.symlink(include, "include")
    rctx.file("BUILD", """package(default_visibility = ["//visibility:public"])

cc_library(
    name = "python_headers",
    hdrs = glob(["include/**/*.h"]),
    includes = ["include"],
)
""")

python_headers = repository_rule(
    implementation = _python_headers_impl,
    attrs = {"interpreter": attr.string(default = "/usr/bin/python3")},
    local = True,
)
