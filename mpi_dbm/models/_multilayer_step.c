/* One SGD step of the multilayer family (mpi_dbm/models/multilayer.py) for a stack of replicas:
 *
 *   forward:   pre_b = W a_b                                   (every replica, every b < |B|)
 *   φ:         h_b = φ(pre_b), numpy's (np.tanh is vectorised; a C library tanh costs ~10-20 ns
 *              a value, more than the rest of the step), called back from here
 *   backward:  ŷ_b = Z h_b,  e_b = ŷ_b − y_b,  worst = max(worst, Σ_b e_b²),
 *              δ_b = ((c e_b) ⊙ φ'(pre_b)) ⊙ Z,  c = α/|B|,
 *              W ← W − Σ_b δ_b a_bᵀ                           (parked replicas: W stays 0)
 *
 * W is stored transposed, WT (R, L, K), so that every inner loop runs over the K independent
 * outputs and vectorises without reordering a sum: each number is computed by the same scalar
 * operations in the same order whatever the SIMD width, and equals `ReferenceStepper` in
 * multilayer_step.py bit for bit (tests/models/test_multilayer_step.py). Built with
 * -ffp-contract=off (setup.py): no fused multiply-add, so the bits are those of IEEE double
 * arithmetic on any machine (φ aside: numpy's tanh may differ between CPUs).
 *
 * Shapes (C-contiguous float64 unless said): a (nb, R, B, L) and y (nb, R, B) of the whole data
 * set, minibatch-major; WT (R, L, K); pre, h (R, B, K); Z (R, K); err (R, B); worst (R,);
 * parked (R,) uint8/bool.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
/* one build, the widest vectors the CPU has; the clones compute the same bits (see above) */
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
/* the vector helpers are inlined: no vector crosses a call, whatever the target */
#pragma GCC diagnostic ignored "-Wpsabi"
#else
#define CLONES
#endif

enum { DERIV_TANH = 0, DERIV_RELU = 1, DERIV_IDENTITY = 2 };

/* Vectors of VW doubles (GCC/Clang vector extension: one AVX-512 register, two AVX2 or four SSE2
 * ones; elementwise IEEE operations, so the same bits for any width). Products are tiled over up to
 * TB minibatch rows × TV vectors of outputs, accumulated in registers: TB·TV independent chains hide
 * the latency of the additions. Outputs beyond the last whole vector are done one at a time. */
#define VW 8
#define TB 4
#define TV 2
typedef double vd __attribute__((vector_size(8 * VW), aligned(8)));

static inline __attribute__((always_inline)) vd vload(const double *p) {
    vd v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void vstore(double *p, vd v) { memcpy(p, &v, sizeof v); }

/* pre[b, k0 + v·VW + j] for b < nb, v < nv: Σ_l a[b, l] w[l, ·], summed over l in order */
static inline __attribute__((always_inline)) void forward_tile(int nb, int nv, Py_ssize_t L, Py_ssize_t K,
                                                               const double *restrict a,
                                                               const double *restrict w,
                                                               double *restrict pre) {
    vd acc[TB][TV];
    for (int i = 0; i < nb; i++)
        for (int v = 0; v < nv; v++) acc[i][v] = a[i * L] * vload(w + v * VW);
    for (Py_ssize_t l = 1; l < L; l++)
        for (int i = 0; i < nb; i++) {
            const double s = a[i * L + l];
            for (int v = 0; v < nv; v++) acc[i][v] += s * vload(w + l * K + v * VW);
        }
    for (int i = 0; i < nb; i++)
        for (int v = 0; v < nv; v++) vstore(pre + i * K + v * VW, acc[i][v]);
}

/* The rows [0, nb) of pre for outputs [k0, K): whole tiles of TV and 1 vectors, then one at a time */
static inline __attribute__((always_inline)) void forward_rows(int nb, Py_ssize_t L, Py_ssize_t K,
                                                               const double *restrict a,
                                                               const double *restrict w,
                                                               double *restrict pre) {
    Py_ssize_t k0 = 0;
    for (; k0 + TV * VW <= K; k0 += TV * VW) forward_tile(nb, TV, L, K, a, w + k0, pre + k0);
    for (; k0 + VW <= K; k0 += VW) forward_tile(nb, 1, L, K, a, w + k0, pre + k0);
    for (int i = 0; i < nb; i++)
        for (Py_ssize_t k = k0; k < K; k++) {
            double acc = a[i * L] * w[k];
            for (Py_ssize_t l = 1; l < L; l++) acc += a[i * L + l] * w[l * K + k];
            pre[i * K + k] = acc;
        }
}

CLONES static void forward(Py_ssize_t R, Py_ssize_t B, Py_ssize_t L, Py_ssize_t K,
                           const double *restrict a, const double *restrict WT, double *restrict pre) {
    for (Py_ssize_t r = 0; r < R; r++) {
        const double *w = WT + r * L * K;
        for (Py_ssize_t b = 0; b < B; b += TB) {
            const double *ab = a + (r * B + b) * L;
            double *pb = pre + (r * B + b) * K;
            switch (B - b < TB ? B - b : TB) { /* tile heights are constants */
            case 1: forward_rows(1, L, K, ab, w, pb); break;
            case 2: forward_rows(2, L, K, ab, w, pb); break;
            case 3: forward_rows(3, L, K, ab, w, pb); break;
            default: forward_rows(TB, L, K, ab, w, pb); break;
            }
        }
    }
}

/* w[l, k0 + v·VW + j] −= Σ_{i<nb} a[i, l] d[i, ·] for all l (a: rows of length L, d: of length K),
 * the sum over i in order, starting from a[0, l] d[0, ·]; d's tile stays in registers. */
static inline __attribute__((always_inline)) void gradient_tile(int nb, int nv, Py_ssize_t L, Py_ssize_t K,
                                                                const double *restrict a,
                                                                const double *restrict d,
                                                                double *restrict w) {
    vd dv[TB][TV];
    for (int i = 0; i < nb; i++)
        for (int v = 0; v < nv; v++) dv[i][v] = vload(d + i * K + v * VW);
    for (Py_ssize_t l = 0; l < L; l++)
        for (int v = 0; v < nv; v++) {
            vd g = a[l] * dv[0][v];
            for (int i = 1; i < nb; i++) g += a[i * L + l] * dv[i][v];
            vstore(w + l * K + v * VW, vload(w + l * K + v * VW) - g);
        }
}

/* w −= Σ_{i<nb} a_i d_iᵀ for nb ≤ TB rows: whole tiles of TV and 1 vectors, then one at a time */
static inline __attribute__((always_inline)) void gradient_rows(int nb, Py_ssize_t L, Py_ssize_t K,
                                                                const double *restrict a,
                                                                const double *restrict d,
                                                                double *restrict w) {
    Py_ssize_t k0 = 0;
    for (; k0 + TV * VW <= K; k0 += TV * VW) gradient_tile(nb, TV, L, K, a, d + k0, w + k0);
    for (; k0 + VW <= K; k0 += VW) gradient_tile(nb, 1, L, K, a, d + k0, w + k0);
    for (Py_ssize_t l = 0; l < L; l++)
        for (Py_ssize_t k = k0; k < K; k++) {
            double g = a[l] * d[k];
            for (int i = 1; i < nb; i++) g += a[i * L + l] * d[i * K + k];
            w[l * K + k] -= g;
        }
}

CLONES static void backward(Py_ssize_t R, Py_ssize_t B, Py_ssize_t L, Py_ssize_t K,
                            const double *restrict a, double *restrict WT, double *restrict h,
                            const double *restrict pre, const double *restrict Z,
                            const double *restrict y, double *restrict err, double *restrict worst,
                            const unsigned char *restrict parked, double rate, int deriv,
                            const double *restrict next) {
    for (Py_ssize_t r = 0; r < R; r++) {
        const double *z = Z + r * K;
        double *hr = h + r * B * K;
        const double *pr = pre + r * B * K;
        double *er = err + r * B;
        /* the next step's minibatch, from memory into the cache while this one computes */
        for (Py_ssize_t i = 0; i < B * L; i += 64 / sizeof(double)) __builtin_prefetch(next + r * B * L + i);
        /* ŷ_b − y_b and the minibatch's Σ_b (ŷ_b − y_b)² */
        double sq = 0.0;
        for (Py_ssize_t b = 0; b < B; b++) {
            const double *hb = hr + b * K;
            double out = hb[0] * z[0];
            for (Py_ssize_t k = 1; k < K; k++) out += hb[k] * z[k];
            const double e = out - y[r * B + b];
            er[b] = e;
            sq += e * e;
        }
        /* np.maximum: a NaN on either side wins */
        if (!isnan(worst[r]) && (isnan(sq) || sq > worst[r])) worst[r] = sq;
        if (parked[r]) continue;
        /* h_b ← δ_b = ((c e_b) φ'(pre_b)) Z */
        for (Py_ssize_t b = 0; b < B; b++) {
            double *hb = hr + b * K;
            const double *pb = pr + b * K;
            const double ce = er[b] * rate;
            if (deriv == DERIV_TANH) {
                for (Py_ssize_t k = 0; k < K; k++) hb[k] = ((1.0 - hb[k] * hb[k]) * ce) * z[k];
            } else if (deriv == DERIV_RELU) {
                for (Py_ssize_t k = 0; k < K; k++) hb[k] = ((pb[k] > 0.0 ? 1.0 : 0.0) * ce) * z[k];
            } else {
                for (Py_ssize_t k = 0; k < K; k++) hb[k] = (1.0 * ce) * z[k];
            }
        }
        /* WT[l] ← WT[l] − Σ_b a_b[l] δ_b */
        const double *ar = a + r * B * L;
        double *w = WT + r * L * K;
        switch (B) { /* tile heights are constants */
        case 1: gradient_rows(1, L, K, ar, hr, w); break;
        case 2: gradient_rows(2, L, K, ar, hr, w); break;
        case 3: gradient_rows(3, L, K, ar, hr, w); break;
        case 4: gradient_rows(4, L, K, ar, hr, w); break;
        default:
            for (Py_ssize_t l = 0; l < L; l++) {
                double *wl = w + l * K;
                Py_ssize_t k0 = 0;
                for (; k0 + VW <= K; k0 += VW) {
                    vd g = ar[l] * vload(hr + k0);
                    for (Py_ssize_t b = 1; b < B; b++) g += ar[b * L + l] * vload(hr + b * K + k0);
                    vstore(wl + k0, vload(wl + k0) - g);
                }
                for (Py_ssize_t k = k0; k < K; k++) {
                    double g = ar[l] * hr[k];
                    for (Py_ssize_t b = 1; b < B; b++) g += ar[b * L + l] * hr[b * K + k];
                    wl[k] -= g;
                }
            }
        }
    }
}

/* A Stepper holds the buffers of one stack's state for its lifetime (so a step costs one call,
 * not the acquisition of ten buffers): a (nb, R, B, L) and y (nb, R, B) of the whole data set,
 * WT, pre, h, Z, err, worst, parked as above, and the activation φ, a Python callable (pre, h). */
enum { A, WTB, PRE, H, ZB, Y, ERR, WORST, PARKED, NBUF };
static const char *const names[NBUF] = {"a", "WT", "pre", "h", "Z", "y", "err", "worst", "parked"};

typedef struct {
    PyObject_HEAD Py_ssize_t R, B, L, K, nb;
    int deriv, held; /* buffers acquired so far */
    Py_buffer buf[NBUF];
    PyObject *phi;
} Stepper;

static void stepper_dealloc(Stepper *self) {
    for (int i = 0; i < self->held; i++) PyBuffer_Release(&self->buf[i]);
    Py_XDECREF(self->phi);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int stepper_init(Stepper *self, PyObject *args, PyObject *kwds) {
    PyObject *obj[NBUF], *phi;
    if (self->held || self->phi) {
        PyErr_SetString(PyExc_RuntimeError, "Stepper is already initialised");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "nnnnnOOOOOOOOOOi", &self->R, &self->B, &self->L, &self->K, &self->nb,
                          &obj[A], &obj[WTB], &obj[PRE], &obj[H], &obj[ZB], &obj[Y], &obj[ERR],
                          &obj[WORST], &obj[PARKED], &phi, &self->deriv))
        return -1;
    const Py_ssize_t R = self->R, B = self->B, L = self->L, K = self->K, nb = self->nb;
    if (R < 0 || B < 1 || L < 1 || K < 1 || nb < 1 || self->deriv < DERIV_TANH ||
        self->deriv > DERIV_IDENTITY || !PyCallable_Check(phi)) {
        PyErr_SetString(PyExc_ValueError, "sizes must be positive, deriv 0, 1 or 2, phi callable");
        return -1;
    }
    const Py_ssize_t items[NBUF] = {nb * R * B * L, R * L * K, R * B * K, R * B * K, R * K,
                                    nb * R * B, R * B, R, R};
    for (int i = 0; i < NBUF; i++) {
        const int writable = i == WTB || i == PRE || i == H || i == ERR || i == WORST;
        if (PyObject_GetBuffer(obj[i], &self->buf[i], PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)))
            return -1;
        self->held = i + 1;
        const Py_ssize_t size = i == PARKED ? 1 : 8;
        if (self->buf[i].len != items[i] * size) {
            PyErr_Format(PyExc_ValueError, "%s: expected %zd items of %zd bytes, got %zd bytes",
                         names[i], items[i], size, self->buf[i].len);
            return -1;
        }
    }
    Py_INCREF(phi);
    self->phi = phi;
    return 0;
}

static PyObject *stepper_step(Stepper *self, PyObject *args) {
    Py_ssize_t k;
    double rate;
    if (!PyArg_ParseTuple(args, "nd", &k, &rate)) return NULL;
    if (self->held != NBUF || !self->phi || k < 0 || k >= self->nb) {
        PyErr_SetString(PyExc_ValueError, "uninitialised Stepper or minibatch out of range");
        return NULL;
    }
    const Py_ssize_t R = self->R, B = self->B, L = self->L, K = self->K;
    const double *a = (const double *)self->buf[A].buf + k * R * B * L;
    const double *y = (const double *)self->buf[Y].buf + k * R * B;
    forward(R, B, L, K, a, self->buf[WTB].buf, self->buf[PRE].buf);
    PyObject *done = PyObject_CallFunctionObjArgs(self->phi, self->buf[PRE].obj, self->buf[H].obj, NULL);
    if (!done) return NULL;
    Py_DECREF(done);
    backward(R, B, L, K, a, self->buf[WTB].buf, self->buf[H].buf, self->buf[PRE].buf, self->buf[ZB].buf,
             y, self->buf[ERR].buf, self->buf[WORST].buf, self->buf[PARKED].buf, rate, self->deriv,
             (const double *)self->buf[A].buf + (k + 1) % self->nb * R * B * L);
    Py_RETURN_NONE;
}

static PyMethodDef stepper_methods[] = {
    {"step", (PyCFunction)stepper_step, METH_VARARGS,
     "step(k, rate): one SGD update of every replica on minibatch k, rate = α/|B|"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject StepperType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mpi_dbm.models._multilayer_step.Stepper",
    .tp_basicsize = sizeof(Stepper),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Stepper(R, B, L, K, nb, a, WT, pre, h, Z, y, err, worst, parked, phi, deriv)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)stepper_init,
    .tp_dealloc = (destructor)stepper_dealloc,
    .tp_methods = stepper_methods,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_multilayer_step",
                                    "Compiled SGD step of the multilayer family.", -1, NULL};

PyMODINIT_FUNC PyInit__multilayer_step(void) {
    if (PyType_Ready(&StepperType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&StepperType);
    if (PyModule_AddObject(m, "Stepper", (PyObject *)&StepperType) < 0) {
        Py_DECREF(&StepperType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
