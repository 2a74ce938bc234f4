/* The C ABI from C (not C++): the header compiles as C, the CPU library links and runs, and a
 * bad call returns a status with a message naming the argument and writes nothing. */
#include <stdio.h>
#include <string.h>

#include "attention/capi/tileattn.h"

static int failures = 0;

static void expect(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

static DLTensor cpu_tensor(void* data, DLDataType dtype, int ndim, int64_t* shape) {
  DLTensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype = dtype;
  t.shape = shape;
  t.strides = NULL; /* contiguous */
  return t;
}

int main(void) {
  expect(tileattn_abi_version() == TILEATTN_ABI_VERSION, "abi version");
  expect(strcmp(tileattn_backend_name(), "interp") == 0, "backend name");

  /* q, k, v (1, 3, 1, 8) bf16 ones; out / lse filled with a marker. */
  uint16_t q[24], out[24];
  float lse[3];
  int i;
  for (i = 0; i < 24; ++i) { q[i] = 0x3f80; out[i] = 0x7777; } /* bf16 1.0 */
  for (i = 0; i < 3; ++i) lse[i] = -7.0f;
  int64_t shape[4] = {1, 3, 1, 8}, lse_shape[3] = {1, 1, 3}, bad_shape[4] = {1, 3, 1, 4};
  DLDataType bf16 = {kDLBfloat, 16, 1}, f32 = {kDLFloat, 32, 1};
  DLTensor tq = cpu_tensor(q, bf16, 4, shape), tout = cpu_tensor(out, bf16, 4, shape);
  DLTensor tlse = cpu_tensor(lse, f32, 3, lse_shape), tbad = cpu_tensor(q, bf16, 4, bad_shape);
  tileattn_options o = tileattn_default_options();
  expect(o.window_left == -1 && o.window_right == -1 && o.alibi_slopes == NULL, "default options");

  tileattn_status s = tileattn_fwd(&tq, &tbad, &tq, &tout, &tlse, &o, NULL);
  expect(s == TILEATTN_INVALID_ARGUMENT, "bad k is an invalid argument");
  expect(strstr(tileattn_last_error(), "k") != NULL, "the message names k");
  expect(out[0] == 0x7777 && lse[0] == -7.0f, "nothing written on error");
  s = tileattn_fwd(NULL, &tq, &tq, &tout, &tlse, &o, NULL);
  expect(s == TILEATTN_INVALID_ARGUMENT && strstr(tileattn_last_error(), "q: expected a tensor") != NULL, "NULL q");
  s = tileattn_fwd(&tq, &tq, &tq, &tout, &tlse, &o, (void*)1);
  expect(s == TILEATTN_INVALID_ARGUMENT && strstr(tileattn_last_error(), "stream") != NULL, "a stream on the CPU");

  s = tileattn_fwd(&tq, &tq, &tq, &tout, &tlse, &o, NULL);
  expect(s == TILEATTN_OK, tileattn_last_error());
  /* Every key equal: softmax is uniform, out = v = 1.0 and lse = log(3) + q.k*scale. */
  expect(out[0] == 0x3f80 && out[23] == 0x3f80, "out = 1");
  expect(lse[0] > 3.9f && lse[0] < 3.95f, "lse = log 3 + 8/sqrt(8)");
  if (failures == 0) printf("PASS\n");
  return failures ? 1 : 0;
}
