/* Which of a fixed set of literal strings occur in a text, and where, in one pass (Aho-Corasick).
 *
 * The optional compiled half of security/literals.py (built when a C compiler is present; without it
 * each literal is looked for with ``in`` on demand, as before). Finder(strings, wanted) builds one
 * automaton over the strings' UTF-8 bytes; Finder.scan(text) returns (found, positions): ``found``
 * the set of the strings that are substrings of ``text``; ``positions`` (for ASCII text only, else
 * None) maps each of the ``wanted`` strings that occur to the sorted character offsets where they
 * begin, or to None past MAX_POSITIONS of them: what trigger._positions gives.
 *
 * UTF-8 is self-synchronising, so a string's bytes occur in the text's bytes exactly where the string
 * occurs in the text. A text that has no UTF-8 form (a lone surrogate) raises UnicodeEncodeError; the
 * caller then takes the plain path.
 *
 * The automaton is a full table of transitions over byte classes (the bytes the strings use, plus one
 * class for every other byte, which always leads back to the root): one load per byte of text.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_POSITIONS 16  /* trigger._MAX_POSITIONS: one more and the anchor's positions are None */
#define MAX_STATES 65535  /* states are uint16 */

typedef struct {
    PyObject_HEAD
    PyObject *strings;    /* tuple of str */
    Py_ssize_t n;
    int32_t *length;      /* UTF-8 length of each string */
    int32_t *slot;        /* index among the wanted strings, or -1 */
    Py_ssize_t nwanted;
    uint8_t cls[256];     /* byte -> class; 0: a byte no string holds */
    int nclass;
    int32_t nstates;
    uint16_t *delta;      /* nstates x nclass */
    int32_t *term;        /* the string that ends at a state, or -1 */
    uint16_t *link;       /* the nearest proper suffix state where a string ends, 0 if none */
    int ready;            /* built completely */
} Finder;

/* One scan's working memory, its own: building the result allocates Python objects, which may run a
 * collection, whose finalisers may scan with the same finder (or let another thread do so). */
typedef struct {
    uint8_t *marked;      /* per string: found */
    int32_t *order;       /* the strings found, in the order found */
    int32_t *count;       /* per wanted string: occurrences seen */
    int32_t *pos;         /* per wanted string: MAX_POSITIONS + 1 offsets */
} Scratch;

static void finder_free_arrays(Finder *f) {
    PyMem_Free(f->length); PyMem_Free(f->slot); PyMem_Free(f->delta); PyMem_Free(f->term); PyMem_Free(f->link);
    f->length = f->slot = f->term = NULL;
    f->delta = f->link = NULL;
}

static void finder_dealloc(Finder *f) {
    finder_free_arrays(f);
    Py_XDECREF(f->strings);
    Py_TYPE(f)->tp_free((PyObject *)f);
}

static int finder_init(Finder *f, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"strings", "wanted", NULL};
    PyObject *strings_arg, *wanted_arg = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O", kwlist, &strings_arg, &wanted_arg)) return -1;
    if (f->strings != NULL) { PyErr_SetString(PyExc_TypeError, "Finder: already initialised"); return -1; }
    PyObject *strings = PySequence_Tuple(strings_arg);
    if (strings == NULL) return -1;
    f->strings = strings;
    Py_ssize_t n = PyTuple_GET_SIZE(strings);
    f->n = n;
    f->length = PyMem_Calloc(n ? n : 1, sizeof(int32_t));
    f->slot = PyMem_Calloc(n ? n : 1, sizeof(int32_t));
    if (!f->length || !f->slot) { PyErr_NoMemory(); return -1; }
    Py_ssize_t total = 0;
    int used[256] = {0};
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyTuple_GET_ITEM(strings, i);
        if (!PyUnicode_Check(s)) { PyErr_Format(PyExc_TypeError, "Finder: string %zd is not a str", i); return -1; }
        Py_ssize_t len;
        const char *b = PyUnicode_AsUTF8AndSize(s, &len);
        if (b == NULL) return -1;
        if (len == 0) { PyErr_SetString(PyExc_ValueError, "Finder: an empty string occurs everywhere"); return -1; }
        if (len > 4096) { PyErr_Format(PyExc_ValueError, "Finder: string %zd is over 4096 bytes", i); return -1; }
        f->length[i] = (int32_t)len;
        f->slot[i] = -1;
        total += len;
        for (Py_ssize_t k = 0; k < len; k++) used[(uint8_t)b[k]] = 1;
    }
    if (total + 1 > MAX_STATES) { PyErr_SetString(PyExc_ValueError, "Finder: too many states for uint16"); return -1; }
    /* the wanted strings: indexes into strings */
    f->nwanted = 0;
    if (wanted_arg != NULL && wanted_arg != Py_None) {
        PyObject *w = PySequence_Tuple(wanted_arg);
        if (w == NULL) return -1;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(w); j++) {
            Py_ssize_t i = PyLong_AsSsize_t(PyTuple_GET_ITEM(w, j));
            if (i == -1 && PyErr_Occurred()) { Py_DECREF(w); return -1; }
            if (i < 0 || i >= n) { Py_DECREF(w); PyErr_SetString(PyExc_IndexError, "Finder: wanted index out of range"); return -1; }
            if (f->slot[i] < 0) f->slot[i] = (int32_t)f->nwanted++;
        }
        Py_DECREF(w);
    }
    memset(f->cls, 0, sizeof f->cls);
    int nc = 1;
    for (int c = 0; c < 256; c++) if (used[c]) f->cls[c] = (uint8_t)nc++;
    f->nclass = nc;
    Py_ssize_t cap = total + 1;
    f->delta = PyMem_Calloc((size_t)cap * nc, sizeof(uint16_t));
    f->term = PyMem_Malloc((size_t)cap * sizeof(int32_t));
    f->link = PyMem_Calloc((size_t)cap, sizeof(uint16_t));
    uint16_t *fail = PyMem_Calloc((size_t)cap, sizeof(uint16_t));
    uint16_t *queue = PyMem_Malloc((size_t)cap * sizeof(uint16_t));
    if (!f->delta || !f->term || !f->link || !fail || !queue) {
        PyMem_Free(fail); PyMem_Free(queue); PyErr_NoMemory(); return -1;
    }
    for (Py_ssize_t s = 0; s < cap; s++) f->term[s] = -1;
    /* the trie: 0 is the root, and no trie edge leads to it, so 0 also means "no edge" while building */
    int32_t states = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        const char *b = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(strings, i), &len);
        int32_t s = 0;
        for (Py_ssize_t k = 0; k < len; k++) {
            uint16_t *t = &f->delta[(size_t)s * nc + f->cls[(uint8_t)b[k]]];
            if (*t == 0) *t = (uint16_t)states++;
            s = *t;
        }
        if (f->term[s] < 0) f->term[s] = (int32_t)i;  /* a repeated string: its first index stands for both */
    }
    f->nstates = states;
    /* breadth first: each state's missing edges are its failure state's (complete already, being shallower) */
    Py_ssize_t head = 0, tail = 0;
    for (int c = 0; c < nc; c++) {
        uint16_t t = f->delta[c];
        if (t) { fail[t] = 0; f->link[t] = 0; queue[tail++] = t; }
    }
    while (head < tail) {
        uint16_t s = queue[head++];
        uint16_t *row = &f->delta[(size_t)s * nc];
        const uint16_t *frow = &f->delta[(size_t)fail[s] * nc];
        for (int c = 0; c < nc; c++) {
            uint16_t t = row[c];
            if (t) {
                uint16_t ft = frow[c];
                fail[t] = ft;
                f->link[t] = f->term[ft] >= 0 ? ft : f->link[ft];
                queue[tail++] = t;
            } else {
                row[c] = frow[c];
            }
        }
    }
    PyMem_Free(fail);
    PyMem_Free(queue);
    f->ready = 1;
    return 0;
}

/* Marks the strings that end at state s (at byte ``end``). Without positions, a string already marked had
 * its suffix chain marked with it, so the walk stops there; with them, every wanted string on the chain
 * counts this occurrence, so the walk goes on (chains are a few states long). */
static inline Py_ssize_t mark(const Finder *f, Scratch *m, uint16_t s, Py_ssize_t nfound, Py_ssize_t end, int positions) {
    uint16_t x = f->term[s] >= 0 ? s : f->link[s];
    while (x) {
        int32_t i = f->term[x];
        if (positions) {
            int32_t w = f->slot[i];
            if (w >= 0) {
                int32_t k = m->count[w];
                if (k <= MAX_POSITIONS) {
                    m->pos[(size_t)w * (MAX_POSITIONS + 1) + k] = (int32_t)(end + 1 - f->length[i]);
                    m->count[w] = k + 1;
                }
            }
        } else if (m->marked[i]) {
            break;
        }
        if (!m->marked[i]) { m->marked[i] = 1; m->order[nfound++] = i; }
        x = f->link[x];
    }
    return nfound;
}

static PyObject *finder_scan(Finder *f, PyObject *text) {
    if (!f->ready) { PyErr_SetString(PyExc_RuntimeError, "Finder: not initialised"); return NULL; }
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "Finder.scan: text must be a str"); return NULL; }
    PyObject *bytes = NULL;
    const uint8_t *b;
    Py_ssize_t len;
    int ascii = PyUnicode_IS_ASCII(text);
    if (ascii) {
        b = (const uint8_t *)PyUnicode_DATA(text);
        len = PyUnicode_GET_LENGTH(text);
    } else {
        bytes = PyUnicode_AsUTF8String(text);
        if (bytes == NULL) return NULL;
        b = (const uint8_t *)PyBytes_AS_STRING(bytes);
        len = PyBytes_GET_SIZE(bytes);
    }
    int positions = ascii && f->nwanted > 0;
    Py_ssize_t nw = positions ? f->nwanted : 0;
    Scratch m;
    m.marked = PyMem_Calloc(f->n + 1, 1);
    m.order = PyMem_Malloc((f->n + 1) * sizeof(int32_t));
    m.count = PyMem_Calloc(nw + 1, sizeof(int32_t));
    m.pos = PyMem_Malloc((nw * (MAX_POSITIONS + 1) + 1) * sizeof(int32_t));
    if (!m.marked || !m.order || !m.count || !m.pos) {
        PyMem_Free(m.marked); PyMem_Free(m.order); PyMem_Free(m.count); PyMem_Free(m.pos);
        Py_XDECREF(bytes);
        return PyErr_NoMemory();
    }
    const uint16_t *delta = f->delta;
    const uint8_t *cls = f->cls;
    const int32_t *term = f->term;
    const uint16_t *link = f->link;
    int nc = f->nclass;
    Py_ssize_t nfound = 0;
    uint16_t s = 0;
    for (Py_ssize_t k = 0; k < len; k++) {
        s = delta[(size_t)s * nc + cls[b[k]]];
        if (term[s] >= 0 || link[s]) nfound = mark(f, &m, s, nfound, k, positions);
    }
    Py_XDECREF(bytes);
    PyObject *found = PySet_New(NULL);
    PyObject *where = ascii ? PyDict_New() : (Py_INCREF(Py_None), Py_None);
    int failed = found == NULL || where == NULL;
    for (Py_ssize_t j = 0; j < nfound; j++) {
        int32_t i = m.order[j];
        PyObject *str = PyTuple_GET_ITEM(f->strings, i);
        if (!failed && PySet_Add(found, str) < 0) failed = 1;
        if (positions && f->slot[i] >= 0) {
            int32_t w = f->slot[i];
            int32_t k = m.count[w];
            if (!failed) {
                PyObject *v;
                if (k > MAX_POSITIONS) {
                    v = Py_None; Py_INCREF(v);
                } else {
                    v = PyList_New(k);
                    for (int32_t q = 0; v != NULL && q < k; q++) {
                        PyObject *o = PyLong_FromLong(m.pos[(size_t)w * (MAX_POSITIONS + 1) + q]);
                        if (o == NULL) { Py_CLEAR(v); break; }
                        PyList_SET_ITEM(v, q, o);
                    }
                }
                if (v == NULL || PyDict_SetItem(where, str, v) < 0) failed = 1;
                Py_XDECREF(v);
            }
        }
    }
    PyMem_Free(m.marked); PyMem_Free(m.order); PyMem_Free(m.count); PyMem_Free(m.pos);
    if (failed) { Py_XDECREF(found); Py_XDECREF(where); return NULL; }
    PyObject *out = PyTuple_Pack(2, found, where);
    Py_DECREF(found);
    Py_DECREF(where);
    return out;
}

static PyMethodDef finder_methods[] = {
    {"scan", (PyCFunction)finder_scan, METH_O,
     "scan(text) -> (found, positions): the strings that occur in text; for ASCII text the offsets where each wanted one begins (None past 16)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject FinderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "watchkeeper.security._literals.Finder",
    .tp_basicsize = sizeof(Finder),
    .tp_dealloc = (destructor)finder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Finder(strings, wanted=()): which of strings occur in a text, in one pass (see scan).",
    .tp_methods = finder_methods,
    .tp_init = (initproc)finder_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_literals", "Many literal strings found in one pass (see security/literals.py).", -1, NULL,
};

PyMODINIT_FUNC PyInit__literals(void) {
    if (PyType_Ready(&FinderType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&FinderType);
    if (PyModule_AddObject(m, "Finder", (PyObject *)&FinderType) < 0) { Py_DECREF(&FinderType); Py_DECREF(m); return NULL; }
    return m;
}
