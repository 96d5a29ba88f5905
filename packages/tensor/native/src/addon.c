/*
 * Node-API binding of the native kernels. The tensors live in the WebAssembly heap (a shared
 * WebAssembly.Memory): JavaScript passes a Uint8Array over the heap's whole buffer and byte
 * offsets into it, and the kernels work in place. napi_get_typedarray_info gives the data
 * pointer of a view whether its buffer is an ArrayBuffer or a SharedArrayBuffer
 * (napi_get_arraybuffer_info refuses a SharedArrayBuffer itself in Node 20).
 * Every operand's extent is checked against the view before anything is read or written.
 *
 *   sgemm(heap, [M, N, K, a, aRow, aCol, b, bRow, bCol, bKind, c, ldc, bias, batch, aBatch, bBatch, cBatch], threads)
 *   isa() -> "avx512" | "avx2" | null;  setIsa(name) -> boolean
 */
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include "gemm.h"

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "native kernels: " #call " failed"); return NULL; } } while (0)

enum { ARG_M, ARG_N, ARG_K, ARG_A, ARG_AROW, ARG_ACOL, ARG_B, ARG_BROW, ARG_BCOL, ARG_BKIND, ARG_C, ARG_LDC, ARG_BIAS,
  ARG_BATCH, ARG_ABATCH, ARG_BBATCH, ARG_CBATCH, ARG_COUNT };
static const char *arg_names[ARG_COUNT] = { "M", "N", "K", "a", "aRow", "aCol", "b", "bRow", "bCol", "bKind", "c", "ldc", "bias",
  "batch", "aBatch", "bBatch", "cBatch" };

/* Whether a matrix at byte `at`, `bytes` per element, with these extents and strides lies in [0, length). */
static int inside(double at, int bytes, int64_t batch, int64_t batchStride, int64_t rows, int64_t rowStride, int64_t cols, int64_t colStride, size_t length) {
  if (at < 0 || (int64_t)at % bytes != 0) return 0;
  if (batch == 0 || rows == 0 || cols == 0) return at <= (double)length;
  const double last = (double)(batch - 1) * batchStride + (double)(rows - 1) * rowStride + (double)(cols - 1) * colStride;
  return at + bytes * (last + 1) <= (double)length;
}

static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_typed = false, is_array = false;
  if (argc < 3 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed
      || napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "native sgemm: expected (heap: Uint8Array, args: number[17], threads: number)");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  if (type != napi_uint8_array) { napi_throw_type_error(env, NULL, "native sgemm: the heap must be a Uint8Array"); return NULL; }
  double v[ARG_COUNT];
  for (uint32_t i = 0; i < ARG_COUNT; i++) {
    napi_value item;
    CHECK(napi_get_element(env, argv[1], i, &item));
    if (napi_get_value_double(env, item, &v[i]) != napi_ok || !(v[i] >= -1 && v[i] == (double)(int64_t)v[i])) {
      char message[96];
      snprintf(message, sizeof message, "native sgemm: argument %s must be a whole number, not negative", arg_names[i]);
      napi_throw_range_error(env, NULL, message);
      return NULL;
    }
  }
  double threads = 1;
  CHECK(napi_get_value_double(env, argv[2], &threads));
  const int64_t M = v[ARG_M], N = v[ARG_N], K = v[ARG_K], batch = v[ARG_BATCH];
  const int bKind = (int)v[ARG_BKIND];
  const int bBytes = bKind == KIND_F32 ? 4 : 2;
  for (int i = 0; i < ARG_COUNT; i++) {
    if (v[i] < 0 && i != ARG_BIAS) { napi_throw_range_error(env, NULL, "native sgemm: a size, offset or stride is negative"); return NULL; }
  }
  if (bKind < 0 || bKind > 2) { napi_throw_range_error(env, NULL, "native sgemm: bKind must be 0 (float32), 1 (float16) or 2 (bfloat16)"); return NULL; }
  if (!inside(v[ARG_A], 4, batch, v[ARG_ABATCH], M, v[ARG_AROW], K, v[ARG_ACOL], length)
      || !inside(v[ARG_B], bBytes, batch, v[ARG_BBATCH], K, v[ARG_BROW], N, v[ARG_BCOL], length)
      || !inside(v[ARG_C], 4, batch, v[ARG_CBATCH], M, v[ARG_LDC], N, 1, length)
      || (v[ARG_BIAS] >= 0 && !inside(v[ARG_BIAS], 4, 1, 0, 1, 0, N, 1, length))) {
    napi_throw_range_error(env, NULL, "native sgemm: an operand lies outside the heap");
    return NULL;
  }
  if (!gemm_isa()) { napi_throw_error(env, NULL, "native sgemm: this CPU has neither AVX-512 nor AVX2+FMA+F16C"); return NULL; }
  char *heap = data;
  const gemm_args g = {
    M, N, K, (const float *)(heap + (int64_t)v[ARG_A]), v[ARG_AROW], v[ARG_ACOL],
    heap + (int64_t)v[ARG_B], v[ARG_BROW], v[ARG_BCOL], bKind,
    (float *)(heap + (int64_t)v[ARG_C]), v[ARG_LDC], v[ARG_BIAS] >= 0 ? (const float *)(heap + (int64_t)v[ARG_BIAS]) : NULL,
  };
  gemm_batched(&g, batch, v[ARG_ABATCH], v[ARG_BBATCH], v[ARG_CBATCH], threads < 1 ? 1 : (int)threads);
  return NULL;
}

static napi_value isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  const char *name = gemm_isa();
  if (name) CHECK(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &out));
  else CHECK(napi_get_null(env, &out));
  return out;
}

static napi_value set_isa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[16] = "";
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "native setIsa: expected \"avx512\" or \"avx2\"");
    return NULL;
  }
  napi_value out;
  CHECK(napi_get_boolean(env, gemm_set_isa(name), &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    { "sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL },
    { "isa", NULL, isa, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setIsa", NULL, set_isa, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  CHECK(napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
