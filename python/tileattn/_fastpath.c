/* tileattn._fastpath: the C ABI (attention/capi/tileattn.h) called on torch tensors from C.
 *
 * Why it exists: on the DLPack path (_dlpack.py + ctypes) a forward call spends most of the
 * package's host time reading each tensor's fields through torch's Python bindings and packing
 * DLTensors in Python. Here each field is one C-level call, the DLTensors live on the C stack,
 * and the entry point is called through the address of the library the package loaded (so one
 * module serves the CPU and the GPU library). The DLPack ABI itself is unchanged.
 *
 * Built against Python's limited C API (abi3) and no framework header: one build serves every
 * CPython >= 3.8 and every PyTorch version. torch is seen only through the Python attributes the
 * DLPack path reads (data_ptr(), shape, stride(), dtype, is_cuda, get_device(), is_cpu); the
 * package registers torch.Tensor and the dtype objects with setup().
 *
 * call() returns NotImplemented, before any C call, for what it does not take: a non-tensor, an
 * unknown dtype or device, more than MAX_RANK dimensions, an option of an unusual type. The
 * package then runs the DLPack path, which raises the error it always raised; errors are thus
 * written in one place. A status from the library becomes ValueError (invalid argument: nothing
 * was written) or RuntimeError, carrying tileattn_last_error(), as on the DLPack path.
 */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "attention/capi/tileattn.h"

/* Bumped whenever call(), bind() or setup() change; the package compares it with its own. */
#define FASTPATH_VERSION 1

enum { MAX_ARGS = 16, MAX_RANK = 8, MAX_DTYPES = 8 };

typedef union {
  const DLTensor* tensor;
  int32_t i32;
} CArg;

/* One entry point of tileattn.h: its symbol, its arguments before options and stream ('t' a
 * tensor, None passing NULL; 'i' an int32), and a call with its exact C type (__typeof__ of the
 * declaration in tileattn.h: a signature change there breaks this build, not a call). */
typedef struct {
  const char* name;
  const char* kinds;
  tileattn_status (*invoke)(void* fn, const CArg* a, const tileattn_options* o, void* s);
} EntryPoint;

#define FN(entry) ((__typeof__(&entry))fn)
#define T(i) a[i].tensor
#define I(i) a[i].i32

static tileattn_status invoke_fwd(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_fwd)(T(0), T(1), T(2), T(3), T(4), o, s);
}
static tileattn_status invoke_fwd_qkvpacked(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_fwd_qkvpacked)(T(0), T(1), T(2), o, s);
}
static tileattn_status invoke_fwd_kvpacked(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_fwd_kvpacked)(T(0), T(1), T(2), T(3), o, s);
}
static tileattn_status invoke_fwd_varlen(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_fwd_varlen)(T(0), T(1), T(2), T(3), T(4), I(5), I(6), T(7), T(8), o, s);
}
static tileattn_status invoke_fwd_varlen_qkvpacked(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_fwd_varlen_qkvpacked)(T(0), T(1), I(2), T(3), T(4), o, s);
}
static tileattn_status invoke_bwd(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_bwd)(T(0), T(1), T(2), T(3), T(4), T(5), T(6), T(7), T(8), o, s);
}
static tileattn_status invoke_bwd_qkvpacked(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_bwd_qkvpacked)(T(0), T(1), T(2), T(3), T(4), o, s);
}
static tileattn_status invoke_bwd_kvpacked(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_bwd_kvpacked)(T(0), T(1), T(2), T(3), T(4), T(5), T(6), o, s);
}
static tileattn_status invoke_bwd_varlen(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_bwd_varlen)(T(0), T(1), T(2), T(3), T(4), T(5), T(6), T(7), I(8), I(9), T(10), T(11), T(12), o, s);
}
static tileattn_status invoke_bwd_varlen_qkvpacked(void* fn, const CArg* a, const tileattn_options* o, void* s) {
  return FN(tileattn_bwd_varlen_qkvpacked)(T(0), T(1), T(2), T(3), T(4), I(5), T(6), o, s);
}

/* The order is the index call() takes (the package maps names through ENTRY_POINTS). */
static const EntryPoint kEntryPoints[] = {
    {"tileattn_fwd", "ttttt", invoke_fwd},
    {"tileattn_fwd_qkvpacked", "ttt", invoke_fwd_qkvpacked},
    {"tileattn_fwd_kvpacked", "tttt", invoke_fwd_kvpacked},
    {"tileattn_fwd_varlen", "tttttiitt", invoke_fwd_varlen},
    {"tileattn_fwd_varlen_qkvpacked", "ttitt", invoke_fwd_varlen_qkvpacked},
    {"tileattn_bwd", "ttttttttt", invoke_bwd},
    {"tileattn_bwd_qkvpacked", "ttttt", invoke_bwd_qkvpacked},
    {"tileattn_bwd_kvpacked", "ttttttt", invoke_bwd_kvpacked},
    {"tileattn_bwd_varlen", "ttttttttiittt", invoke_bwd_varlen},
    {"tileattn_bwd_varlen_qkvpacked", "tttttit", invoke_bwd_varlen_qkvpacked},
};
enum { kNumEntryPoints = sizeof kEntryPoints / sizeof kEntryPoints[0] };

/* A loaded library: the addresses of its entry points (bind()), kept in a capsule. */
typedef struct {
  void* fn[kNumEntryPoints];
  const char* (*last_error)(void);
} Library;

static const char kLibraryCapsule[] = "tileattn._fastpath.Library";

/* setup()'s registrations: torch.Tensor and the dtypes the C ABI takes, with their DLPack code. */
static PyObject* tensor_type;
static int num_dtypes;
static PyObject* dtype_objects[MAX_DTYPES];
static DLDataType dtype_codes[MAX_DTYPES];

/* Interned attribute names (module init). */
static PyObject *s_data_ptr, *s_shape, *s_stride, *s_dtype, *s_is_cuda, *s_is_cpu, *s_get_device;

/* ---- reading a torch tensor ------------------------------------------------------------------*/

/* An attribute or method result as a truth value / integer; -1 with an exception on failure. */
static int attr_truth(PyObject* x, PyObject* name) {
  PyObject* v = PyObject_GetAttr(x, name);
  if (v == NULL) return -1;
  int r = PyObject_IsTrue(v);
  Py_DECREF(v);
  return r;
}

/* Fills `t` (shape and strides in dims[0..MAX_RANK), dims[MAX_RANK..)) from torch tensor `x`.
 * 1: done; 0: not taken here (the DLPack path decides); -1: a Python exception is set. */
static int describe(PyObject* x, DLTensor* t, int64_t* dims) {
  int is_tensor = PyObject_IsInstance(x, tensor_type);
  if (is_tensor <= 0) return is_tensor;

  PyObject* dtype = PyObject_GetAttr(x, s_dtype);
  if (dtype == NULL) return -1;
  int d = 0;
  while (d < num_dtypes && dtype_objects[d] != dtype) ++d;
  Py_DECREF(dtype);
  if (d == num_dtypes) return 0;

  int is_cuda = attr_truth(x, s_is_cuda);
  if (is_cuda < 0) return -1;
  long device_id = 0;
  if (is_cuda) {
    PyObject* id = PyObject_CallMethodObjArgs(x, s_get_device, NULL);
    if (id == NULL) return -1;
    device_id = PyLong_AsLong(id);
    Py_DECREF(id);
    if (device_id == -1 && PyErr_Occurred()) return -1;
  } else {
    int is_cpu = attr_truth(x, s_is_cpu);
    if (is_cpu < 0 && PyErr_ExceptionMatches(PyExc_AttributeError)) {  /* a torch without is_cpu */
      PyErr_Clear();
      return 0;
    }
    if (is_cpu <= 0) return is_cpu;
  }

  PyObject* ptr = PyObject_CallMethodObjArgs(x, s_data_ptr, NULL);
  if (ptr == NULL) return -1;
  void* data = PyLong_AsVoidPtr(ptr);
  Py_DECREF(ptr);
  if (data == NULL && PyErr_Occurred()) return -1;

  int result = -1;
  PyObject* shape = PyObject_GetAttr(x, s_shape);
  PyObject* strides = shape ? PyObject_CallMethodObjArgs(x, s_stride, NULL) : NULL;
  if (strides != NULL) {
    Py_ssize_t n = PyTuple_Check(shape) && PyTuple_Check(strides) ? PyTuple_Size(shape) : -1;
    if (n < 0 || n > MAX_RANK || PyTuple_Size(strides) != n) {
      result = 0;
    } else {
      result = 1;
      for (Py_ssize_t i = 0; i < n && result == 1; ++i) {
        dims[i] = PyLong_AsLongLong(PyTuple_GetItem(shape, i));
        dims[MAX_RANK + i] = PyLong_AsLongLong(PyTuple_GetItem(strides, i));
        if (PyErr_Occurred()) result = -1;
      }
      memset(t, 0, sizeof *t);
      t->data = data;
      t->device.device_type = is_cuda ? kDLCUDA : kDLCPU;
      t->device.device_id = (int32_t)device_id;
      t->ndim = (int32_t)n;
      t->dtype = dtype_codes[d];
      t->shape = dims;
      t->strides = dims + MAX_RANK;
    }
  }
  Py_XDECREF(shape);
  Py_XDECREF(strides);
  return result;
}

/* ---- options ----------------------------------------------------------------------------------*/

/* An int or a float as a double (1), anything else not taken here (0). */
static int plain_number(PyObject* x, double* value) {
  if (!PyFloat_Check(x) && !PyLong_Check(x)) return 0;
  *value = PyFloat_AsDouble(x);
  return *value == -1.0 && PyErr_Occurred() ? -1 : 1;
}

/* An int that fits int32 (1), anything else not taken here (0). */
static int plain_int32(PyObject* x, int32_t* value) {
  if (!PyLong_Check(x)) return 0;
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
  if (v == -1 && PyErr_Occurred()) return -1;
  if (overflow || v < INT32_MIN || v > INT32_MAX) return 0;
  *value = (int32_t)v;
  return 1;
}

/* The package's options tuple (softmax_scale, causal, window_size, softcap, alibi_slopes,
 * deterministic) as tileattn_options; alibi_slopes is described into `alibi`. */
static int read_options(PyObject* t, tileattn_options* o, DLTensor* alibi, int64_t* alibi_dims) {
  if (!PyTuple_Check(t) || PyTuple_Size(t) != 6) {
    PyErr_SetString(PyExc_TypeError, "_fastpath.call: options must be a tuple of 6");
    return -1;
  }
  PyObject* scale = PyTuple_GetItem(t, 0);
  PyObject* window = PyTuple_GetItem(t, 2);
  PyObject* slopes = PyTuple_GetItem(t, 4);
  int r;
  memset(o, 0, sizeof *o);
  if (scale != Py_None) {
    if ((r = plain_number(scale, &o->softmax_scale)) <= 0) return r;
    o->has_softmax_scale = 1;
  }
  if ((r = PyObject_IsTrue(PyTuple_GetItem(t, 1))) < 0) return r;
  o->causal = r;
  if (!PyTuple_Check(window) || PyTuple_Size(window) != 2) return 0;
  if ((r = plain_int32(PyTuple_GetItem(window, 0), &o->window_left)) <= 0) return r;
  if ((r = plain_int32(PyTuple_GetItem(window, 1), &o->window_right)) <= 0) return r;
  if ((r = plain_number(PyTuple_GetItem(t, 3), &o->softcap)) <= 0) return r;
  if (slopes != Py_None) {
    if ((r = describe(slopes, alibi, alibi_dims)) <= 0) return r;
    o->alibi_slopes = alibi;
  }
  if ((r = PyObject_IsTrue(PyTuple_GetItem(t, 5))) < 0) return r;
  o->deterministic = r;
  return 1;
}

/* ---- module functions -------------------------------------------------------------------------*/

static PyObject* raise_status(const Library* lib, const EntryPoint* e, tileattn_status status) {
  const char* message = lib->last_error();
  PyObject* text = PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "replace");
  if (text == NULL) return NULL;
  if (status == TILEATTN_INVALID_ARGUMENT) {
    PyErr_SetObject(PyExc_ValueError, text);
  } else {
    PyObject* full = PyUnicode_FromFormat("%s: %U", e->name, text);
    if (full != NULL) PyErr_SetObject(PyExc_RuntimeError, full);
    Py_XDECREF(full);
  }
  Py_DECREF(text);
  return NULL;
}

/* call(library, entry, args, options, stream): None once the entry point returned TILEATTN_OK,
 * NotImplemented when an argument is not taken here (nothing was called). */
static PyObject* fastpath_call(PyObject* self, PyObject* py_args) {
  PyObject *capsule, *args, *options, *py_stream;
  int entry;
  if (!PyArg_ParseTuple(py_args, "OiO!OO", &capsule, &entry, &PyTuple_Type, &args, &options, &py_stream)) return NULL;
  const Library* lib = (const Library*)PyCapsule_GetPointer(capsule, kLibraryCapsule);
  if (lib == NULL) return NULL;
  if (tensor_type == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "_fastpath.call: setup() was not called");
    return NULL;
  }
  if (entry < 0 || entry >= kNumEntryPoints) {
    PyErr_Format(PyExc_ValueError, "_fastpath.call: no entry point %d", entry);
    return NULL;
  }
  const EntryPoint* e = &kEntryPoints[entry];
  const Py_ssize_t n = (Py_ssize_t)strlen(e->kinds);
  if (PyTuple_Size(args) != n) {
    PyErr_Format(PyExc_TypeError, "_fastpath.call: %s takes %zd arguments, got %zd", e->name, n, PyTuple_Size(args));
    return NULL;
  }

  DLTensor tensors[MAX_ARGS + 1];  /* the last one is alibi_slopes */
  int64_t dims[MAX_ARGS + 1][2 * MAX_RANK];
  CArg c_args[MAX_ARGS];
  int r = 1;
  for (Py_ssize_t i = 0; i < n && r == 1; ++i) {
    PyObject* x = PyTuple_GetItem(args, i);
    if (e->kinds[i] == 'i') {
      r = plain_int32(x, &c_args[i].i32);
    } else if (x == Py_None) {
      c_args[i].tensor = NULL;
    } else {
      r = describe(x, &tensors[i], dims[i]);
      c_args[i].tensor = &tensors[i];
    }
  }
  tileattn_options o;
  if (r == 1) r = read_options(options, &o, &tensors[MAX_ARGS], dims[MAX_ARGS]);
  void* stream = NULL;
  if (r == 1 && py_stream != Py_None) {
    stream = PyLong_AsVoidPtr(py_stream);
    if (stream == NULL && PyErr_Occurred()) r = -1;
  }
  if (r < 0) return NULL;
  if (r == 0) Py_RETURN_NOTIMPLEMENTED;

  tileattn_status status;
  /* The GIL is released as ctypes releases it: the CPU library runs for milliseconds. */
  Py_BEGIN_ALLOW_THREADS
  status = e->invoke(lib->fn[entry], c_args, &o, stream);
  Py_END_ALLOW_THREADS
  if (status != TILEATTN_OK) return raise_status(lib, e, status);
  Py_RETURN_NONE;
}

static void free_library(PyObject* capsule) { PyMem_Free(PyCapsule_GetPointer(capsule, kLibraryCapsule)); }

/* An address from `symbols` (a dict name -> int), or NULL with an exception. */
static void* symbol(PyObject* symbols, const char* name) {
  PyObject* address = PyDict_GetItemString(symbols, name);
  if (address == NULL) {
    PyErr_Format(PyExc_RuntimeError, "_fastpath.bind: the library lacks %s", name);
    return NULL;
  }
  return PyLong_AsVoidPtr(address);
}

/* bind(symbols): a Library of the loaded C ABI whose symbols' addresses `symbols` maps (every
 * name of SYMBOLS); refused unless it is the ABI version this module was compiled against. */
static PyObject* fastpath_bind(PyObject* self, PyObject* py_args) {
  PyObject* symbols;
  if (!PyArg_ParseTuple(py_args, "O!", &PyDict_Type, &symbols)) return NULL;
  int32_t (*abi_version)(void) = (int32_t(*)(void))symbol(symbols, "tileattn_abi_version");
  if (abi_version == NULL) return NULL;
  if (abi_version() != TILEATTN_ABI_VERSION) {
    PyErr_Format(PyExc_RuntimeError, "_fastpath.bind: the library has C ABI version %d, this module was built for %d",
                 (int)abi_version(), TILEATTN_ABI_VERSION);
    return NULL;
  }
  Library* lib = (Library*)PyMem_Malloc(sizeof(Library));
  if (lib == NULL) return PyErr_NoMemory();
  lib->last_error = (const char* (*)(void))symbol(symbols, "tileattn_last_error");
  for (int i = 0; i < kNumEntryPoints && lib->last_error != NULL; ++i) {
    lib->fn[i] = symbol(symbols, kEntryPoints[i].name);
    if (lib->fn[i] == NULL) lib->last_error = NULL;
  }
  if (lib->last_error == NULL) {
    PyMem_Free(lib);
    return NULL;
  }
  PyObject* capsule = PyCapsule_New(lib, kLibraryCapsule, free_library);
  if (capsule == NULL) PyMem_Free(lib);
  return capsule;
}

/* setup(tensor_type, dtypes): torch.Tensor and ((dtype, DLPack code, bits), ...). */
static PyObject* fastpath_setup(PyObject* self, PyObject* py_args) {
  PyObject *type, *dtypes;
  if (!PyArg_ParseTuple(py_args, "OO!", &type, &PyTuple_Type, &dtypes)) return NULL;
  const Py_ssize_t n = PyTuple_Size(dtypes);
  if (n > MAX_DTYPES) {
    PyErr_Format(PyExc_ValueError, "_fastpath.setup: at most %d dtypes", (int)MAX_DTYPES);
    return NULL;
  }
  PyObject* objects[MAX_DTYPES];
  DLDataType codes[MAX_DTYPES];
  for (Py_ssize_t i = 0; i < n; ++i) {
    int code, bits;
    if (!PyArg_ParseTuple(PyTuple_GetItem(dtypes, i), "Oii", &objects[i], &code, &bits)) return NULL;
    codes[i].code = (uint8_t)code;
    codes[i].bits = (uint8_t)bits;
    codes[i].lanes = 1;
  }
  Py_INCREF(type);
  Py_XDECREF(tensor_type);
  tensor_type = type;
  for (int i = 0; i < num_dtypes; ++i) Py_DECREF(dtype_objects[i]);
  for (Py_ssize_t i = 0; i < n; ++i) {
    Py_INCREF(objects[i]);
    dtype_objects[i] = objects[i];
    dtype_codes[i] = codes[i];
  }
  num_dtypes = (int)n;
  Py_RETURN_NONE;
}

static PyMethodDef kMethods[] = {
    {"call", fastpath_call, METH_VARARGS, "call(library, entry, args, options, stream) -> None or NotImplemented"},
    {"bind", fastpath_bind, METH_VARARGS, "bind({symbol: address}) -> library"},
    {"setup", fastpath_setup, METH_VARARGS, "setup(tensor_type, ((dtype, code, bits), ...))"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef kModule = {PyModuleDef_HEAD_INIT, "_fastpath", NULL, -1, kMethods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__fastpath(void) {
  PyObject* m = PyModule_Create(&kModule);
  if (m == NULL) return NULL;
  PyObject* names = PyTuple_New(kNumEntryPoints);
  PyObject* symbols = PyTuple_New(kNumEntryPoints + 2);
  PyObject* kinds = PyDict_New();  /* name -> kinds, for the package's test against its own table */
  if (names == NULL || symbols == NULL || kinds == NULL) goto fail;
  for (int i = 0; i < kNumEntryPoints; ++i) {
    PyTuple_SetItem(names, i, PyUnicode_FromString(kEntryPoints[i].name));
    PyTuple_SetItem(symbols, i, PyUnicode_FromString(kEntryPoints[i].name));
    PyObject* k = PyUnicode_FromString(kEntryPoints[i].kinds);
    if (k == NULL || PyDict_SetItemString(kinds, kEntryPoints[i].name, k) < 0) {
      Py_XDECREF(k);
      goto fail;
    }
    Py_DECREF(k);
  }
  PyTuple_SetItem(symbols, kNumEntryPoints, PyUnicode_FromString("tileattn_abi_version"));
  PyTuple_SetItem(symbols, kNumEntryPoints + 1, PyUnicode_FromString("tileattn_last_error"));
  if (PyErr_Occurred() || PyModule_AddObject(m, "ENTRY_POINTS", names) < 0) goto fail;
  names = NULL;
  if (PyModule_AddObject(m, "SYMBOLS", symbols) < 0) goto fail;
  symbols = NULL;
  if (PyModule_AddObject(m, "ARGUMENT_KINDS", kinds) < 0) goto fail;
  kinds = NULL;
  if (PyModule_AddIntConstant(m, "VERSION", FASTPATH_VERSION) < 0 ||
      PyModule_AddIntConstant(m, "ABI_VERSION", TILEATTN_ABI_VERSION) < 0)
    goto fail;
  s_data_ptr = PyUnicode_InternFromString("data_ptr");
  s_shape = PyUnicode_InternFromString("shape");
  s_stride = PyUnicode_InternFromString("stride");
  s_dtype = PyUnicode_InternFromString("dtype");
  s_is_cuda = PyUnicode_InternFromString("is_cuda");
  s_is_cpu = PyUnicode_InternFromString("is_cpu");
  s_get_device = PyUnicode_InternFromString("get_device");
  if (PyErr_Occurred()) goto fail;
  return m;
fail:
  Py_XDECREF(names);
  Py_XDECREF(symbols);
  Py_XDECREF(kinds);
  Py_DECREF(m);
  return NULL;
}
