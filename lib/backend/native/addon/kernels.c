// Fused float32 kernels for the `native` backend, reading and writing the wasm heap in place through
// Float32Array views: adaLN (LayerNorm + DiT modulation), the gated residual, GELU and multi-head
// self-attention, forward and backward. Rows are split over a small thread pool whose idle threads sleep on a condition variable
// (OpenBLAS's own pool spins in sched_yield between calls, stealing the core the JS thread needs).
// The attention's per-head products are strided sgemm calls on the packed qkv, so heads are never
// transposed; inside the pool's threads OpenBLAS runs single-threaded.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <node_api.h>

void openblas_set_num_threads(int);
int openblas_get_num_threads(void);

// ---------------------------------------------------------------------------------------------------
// Thread pool: parallel_for(n, fn, ctx) runs fn(ctx, begin, end) over `parts` contiguous ranges, part 0
// on the calling thread. Workers block on a condition variable between calls.
typedef void (*range_fn)(void *ctx, long begin, long end);

#define MAX_THREADS 64
static int pool_threads = 1; // threads including the caller
static pthread_t workers[MAX_THREADS];
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_start = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static long pool_generation = 0;
static int pool_pending = 0;
static int pool_stopping = 0;
static range_fn job_fn;
static void *job_ctx;
static long job_n;
static int job_parts;
static long workers_start_generation; // the generation new workers have already seen

static void run_part(int part) {
  long begin = job_n * part / job_parts, end = job_n * (part + 1) / job_parts;
  if (begin < end) job_fn(job_ctx, begin, end);
}

static void *worker_main(void *arg) {
  int id = (int)(long)arg;
  long seen = workers_start_generation; // not pool_generation: a job may be posted before this thread runs
  pthread_mutex_lock(&pool_mu);
  for (;;) {
    while (pool_generation == seen && !pool_stopping) pthread_cond_wait(&pool_start, &pool_mu);
    if (pool_stopping) break;
    seen = pool_generation;
    int parts = job_parts;
    pthread_mutex_unlock(&pool_mu);
    if (id < parts) run_part(id);
    pthread_mutex_lock(&pool_mu);
    if (--pool_pending == 0) pthread_cond_signal(&pool_done);
  }
  pthread_mutex_unlock(&pool_mu);
  return NULL;
}

static void pool_resize(int threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads == pool_threads) return;
  pthread_mutex_lock(&pool_mu);
  pool_stopping = 1;
  pthread_cond_broadcast(&pool_start);
  pthread_mutex_unlock(&pool_mu);
  for (int i = 1; i < pool_threads; i++) pthread_join(workers[i], NULL);
  pool_stopping = 0;
  pool_threads = 1;
  workers_start_generation = pool_generation;
  for (int i = 1; i < threads; i++) {
    if (pthread_create(&workers[i], NULL, worker_main, (void *)(long)i) != 0) break;
    pool_threads = i + 1;
  }
}

// `grain`: the fewest items worth a thread of their own.
static void parallel_for(long n, long grain, range_fn fn, void *ctx) {
  long parts = grain > 0 ? n / grain : n;
  if (parts > pool_threads) parts = pool_threads;
  if (parts <= 1) {
    if (n > 0) fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&pool_mu);
  job_fn = fn;
  job_ctx = ctx;
  job_n = n;
  job_parts = (int)parts;
  pool_pending = pool_threads - 1;
  pool_generation++;
  pthread_cond_broadcast(&pool_start);
  pthread_mutex_unlock(&pool_mu);
  run_part(0);
  pthread_mutex_lock(&pool_mu);
  while (pool_pending > 0) pthread_cond_wait(&pool_done, &pool_mu);
  pthread_mutex_unlock(&pool_mu);
}

// ---------------------------------------------------------------------------------------------------
// exp(x) for the kernels below, written so that -O3 vectorises it without -ffast-math (whose inf and
// reassociation rules turned GELU's sigmoid into NaN for x <= -20): the argument is clamped to
// [-87.3, 88.3] (no overflow to inf), split as n ln2 + r, and e^r is Cephes' degree-6 polynomial
// (relative error about 1e-7); 2^n goes straight into the exponent bits.
static inline float exp_clamped(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f; // round to nearest (1.5 * 2^23 trick)
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.f;
  union {
    int32_t i;
    float f;
  } scale = {.i = ((int32_t)n + 127) << 23};
  return p * scale.f;
}

// ---------------------------------------------------------------------------------------------------
// adaLN: y = LayerNorm(x) * (1 + scale[b]) + shift[b] over rows of D, x (B, T, D), shift/scale (B, D).
// Saves xhat = LayerNorm(x) (B, T, D) and rstd (B*T) for the backward pass.
typedef struct {
  const float *x, *shift, *scale;
  float *y, *xhat, *rstd;
  long T, D;
  float eps;
} adaln_fwd_args;

static void adaln_fwd_rows(void *p, long begin, long end) {
  adaln_fwd_args *a = p;
  const long D = a->D;
  for (long r = begin; r < end; r++) {
    const float *x = a->x + r * D;
    const long b = r / a->T;
    const float *sh = a->shift + b * D, *sc = a->scale + b * D;
    float *y = a->y + r * D, *h = a->xhat + r * D;
    float mean = 0.f;
    for (long d = 0; d < D; d++) mean += x[d];
    mean /= (float)D;
    float var = 0.f;
    for (long d = 0; d < D; d++) {
      float c = x[d] - mean;
      var += c * c;
    }
    float rs = 1.f / sqrtf(var / (float)D + a->eps);
    for (long d = 0; d < D; d++) {
      float v = (x[d] - mean) * rs;
      h[d] = v;
      y[d] = v * (1.f + sc[d]) + sh[d];
    }
    a->rstd[r] = rs;
  }
}

// Backward over whole batch items (their rows share shift/scale, whose gradients are sums over T):
//   g = dy (1 + scale), dx = rstd (g - mean(g) - xhat mean(g xhat)), dshift = sum_t dy, dscale = sum_t dy xhat.
typedef struct {
  const float *dy, *xhat, *rstd, *scale;
  float *dx, *dshift, *dscale;
  long T, D;
} adaln_bwd_args;

static void adaln_bwd_items(void *p, long begin, long end) {
  adaln_bwd_args *a = p;
  const long T = a->T, D = a->D;
  for (long b = begin; b < end; b++) {
    const float *sc = a->scale + b * D;
    float *dsh = a->dshift + b * D, *dsc = a->dscale + b * D;
    memset(dsh, 0, D * sizeof(float));
    memset(dsc, 0, D * sizeof(float));
    for (long t = 0; t < T; t++) {
      const long r = b * T + t;
      const float *dy = a->dy + r * D, *h = a->xhat + r * D;
      float *dx = a->dx + r * D;
      float m1 = 0.f, m2 = 0.f;
      for (long d = 0; d < D; d++) {
        float g = dy[d] * (1.f + sc[d]);
        m1 += g;
        m2 += g * h[d];
        dsh[d] += dy[d];
        dsc[d] += dy[d] * h[d];
      }
      m1 /= (float)D;
      m2 /= (float)D;
      const float rs = a->rstd[r];
      for (long d = 0; d < D; d++) dx[d] = rs * (dy[d] * (1.f + sc[d]) - m1 - h[d] * m2);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// DiT's gated residual: y = x + gate[b] h, x and h (B, T, D), gate (B, D). Backward: dx = dy (no kernel),
// dh = dy gate[b], dgate[b] = sum_t dy h.
typedef struct {
  const float *x, *gate, *h, *dy;
  float *out, *dh, *dgate;
  long T, D;
} gated_args;

static void gated_fwd_rows(void *p, long begin, long end) {
  gated_args *a = p;
  const long D = a->D;
  for (long r = begin; r < end; r++) {
    const float *g = a->gate + (r / a->T) * D, *x = a->x + r * D, *h = a->h + r * D;
    float *y = a->out + r * D;
    for (long d = 0; d < D; d++) y[d] = x[d] + g[d] * h[d];
  }
}

static void gated_bwd_items(void *p, long begin, long end) {
  gated_args *a = p;
  const long T = a->T, D = a->D;
  for (long b = begin; b < end; b++) {
    const float *g = a->gate + b * D;
    float *dg = a->dgate + b * D;
    memset(dg, 0, D * sizeof(float));
    for (long t = 0; t < T; t++) {
      const long r = b * T + t;
      const float *dy = a->dy + r * D, *h = a->h + r * D;
      float *dh = a->dh + r * D;
      for (long d = 0; d < D; d++) {
        dh[d] = dy[d] * g[d];
        dg[d] += dy[d] * h[d];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// AdamW in place, in double precision as the TypeScript loop it replaces (lib/backend/native/adamw.ts):
//   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p (1 - lr wd) - (lr / bc1) m / (sqrt(v / bc2) + eps)
typedef struct {
  float *p, *m, *v;
  const float *g;
  double decay, step_size, inv_bc2, b1, b2, eps;
} adamw_args;

static void adamw_range(void *q, long begin, long end) {
  adamw_args *a = q;
  const double c1 = 1 - a->b1, c2 = 1 - a->b2;
  for (long i = begin; i < end; i++) {
    const double g = a->g[i];
    const double m = a->b1 * a->m[i] + c1 * g;
    const double v = a->b2 * a->v[i] + c2 * g * g;
    a->m[i] = (float)m;
    a->v[i] = (float)v;
    a->p[i] = (float)(a->p[i] * a->decay - (a->step_size * m) / (sqrt(v * a->inv_bc2) + a->eps));
  }
}

// ---------------------------------------------------------------------------------------------------
// GELU, tanh form: y = x s, s = sigmoid(2u), 2u = x (2c + 2c 0.044715 x^2), c = sqrt(2/pi);
// dy/dx = s + x s (1 - s) (2c + 6c 0.044715 x^2).
#define GELU_2C 1.5957691216057308f
#define GELU_K 0.044715f

typedef struct {
  const float *x, *dy;
  float *out;
} gelu_args;

static void gelu_fwd_range(void *p, long begin, long end) {
  gelu_args *a = p;
  for (long i = begin; i < end; i++) {
    float x = a->x[i];
    float s = 1.f / (1.f + exp_clamped(-x * (GELU_2C + GELU_2C * GELU_K * x * x)));
    a->out[i] = x * s;
  }
}

static void gelu_bwd_range(void *p, long begin, long end) {
  gelu_args *a = p;
  for (long i = begin; i < end; i++) {
    float x = a->x[i], x2 = x * x;
    float s = 1.f / (1.f + exp_clamped(-x * (GELU_2C + GELU_2C * GELU_K * x2)));
    float du = GELU_2C + 3.f * GELU_K * GELU_2C * x2;
    a->out[i] = a->dy[i] * (s + x * s * (1.f - s) * du);
  }
}

// ---------------------------------------------------------------------------------------------------
// Self-attention on packed qkv (B, T, 3D), D = H dh, column blocks [q | k | v], head h at columns
// h dh .. (h+1) dh of each block (the layout of qkv(x).reshape([B, T, 3, H, dh])). Per (b, h):
//   P = softmax(Q K^T / sqrt(dh))  (T, T), saved in probs (B, H, T, T);  out[b, :, h] = P V  (T, dh)
typedef struct {
  const float *qkv, *probs, *dout;
  float *out, *probs_out, *dqkv;
  long T, H, dh;
  const float *mask; // (B, T), 1 = attend, or NULL: padding keys get -1e9 added to their logits
} attn_args;

static void attn_fwd_heads(void *p, long begin, long end) {
  attn_args *a = p;
  const long T = a->T, H = a->H, dh = a->dh, D = H * dh, ld = 3 * D;
  const float scale = 1.f / sqrtf((float)dh);
  for (long bh = begin; bh < end; bh++) {
    const long b = bh / H, h = bh % H;
    const float *q = a->qkv + b * T * ld + h * dh, *k = q + D, *v = q + 2 * D;
    float *P = a->probs_out + bh * T * T;
    // (T, dh) x (dh, T) -> (T, T)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, scale, q, ld, k, ld, 0.f, P, T);
    const float *m = a->mask ? a->mask + b * T : NULL;
    for (long i = 0; i < T; i++) {
      float *row = P + i * T, sum = 0.f;
      if (m)
        for (long j = 0; j < T; j++) row[j] += (1.f - m[j]) * -1e9f;
      float mx = row[0];
      for (long j = 1; j < T; j++) mx = row[j] > mx ? row[j] : mx;
      for (long j = 0; j < T; j++) {
        row[j] = exp_clamped(row[j] - mx);
        sum += row[j];
      }
      const float inv = 1.f / sum;
      for (long j = 0; j < T; j++) row[j] *= inv;
    }
    // (T, T) x (T, dh) -> (T, dh), written into out (B, T, D) at head h's columns
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.f, P, T, v, ld, 0.f, a->out + b * T * D + h * dh, D);
  }
}

// dV = P^T dO;  dP = dO V^T;  dS = P (dP - rowsum(dP P));  dQ = dS K / sqrt(dh);  dK = dS^T Q / sqrt(dh)
static void attn_bwd_heads(void *p, long begin, long end) {
  attn_args *a = p;
  const long T = a->T, H = a->H, dh = a->dh, D = H * dh, ld = 3 * D;
  const float scale = 1.f / sqrtf((float)dh);
  float *dS = malloc(T * T * sizeof(float));
  if (!dS) return; // the caller checks nothing more here: allocation of a few KB does not fail in practice
  for (long bh = begin; bh < end; bh++) {
    const long b = bh / H, h = bh % H;
    const long off = b * T * ld + h * dh;
    const float *q = a->qkv + off, *k = q + D, *v = q + 2 * D;
    float *dq = a->dqkv + off, *dk = dq + D, *dv = dq + 2 * D;
    const float *P = a->probs + bh * T * T;
    const float *dO = a->dout + b * T * D + h * dh;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.f, P, T, dO, D, 0.f, dv, ld);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1.f, dO, D, v, ld, 0.f, dS, T);
    for (long i = 0; i < T; i++) {
      const float *pr = P + i * T;
      float *row = dS + i * T, dot = 0.f;
      for (long j = 0; j < T; j++) dot += row[j] * pr[j];
      for (long j = 0; j < T; j++) row[j] = pr[j] * (row[j] - dot);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, scale, dS, T, k, ld, 0.f, dq, ld);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, scale, dS, T, q, ld, 0.f, dk, ld);
  }
  free(dS);
}

// The per-head products run one head per pool thread; OpenBLAS (the same library instance nblas uses for the
// other matrix products, so its thread count is only lowered for the duration) runs single-threaded inside.
static void heads_in_parallel(long n, range_fn fn, void *ctx) {
  if (pool_threads <= 1) {
    fn(ctx, 0, n); // OpenBLAS may use its own threads on each head's product
    return;
  }
  const int blas_threads = openblas_get_num_threads();
  if (blas_threads > 1) openblas_set_num_threads(1);
  parallel_for(n, 1, fn, ctx);
  if (blas_threads > 1) openblas_set_num_threads(blas_threads);
}

// ---------------------------------------------------------------------------------------------------
// N-API glue: arguments are Float32Arrays and numbers; every length is checked before any write.
#define MAX_ARGS 12

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_CROSSFLOW_KERNEL", message);
  return NULL;
}

typedef struct {
  napi_env env;
  napi_value argv[MAX_ARGS];
  size_t argc;
  int failed;
  const char *kernel;
} call;

static int get_args(call *c, napi_callback_info info, size_t expected, const char *kernel) {
  c->argc = MAX_ARGS;
  c->failed = 0;
  c->kernel = kernel;
  if (napi_get_cb_info(c->env, info, &c->argc, c->argv, NULL, NULL) != napi_ok || c->argc != expected) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: expected %zu arguments, got %zu", kernel, expected, c->argc);
    throw_error(c->env, msg);
    return 0;
  }
  return 1;
}

// The i-th argument as a Float32Array of exactly `length` elements.
static float *f32_arg(call *c, size_t i, size_t length, const char *name) {
  if (c->failed) return NULL;
  napi_typedarray_type type;
  size_t n = 0;
  void *data = NULL;
  bool is_ta = false;
  char msg[200];
  if (napi_is_typedarray(c->env, c->argv[i], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(c->env, c->argv[i], &type, &n, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    snprintf(msg, sizeof msg, "%s: %s must be a Float32Array", c->kernel, name);
    throw_error(c->env, msg);
    c->failed = 1;
    return NULL;
  }
  if (n != length) {
    snprintf(msg, sizeof msg, "%s: %s has %zu elements, expected %zu", c->kernel, name, n, length);
    throw_error(c->env, msg);
    c->failed = 1;
    return NULL;
  }
  return data;
}

static long int_arg(call *c, size_t i, const char *name) {
  if (c->failed) return 0;
  int64_t v = 0;
  if (napi_get_value_int64(c->env, c->argv[i], &v) != napi_ok || v < 1) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: %s must be a positive integer", c->kernel, name);
    throw_error(c->env, msg);
    c->failed = 1;
  }
  return (long)v;
}

// setThreads(n): the pool's size (caller included); returns it.
static napi_value set_threads(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 1, "setThreads")) return NULL;
  long n = int_arg(&c, 0, "threads");
  if (c.failed) return NULL;
  pool_resize((int)n);
  napi_value out;
  napi_create_int32(env, pool_threads, &out);
  return out;
}

// adalnForward(x, shift, scale, y, xhat, rstd, B, T, D, eps)
static napi_value adaln_forward(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 10, "adalnForward")) return NULL;
  long B = int_arg(&c, 6, "B"), T = int_arg(&c, 7, "T"), D = int_arg(&c, 8, "D");
  double eps = 0;
  if (!c.failed && napi_get_value_double(env, c.argv[9], &eps) != napi_ok) return throw_error(env, "adalnForward: eps must be a number");
  adaln_fwd_args a = {
    f32_arg(&c, 0, B * T * D, "x"), f32_arg(&c, 1, B * D, "shift"), f32_arg(&c, 2, B * D, "scale"),
    f32_arg(&c, 3, B * T * D, "y"), f32_arg(&c, 4, B * T * D, "xhat"), f32_arg(&c, 5, B * T, "rstd"), T, D, (float)eps,
  };
  if (c.failed) return NULL;
  parallel_for(B * T, 64, adaln_fwd_rows, &a);
  return NULL;
}

// adalnBackward(dy, xhat, rstd, scale, dx, dshift, dscale, B, T, D)
static napi_value adaln_backward(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 10, "adalnBackward")) return NULL;
  long B = int_arg(&c, 7, "B"), T = int_arg(&c, 8, "T"), D = int_arg(&c, 9, "D");
  adaln_bwd_args a = {
    f32_arg(&c, 0, B * T * D, "dy"), f32_arg(&c, 1, B * T * D, "xhat"), f32_arg(&c, 2, B * T, "rstd"),
    f32_arg(&c, 3, B * D, "scale"), f32_arg(&c, 4, B * T * D, "dx"), f32_arg(&c, 5, B * D, "dshift"),
    f32_arg(&c, 6, B * D, "dscale"), T, D,
  };
  if (c.failed) return NULL;
  parallel_for(B, 1, adaln_bwd_items, &a);
  return NULL;
}

static size_t f32_length(call *c, size_t i) {
  napi_typedarray_type type;
  size_t n = 0;
  bool is_ta = false;
  if (napi_is_typedarray(c->env, c->argv[i], &is_ta) != napi_ok || !is_ta) return 0;
  if (napi_get_typedarray_info(c->env, c->argv[i], &type, &n, NULL, NULL, NULL) != napi_ok) return 0;
  return n;
}

// gatedResidualForward(x, gate, h, y, B, T, D)
static napi_value gated_forward(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 7, "gatedResidualForward")) return NULL;
  long B = int_arg(&c, 4, "B"), T = int_arg(&c, 5, "T"), D = int_arg(&c, 6, "D");
  gated_args a = {
    f32_arg(&c, 0, B * T * D, "x"), f32_arg(&c, 1, B * D, "gate"), f32_arg(&c, 2, B * T * D, "h"), NULL,
    f32_arg(&c, 3, B * T * D, "y"), NULL, NULL, T, D,
  };
  if (c.failed) return NULL;
  parallel_for(B * T, 64, gated_fwd_rows, &a);
  return NULL;
}

// gatedResidualBackward(dy, gate, h, dh, dgate, B, T, D)
static napi_value gated_backward(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 8, "gatedResidualBackward")) return NULL;
  long B = int_arg(&c, 5, "B"), T = int_arg(&c, 6, "T"), D = int_arg(&c, 7, "D");
  gated_args a = {
    NULL, f32_arg(&c, 1, B * D, "gate"), f32_arg(&c, 2, B * T * D, "h"), f32_arg(&c, 0, B * T * D, "dy"),
    NULL, f32_arg(&c, 3, B * T * D, "dh"), f32_arg(&c, 4, B * D, "dgate"), T, D,
  };
  if (c.failed) return NULL;
  parallel_for(B, 1, gated_bwd_items, &a);
  return NULL;
}

// adamw(p, g, m, v, lr, beta1, beta2, eps, weightDecay, bc1, bc2): p, m and v updated in place
static napi_value adamw(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 11, "adamw")) return NULL;
  size_t n = f32_length(&c, 0);
  double h[7];
  for (int i = 0; i < 7; i++) {
    if (napi_get_value_double(env, c.argv[4 + i], &h[i]) != napi_ok) return throw_error(env, "adamw: lr, beta1, beta2, eps, weightDecay, bc1 and bc2 must be numbers");
  }
  adamw_args a = {
    f32_arg(&c, 0, n, "p"), f32_arg(&c, 2, n, "m"), f32_arg(&c, 3, n, "v"), f32_arg(&c, 1, n, "g"),
    1 - h[0] * h[4], h[0] / h[5], 1 / h[6], h[1], h[2], h[3],
  };
  if (c.failed) return NULL;
  parallel_for((long)n, 32768, adamw_range, &a);
  return NULL;
}

// geluForward(x, y)
static napi_value gelu_forward(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 2, "geluForward")) return NULL;
  size_t n = f32_length(&c, 0);
  gelu_args a = {f32_arg(&c, 0, n, "x"), NULL, f32_arg(&c, 1, n, "y")};
  if (c.failed) return NULL;
  parallel_for((long)n, 16384, gelu_fwd_range, &a);
  return NULL;
}

// geluBackward(x, dy, dx)
static napi_value gelu_backward(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 3, "geluBackward")) return NULL;
  size_t n = f32_length(&c, 0);
  gelu_args a = {f32_arg(&c, 0, n, "x"), f32_arg(&c, 1, n, "dy"), f32_arg(&c, 2, n, "dx")};
  if (c.failed) return NULL;
  parallel_for((long)n, 16384, gelu_bwd_range, &a);
  return NULL;
}

// attentionForward(qkv, mask | null, out, probs, B, T, H, dh)
static napi_value attention_forward(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 8, "attentionForward")) return NULL;
  long B = int_arg(&c, 4, "B"), T = int_arg(&c, 5, "T"), H = int_arg(&c, 6, "H"), dh = int_arg(&c, 7, "dh");
  napi_valuetype mask_type = napi_undefined;
  napi_typeof(env, c.argv[1], &mask_type);
  attn_args a = {
    f32_arg(&c, 0, B * T * 3 * H * dh, "qkv"), NULL, NULL,
    f32_arg(&c, 2, B * T * H * dh, "out"), f32_arg(&c, 3, B * H * T * T, "probs"), NULL, T, H, dh,
    mask_type == napi_null ? NULL : f32_arg(&c, 1, B * T, "mask"),
  };
  if (c.failed) return NULL;
  heads_in_parallel(B * H, attn_fwd_heads, &a);
  return NULL;
}

// attentionBackward(qkv, probs, dout, dqkv, B, T, H, dh)
static napi_value attention_backward(napi_env env, napi_callback_info info) {
  call c = {.env = env};
  if (!get_args(&c, info, 8, "attentionBackward")) return NULL;
  long B = int_arg(&c, 4, "B"), T = int_arg(&c, 5, "T"), H = int_arg(&c, 6, "H"), dh = int_arg(&c, 7, "dh");
  attn_args a = {
    f32_arg(&c, 0, B * T * 3 * H * dh, "qkv"), f32_arg(&c, 1, B * H * T * T, "probs"), f32_arg(&c, 2, B * T * H * dh, "dout"),
    NULL, NULL, f32_arg(&c, 3, B * T * 3 * H * dh, "dqkv"), T, H, dh, NULL,
  };
  if (c.failed) return NULL;
  heads_in_parallel(B * H, attn_bwd_heads, &a);
  return NULL;
}

// blasThreads(): OpenBLAS's thread count now (the attention kernels lower it only while they run).
static napi_value blas_threads(napi_env env, napi_callback_info info) {
  napi_value out;
  napi_create_int32(env, openblas_get_num_threads(), &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"blasThreads", NULL, blas_threads, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
    {"adalnForward", NULL, adaln_forward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"adalnBackward", NULL, adaln_backward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"gatedResidualForward", NULL, gated_forward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"gatedResidualBackward", NULL, gated_backward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"adamw", NULL, adamw, NULL, NULL, NULL, napi_enumerable, NULL},
    {"geluForward", NULL, gelu_forward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"geluBackward", NULL, gelu_backward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"attentionForward", NULL, attention_forward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"attentionBackward", NULL, attention_backward, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
