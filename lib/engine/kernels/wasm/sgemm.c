/*
 * Single-precision matrix product for WebAssembly SIMD128, in the GotoBLAS shape: op(B) is packed
 * into column panels of NR floats (one L1-sized micro-panel per KC slice), op(A) into row panels of
 * MR floats with alpha folded in, and an MR x NR register-blocked micro-kernel multiplies them.
 * Transposes are absorbed by the packing routines, so the micro-kernel sees one layout only.
 *
 * No function keeps anything in linear memory except through pointers it is given: there are no
 * local arrays and no globals, so the module uses no shadow stack and several instances (one per
 * thread) can run on one shared memory at once. Each caller passes its own workspace.
 * Rows of C with M < MR take unpacked paths (matrix-vector products are bound by memory, and
 * packing B would only add traffic).
 *
 * sgemm_half is the same product with B stored as 16-bit bfloat16 or IEEE half (model weights in their
 * checkpoint's precision): B is widened to float32 where it is read, in the packed panels and in the
 * matrix-vector paths, so it never exists in float32 outside one cache-sized tile.
 *
 * Why 4 x 8: V8 gives wasm 15 vector registers on x86-64; 8 accumulators, 2 B vectors, the A
 * broadcast and a product temporary fit without spills. Node 20 has no fused multiply-add without
 * flags (relaxed SIMD), so each step is a mul and an add; CPUs with separate multiply and add
 * pipes (the AMD EPYC this was tuned on) still retire 16 flops per cycle, about 60 GFLOP/s a core.
 */
#include <wasm_simd128.h>

typedef unsigned int u32;
typedef unsigned short u16;
typedef v128_t f4;

#define MR 4
#define NR 8
#define KC 256
#define MC 192
#define NC 2048

#define EXPORT(name) __attribute__((export_name(#name)))

/* How B's elements are stored. */
#define B_F32 0
#define B_BF16 1
#define B_F16 2

/* Bytes of workspace one caller needs: packed A block, packed B block, one edge tile, and NR rows
 * of KC widened floats (a transposed 16-bit B panel before packing). */
EXPORT(sgemm_work_bytes) u32 sgemm_work_bytes(void) {
  return (u32)((MC * KC + KC * NC + MR * NR + NR * KC) * sizeof(float));
}

static inline f4 madd(f4 acc, f4 a, f4 b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

/* Lanes holding IEEE half bits (zero-extended to 32) as float32: the magnitude shifted into float32's
 * place and rescaled by 2^112 (exact for normals and subnormals), exponent 31 mapped to inf/NaN. */
static inline f4 half_bits_to_f32(v128_t h) {
  v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16);
  v128_t mag = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
  f4 f = wasm_f32x4_mul(mag, wasm_f32x4_splat(0x1p112f));
  v128_t special = wasm_i32x4_ge(mag, wasm_i32x4_splat(0x0f800000));
  f = wasm_v128_or(f, wasm_v128_and(special, wasm_i32x4_splat(0x7f800000)));
  return wasm_v128_or(f, sign);
}

/* Zero-extended 16-bit lanes as float32 (bfloat16 is the upper half of a float32). */
static inline f4 widen_lanes(int kind, v128_t h) {
  return kind == B_BF16 ? wasm_i32x4_shl(h, 16) : half_bits_to_f32(h);
}

/* Four 16-bit values at p as float32. */
static inline f4 widen4(int kind, const u16 *p) {
  return widen_lanes(kind, wasm_u32x4_extend_low_u16x8(wasm_v128_load64_zero(p)));
}

/* Eight 16-bit values at p as float32, into lo (first four) and hi. */
static inline void widen8(int kind, const u16 *p, f4 *lo, f4 *hi) {
  v128_t h = wasm_v128_load(p);
  *lo = widen_lanes(kind, wasm_u32x4_extend_low_u16x8(h));
  *hi = widen_lanes(kind, wasm_u32x4_extend_high_u16x8(h));
}

static inline float widen1(int kind, u16 h) {
  return wasm_f32x4_extract_lane(widen_lanes(kind, wasm_i32x4_splat(h)), 0);
}

/* C = beta * C over an m x n block (beta = 0 writes zeros, so NaN in C does not survive). */
static void scale_c(u32 m, u32 n, float beta, float *c, u32 ldc) {
  if (beta == 1.0f) return;
  for (u32 i = 0; i < m; i++) {
    float *row = c + i * ldc;
    if (beta == 0.0f) {
      for (u32 j = 0; j < n; j++) row[j] = 0.0f;
    } else {
      for (u32 j = 0; j < n; j++) row[j] *= beta;
    }
  }
}

/*
 * Reads four rows of four floats (src, src + ld, ...) and stores them transposed: column j of the
 * block goes to dst + j * dst_stride, scaled by s. The packing routines use it to turn strided
 * gathers into vector loads and stores.
 */
static inline void transpose4_store(const float *src, u32 ld, float *dst, u32 dst_stride, f4 s) {
  f4 r0 = wasm_v128_load(src), r1 = wasm_v128_load(src + ld);
  f4 r2 = wasm_v128_load(src + 2 * ld), r3 = wasm_v128_load(src + 3 * ld);
  f4 t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
  f4 t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
  wasm_v128_store(dst, wasm_f32x4_mul(s, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5)));
  wasm_v128_store(dst + dst_stride, wasm_f32x4_mul(s, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7)));
  wasm_v128_store(dst + 2 * dst_stride, wasm_f32x4_mul(s, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5)));
  wasm_v128_store(dst + 3 * dst_stride, wasm_f32x4_mul(s, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7)));
}

/* Packs op(B)[k0 .. k0+kc, j0 .. j0+nc] into NR-wide panels, k-major inside each panel, zero-padded. */
static void pack_b(int trans, const float *b, u32 ldb, u32 k0, u32 j0, u32 kc, u32 nc, float *dst) {
  for (u32 jp = 0; jp < nc; jp += NR) {
    u32 nr = nc - jp < NR ? nc - jp : NR;
    if (!trans) {
      const float *src = b + k0 * ldb + j0 + jp;
      if (nr == NR) {
        for (u32 k = 0; k < kc; k++) {
          const float *s = src + k * ldb;
          wasm_v128_store(dst, wasm_v128_load(s));
          wasm_v128_store(dst + 4, wasm_v128_load(s + 4));
          dst += NR;
        }
      } else {
        for (u32 k = 0; k < kc; k++) {
          const float *s = src + k * ldb;
          for (u32 j = 0; j < NR; j++) dst[j] = j < nr ? s[j] : 0.0f;
          dst += NR;
        }
      }
    } else {
      /* op(B)[k][j] = B[j][k]: each stored row is one panel column. */
      const float *src = b + (j0 + jp) * ldb + k0;
      u32 k = 0;
      if (nr == NR) {
        f4 one = wasm_f32x4_splat(1.0f);
        for (; k + 4 <= kc; k += 4) {
          transpose4_store(src + k, ldb, dst + k * NR, NR, one);
          transpose4_store(src + 4 * ldb + k, ldb, dst + k * NR + 4, NR, one);
        }
      }
      for (u32 j = 0; j < NR; j++) {
        float *d = dst + j;
        if (j < nr) {
          const float *s = src + j * ldb;
          for (u32 kk = k; kk < kc; kk++) d[kk * NR] = s[kk];
        } else {
          for (u32 kk = k; kk < kc; kk++) d[kk * NR] = 0.0f;
        }
      }
      dst += kc * NR;
    }
  }
}

/*
 * pack_b for 16-bit B. Not transposed, each panel row is NR consecutive values, widened straight
 * into the panel. Transposed, each panel column is a stored row: the panel's NR rows are widened
 * into `rows` (NR x kc floats) first and packed from there as float32.
 */
static void pack_b_half(int kind, int trans, const u16 *b, u32 ldb, u32 k0, u32 j0, u32 kc, u32 nc,
                        float *dst, float *rows) {
  if (trans) {
    for (u32 jp = 0; jp < nc; jp += NR) {
      u32 nr = nc - jp < NR ? nc - jp : NR;
      for (u32 j = 0; j < nr; j++) {
        const u16 *s = b + (j0 + jp + j) * ldb + k0;
        float *d = rows + j * kc;
        u32 k = 0;
        for (; k + 8 <= kc; k += 8) {
          f4 lo, hi;
          widen8(kind, s + k, &lo, &hi);
          wasm_v128_store(d + k, lo);
          wasm_v128_store(d + k + 4, hi);
        }
        for (; k < kc; k++) d[k] = widen1(kind, s[k]);
      }
      pack_b(1, rows, kc, 0, 0, kc, nr, dst + jp * kc);
    }
    return;
  }
  for (u32 jp = 0; jp < nc; jp += NR) {
    u32 nr = nc - jp < NR ? nc - jp : NR;
    const u16 *src = b + k0 * ldb + j0 + jp;
    float *d = dst + jp * kc;
    for (u32 k = 0; k < kc; k++) {
      const u16 *s = src + k * ldb;
      if (nr == NR) {
        f4 lo, hi;
        widen8(kind, s, &lo, &hi);
        wasm_v128_store(d, lo);
        wasm_v128_store(d + 4, hi);
      } else {
        for (u32 j = 0; j < NR; j++) d[j] = j < nr ? widen1(kind, s[j]) : 0.0f;
      }
      d += NR;
    }
  }
}

/* Packs alpha * op(A)[i0 .. i0+mc, k0 .. k0+kc] into MR-tall panels, k-major inside, zero-padded. */
static void pack_a(int trans, const float *a, u32 lda, u32 i0, u32 k0, u32 mc, u32 kc, float alpha,
                   float *dst) {
  for (u32 ip = 0; ip < mc; ip += MR) {
    u32 mr = mc - ip < MR ? mc - ip : MR;
    if (trans) {
      /* op(A)[i][k] = A[k][i]: MR consecutive floats of one stored row per k. */
      const float *src = a + k0 * lda + i0 + ip;
      if (mr == MR) {
        f4 va = wasm_f32x4_splat(alpha);
        for (u32 k = 0; k < kc; k++) {
          wasm_v128_store(dst, wasm_f32x4_mul(va, wasm_v128_load(src + k * lda)));
          dst += MR;
        }
      } else {
        for (u32 k = 0; k < kc; k++) {
          for (u32 i = 0; i < MR; i++) dst[i] = i < mr ? alpha * src[k * lda + i] : 0.0f;
          dst += MR;
        }
      }
    } else {
      const float *src = a + (i0 + ip) * lda + k0;
      u32 k = 0;
      if (mr == MR) {
        f4 va = wasm_f32x4_splat(alpha);
        for (; k + 4 <= kc; k += 4) transpose4_store(src + k, lda, dst + k * MR, MR, va);
      }
      for (u32 i = 0; i < MR; i++) {
        float *d = dst + i;
        if (i < mr) {
          const float *s = src + i * lda;
          for (u32 kk = k; kk < kc; kk++) d[kk * MR] = alpha * s[kk];
        } else {
          for (u32 kk = k; kk < kc; kk++) d[kk * MR] = 0.0f;
        }
      }
      dst += kc * MR;
    }
  }
}

#define ROW_DECL(i) f4 c##i##0 = wasm_f32x4_splat(0.0f), c##i##1 = c##i##0;
#define ROW_STEP(i)                         \
  {                                         \
    f4 ai = wasm_v128_load32_splat(pa + i); \
    c##i##0 = madd(c##i##0, ai, b0);        \
    c##i##1 = madd(c##i##1, ai, b1);        \
  }
#define ROW_STORE(i)                                                                   \
  {                                                                                    \
    float *r = c + i * ldc;                                                            \
    if (beta == 0.0f) {                                                                \
      wasm_v128_store(r, c##i##0);                                                     \
      wasm_v128_store(r + 4, c##i##1);                                                 \
    } else {                                                                           \
      wasm_v128_store(r, wasm_f32x4_add(c##i##0, wasm_f32x4_mul(vb, wasm_v128_load(r))));        \
      wasm_v128_store(r + 4, wasm_f32x4_add(c##i##1, wasm_f32x4_mul(vb, wasm_v128_load(r + 4)))); \
    }                                                                                  \
  }
#define ROW_EDGE(i)                  \
  wasm_v128_store(edge + i * NR, c##i##0); \
  wasm_v128_store(edge + i * NR + 4, c##i##1);
#define ROWS(X) X(0) X(1) X(2) X(3)

/*
 * C[0 .. mr, 0 .. nr] = acc + beta * C, acc = packed A panel x packed B panel over kc.
 * beta = 0 never reads C. Partial tiles go through the caller's edge buffer.
 */
static void micro_kernel(u32 kc, const float *pa, const float *pb, float *c, u32 ldc, float beta,
                         u32 mr, u32 nr, float *edge) {
  ROWS(ROW_DECL)
  for (u32 k = 0; k < kc; k++) {
    f4 b0 = wasm_v128_load(pb);
    f4 b1 = wasm_v128_load(pb + 4);
    ROWS(ROW_STEP)
    pa += MR;
    pb += NR;
  }
  if (mr == MR && nr == NR) {
    f4 vb = wasm_f32x4_splat(beta);
    ROWS(ROW_STORE)
    return;
  }
  ROWS(ROW_EDGE)
  for (u32 i = 0; i < mr; i++) {
    float *r = c + i * ldc;
    const float *e = edge + i * NR;
    for (u32 j = 0; j < nr; j++) r[j] = beta == 0.0f ? e[j] : e[j] + beta * r[j];
  }
}

/*
 * One row of C for M < MR with op(B) read in place: C[i, :] = beta * C[i, :] + sum_k alpha a_ik B[k, :].
 * B is streamed four rows at a time across all columns, so each pass reads contiguous memory and
 * C (one row, cache-resident) is revisited once per four rows of B.
 */
#define LOAD_F32(p) wasm_v128_load(p)
#define LOAD_HALF(p) widen4(kind, p)
#define GEMV_STEP(j, LOAD)                                                                     \
  {                                                                                            \
    f4 s = first ? (beta == 0.0f ? wasm_f32x4_splat(0.0f)                                      \
                                 : wasm_f32x4_mul(vb, wasm_v128_load(cr + (j))))               \
                 : wasm_v128_load(cr + (j));                                                   \
    s = madd(s, a0, LOAD(b0 + (j)));                                                           \
    s = madd(s, a1, LOAD(b1 + (j)));                                                           \
    s = madd(s, a2, LOAD(b2 + (j)));                                                           \
    s = madd(s, a3, LOAD(b3 + (j)));                                                           \
    wasm_v128_store(cr + (j), s);                                                              \
  }

/*
 * The body of gemv_rows_n for B elements of type ELEM read by LOAD (four at a time) and SCALAR
 * (one): the float32 and the 16-bit versions below are this one loop.
 */
#define GEMV_ROWS_N_BODY(ELEM, LOAD, SCALAR)                                                          \
  f4 vb = wasm_f32x4_splat(beta);                                                                     \
  u32 n4 = N & ~3u;                                                                                   \
  for (u32 i = 0; i < M; i++) {                                                                       \
    float *cr = c + i * ldc;                                                                          \
    for (u32 k = 0; k < K; k += 4) {                                                                  \
      int first = k == 0;                                                                             \
      /* Rows past K repeat row k with a zero coefficient, so the tail needs no separate loop. */     \
      u32 k1 = k + 1 < K ? k + 1 : k, k2 = k + 2 < K ? k + 2 : k, k3 = k + 3 < K ? k + 3 : k;         \
      float x0 = alpha * (transA ? a[k * lda + i] : a[i * lda + k]);                                  \
      float x1 = k + 1 < K ? alpha * (transA ? a[k1 * lda + i] : a[i * lda + k1]) : 0.0f;             \
      float x2 = k + 2 < K ? alpha * (transA ? a[k2 * lda + i] : a[i * lda + k2]) : 0.0f;             \
      float x3 = k + 3 < K ? alpha * (transA ? a[k3 * lda + i] : a[i * lda + k3]) : 0.0f;             \
      f4 a0 = wasm_f32x4_splat(x0), a1 = wasm_f32x4_splat(x1), a2 = wasm_f32x4_splat(x2),            \
         a3 = wasm_f32x4_splat(x3);                                                                   \
      const ELEM *b0 = b + k * ldb, *b1 = b + k1 * ldb, *b2 = b + k2 * ldb, *b3 = b + k3 * ldb;       \
      u32 j = 0;                                                                                      \
      for (; j + 16 <= n4; j += 16) {                                                                 \
        GEMV_STEP(j, LOAD) GEMV_STEP(j + 4, LOAD) GEMV_STEP(j + 8, LOAD) GEMV_STEP(j + 12, LOAD)      \
      }                                                                                               \
      for (; j < n4; j += 4) GEMV_STEP(j, LOAD)                                                       \
      for (; j < N; j++) {                                                                            \
        float s = first ? (beta == 0.0f ? 0.0f : beta * cr[j]) : cr[j];                               \
        cr[j] = s + x0 * SCALAR(b0[j]) + x1 * SCALAR(b1[j]) + x2 * SCALAR(b2[j]) + x3 * SCALAR(b3[j]); \
      }                                                                                               \
    }                                                                                                 \
  }

#define SCALAR_F32(x) (x)
#define SCALAR_HALF(x) widen1(kind, x)

static void gemv_rows_n(int transA, u32 M, u32 N, u32 K, float alpha, const float *a, u32 lda,
                        const float *b, u32 ldb, float beta, float *c, u32 ldc) {
  GEMV_ROWS_N_BODY(float, LOAD_F32, SCALAR_F32)
}

static void gemv_rows_n_half(int kind, int transA, u32 M, u32 N, u32 K, float alpha, const float *a,
                             u32 lda, const u16 *b, u32 ldb, float beta, float *c, u32 ldc) {
  GEMV_ROWS_N_BODY(u16, LOAD_HALF, SCALAR_HALF)
}


static inline float hsum(f4 v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) +
         wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

/*
 * Dot-product form for M < MR, A not transposed, B transposed: C[i, j] = alpha * A[i, :] . B[j, :],
 * for B elements of type ELEM read by LOAD (four at a time) and SCALAR (one).
 */
#define GEMV_ROWS_T_BODY(ELEM, LOAD, SCALAR)                                                       \
  u32 k4 = K & ~3u;                                                                                \
  for (u32 i = 0; i < M; i++) {                                                                    \
    const float *ar = a + i * lda;                                                                 \
    float *cr = c + i * ldc;                                                                       \
    u32 j = 0;                                                                                     \
    for (; j + 4 <= N; j += 4) {                                                                   \
      const ELEM *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;                \
      f4 s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;                                   \
      for (u32 k = 0; k < k4; k += 4) {                                                            \
        f4 av = wasm_v128_load(ar + k);                                                            \
        s0 = madd(s0, av, LOAD(b0 + k));                                                           \
        s1 = madd(s1, av, LOAD(b1 + k));                                                           \
        s2 = madd(s2, av, LOAD(b2 + k));                                                           \
        s3 = madd(s3, av, LOAD(b3 + k));                                                           \
      }                                                                                            \
      float d0 = hsum(s0), d1 = hsum(s1), d2 = hsum(s2), d3 = hsum(s3);                            \
      for (u32 k = k4; k < K; k++) {                                                               \
        d0 += ar[k] * SCALAR(b0[k]);                                                               \
        d1 += ar[k] * SCALAR(b1[k]);                                                               \
        d2 += ar[k] * SCALAR(b2[k]);                                                               \
        d3 += ar[k] * SCALAR(b3[k]);                                                               \
      }                                                                                            \
      if (beta == 0.0f) {                                                                          \
        cr[j] = alpha * d0, cr[j + 1] = alpha * d1, cr[j + 2] = alpha * d2, cr[j + 3] = alpha * d3; \
      } else {                                                                                     \
        cr[j] = alpha * d0 + beta * cr[j];                                                         \
        cr[j + 1] = alpha * d1 + beta * cr[j + 1];                                                 \
        cr[j + 2] = alpha * d2 + beta * cr[j + 2];                                                 \
        cr[j + 3] = alpha * d3 + beta * cr[j + 3];                                                 \
      }                                                                                            \
    }                                                                                              \
    for (; j < N; j++) {                                                                           \
      const ELEM *br = b + j * ldb;                                                                \
      f4 s = wasm_f32x4_splat(0.0f);                                                               \
      for (u32 k = 0; k < k4; k += 4) s = madd(s, wasm_v128_load(ar + k), LOAD(br + k));           \
      float d = hsum(s);                                                                           \
      for (u32 k = k4; k < K; k++) d += ar[k] * SCALAR(br[k]);                                     \
      cr[j] = beta == 0.0f ? alpha * d : alpha * d + beta * cr[j];                                 \
    }                                                                                              \
  }

static void gemv_rows_t(u32 M, u32 N, u32 K, float alpha, const float *a, u32 lda, const float *b,
                        u32 ldb, float beta, float *c, u32 ldc) {
  GEMV_ROWS_T_BODY(float, LOAD_F32, SCALAR_F32)
}

static void gemv_rows_t_half(int kind, u32 M, u32 N, u32 K, float alpha, const float *a, u32 lda,
                             const u16 *b, u32 ldb, float beta, float *c, u32 ldc) {
  GEMV_ROWS_T_BODY(u16, LOAD_HALF, SCALAR_HALF)
}

/*
 * The blocked product behind both exports; b points at float32 (kind B_F32) or 16-bit elements.
 * As in BLAS, alpha = 0 or K = 0 only scales C and reads neither A nor B.
 */
static void gemm(int kind, int transA, int transB, u32 M, u32 N, u32 K, float alpha, const float *a,
                 u32 lda, const void *b, u32 ldb, float beta, float *c, u32 ldc, float *work) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == 0.0f) {
    scale_c(M, N, beta, c, ldc);
    return;
  }
  if (M < MR && !transB) {
    if (kind == B_F32) gemv_rows_n(transA, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    else gemv_rows_n_half(kind, transA, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  if (M < MR && !transA) {
    if (kind == B_F32) gemv_rows_t(M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    else gemv_rows_t_half(kind, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  float *packA = work;
  float *packB = work + MC * KC;
  float *edge = packB + KC * NC;
  float *rows = edge + MR * NR;
  for (u32 jc = 0; jc < N; jc += NC) {
    u32 nc = N - jc < NC ? N - jc : NC;
    for (u32 pc = 0; pc < K; pc += KC) {
      u32 kc = K - pc < KC ? K - pc : KC;
      float bk = pc == 0 ? beta : 1.0f;
      if (kind == B_F32) pack_b(transB, b, ldb, pc, jc, kc, nc, packB);
      else pack_b_half(kind, transB, b, ldb, pc, jc, kc, nc, packB, rows);
      for (u32 ic = 0; ic < M; ic += MC) {
        u32 mc = M - ic < MC ? M - ic : MC;
        pack_a(transA, a, lda, ic, pc, mc, kc, alpha, packA);
        for (u32 jr = 0; jr < nc; jr += NR) {
          u32 nr = nc - jr < NR ? nc - jr : NR;
          const float *pb = packB + jr * kc;
          for (u32 ir = 0; ir < mc; ir += MR) {
            u32 mr = mc - ir < MR ? mc - ir : MR;
            micro_kernel(kc, packA + ir * kc, pb, c + (ic + ir) * ldc + jc + jr, ldc, bk, mr, nr,
                         edge);
          }
        }
      }
    }
  }
}

/*
 * C = alpha * op(A) * op(B) + beta * C, row-major; a, b, c and work are byte addresses in this
 * module's memory, work holds sgemm_work_bytes() bytes owned by the caller for the call's duration.
 */
EXPORT(sgemm)
void sgemm(int transA, int transB, u32 M, u32 N, u32 K, float alpha, const float *a, u32 lda,
           const float *b, u32 ldb, float beta, float *c, u32 ldc, float *work) {
  gemm(B_F32, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, work);
}

/* sgemm with B stored as 16-bit values: kind 1 is bfloat16, 2 IEEE half; ldb counts elements. */
EXPORT(sgemm_half)
void sgemm_half(int transA, int transB, u32 M, u32 N, u32 K, float alpha, const float *a, u32 lda,
                const u16 *b, u32 ldb, float beta, float *c, u32 ldc, float *work, int kind) {
  gemm(kind == B_F16 ? B_F16 : B_BF16, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc,
       work);
}
