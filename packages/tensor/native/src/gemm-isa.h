/*
 * One instruction set's single-precision GEMM, included once per ISA by gemm.c with the
 * vector macros below defined (VEC, VLEN, MR, NR, ISA_TARGET, ISA_NAME(x) and the loads).
 * Every function carries ISA_TARGET (`__attribute__((target(...)))`), so the file compiles
 * without -march and gemm.c picks a set at run time with __builtin_cpu_supports.
 *
 * C (M x N, row stride ldc) = A (M x K) @ B (K x N) [+ bias (N)], A(i, k) at a[i*aRow + k*aCol],
 * B(k, j) at b[k*bRow + j*bCol] in float32, float16 or bfloat16 (bKind), C float32.
 * GotoBLAS/BLIS layout: K in blocks of KC, N in blocks of NC, M in blocks of MC; each block of
 * B is packed into panels of NR columns (widened to float32 as it is packed), each block of A
 * into panels of MR rows, and an MR x NR micro-kernel keeps its tile of C in registers:
 * per k, NR/VLEN vector loads of B, MR broadcasts of A and MR*NR/VLEN fused multiply-adds.
 * Small M (decoding's matvec) skips packing and streams B once (gemv_rows / gemv_cols).
 */

typedef struct { VEC v[NR / VLEN]; } ISA_NAME(row);

/* NR consecutive B elements at p (float32 or 16-bit) as float32 vectors. */
static ISA_TARGET inline VEC ISA_NAME(load_b)(const void *p, int kind) {
  if (kind == KIND_F16) return LOAD_F16(p);
  if (kind == KIND_BF16) return LOAD_BF16(p);
  return LOAD_F32(p);
}

/* out[(k * NR) + c] = B(k0 + k, j0 + c) for c < nr (zero past nr), k < kc. */
static ISA_TARGET void ISA_NAME(pack_b)(const gemm_args *g, int64_t k0, int64_t kc, int64_t j0, int64_t nr, float *out) {
  const int size = element_bytes(g->bKind);
  if (g->bCol == 1 && nr == NR) {
    for (int64_t k = 0; k < kc; k++) {
      const char *row = g->b + size * ((k0 + k) * g->bRow + j0);
      for (int v = 0; v < NR / VLEN; v++) STORE(out + k * NR + v * VLEN, ISA_NAME(load_b)(row + size * v * VLEN, g->bKind));
    }
    return;
  }
  int64_t c = 0;
  if (g->bRow == 1) {
    // A transposed weight: whole groups of 8 columns by register transposes, the rest below.
    for (; c + 8 <= nr; c += 8) {
      const int64_t done = pack_columns8(g, k0, kc, j0 + c, out + c, NR);
      for (int64_t k = done; k < kc; k++) for (int64_t t = 0; t < 8; t++) out[k * NR + c + t] = read_b(g, (j0 + c + t) * g->bCol + k0 + k);
    }
  }
  for (; c < NR; c++) {
    if (c >= nr) { for (int64_t k = 0; k < kc; k++) out[k * NR + c] = 0; continue; }
    const int64_t col = (j0 + c) * g->bCol;
    for (int64_t k = 0; k < kc; k++) out[k * NR + c] = read_b(g, (k0 + k) * g->bRow + col);
  }
}

/* out[k * MR + r] = A(i0 + r, k0 + k) for r < mr (zero past mr). */
static ISA_TARGET void ISA_NAME(pack_a)(const gemm_args *g, int64_t i0, int64_t mr, int64_t k0, int64_t kc, float *out) {
  for (int64_t r = 0; r < MR; r++) {
    if (r >= mr) { for (int64_t k = 0; k < kc; k++) out[k * MR + r] = 0; continue; }
    const float *row = g->a + (i0 + r) * g->aRow + k0 * g->aCol;
    if (g->aCol == 1) for (int64_t k = 0; k < kc; k++) out[k * MR + r] = row[k];
    else for (int64_t k = 0; k < kc; k++) out[k * MR + r] = row[k * g->aCol];
  }
}

/*
 * C tile (mr x nr at c) = or += A panel @ B panel over kc. `first`: the first K block, which
 * writes C (plus the bias) instead of adding to it.
 */
static ISA_TARGET void ISA_NAME(micro)(int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc,
    int64_t mr, int64_t nr, int first, const float *bias) {
  VEC acc[MR][NR / VLEN];
  for (int i = 0; i < MR; i++) for (int v = 0; v < NR / VLEN; v++) acc[i][v] = ZERO();
  for (int64_t k = 0; k < kc; k++) {
    VEC b[NR / VLEN];
    for (int v = 0; v < NR / VLEN; v++) b[v] = LOAD_F32(pb + v * VLEN);
    for (int i = 0; i < MR; i++) {
      const VEC a = SET1(pa[i]);
      for (int v = 0; v < NR / VLEN; v++) acc[i][v] = FMA(a, b[v], acc[i][v]);
    }
    pa += MR;
    pb += NR;
  }
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; i++) {
      for (int v = 0; v < NR / VLEN; v++) {
        float *p = c + i * ldc + v * VLEN;
        const VEC base = first ? (bias ? LOAD_F32(bias + v * VLEN) : ZERO()) : LOAD_F32(p);
        STORE(p, ADD(acc[i][v], base));
      }
    }
    return;
  }
  float tile[MR * NR];
  for (int i = 0; i < MR; i++) for (int v = 0; v < NR / VLEN; v++) STORE(tile + i * NR + v * VLEN, acc[i][v]);
  for (int64_t i = 0; i < mr; i++) {
    for (int64_t j = 0; j < nr; j++) {
      float *p = c + i * ldc + j;
      *p = tile[i * NR + j] + (first ? (bias ? bias[j] : 0.0f) : *p);
    }
  }
}

/* The packed GEMM over the whole of g (one thread's part). */
static ISA_TARGET void ISA_NAME(gemm_packed)(const gemm_args *g) {
  float *pa = scratch_a(MC * KC);
  float *pb = scratch_b(KC * NC);
  for (int64_t j0 = 0; j0 < g->N; j0 += NC) {
    const int64_t nc = g->N - j0 < NC ? g->N - j0 : NC;
    for (int64_t k0 = 0; k0 < g->K; k0 += KC) {
      const int64_t kc = g->K - k0 < KC ? g->K - k0 : KC;
      for (int64_t jr = 0; jr < nc; jr += NR) ISA_NAME(pack_b)(g, k0, kc, j0 + jr, nc - jr < NR ? nc - jr : NR, pb + jr * kc);
      for (int64_t i0 = 0; i0 < g->M; i0 += MC) {
        const int64_t mc = g->M - i0 < MC ? g->M - i0 : MC;
        for (int64_t ir = 0; ir < mc; ir += MR) ISA_NAME(pack_a)(g, i0 + ir, mc - ir < MR ? mc - ir : MR, k0, kc, pa + ir * kc);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const float *bias = g->bias ? g->bias + j0 + jr : NULL;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            ISA_NAME(micro)(kc, pa + ir * kc, pb + jr * kc, g->c + (i0 + ir) * g->ldc + j0 + jr, g->ldc,
              mc - ir < MR ? mc - ir : MR, nc - jr < NR ? nc - jr : NR, k0 == 0, bias);
          }
        }
      }
    }
  }
}

/*
 * Small M, B row-major (bCol == 1): C rows = A rows @ B. B is read as it lies, a strip of up to
 * GEMV_STRIP columns of four rows at a time (long sequential runs: the prefetchers keep up, and
 * decoding is bound by these bytes), into accumulators for the strip that stay in L1/L2; four
 * rows per pass make one load and store of an accumulator serve four multiply-adds.
 */
static ISA_TARGET void ISA_NAME(gemv_rows)(const gemm_args *g) {
  const int size = element_bytes(g->bKind);
  float *acc = scratch_b(SMALL_M * GEMV_STRIP);
  for (int64_t j0 = 0; j0 < g->N; j0 += GEMV_STRIP) {
    const int64_t w = g->N - j0 < GEMV_STRIP ? g->N - j0 : GEMV_STRIP;
    const int64_t wv = w / VLEN * VLEN;
    for (int64_t i = 0; i < g->M; i++) for (int64_t j = 0; j < w; j++) acc[i * GEMV_STRIP + j] = g->bias ? g->bias[j0 + j] : 0.0f;
    int64_t k = 0;
    for (; k + 4 <= g->K; k += 4) {
      const char *r0 = g->b + size * (k * g->bRow + j0);
      const char *r1 = r0 + size * g->bRow, *r2 = r1 + size * g->bRow, *r3 = r2 + size * g->bRow;
      for (int64_t i = 0; i < g->M; i++) {
        const float *ai = g->a + i * g->aRow + k * g->aCol;
        const float s0 = ai[0], s1 = ai[g->aCol], s2 = ai[2 * g->aCol], s3 = ai[3 * g->aCol];
        const VEC a0 = SET1(s0), a1 = SET1(s1), a2 = SET1(s2), a3 = SET1(s3);
        float *out = acc + i * GEMV_STRIP;
        int64_t j = 0;
        for (; j < wv; j += VLEN) {
          VEC v = FMA(a0, ISA_NAME(load_b)(r0 + size * j, g->bKind), LOAD_F32(out + j));
          v = FMA(a1, ISA_NAME(load_b)(r1 + size * j, g->bKind), v);
          v = FMA(a2, ISA_NAME(load_b)(r2 + size * j, g->bKind), v);
          STORE(out + j, FMA(a3, ISA_NAME(load_b)(r3 + size * j, g->bKind), v));
        }
        for (; j < w; j++) {
          const int64_t e = k * g->bRow + j0 + j;
          out[j] += s0 * read_b(g, e) + s1 * read_b(g, e + g->bRow) + s2 * read_b(g, e + 2 * g->bRow) + s3 * read_b(g, e + 3 * g->bRow);
        }
      }
    }
    for (; k < g->K; k++) {
      const char *row = g->b + size * (k * g->bRow + j0);
      for (int64_t i = 0; i < g->M; i++) {
        const float ak = g->a[i * g->aRow + k * g->aCol];
        const VEC a = SET1(ak);
        float *out = acc + i * GEMV_STRIP;
        int64_t j = 0;
        for (; j < wv; j += VLEN) STORE(out + j, FMA(a, ISA_NAME(load_b)(row + size * j, g->bKind), LOAD_F32(out + j)));
        for (; j < w; j++) out[j] += ak * read_b(g, k * g->bRow + j0 + j);
      }
    }
    for (int64_t i = 0; i < g->M; i++) memcpy(g->c + i * g->ldc + j0, acc + i * GEMV_STRIP, sizeof(float) * w);
  }
}

/*
 * Small M, B column-major (bRow == 1, a transposed weight such as the lm head): each C element
 * is a dot product of a row of A (copied to be contiguous) with a contiguous column of B, in four
 * partial sums per row: with one, every FMA waited for the previous one's result (4 cycles), and
 * a 16-bit head ran at that latency rather than at the speed memory delivers its bytes.
 */
static ISA_TARGET void ISA_NAME(gemv_cols)(const gemm_args *g) {
  const int size = element_bytes(g->bKind);
  float *rows = scratch_a(SMALL_M * g->K + VLEN);
  for (int64_t i = 0; i < g->M; i++) for (int64_t k = 0; k < g->K; k++) rows[i * g->K + k] = g->a[i * g->aRow + k * g->aCol];
  const int64_t kv = g->K / VLEN * VLEN, kv4 = g->K / (4 * VLEN) * (4 * VLEN);
  for (int64_t j = 0; j < g->N; j++) {
    const char *col = g->b + size * j * g->bCol;
    VEC acc[SMALL_M][4];
    for (int64_t i = 0; i < g->M; i++) for (int u = 0; u < 4; u++) acc[i][u] = ZERO();
    int64_t k = 0;
    for (; k < kv4; k += 4 * VLEN) {
      for (int u = 0; u < 4; u++) {
        const VEC b = ISA_NAME(load_b)(col + size * (k + u * VLEN), g->bKind);
        for (int64_t i = 0; i < g->M; i++) acc[i][u] = FMA(LOAD_F32(rows + i * g->K + k + u * VLEN), b, acc[i][u]);
      }
    }
    for (; k < kv; k += VLEN) {
      const VEC b = ISA_NAME(load_b)(col + size * k, g->bKind);
      for (int64_t i = 0; i < g->M; i++) acc[i][0] = FMA(LOAD_F32(rows + i * g->K + k), b, acc[i][0]);
    }
    for (int64_t i = 0; i < g->M; i++) {
      float sum = HSUM(ADD(ADD(acc[i][0], acc[i][1]), ADD(acc[i][2], acc[i][3])));
      for (int64_t t = k; t < g->K; t++) sum += rows[i * g->K + t] * read_b(g, t + j * g->bCol);
      g->c[i * g->ldc + j] = sum + (g->bias ? g->bias[j] : 0.0f);
    }
  }
}

static ISA_TARGET void ISA_NAME(gemm)(const gemm_args *g) {
  if (g->M == 0 || g->N == 0) return;
  if (g->K == 0) { fill_bias(g); return; }
  if (g->M <= SMALL_M && g->bCol == 1) ISA_NAME(gemv_rows)(g);
  else if (g->M <= SMALL_M && g->bRow == 1) ISA_NAME(gemv_cols)(g);
  else ISA_NAME(gemm_packed)(g);
}
