/*
 * One instruction set's build of the quantized matvec (qgemv.c includes this once per set, with
 * ISA_TARGET, ISA_NAME and DOT_U8S8 defined). Integer block products are exact whatever the
 * instructions; the float32 operations and their order are those of wasm/quant.ts's rows4 and
 * row1 (relaxed-SIMD build, whose multiply-add is fused on x86-64 with FMA).
 *
 * A block's activation (ABLOCK bytes, wasm quantizeActivations' rdot-1 layout): |q| (32 u8) at
 * 0, q (32 i8) at 64, 8 * sum(q) (i32) at 96. Weights: q8_0 32 signed bytes; q4_0 16 bytes, byte j
 * holding element j low and j + 16 high, stored + 8.
 */

/* A block's product as 8 i32 lanes whose sum is the exact sum over the block of w * q. */
static ISA_TARGET inline __m256i ISA_NAME(block)(int format, const uint8_t *p, const uint8_t *x) {
  if (format == Q8) {
    /* |q| (u8) times w with q's sign moved onto it (|w| <= 127: no overflow, 0 where q = 0) */
    const __m256i w = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)(x + 64)));
    return DOT_U8S8(_mm256_loadu_si256((const __m256i *)x), w);
  }
  /* the stored nibbles (0..15, u8) times q; the caller subtracts 8 * sum(q) */
  const __m128i v = _mm_loadu_si128((const __m128i *)p);
  const __m128i mask = _mm_set1_epi8(0x0f);
  const __m256i nibbles = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), mask), _mm_and_si128(v, mask));
  return DOT_U8S8(nibbles, _mm256_loadu_si256((const __m256i *)(x + 64)));
}

/* [sum(s0), sum(s1), sum(s2), sum(s3)] of four 8-lane sums. */
static ISA_TARGET inline __m128i ISA_NAME(hsum4)(__m256i s0, __m256i s1, __m256i s2, __m256i s3) {
  const __m256i t = _mm256_hadd_epi32(_mm256_hadd_epi32(s0, s1), _mm256_hadd_epi32(s2, s3));
  return _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

/* acc + the four rows' block sums s (exact) times their block-b scales times the activation's d. */
static ISA_TARGET inline __m128 ISA_NAME(scaled)(__m128 acc, __m128i s, const uint16_t *s0, int64_t nb, int64_t b, float d) {
  const __m128i h = _mm_setr_epi16((short)s0[b], (short)s0[nb + b], (short)s0[2 * nb + b], (short)s0[3 * nb + b], 0, 0, 0, 0);
  return _mm_fmadd_ps(_mm_cvtepi32_ps(s), _mm_mul_ps(_mm_cvtph_ps(h), _mm_set1_ps(d)), acc);
}

/* Prefetches PREFETCH bytes ahead in the four rows (once a cache line). */
#define PREFETCH4(p, rowBytes)                                                                      \
  for (int r = 0; r < 4; r++) _mm_prefetch((const char *)((p) + r * (rowBytes) + PREFETCH), PREFETCH_HINT)

/*
 * q4_0 blocks b and b + 1 of rows p + r * rowBytes (32 contiguous bytes a row): one load a row,
 * one unpack for both blocks, and one horizontal add that leaves block b's four row sums in the
 * low half and block b + 1's in the high half (the activations are gathered to match: qa holds
 * both blocks' elements 0-15, qb their elements 16-31). The same integers as two block() calls.
 */
static ISA_TARGET inline __m256i ISA_NAME(pair4)(const uint8_t *p, int64_t rowBytes, const uint8_t *x) {
  const __m256i qa = _mm256_loadu2_m128i((const __m128i *)(x + ABLOCK + 64), (const __m128i *)(x + 64));
  const __m256i qb = _mm256_loadu2_m128i((const __m128i *)(x + ABLOCK + 80), (const __m128i *)(x + 80));
  const __m256i mask = _mm256_set1_epi8(0x0f);
  __m256i s[4];
  for (int r = 0; r < 4; r++) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(p + r * rowBytes));
    s[r] = DOT_ACC(DOT_U8S8(_mm256_and_si256(v, mask), qa), _mm256_and_si256(_mm256_srli_epi16(v, 4), mask), qb);
  }
  return _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
}

/*
 * Four rows' block scales for blocks b..b+3, times the activation's: [b | b+1] and [b+2 | b+3],
 * each half the four rows (a 4 x 4 transpose of the float16 scales, then one conversion for
 * eight). d4 holds each block's activation scale four times (qgemv.c), so the products are the
 * ones `scaled` makes one block at a time.
 */
static ISA_TARGET inline void ISA_NAME(scales4)(const uint16_t *s0, int64_t nb, int64_t b, const float *d4, __m256 *y01, __m256 *y23) {
  const __m128i u01 = _mm_unpacklo_epi16(_mm_loadl_epi64((const __m128i *)(s0 + b)), _mm_loadl_epi64((const __m128i *)(s0 + nb + b)));
  const __m128i u23 = _mm_unpacklo_epi16(_mm_loadl_epi64((const __m128i *)(s0 + 2 * nb + b)), _mm_loadl_epi64((const __m128i *)(s0 + 3 * nb + b)));
  *y01 = _mm256_mul_ps(_mm256_cvtph_ps(_mm_unpacklo_epi32(u01, u23)), _mm256_loadu_ps(d4 + 4 * b));
  *y23 = _mm256_mul_ps(_mm256_cvtph_ps(_mm_unpackhi_epi32(u01, u23)), _mm256_loadu_ps(d4 + 4 * b + 8));
}

/* acc + block b's then block b + 1's products: x, y hold [b | b + 1] (the order of two `scaled` calls). */
static ISA_TARGET inline __m128 ISA_NAME(fma2)(__m128 acc, __m256 x, __m256 y) {
  acc = _mm_fmadd_ps(_mm256_castps256_ps128(x), _mm256_castps256_ps128(y), acc);
  return _mm_fmadd_ps(_mm256_extractf128_ps(x, 1), _mm256_extractf128_ps(y, 1), acc);
}

/*
 * Rows [n0, n0 + 4): wasm rows4 (block by block, the four rows' sums in one vector). Four blocks
 * at a time share one scale transpose and take the q4_0 corrections from o4 (qgemv.c).
 */
static ISA_TARGET void ISA_NAME(rows4)(const qgemv_args *g, const qgemv_pre *pre, int64_t n0) {
  const int64_t bb = g->format == Q8 ? 32 : 16, nb = g->nb, rowBytes = nb * bb;
  const uint8_t *w0 = g->w + n0 * rowBytes;
  const uint16_t *s0 = g->ws + n0 * nb;
  const __m128 bn = g->bias ? _mm_loadu_ps(g->bias + n0) : _mm_setzero_ps();
  for (int64_t m = 0; m < g->M; m++) {
    const uint8_t *xrow = g->aq + m * nb * ABLOCK;
    const float *drow = g->ad + m * nb, *d4 = pre->d4 + m * nb * 4;
    const int32_t *o4 = pre->o4 + m * nb * 4;
    __m128 acc = bn;
    int64_t b = 0;
    for (; b + 3 < nb; b += 4) {
      const uint8_t *p = w0 + b * bb, *x = xrow + b * ABLOCK;
      if (PREFETCH && m == 0) {
        PREFETCH4(p, rowBytes);
        if (bb == 32) PREFETCH4(p + 64, rowBytes);
      }
      __m256 y01, y23;
      ISA_NAME(scales4)(s0, nb, b, d4, &y01, &y23);
      if (g->format != Q8) {
        const __m256i t01 = _mm256_sub_epi32(ISA_NAME(pair4)(p, rowBytes, x), _mm256_loadu_si256((const __m256i *)(o4 + 4 * b)));
        const __m256i t23 = _mm256_sub_epi32(ISA_NAME(pair4)(p + 32, rowBytes, x + 2 * ABLOCK), _mm256_loadu_si256((const __m256i *)(o4 + 4 * b + 8)));
        acc = ISA_NAME(fma2)(acc, _mm256_cvtepi32_ps(t01), y01);
        acc = ISA_NAME(fma2)(acc, _mm256_cvtepi32_ps(t23), y23);
      } else {
        __m128i s[4];
        for (int k = 0; k < 4; k++) {
          const uint8_t *pk = p + k * bb, *xk = x + k * ABLOCK;
          s[k] = ISA_NAME(hsum4)(ISA_NAME(block)(g->format, pk, xk), ISA_NAME(block)(g->format, pk + rowBytes, xk),
                                 ISA_NAME(block)(g->format, pk + 2 * rowBytes, xk), ISA_NAME(block)(g->format, pk + 3 * rowBytes, xk));
        }
        acc = ISA_NAME(fma2)(acc, _mm256_cvtepi32_ps(_mm256_set_m128i(s[1], s[0])), y01);
        acc = ISA_NAME(fma2)(acc, _mm256_cvtepi32_ps(_mm256_set_m128i(s[3], s[2])), y23);
      }
    }
    for (; b < nb; b++) {
      const uint8_t *p = w0 + b * bb, *x = xrow + b * ABLOCK;
      __m128i s = ISA_NAME(hsum4)(ISA_NAME(block)(g->format, p, x), ISA_NAME(block)(g->format, p + rowBytes, x),
                                  ISA_NAME(block)(g->format, p + 2 * rowBytes, x), ISA_NAME(block)(g->format, p + 3 * rowBytes, x));
      if (g->format != Q8) s = _mm_sub_epi32(s, _mm_set1_epi32(offset8(g->format, x)));
      acc = ISA_NAME(scaled)(acc, s, s0, nb, b, drow[b]);
    }
    _mm_storeu_ps(g->c + m * g->ldc + n0, acc);
  }
}

/* One row n, four blocks at a time into four lanes, then the rest one by one: wasm row1. */
static ISA_TARGET void ISA_NAME(row1)(const qgemv_args *g, int64_t n) {
  const int64_t bb = g->format == Q8 ? 32 : 16, nb = g->nb, nb4 = nb & ~(int64_t)3;
  const uint8_t *wrow = g->w + n * nb * bb;
  const uint16_t *srow = g->ws + n * nb;
  for (int64_t m = 0; m < g->M; m++) {
    const uint8_t *xrow = g->aq + m * nb * ABLOCK;
    const float *drow = g->ad + m * nb;
    __m128 acc = _mm_setzero_ps();
    int64_t b = 0;
    for (; b < nb4; b += 4) {
      const uint8_t *p = wrow + b * bb, *x = xrow + b * ABLOCK;
      __m128i s = ISA_NAME(hsum4)(ISA_NAME(block)(g->format, p, x), ISA_NAME(block)(g->format, p + bb, x + ABLOCK),
                                  ISA_NAME(block)(g->format, p + 2 * bb, x + 2 * ABLOCK), ISA_NAME(block)(g->format, p + 3 * bb, x + 3 * ABLOCK));
      if (g->format != Q8)
        s = _mm_sub_epi32(s, _mm_setr_epi32(offset8(g->format, x), offset8(g->format, x + ABLOCK), offset8(g->format, x + 2 * ABLOCK),
                                            offset8(g->format, x + 3 * ABLOCK)));
      const __m128 scale = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(srow + b))), _mm_loadu_ps(drow + b));
      acc = _mm_fmadd_ps(_mm_cvtepi32_ps(s), scale, acc);
    }
    float lanes[4];
    _mm_storeu_ps(lanes, acc);
    float sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; b < nb; b++) {
      const uint8_t *x = xrow + b * ABLOCK;
      __m256i v = ISA_NAME(block)(g->format, wrow + b * bb, x);
      const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
      int32_t t4[4];
      _mm_storeu_si128((__m128i *)t4, h);
      const int32_t t = t4[0] + t4[1] + t4[2] + t4[3] - offset8(g->format, x);
      const float ws = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(srow[b])));
      sum += (float)t * ws * drow[b];
    }
    g->c[m * g->ldc + n] = sum + (g->bias ? g->bias[n] : 0.0f);
  }
}

/* Rows [n0, n0 + count): groups of four from n0, then the rest one by one (wasm quantMatvec). */
static ISA_TARGET void ISA_NAME(rows)(const qgemv_args *g, const qgemv_pre *pre, int64_t n0, int64_t count) {
  int64_t n = n0;
  for (; n + 4 <= n0 + count; n += 4) ISA_NAME(rows4)(g, pre, n);
  for (; n < n0 + count; n++) ISA_NAME(row1)(g, n);
}
