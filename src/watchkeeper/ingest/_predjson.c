/* Predictions from a JSON array to column lists in one pass, for the common well-formed batch.
 *
 * The optional compiled half of ingest/fastpath.py (built when a C compiler is present; without it
 * the msgspec path does the same work). decode(body, received) returns the columns that
 * fastpath._typed_predictions builds, value for value, or None to decline. It declines whatever it
 * is not sure to decode exactly as msgspec and orjson would: any escape or non-ASCII byte in a
 * string, an unknown or repeated field, a nested feature value, a number out of range, a float
 * whose shortest text it cannot vouch for. Declining is always safe: the batch then takes the
 * msgspec path, and after it the general path that names the field of every error.
 *
 * Feature dicts (inputs, segment) are stored as compact JSON, byte for byte what orjson.dumps writes
 * for the dict msgspec would have decoded. Strings are copied (ASCII, no escapes: orjson writes them
 * unchanged), integers are copied (JSON has one way to write an integer; "-0" is declined), and a float
 * is copied when its text is provably what orjson writes (plain notation, at most 15 significant digits,
 * between 1e-5 and 1e16), else written from Python's repr (PyOS_double_to_string), which orjson matches
 * but below 1e-4 (there: 0.000099 for 9.9e-05, 1.5e-8 for 1.5e-08).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_ID 256      /* records.MAX_ID */
#define MAX_STR 1024    /* records.MAX_STR */
#define MAX_TRACE 64
#define MIN_S 631152000.0   /* records._MIN_S */
#define MAX_S 7258118400.0  /* records._MAX_S */
#define MAX_KEYS 512        /* distinct feature keys in a batch (the plain check needs them all); more: decline */
#define CACHE 4             /* recently made strings reused per column */

enum { OK = 0, DECLINE = -1, ERROR = -2 };

typedef struct {
    const char *p, *end;
} Cur;

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

typedef struct {
    PyObject *items[CACHE];
    int next;
} Cache;

typedef struct {
    const char *s;
    Py_ssize_t len;
} Slice;

typedef struct {
    Slice keys[MAX_KEYS];      /* the distinct feature keys so far */
    unsigned stamp[MAX_KEYS];  /* the feature object each key was last seen in (a repeat within one: decline) */
    int nkeys;
    int hint;                  /* where the next key is looked up first: records repeat their key order */
    unsigned object;           /* the current feature object, numbered from 1 */
    int long_value;            /* a feature string of 5 or more characters */
} Facts;

static inline void skip_ws(Cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
        c->p++;
}

static inline int expect(Cur *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return OK;
    }
    return DECLINE;
}

/* After a member or an element: 1 for a comma (another one follows), 0 for ``close``, else DECLINE. */
static int comma_or(Cur *c, char close) {
    skip_ws(c);
    if (c->p < c->end) {
        char ch = *c->p++;
        if (ch == ',')
            return 1;
        if (ch == close)
            return 0;
    }
    return DECLINE;
}

static int buf_grow(Buf *b, const char *s, Py_ssize_t n);

static inline int buf_put(Buf *b, const char *s, Py_ssize_t n) {
    if (b->len + n <= b->cap) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        return OK;
    }
    return buf_grow(b, s, n);
}

static int buf_grow(Buf *b, const char *s, Py_ssize_t n) {
    {
        Py_ssize_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *grown = PyMem_Realloc(b->data, cap);
        if (!grown) {
            PyErr_NoMemory();
            return ERROR;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return OK;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Whether any of 8 bytes is a quote, a backslash, a control character or non-ASCII. */
static inline int special_in(uint64_t w) {
    uint64_t quote = w ^ (ONES * '"'), slash = w ^ (ONES * '\\');
    uint64_t zero_q = (quote - ONES) & ~quote, zero_s = (slash - ONES) & ~slash;
    uint64_t control = (w - ONES * 0x20) & ~w;
    return ((zero_q | zero_s | control) & HIGHS) || (w & HIGHS);
}

/* A string without escapes, control characters or non-ASCII bytes; the cursor ends after its quote. */
static int string_token(Cur *c, Slice *out) {
    if (c->p >= c->end || *c->p != '"')
        return DECLINE;
    const char *s = ++c->p;
    const char *q = s;
    while (c->end - q >= 8) { /* eight bytes at a time to the first one that needs a look */
        uint64_t w;
        memcpy(&w, q, 8);
        if (special_in(w))
            break;
        q += 8;
    }
    while (q < c->end) {
        unsigned char ch = (unsigned char)*q;
        if (ch == '"')
            break;
        if (ch < 0x20 || ch >= 0x80 || ch == '\\')
            return DECLINE;
        q++;
    }
    if (q >= c->end)
        return DECLINE;
    out->s = s;
    out->len = q - s;
    c->p = q + 1;
    return OK;
}

typedef struct {
    const char *s;
    Py_ssize_t len;
    int is_int;
} Num;

static inline int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* A number in JSON's grammar. */
static int number_token(Cur *c, Num *n) {
    const char *p = c->p, *e = c->end;
    n->s = p;
    n->is_int = 1;
    if (p < e && *p == '-')
        p++;
    if (p >= e)
        return DECLINE;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < e && is_digit(*p))
            p++;
    else
        return DECLINE;
    if (p < e && *p == '.') {
        n->is_int = 0;
        p++;
        if (p >= e || !is_digit(*p))
            return DECLINE;
        while (p < e && is_digit(*p))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        n->is_int = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_digit(*p))
            return DECLINE;
        while (p < e && is_digit(*p))
            p++;
    }
    n->len = p - n->s;
    c->p = p;
    return OK;
}

/* An integer token as int64 (msgspec's bound for features and outputs); "-0" is declined. */
static int int_value(const Num *n, int64_t *out) {
    const char *p = n->s, *e = n->s + n->len;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    uint64_t v = 0;
    for (; p < e; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return DECLINE;
        v = v * 10 + d;
    }
    if (neg) {
        if (v == 0 || v > (uint64_t)INT64_MAX + 1)
            return DECLINE;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return DECLINE;
        *out = (int64_t)v;
    }
    return OK;
}

/* Whether d = M * 2**E (53-bit M, E < 0) is m / 10**scale correctly rounded (ties to even), decided
 * exactly in 128-bit integers: 2m * 2**-E lies between (2M - 1) * 10**scale and (2M + 1) * 10**scale.
 * Returns 0 (it is), -1 (the value is below: step down), 1 (step up) or 2 (out of this test's range). */
static int rounding_check(uint64_t m, int scale, double d) {
    int e2;
    double f = frexp(d, &e2);
    uint64_t M = (uint64_t)ldexp(f, 53);
    int E = e2 - 53;
    if (E >= 0 || M == (1ULL << 52)) /* at a power of two the ulp below is half as wide: not handled here */
        return 2;
    int shift = 1 - E;                                   /* 2m * 2**-E = m << shift */
    int mbits = 64 - __builtin_clzll(m);
    if (mbits + shift > 127)
        return 2;
    __uint128_t ten = 1;
    for (int i = 0; i < scale; i++) /* scale <= 22 */
        ten *= 10;
    int tbits = ten >> 64 ? 128 - __builtin_clzll((uint64_t)(ten >> 64)) : 64 - __builtin_clzll((uint64_t)ten);
    if (tbits + 54 > 128)
        return 2;
    __uint128_t x = (__uint128_t)m << shift;
    __uint128_t lo = (__uint128_t)(2 * M - 1) * ten, hi = (__uint128_t)(2 * M + 1) * ten;
    if (x < lo || (x == lo && (M & 1)))
        return -1;
    if (x > hi || (x == hi && (M & 1)))
        return 1;
    return 0;
}

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Any number token as the double Python's float() gives, correctly rounded. Plain decimals of up to
 * 19 digits: one division, then an exact check (and a step of one ulp where the division was off);
 * anything else: PyOS_string_to_double. Out of range or flushed to zero: declined. */
static int float_value(const Num *n, double *out) {
    const char *p = n->s, *e = n->s + n->len;
    int neg = 0, frac = 0, digits = 0, simple = 1;
    uint64_t m = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    for (; p < e; p++) {
        if (*p == '.') {
            frac = 1;
            continue;
        }
        if (*p == 'e' || *p == 'E' || ++digits > 19) {
            simple = 0;
            break;
        }
        m = m * 10 + (uint64_t)(*p - '0');
        if (frac)
            frac++;
    }
    if (simple) {
        int scale = frac ? frac - 1 : 0;
        if (m == 0) {
            *out = neg ? -0.0 : 0.0;
            return OK;
        }
        if (scale <= 22) {
            double d = (double)m / POW10[scale];
            if (m < (1ULL << 53)) { /* both operands exact: the one division is correctly rounded */
                *out = neg ? -d : d;
                return OK;
            }
            for (int step = 0; step < 3; step++) {
                int rc = rounding_check(m, scale, d);
                if (rc == 0) {
                    *out = neg ? -d : d;
                    return OK;
                }
                if (rc == 2)
                    break;
                d = nextafter(d, rc < 0 ? 0.0 : INFINITY);
            }
        }
    }
    char buf[80];
    if (n->len >= (Py_ssize_t)sizeof(buf))
        return DECLINE;
    memcpy(buf, n->s, n->len);
    buf[n->len] = '\0';
    char *end = NULL;
    double d = PyOS_string_to_double(buf, &end, NULL);
    if (d == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return DECLINE;
    }
    if (end != buf + n->len || !isfinite(d))
        return DECLINE;
    if (d == 0.0) { /* underflow to zero: leave it to the typed path */
        for (p = n->s; p < e && *p != 'e' && *p != 'E'; p++)
            if (*p >= '1' && *p <= '9')
                return DECLINE;
    }
    *out = d;
    return OK;
}

/* A number for a float field: msgspec takes an integer token as that int converted to float. */
static int number_as_double(const Num *n, double *out) {
    if (n->is_int) {
        int64_t v;
        if (int_value(n, &v) != OK)
            return DECLINE;
        *out = (double)v;
        return OK;
    }
    return float_value(n, out);
}

/* Whether a float token is already Python's repr of its value (which orjson writes the same way for
 * magnitudes in [1e-4, 1e16)): plain notation, no trailing zero after the point but a lone ".0", and
 * at most 15 significant digits, so that no shorter decimal maps to the same double. */
static int is_repr(const Num *n, double d) {
    const char *p = n->s, *e = n->s + n->len;
    if (*p == '-')
        p++;
    const char *dot = NULL;
    for (const char *q = p; q < e; q++) {
        if (*q == 'e' || *q == 'E')
            return 0;
        if (*q == '.')
            dot = q;
    }
    if (!dot)
        return 0;
    Py_ssize_t fraction = e - dot - 1;
    int whole = fraction == 1 && dot[1] == '0';
    if (!whole && e[-1] == '0')
        return 0;
    if (d == 0.0)
        return dot - p == 1 && *p == '0' && whole;
    double a = fabs(d);
    if (a < 1e-5 || a >= 1e16) /* orjson writes [1e-5, 1e-4) in plain notation too, unlike repr */
        return 0;
    const char *first = NULL, *last = NULL;
    for (const char *q = p; q < (whole ? dot : e); q++) {
        if (*q >= '1' && *q <= '9') {
            if (!first)
                first = q;
            last = q;
        }
    }
    if (!first)
        return 0;
    Py_ssize_t sig = last - first + 1 - (first < dot && last > dot ? 1 : 0);
    return sig <= 15;
}

/* orjson's text for a float, from Python's repr ``text`` of it: the same except below 1e-4, where repr
 * writes 9.9e-05 and orjson 0.000099 (from 1e-5) or 1.5e-8 (below; no zero-padded exponent). */
static int put_orjson_float(Buf *b, const char *text, double d) {
    double a = fabs(d);
    Py_ssize_t len = (Py_ssize_t)strlen(text);
    if (d == 0.0 || a >= 1e-4)
        return buf_put(b, text, len);
    const char *e = strchr(text, 'e');
    if (!e || e[1] != '-')
        return DECLINE;
    int rc;
    if (a >= 1e-5) { /* d.ddd e-05 -> 0.0000dddd */
        if (strcmp(e, "e-05") != 0)
            return DECLINE;
        if (*text == '-' && (rc = buf_put(b, "-", 1)) != OK)
            return rc;
        if ((rc = buf_put(b, "0.0000", 6)) != OK)
            return rc;
        for (const char *q = *text == '-' ? text + 1 : text; q < e; q++)
            if (*q != '.' && (rc = buf_put(b, q, 1)) != OK)
                return rc;
        return OK;
    }
    const char *digits = e + 2; /* e-08 -> e-8 */
    while (*digits == '0' && digits[1])
        digits++;
    if ((rc = buf_put(b, text, e + 2 - text)) != OK)
        return rc;
    return buf_put(b, digits, (Py_ssize_t)strlen(digits));
}

/* A number inside compact JSON, as orjson.dumps writes the int or float msgspec decodes. */
static int put_number(Buf *b, const Num *n) {
    if (n->is_int) {
        int64_t v;
        if (int_value(n, &v) != OK)
            return DECLINE;
        return buf_put(b, n->s, n->len);
    }
    double d;
    if (float_value(n, &d) != OK)
        return DECLINE;
    if (is_repr(n, d))
        return buf_put(b, n->s, n->len);
    char *text = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!text)
        return ERROR;
    int rc = put_orjson_float(b, text, d);
    PyMem_Free(text);
    return rc;
}

/* Records a feature key of the current object; DECLINE when the object repeats it (msgspec keeps the last
 * value: leave it to that path) or past MAX_KEYS distinct keys (the typed path would check them all).
 * The search starts after the key found last, so records that list their keys in one order cost one
 * comparison a key. */
static int note_key(Facts *f, Slice key) {
    int n = f->nkeys;
    for (int j = 0; j < n; j++) {
        int i = f->hint + j < n ? f->hint + j : f->hint + j - n;
        if (f->keys[i].len == key.len && memcmp(f->keys[i].s, key.s, key.len) == 0) {
            if (f->stamp[i] == f->object)
                return DECLINE;
            f->stamp[i] = f->object;
            f->hint = i + 1 < n ? i + 1 : 0;
            return OK;
        }
    }
    if (n == MAX_KEYS)
        return DECLINE;
    f->keys[n] = key;
    f->stamp[n] = f->object;
    f->nkeys = n + 1;
    f->hint = 0;
    return OK;
}

/* The string ":" (a key or a value) can make fastpath._LONG_VALUE match where no string value is
 * long (`{":":12345}`), so the typed path would not call the batch plain: decline it. */
static inline int is_colon(Slice s) { return s.len == 1 && s.s[0] == ':'; }

/* A flat object of scalars as compact JSON in ``b``; its number of keys in ``*size``. */
static int flat_object(Cur *c, Buf *b, Facts *f, Py_ssize_t *size) {
    int count = 0, rc;
    f->object++;
    b->len = 0;
    if (c->p >= c->end || *c->p != '{')
        return DECLINE;
    c->p++;
    if ((rc = buf_put(b, "{", 1)) != OK)
        return rc;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        *size = 0;
        return buf_put(b, "}", 1);
    }
    for (;;) {
        Slice key, value;
        skip_ws(c);
        if (string_token(c, &key) != OK || is_colon(key) || note_key(f, key) != OK)
            return DECLINE;
        count++;
        if (expect(c, ':') != OK)
            return DECLINE;
        skip_ws(c);
        if (c->p >= c->end)
            return DECLINE;
        if ((rc = buf_put(b, key.s - 1, key.len + 2)) != OK || (rc = buf_put(b, ":", 1)) != OK)
            return rc;
        char ch = *c->p;
        if (ch == '"') {
            if (string_token(c, &value) != OK || is_colon(value))
                return DECLINE;
            if (value.len >= 5)
                f->long_value = 1;
            rc = buf_put(b, value.s - 1, value.len + 2);
        } else if (ch == 't' && c->end - c->p >= 4 && memcmp(c->p, "true", 4) == 0) {
            c->p += 4;
            rc = buf_put(b, "true", 4);
        } else if (ch == 'f' && c->end - c->p >= 5 && memcmp(c->p, "false", 5) == 0) {
            c->p += 5;
            rc = buf_put(b, "false", 5);
        } else if (ch == 'n' && c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
            c->p += 4;
            rc = buf_put(b, "null", 4);
        } else if (ch == '-' || is_digit(ch)) {
            Num n;
            if (number_token(c, &n) != OK)
                return DECLINE;
            rc = put_number(b, &n);
        } else {
            return DECLINE; /* nested list or object */
        }
        if (rc != OK)
            return rc;
        int more = comma_or(c, '}');
        if (more == DECLINE)
            return DECLINE;
        if ((rc = buf_put(b, more ? "," : "}", 1)) != OK)
            return rc;
        if (!more) {
            *size = count;
            return OK;
        }
    }
}

/* An ASCII str for ``s``, reusing one of the column's recent strings when equal (labels, versions,
 * segments repeat row after row). Returns a new reference. */
static PyObject *cached_str(Cache *cache, const char *s, Py_ssize_t len) {
    for (int i = 0; i < CACHE; i++) {
        PyObject *o = cache->items[i];
        if (o && PyUnicode_GET_LENGTH(o) == len && memcmp(PyUnicode_1BYTE_DATA(o), s, len) == 0) {
            Py_INCREF(o);
            return o;
        }
    }
    PyObject *o = PyUnicode_New(len, 127);
    if (!o)
        return NULL;
    memcpy(PyUnicode_1BYTE_DATA(o), s, len);
    Py_XDECREF(cache->items[cache->next]);
    Py_INCREF(o);
    cache->items[cache->next] = o;
    cache->next = (cache->next + 1) % CACHE;
    return o;
}

static void cache_clear(Cache *cache) {
    for (int i = 0; i < CACHE; i++)
        Py_CLEAR(cache->items[i]);
}

/* Appends ``item`` (a new reference, or NULL for an error already set) to ``list``. */
static int append(PyObject *list, PyObject *item) {
    if (!item)
        return ERROR;
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc < 0 ? ERROR : OK;
}

static int append_none(PyObject *list) {
    Py_INCREF(Py_None);
    return append(list, Py_None);
}

enum {
    C_MODEL, C_VERSION, C_REQUEST, C_TS, C_INPUTS, C_SIZE, C_LABEL, C_VALUE, C_SCORE, C_SCORES,
    C_LATENCY, C_SEGMENT, C_COST, C_TRACE, N_COLUMNS
};

enum {
    F_MODEL = 1 << 0, F_OUTPUT = 1 << 1, F_REQUEST = 1 << 2, F_VERSION = 1 << 3, F_TS = 1 << 4,
    F_INPUTS = 1 << 5, F_SCORES = 1 << 6, F_LATENCY = 1 << 7, F_COST = 1 << 8, F_SEGMENT = 1 << 9,
    F_TRACE = 1 << 10
};

typedef struct {
    PyObject *cols[N_COLUMNS];
    Cache caches[N_COLUMNS];
    Buf inputs, segment, scores;
    Facts facts;
    long long received;
} Decoder;

static int field_of(Slice key) {
#define IS(name) (key.len == (Py_ssize_t)sizeof(name) - 1 && memcmp(key.s, name, sizeof(name) - 1) == 0)
    switch (key.s[0]) {
    case 'm':
        return IS("model") ? F_MODEL : IS("model_version") ? F_VERSION : 0;
    case 'o':
        return IS("output") ? F_OUTPUT : 0;
    case 'r':
        return IS("request_id") ? F_REQUEST : 0;
    case 't':
        return IS("timestamp") ? F_TS : IS("trace_id") ? F_TRACE : 0;
    case 'i':
        return IS("inputs") ? F_INPUTS : 0;
    case 's':
        return IS("scores") ? F_SCORES : IS("segment") ? F_SEGMENT : 0;
    case 'l':
        return IS("latency_ms") ? F_LATENCY : 0;
    case 'c':
        return IS("cost") ? F_COST : 0;
    }
    return 0;
#undef IS
}

static inline int is_null(Cur *c) {
    if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
        c->p += 4;
        return 1;
    }
    return 0;
}

/* A non-negative float field (latency_ms, cost) or null. */
static int nonnegative(Cur *c, PyObject *col) {
    if (is_null(c))
        return append_none(col);
    Num n;
    double d;
    if (number_token(c, &n) != OK || number_as_double(&n, &d) != OK || !(d >= 0.0))
        return DECLINE;
    return append(col, PyFloat_FromDouble(d));
}

/* A string field of at most ``max`` characters (at least ``min``) or null (appended as None). */
static int short_string(Decoder *dec, Cur *c, int column, Py_ssize_t min, Py_ssize_t max, int nullable) {
    Slice s;
    if (nullable && is_null(c))
        return append_none(dec->cols[column]);
    if (string_token(c, &s) != OK || s.len < min || s.len > max)
        return DECLINE;
    return append(dec->cols[column], cached_str(&dec->caches[column], s.s, s.len));
}

/* One record; every column gets exactly one value. */
static int record(Decoder *dec, Cur *c) {
    PyObject **col = dec->cols;
    Facts *facts = &dec->facts;
    int seen = 0, rc;
    if (expect(c, '{') != OK)
        return DECLINE;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}')
        return DECLINE; /* no model, no output */
    for (;;) {
        Slice key;
        skip_ws(c);
        if (string_token(c, &key) != OK || key.len == 0)
            return DECLINE;
        int field = field_of(key);
        if (!field || (seen & field))
            return DECLINE; /* unknown or repeated field */
        seen |= field;
        if (expect(c, ':') != OK)
            return DECLINE;
        skip_ws(c);
        if (c->p >= c->end)
            return DECLINE;
        switch (field) {
        case F_MODEL:
            rc = short_string(dec, c, C_MODEL, 1, MAX_ID, 0);
            break;
        case F_VERSION:
            if (is_null(c))
                rc = append(col[C_VERSION], cached_str(&dec->caches[C_VERSION], "", 0));
            else
                rc = short_string(dec, c, C_VERSION, 0, MAX_ID, 0);
            break;
        case F_REQUEST:
            rc = short_string(dec, c, C_REQUEST, 1, MAX_ID, 1);
            break;
        case F_TRACE: {
            Slice s;
            if (is_null(c)) {
                rc = append_none(col[C_TRACE]);
            } else if (string_token(c, &s) != OK || s.len > MAX_TRACE) {
                rc = DECLINE;
            } else {
                rc = s.len ? append(col[C_TRACE], cached_str(&dec->caches[C_TRACE], s.s, s.len))
                           : append_none(col[C_TRACE]);
            }
            break;
        }
        case F_TS: {
            Num n;
            double d;
            if (is_null(c)) {
                rc = append(col[C_TS], PyLong_FromLongLong(dec->received));
            } else if (number_token(c, &n) != OK || number_as_double(&n, &d) != OK || !(d >= MIN_S && d <= MAX_S)) {
                rc = DECLINE;
            } else {
                rc = append(col[C_TS], PyLong_FromLongLong((long long)(d * 1000000.0)));
            }
            break;
        }
        case F_OUTPUT: {
            Slice s;
            Num n;
            if (*c->p == '"') {
                if (string_token(c, &s) != OK || s.len > MAX_STR)
                    return DECLINE;
                rc = append(col[C_LABEL], cached_str(&dec->caches[C_LABEL], s.s, s.len));
                if (rc == OK)
                    rc = append_none(col[C_VALUE]);
            } else if (number_token(c, &n) != OK) {
                rc = DECLINE;
            } else if (n.is_int) {
                int64_t v;
                if (int_value(&n, &v) != OK)
                    return DECLINE;
                rc = append(col[C_LABEL], cached_str(&dec->caches[C_LABEL], n.s, n.len));
                if (rc == OK)
                    rc = append(col[C_VALUE], PyFloat_FromDouble((double)v));
            } else {
                double d;
                if (float_value(&n, &d) != OK)
                    return DECLINE;
                rc = append(col[C_LABEL], cached_str(&dec->caches[C_LABEL], "", 0));
                if (rc == OK)
                    rc = append(col[C_VALUE], PyFloat_FromDouble(d));
            }
            break;
        }
        case F_INPUTS:
        case F_SEGMENT: {
            int which = field == F_INPUTS ? C_INPUTS : C_SEGMENT;
            Buf *b = field == F_INPUTS ? &dec->inputs : &dec->segment;
            Py_ssize_t size = 0;
            if (is_null(c)) {
                rc = append_none(col[which]);
            } else {
                rc = flat_object(c, b, facts, &size);
                if (rc == OK)
                    rc = append(col[which], cached_str(&dec->caches[which], b->data, b->len));
            }
            if (rc == OK && field == F_INPUTS)
                rc = append(col[C_SIZE], PyLong_FromSsize_t(size));
            break;
        }
        case F_SCORES: {
            if (is_null(c)) {
                rc = append_none(col[C_SCORE]);
                if (rc == OK)
                    rc = append_none(col[C_SCORES]);
                break;
            }
            Buf *b = &dec->scores;
            Num first, second;
            double d;
            b->len = 0;
            if (expect(c, '[') != OK || (skip_ws(c), number_token(c, &first)) != OK || expect(c, ',') != OK ||
                (skip_ws(c), number_token(c, &second)) != OK || expect(c, ']') != OK)
                return DECLINE;
            if ((rc = buf_put(b, "[", 1)) != OK || (rc = put_number(b, &first)) != OK ||
                (rc = buf_put(b, ",", 1)) != OK || (rc = put_number(b, &second)) != OK ||
                (rc = buf_put(b, "]", 1)) != OK)
                return rc;
            if (number_as_double(&second, &d) != OK)
                return DECLINE;
            rc = append(col[C_SCORE], PyFloat_FromDouble(d));
            if (rc == OK)
                rc = append(col[C_SCORES], cached_str(&dec->caches[C_SCORES], b->data, b->len));
            break;
        }
        case F_LATENCY:
            rc = nonnegative(c, col[C_LATENCY]);
            break;
        case F_COST:
            rc = nonnegative(c, col[C_COST]);
            break;
        default:
            return DECLINE;
        }
        if (rc != OK)
            return rc;
        int more = comma_or(c, '}');
        if (more == DECLINE)
            return DECLINE;
        if (!more)
            break;
    }
    if (!(seen & F_MODEL) || !(seen & F_OUTPUT))
        return DECLINE;
    /* Defaults of the fields this record left out. */
    if (!(seen & F_VERSION) && (rc = append(col[C_VERSION], cached_str(&dec->caches[C_VERSION], "", 0))) != OK)
        return rc;
    if (!(seen & F_REQUEST) && (rc = append_none(col[C_REQUEST])) != OK)
        return rc;
    if (!(seen & F_TS) && (rc = append(col[C_TS], PyLong_FromLongLong(dec->received))) != OK)
        return rc;
    if (!(seen & F_INPUTS) && ((rc = append_none(col[C_INPUTS])) != OK ||
                               (rc = append(col[C_SIZE], PyLong_FromLong(0))) != OK))
        return rc;
    if (!(seen & F_SCORES) && ((rc = append_none(col[C_SCORE])) != OK || (rc = append_none(col[C_SCORES])) != OK))
        return rc;
    if (!(seen & F_LATENCY) && (rc = append_none(col[C_LATENCY])) != OK)
        return rc;
    if (!(seen & F_SEGMENT) && (rc = append_none(col[C_SEGMENT])) != OK)
        return rc;
    if (!(seen & F_COST) && (rc = append_none(col[C_COST])) != OK)
        return rc;
    if (!(seen & F_TRACE) && (rc = append_none(col[C_TRACE])) != OK)
        return rc;
    return OK;
}

static int batch(Decoder *dec, Cur *c, Py_ssize_t *rows) {
    int rc;
    *rows = 0;
    if (expect(c, '[') != OK)
        return DECLINE;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']')
        return DECLINE; /* empty: the general path answers it */
    for (;;) {
        if ((rc = record(dec, c)) != OK)
            return rc;
        ++*rows;
        int more = comma_or(c, ']');
        if (more == DECLINE)
            return DECLINE;
        if (!more)
            break;
    }
    skip_ws(c);
    return c->p == c->end ? OK : DECLINE;
}

PyDoc_STRVAR(decode_doc,
             "decode(body: bytes, received: int) -> tuple | None\n\n"
             "The prediction columns of a JSON array (model, model_version, request_id, ts, inputs,\n"
             "input_size, output_label, output_value, score, scores, latency_ms, segment, cost, trace_id),\n"
             "then the row count, whether no feature string has 5 or more characters, and the distinct\n"
             "feature keys; None where the typed path must decide.");

static PyObject *decode(PyObject *self, PyObject *args) {
    Py_buffer body;
    long long received;
    if (!PyArg_ParseTuple(args, "y*L:decode", &body, &received))
        return NULL;
    Decoder dec;
    memset(&dec, 0, sizeof(dec));
    dec.received = received;
    PyObject *result = NULL;
    int rc = OK;
    for (int i = 0; i < N_COLUMNS && rc == OK; i++)
        if (!(dec.cols[i] = PyList_New(0)))
            rc = ERROR;
    Py_ssize_t rows = 0;
    if (rc == OK) {
        Cur c = {(const char *)body.buf, (const char *)body.buf + body.len};
        rc = batch(&dec, &c, &rows);
    }
    if (rc == OK) {
        PyObject *keys = PyList_New(dec.facts.nkeys);
        if (keys) {
            for (int i = 0; i < dec.facts.nkeys; i++) {
                PyObject *k = PyUnicode_FromStringAndSize(dec.facts.keys[i].s, dec.facts.keys[i].len);
                if (!k) {
                    Py_CLEAR(keys);
                    break;
                }
                PyList_SET_ITEM(keys, i, k);
            }
        }
        PyObject *count = keys ? PyLong_FromSsize_t(rows) : NULL;
        if (count) {
            result = PyTuple_New(N_COLUMNS + 3);
            if (result) {
                for (int i = 0; i < N_COLUMNS; i++) {
                    PyTuple_SET_ITEM(result, i, dec.cols[i]);
                    dec.cols[i] = NULL;
                }
                PyTuple_SET_ITEM(result, N_COLUMNS, count);
                PyTuple_SET_ITEM(result, N_COLUMNS + 1,
                                 PyBool_FromLong(!dec.facts.long_value));
                PyTuple_SET_ITEM(result, N_COLUMNS + 2, keys);
            } else {
                Py_DECREF(count);
                Py_DECREF(keys);
            }
        } else {
            Py_XDECREF(keys);
        }
    } else if (rc == DECLINE) {
        result = Py_None;
        Py_INCREF(result);
    }
    for (int i = 0; i < N_COLUMNS; i++) {
        Py_XDECREF(dec.cols[i]);
        cache_clear(&dec.caches[i]);
    }
    PyMem_Free(dec.inputs.data);
    PyMem_Free(dec.segment.data);
    PyMem_Free(dec.scores.data);
    PyBuffer_Release(&body);
    return result;
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS, decode_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_predjson", "Predictions from JSON to columns in C (see ingest/fastpath.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__predjson(void) { return PyModule_Create(&module); }
