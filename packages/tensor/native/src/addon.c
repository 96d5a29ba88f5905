/*
 * Node-API binding of the native kernels. The tensors live in the WebAssembly heap (a shared
 * WebAssembly.Memory): JavaScript passes a Uint8Array over the heap's whole buffer and byte
 * offsets into it, and the kernels work in place. napi_get_typedarray_info gives the data
 * pointer of a view whether its buffer is an ArrayBuffer or a SharedArrayBuffer
 * (napi_get_arraybuffer_info refuses a SharedArrayBuffer itself in Node 20).
 * Every operand's extent is checked against the view before anything is read or written.
 *
 *   sgemm(heap, [M, N, K, a, aRow, aCol, b, bRow, bCol, bKind, c, ldc, bias, batch, aBatch, bBatch, cBatch], threads)
 *   qgemv(heap, [format, M, N, nb, aq, ad, w, ws, c, ldc, bias, chunk], threads)   (qgemv.h)
 *   isa() -> "avx512" | "avx2" | null;  setIsa(name) -> boolean;  qgemvIsa() -> "avx512-vnni" | "avx2" | null
 *   hugePages(heap, offset, length) -> boolean
 */
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include "gemm.h"
#include "qgemv.h"

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

/*
 * (heap: Uint8Array, args: number[count], threads) -> the heap's bytes and length, the args as
 * whole numbers >= -1 (names[i] in the error otherwise) and threads; NULL after throwing.
 */
static char *read_call(napi_env env, napi_callback_info info, const char *fn, int count, const char *const *names,
                       double *v, size_t *length, int *threads) {
  size_t argc = 3;
  napi_value argv[3];
  char message[160];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_typed = false, is_array = false;
  if (argc < 3 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed
      || napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) {
    snprintf(message, sizeof message, "native %s: expected (heap: Uint8Array, args: number[%d], threads: number)", fn, count);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  napi_typedarray_type type;
  void *data;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, length, &data, NULL, NULL));
  if (type != napi_uint8_array) {
    snprintf(message, sizeof message, "native %s: the heap must be a Uint8Array", fn);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  for (uint32_t i = 0; i < (uint32_t)count; i++) {
    napi_value item;
    CHECK(napi_get_element(env, argv[1], i, &item));
    if (napi_get_value_double(env, item, &v[i]) != napi_ok || !(v[i] >= -1 && v[i] == (double)(int64_t)v[i])) {
      snprintf(message, sizeof message, "native %s: argument %s must be a whole number, not negative", fn, names[i]);
      napi_throw_range_error(env, NULL, message);
      return NULL;
    }
  }
  double t = 1;
  CHECK(napi_get_value_double(env, argv[2], &t));
  *threads = t < 1 ? 1 : (int)t;
  return data ? data : (char *)"";
}

static napi_value sgemm(napi_env env, napi_callback_info info) {
  double v[ARG_COUNT];
  size_t length;
  int threads;
  char *heap = read_call(env, info, "sgemm", ARG_COUNT, arg_names, v, &length, &threads);
  if (!heap) return NULL;
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
  const gemm_args g = {
    M, N, K, (const float *)(heap + (int64_t)v[ARG_A]), v[ARG_AROW], v[ARG_ACOL],
    heap + (int64_t)v[ARG_B], v[ARG_BROW], v[ARG_BCOL], bKind,
    (float *)(heap + (int64_t)v[ARG_C]), v[ARG_LDC], v[ARG_BIAS] >= 0 ? (const float *)(heap + (int64_t)v[ARG_BIAS]) : NULL,
  };
  gemm_batched(&g, batch, v[ARG_ABATCH], v[ARG_BBATCH], v[ARG_CBATCH], threads);
  return NULL;
}


enum { Q_FORMAT, Q_M, Q_N, Q_NB, Q_AQ, Q_AD, Q_W, Q_WS, Q_C, Q_LDC, Q_BIAS, Q_CHUNK, Q_COUNT };
static const char *q_names[Q_COUNT] = { "format", "M", "N", "nb", "aq", "ad", "w", "ws", "c", "ldc", "bias", "chunk" };

static napi_value qgemv_call(napi_env env, napi_callback_info info) {
  double v[Q_COUNT];
  size_t length;
  int threads;
  char *heap = read_call(env, info, "qgemv", Q_COUNT, q_names, v, &length, &threads);
  if (!heap) return NULL;
  for (int i = 0; i < Q_COUNT; i++) {
    if (v[i] < 0 && i != Q_BIAS) { napi_throw_range_error(env, NULL, "native qgemv: a size, offset or stride is negative"); return NULL; }
  }
  if (v[Q_FORMAT] > 1) { napi_throw_range_error(env, NULL, "native qgemv: format must be 0 (q8_0) or 1 (q4_0)"); return NULL; }
  const int64_t M = v[Q_M], N = v[Q_N], nb = v[Q_NB];
  const int bb = v[Q_FORMAT] == 0 ? 32 : 16;
  if (!inside(v[Q_AQ], 1, 1, 0, M, nb * QGEMV_ABLOCK, nb * QGEMV_ABLOCK, 1, length)
      || !inside(v[Q_AD], 4, 1, 0, M, nb, nb, 1, length)
      || !inside(v[Q_W], 1, 1, 0, N, nb * bb, nb * bb, 1, length)
      || !inside(v[Q_WS], 2, 1, 0, N, nb, nb, 1, length)
      || !inside(v[Q_C], 4, 1, 0, M, v[Q_LDC], N, 1, length)
      || (v[Q_BIAS] >= 0 && !inside(v[Q_BIAS], 4, 1, 0, 1, 0, N, 1, length))) {
    napi_throw_range_error(env, NULL, "native qgemv: an operand lies outside the heap");
    return NULL;
  }
  if (!qgemv_isa()) { napi_throw_error(env, NULL, "native qgemv: this CPU has neither AVX-512 nor AVX2+FMA+F16C"); return NULL; }
  const qgemv_args g = {
    (int)v[Q_FORMAT], M, N, nb, (const uint8_t *)(heap + (int64_t)v[Q_AQ]), (const float *)(heap + (int64_t)v[Q_AD]),
    (const uint8_t *)(heap + (int64_t)v[Q_W]), (const uint16_t *)(heap + (int64_t)v[Q_WS]), (float *)(heap + (int64_t)v[Q_C]),
    v[Q_LDC], v[Q_BIAS] >= 0 ? (const float *)(heap + (int64_t)v[Q_BIAS]) : NULL,
  };
  if (qgemv(&g, v[Q_CHUNK], threads) != 0) napi_throw_error(env, NULL, "native qgemv: out of memory for its block scales");
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

static napi_value q_isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  const char *name = qgemv_isa();
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

/*
 * hugePages(heap: Uint8Array, offset, length) -> boolean: asks Linux for transparent huge pages
 * (2 MB) over the whole 2 MB pages inside heap[offset, offset + length) (madvise MADV_HUGEPAGE;
 * the system setting "madvise", the default of many distributions, gives them only where
 * asked). A page fault there then maps 2 MB instead of 4 kB: in a virtual machine, where a
 * fault costs microseconds, loading weights into fresh heap memory is bound by faults (gpt2-xl
 * int8: 5-6 s of loading became 2.2; decoding measured no faster). Only pages wholly
 * inside the range: a huge page over bytes nobody writes would count 2 MB in the resident set.
 * false where the call does not exist (not Linux), the range holds no whole huge page, or the
 * system refused (THP "never").
 */
static napi_value huge_pages(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_typed = false;
  double offset = -1, bytes = -1;
  if (argc < 3 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed
      || napi_get_value_double(env, argv[1], &offset) != napi_ok || napi_get_value_double(env, argv[2], &bytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "native hugePages: expected (heap: Uint8Array, offset: number, length: number)");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  if (!(offset >= 0 && bytes >= 0 && offset + bytes <= (double)length)) {
    napi_throw_range_error(env, NULL, "native hugePages: the range lies outside the heap");
    return NULL;
  }
  bool done = false;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t)2 << 20;
  const uintptr_t from = (uintptr_t)data + (uintptr_t)offset;
  const uintptr_t start = (from + huge - 1) & ~(huge - 1);
  const uintptr_t end = (from + (uintptr_t)bytes) & ~(huge - 1);
  done = end > start && madvise((void *)start, end - start, MADV_HUGEPAGE) == 0;
#endif
  napi_value out;
  CHECK(napi_get_boolean(env, done, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    { "sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL },
    { "qgemv", NULL, qgemv_call, NULL, NULL, NULL, napi_enumerable, NULL },
    { "isa", NULL, isa, NULL, NULL, NULL, napi_enumerable, NULL },
    { "qgemvIsa", NULL, q_isa, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setIsa", NULL, set_isa, NULL, NULL, NULL, napi_enumerable, NULL },
    { "hugePages", NULL, huge_pages, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  CHECK(napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
