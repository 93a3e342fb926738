/* Standard normals from numpy bit generators, bit for bit those of Generator.standard_normal,
 * about 3x faster (mpi_dbm/normals.py; docs/performance.md).
 *
 * numpy draws a normal with the 256-layer ziggurat of Marsaglia & Tsang (J. Stat. Softw. 5(8),
 * 2000) in numpy's variant: one 64-bit word r per attempt, idx = r & 0xff, sign = bit 8,
 * rabs = bits 9..60; x = ±rabs·w[idx], accepted at once when rabs < k[idx] (99.3 %); otherwise
 * the wedge or the tail (idx 0) is sampled with further uniform draws. numpy's compiled
 * `random_standard_normal` (libnpyrandom, shipped with numpy for extensions like this one) takes
 * a branch on the sign, which a CPU mispredicts every other draw: ~9 ns per normal where the bit
 * generator itself costs ~2 ns. Here the accepted branch is written without it: same operations
 * (one conversion of an integer < 2^52, exact, one multiplication, a sign flip), same bits.
 *
 * The tables w and k are not copied: they are read off numpy's own function at import, by feeding
 * it chosen words through a probing bit generator (for each idx: the largest rabs it accepts at
 * once gives k, rabs = 1 gives w). Every attempt that is not accepted at once is handed to numpy's
 * function itself, with r replayed as its first word, so the wedge and the tail are numpy's code.
 * normals.py checks the result against Generator.standard_normal once per process before use.
 *
 * The generators are used without their Python-level locks (numpy holds them while it draws): a
 * stack's streams belong to one thread.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "numpy/random/bitgen.h"

/* from libnpyrandom (numpy/random/lib): one normal, the function Generator.standard_normal loops over */
extern double random_standard_normal(bitgen_t *bitgen_state);

#define LAYERS 256
#define RABS_LIMIT ((uint64_t)1 << 52) /* rabs has 52 bits */

static double w_table[LAYERS];
static uint64_t k_table[LAYERS]; /* rabs < k_table[idx]: accepted at once (0: never) */

/* -- reading the tables off numpy's function ------------------------------------------------ */

/* A bit generator that yields `first`, then words that are accepted at once (idx 2, rabs 0:
 * checked below), and uniforms of 0.5; it counts what numpy asked of it. */
typedef struct {
    uint64_t first;
    int words;
    int uniforms;
} probe_t;

#define PROBE_FILLER ((uint64_t)2)

static uint64_t probe_word(void *st) {
    probe_t *p = st;
    return p->words++ ? PROBE_FILLER : p->first;
}
static uint32_t probe_word32(void *st) { return (uint32_t)probe_word(st); }
static double probe_uniform(void *st) {
    ((probe_t *)st)->uniforms++;
    return 0.5;
}

/* whether numpy accepts (idx, sign 0, rabs) at once; *x: what it returned */
static int accepted_at_once(unsigned idx, uint64_t rabs, double *x) {
    probe_t p = {(uint64_t)idx | (rabs << 9), 0, 0};
    bitgen_t probe = {&p, probe_word, probe_word32, probe_uniform, probe_word};
    *x = random_standard_normal(&probe);
    return p.words == 1 && p.uniforms == 0;
}

/* 0 on success; -1 if numpy's function does not behave like the ziggurat described above */
static int read_tables(void) {
    double x;
    if (!accepted_at_once((unsigned)PROBE_FILLER, 0, &x)) return -1; /* the filler must end any loop */
    for (unsigned idx = 0; idx < LAYERS; idx++) {
        w_table[idx] = 0.0;
        if (!accepted_at_once(idx, 0, &x)) { /* this layer always goes the long way */
            k_table[idx] = 0;
            continue;
        }
        uint64_t lo = 0, hi = RABS_LIMIT; /* accepted at lo; hi: first rejected (RABS_LIMIT: none) */
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (accepted_at_once(idx, mid, &x))
                lo = mid;
            else
                hi = mid;
        }
        k_table[idx] = hi;
        if (hi > 1) {
            accepted_at_once(idx, 1, &x); /* 1·w = w exactly */
            w_table[idx] = x;
            /* a spot check of the acceptance rule and of x = rabs·w (both signs) */
            double y, z;
            uint64_t probe = lo;
            if (!accepted_at_once(idx, probe, &y) || y != (double)probe * x) return -1;
            probe_t p = {(uint64_t)idx | ((uint64_t)1 << 8) | (probe << 9), 0, 0};
            bitgen_t neg = {&p, probe_word, probe_word32, probe_uniform, probe_word};
            z = random_standard_normal(&neg);
            if (z != -y) return -1;
        }
    }
    return 0;
}

/* -- drawing ------------------------------------------------------------------------------- */

/* A bit generator that replays one word already drawn, then continues `inner` */
typedef struct {
    bitgen_t *inner;
    uint64_t first;
    int replayed;
} replay_t;

static uint64_t replay_word(void *st) {
    replay_t *p = st;
    if (!p->replayed) {
        p->replayed = 1;
        return p->first;
    }
    return p->inner->next_uint64(p->inner->state);
}
static uint32_t replay_word32(void *st) {
    replay_t *p = st;
    return p->inner->next_uint32(p->inner->state);
}
static double replay_uniform(void *st) {
    replay_t *p = st;
    return p->inner->next_double(p->inner->state);
}
static uint64_t replay_raw(void *st) {
    replay_t *p = st;
    return p->inner->next_raw(p->inner->state);
}

/* out[0..n): the next n normals of `bg`, as numpy would draw them */
static void fill_normals(bitgen_t *bg, double *out, Py_ssize_t n) {
    uint64_t (*next)(void *) = bg->next_uint64;
    void *state = bg->state;
    for (Py_ssize_t j = 0; j < n; j++) {
        uint64_t r = next(state);
        unsigned idx = (unsigned)(r & 0xff);
        uint64_t rabs = (r >> 9) & (RABS_LIMIT - 1);
        double x = (double)(int64_t)rabs * w_table[idx]; /* rabs < 2^52: the conversion is exact */
        uint64_t bits;
        memcpy(&bits, &x, sizeof bits);
        bits ^= ((r >> 8) & 1) << 63; /* the sign bit: x or −x, without a branch */
        memcpy(&x, &bits, sizeof x);
        if (__builtin_expect(rabs < k_table[idx], 1)) {
            out[j] = x;
        } else { /* the wedge or the tail: numpy's own code, from this word on */
            replay_t rp = {bg, r, 0};
            bitgen_t replay = {&rp, replay_word, replay_word32, replay_uniform, replay_raw};
            out[j] = random_standard_normal(&replay);
        }
    }
}

static bitgen_t *bitgen_of(PyObject *capsule) {
    bitgen_t *bg = PyCapsule_GetPointer(capsule, "BitGenerator");
    if (!bg) {
        PyErr_Clear();
        PyErr_SetString(PyExc_TypeError, "expected BitGenerator capsules (Generator.bit_generator.capsule)");
    }
    return bg;
}

static PyObject *fill(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *capsules, *target;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "OOn", &capsules, &target, &start)) return NULL;
    PyObject *seq = PySequence_Fast(capsules, "capsules must be a sequence");
    if (!seq) return NULL;
    Py_buffer buf;
    if (PyObject_GetBuffer(target, &buf, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_ND)) {
        Py_DECREF(seq);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t rows = PySequence_Fast_GET_SIZE(seq);
    if (buf.ndim != 2 || strcmp(buf.format, "d") != 0 || buf.itemsize != 8 || buf.shape[0] != rows) {
        PyErr_SetString(PyExc_ValueError, "out must be a C-contiguous float64 array of shape (len(capsules), n)");
        goto done;
    }
    Py_ssize_t cols = buf.shape[1];
    if (start < 0 || start > cols) {
        PyErr_SetString(PyExc_ValueError, "start must be in [0, out.shape[1]]");
        goto done;
    }
    for (Py_ssize_t i = 0; i < rows; i++) /* every capsule checked before anything is drawn */
        if (!bitgen_of(PySequence_Fast_GET_ITEM(seq, i))) goto done;
    for (Py_ssize_t i = 0; i < rows; i++)
        fill_normals(bitgen_of(PySequence_Fast_GET_ITEM(seq, i)), (double *)buf.buf + i * cols + start,
                     cols - start);
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&buf);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef methods[] = {
    {"fill", fill, METH_VARARGS,
     "fill(capsules, out, start): out[i, start:] ← the next normals of bit generator i"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ziggurat",
                                    "Standard normals from numpy bit generators, numpy's bits.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__ziggurat(void) {
    if (read_tables() != 0) {
        PyErr_SetString(PyExc_ImportError, "numpy's random_standard_normal is not the expected ziggurat");
        return NULL;
    }
    return PyModule_Create(&module);
}
