/* OTLP trace exports from protobuf wire bytes to the values SpanBuilder.add takes, in one pass.
 *
 * The optional compiled half of ingest/otlp.py (built when a C compiler is present; without it the
 * upb-backed opentelemetry-proto classes do the same work). decode(body) returns
 *
 *     [(resource_attributes, [(scope_name, [span, ...]), ...]), ...]
 *
 * where a span is (trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, attributes, events,
 * status_code, status_message, flags, links, roles) in SpanBuilder.add's order, attribute values as
 * otlp._pb_any makes them (str, bool, int, float, list, dict, None, bytes as base64 text), events as
 * (time_ns, name, attributes) tuples and roles as spans.attribute_roles(attributes) returns them
 * (made here, from genai's role table, when decode is given it); or None to decline.
 *
 * It declines whatever it is not sure to read exactly as upb would: a malformed or truncated message,
 * a string that is not UTF-8, a field this module does not know (newer proto fields, links, scope
 * attributes, the string-table profile fields), a wire type other than the field's, a singular message
 * field given twice (protobuf merges those), nesting past otlp.MAX_DEPTH. Declining is always safe: the
 * body then goes through upb, which answers with the exact error or reading.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 32      /* otlp.MAX_DEPTH: array and kvlist nesting of attribute values */
#define CACHE_SLOTS 1024  /* recently made short strings (attribute keys, repeated values) */
#define CACHE_MAX_LEN 64

enum { OK = 0, DECLINE = -1, ERROR = -2 };
enum { VARINT = 0, I64 = 1, LEN = 2, I32 = 5 };

typedef struct {
    const uint8_t *p, *end;
} Cur;

typedef struct {
    PyObject *slot[CACHE_SLOTS];
} Cache;

/* -- wire format ------------------------------------------------------------------------------- */
static int varint(Cur *c, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (c->p >= c->end)
            return DECLINE;
        uint8_t b = *c->p++;
        if (shift == 63 && b > 1)
            return DECLINE; /* bits past 64 */
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return OK;
        }
    }
    return DECLINE;
}

static int tag(Cur *c, uint32_t *field, int *wire) {
    uint64_t t;
    if (varint(c, &t) != OK || t > UINT32_MAX || (t >> 3) == 0)
        return DECLINE;
    *field = (uint32_t)(t >> 3);
    *wire = (int)(t & 7);
    return OK;
}

static int fixed64(Cur *c, uint64_t *out) {
    if (c->end - c->p < 8)
        return DECLINE;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | c->p[i];
    c->p += 8;
    *out = v;
    return OK;
}

static int fixed32(Cur *c, uint32_t *out) {
    if (c->end - c->p < 4)
        return DECLINE;
    *out = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
    c->p += 4;
    return OK;
}

/* A length-delimited field's payload as a cursor of its own. */
static int sub(Cur *c, Cur *out) {
    uint64_t n;
    if (varint(c, &n) != OK || n > (uint64_t)(c->end - c->p))
        return DECLINE;
    out->p = c->p;
    out->end = c->p + n;
    c->p += n;
    return OK;
}

/* Skips a scalar field this module reads no value from (dropped counts); the wire type must be ``want``. */
static int skip(Cur *c, int wire, int want) {
    uint64_t v;
    Cur s;
    if (wire != want)
        return DECLINE;
    switch (wire) {
    case VARINT:
        return varint(c, &v);
    case I64:
        return fixed64(c, &v);
    case LEN:
        return sub(c, &s);
    default:
        return DECLINE;
    }
}

/* -- strings ----------------------------------------------------------------------------------- */
static int is_ascii(const uint8_t *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL)
            return 0;
    }
    for (; i < n; i++)
        if (s[i] & 0x80)
            return 0;
    return 1;
}

/* A str for UTF-8 bytes; DECLINE (no exception left) when they are not UTF-8, as upb refuses them. */
static int make_str(const uint8_t *s, Py_ssize_t n, PyObject **out) {
    if (is_ascii(s, n)) {
        PyObject *o = PyUnicode_New(n, 127);
        if (!o)
            return ERROR;
        memcpy(PyUnicode_1BYTE_DATA(o), s, n);
        *out = o;
        return OK;
    }
    PyObject *o = PyUnicode_DecodeUTF8((const char *)s, n, "strict");
    if (!o) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear();
            return DECLINE;
        }
        return ERROR;
    }
    *out = o;
    return OK;
}

static uint32_t slot_of(const uint8_t *s, Py_ssize_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001B3ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ s[i]) * 0x100000001B3ULL;
    h ^= h >> 32;
    return (uint32_t)h & (CACHE_SLOTS - 1);
}

/* make_str, reusing an equal short string made earlier in the same body (keys repeat span after span,
 * and so do kinds, models, providers). Returns a new reference through ``out``. */
static int cached_str(Cache *cache, Cur s, PyObject **out) {
    Py_ssize_t n = s.end - s.p;
    if (n > CACHE_MAX_LEN)
        return make_str(s.p, n, out);
    uint32_t i = slot_of(s.p, n);
    PyObject *o = cache->slot[i];
    if (o && PyUnicode_IS_ASCII(o) && PyUnicode_GET_LENGTH(o) == n && memcmp(PyUnicode_1BYTE_DATA(o), s.p, n) == 0) {
        Py_INCREF(o);
        *out = o;
        return OK;
    }
    int rc = make_str(s.p, n, out);
    if (rc == OK && PyUnicode_IS_ASCII(*out)) {
        Py_XSETREF(cache->slot[i], *out);
        Py_INCREF(*out);
    }
    return rc;
}

/* OK when ``s`` is UTF-8 (DECLINE when not): upb checks every string field it reads, kept or not. */
static int utf8_ok(Cur s) {
    Py_ssize_t n = s.end - s.p;
    if (is_ascii(s.p, n))
        return OK;
    PyObject *o;
    int rc = make_str(s.p, n, &o);
    if (rc == OK)
        Py_DECREF(o);
    return rc;
}

/* A string field this module does not keep (trace_state, schema_url, scope version). */
static int check_str(Cur *c, int wire) {
    Cur s;
    if (wire != LEN || sub(c, &s) != OK)
        return DECLINE;
    return utf8_ok(s);
}

/* A string field that is kept: the last one on the wire wins, but an earlier one must be UTF-8 too. */
static int take_str(Cur *c, int wire, Cur *slot) {
    if (wire != LEN)
        return DECLINE;
    int rc = utf8_ok(*slot);
    if (rc != OK)
        return rc;
    return sub(c, slot);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* bytes_value as otlp._pb_any gives it: base64 text. */
static PyObject *base64_str(Cur s) {
    Py_ssize_t n = s.end - s.p;
    if (n > (PY_SSIZE_T_MAX / 4 - 2) * 3)
        return PyErr_NoMemory();
    PyObject *o = PyUnicode_New((n + 2) / 3 * 4, 127);
    if (!o)
        return NULL;
    char *out = (char *)PyUnicode_1BYTE_DATA(o);
    const uint8_t *p = s.p;
    Py_ssize_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *out++ = B64[v >> 18];
        *out++ = B64[(v >> 12) & 63];
        *out++ = B64[(v >> 6) & 63];
        *out++ = B64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *out++ = B64[v >> 18];
        *out++ = B64[(v >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *out++ = B64[v >> 18];
        *out++ = B64[(v >> 12) & 63];
        *out++ = B64[(v >> 6) & 63];
        *out++ = '=';
    }
    return o;
}

static PyObject *bytes_of(Cur s) { return PyBytes_FromStringAndSize((const char *)s.p, s.end - s.p); }

/* -- attribute values -------------------------------------------------------------------------- */
static int key_values(Cache *cache, Cur c, int depth, PyObject *dict);

/* One AnyValue (``c`` its payload) at nesting ``depth``, as otlp._pb_any reads it. */
static int any_value(Cache *cache, Cur c, int depth, PyObject **out) {
    int which = 0; /* the oneof field last on the wire: the one that is set */
    uint64_t num = 0;
    Cur val = {NULL, NULL};
    uint32_t field;
    int wire, rc;
    while (c.p < c.end) {
        if (tag(&c, &field, &wire) != OK)
            return DECLINE;
        if (which == 5 || which == 6)
            return DECLINE; /* a message member replaced or given twice: upb's merge rules, not ours */
        switch (field) {
        case 1: /* string_value: checked even when a later member wins, as upb does */
            if (wire != LEN || sub(&c, &val) != OK)
                return DECLINE;
            if ((rc = utf8_ok(val)) != OK)
                return rc;
            break;
        case 2: /* bool_value */
        case 3: /* int_value */
            if (wire != VARINT || varint(&c, &num) != OK)
                return DECLINE;
            break;
        case 4: /* double_value */
            if (wire != I64 || fixed64(&c, &num) != OK)
                return DECLINE;
            break;
        case 5: /* array_value */
        case 6: /* kvlist_value */
        case 7: /* bytes_value */
            if (wire != LEN || sub(&c, &val) != OK)
                return DECLINE;
            break;
        default:
            return DECLINE;
        }
        which = (int)field;
    }
    switch (which) {
    case 0:
        Py_INCREF(Py_None);
        *out = Py_None;
        return OK;
    case 1:
        return cached_str(cache, val, out);
    case 2:
        *out = PyBool_FromLong(num != 0);
        return OK;
    case 3:
        *out = PyLong_FromLongLong((long long)(int64_t)num);
        return *out ? OK : ERROR;
    case 4: {
        double d;
        memcpy(&d, &num, 8);
        *out = PyFloat_FromDouble(d);
        return *out ? OK : ERROR;
    }
    case 7:
        *out = base64_str(val);
        return *out ? OK : ERROR;
    }
    if (depth >= MAX_DEPTH)
        return DECLINE; /* otlp.py rejects the span (or resource) with its own message */
    if (which == 6) {
        PyObject *dict = PyDict_New();
        if (!dict)
            return ERROR;
        if ((rc = key_values(cache, val, depth + 1, dict)) != OK) {
            Py_DECREF(dict);
            return rc;
        }
        *out = dict;
        return OK;
    }
    PyObject *list = PyList_New(0);
    if (!list)
        return ERROR;
    while (val.p < val.end) { /* ArrayValue: field 1, repeated AnyValue */
        Cur item;
        PyObject *v;
        if (tag(&val, &field, &wire) != OK || field != 1 || wire != LEN || sub(&val, &item) != OK) {
            Py_DECREF(list);
            return DECLINE;
        }
        if ((rc = any_value(cache, item, depth + 1, &v)) != OK) {
            Py_DECREF(list);
            return rc;
        }
        rc = PyList_Append(list, v);
        Py_DECREF(v);
        if (rc < 0) {
            Py_DECREF(list);
            return ERROR;
        }
    }
    *out = list;
    return OK;
}

/* One KeyValue into ``dict`` (a repeated key: the last one wins, as in a dict comprehension). */
static int key_value(Cache *cache, Cur c, int depth, PyObject *dict) {
    Cur key = {c.p, c.p}, value = {c.p, c.p};
    int has_value = 0;
    uint32_t field;
    int wire, rc;
    while (c.p < c.end) {
        if (tag(&c, &field, &wire) != OK || wire != LEN)
            return DECLINE;
        if (field == 1) {
            if ((rc = take_str(&c, wire, &key)) != OK)
                return rc;
        } else if (field == 2 && !has_value) {
            if (sub(&c, &value) != OK)
                return DECLINE;
            has_value = 1;
        } else {
            return DECLINE; /* a second value (merged by upb), key_strindex, unknown fields */
        }
    }
    PyObject *k, *v;
    if ((rc = cached_str(cache, key, &k)) != OK)
        return rc;
    if ((rc = any_value(cache, value, depth, &v)) != OK) {
        Py_DECREF(k);
        return rc;
    }
    rc = PyDict_SetItem(dict, k, v) < 0 ? ERROR : OK;
    Py_DECREF(k);
    Py_DECREF(v);
    return rc;
}

/* The KeyValues of a KeyValueList payload (field 1, repeated). */
static int key_values(Cache *cache, Cur c, int depth, PyObject *dict) {
    uint32_t field;
    int wire, rc;
    while (c.p < c.end) {
        Cur kv;
        if (tag(&c, &field, &wire) != OK || field != 1 || wire != LEN || sub(&c, &kv) != OK)
            return DECLINE;
        if ((rc = key_value(cache, kv, depth, dict)) != OK)
            return rc;
    }
    return OK;
}

/* -- what the attributes mean ------------------------------------------------------------------ */
typedef struct {
    PyObject *roles;    /* genai._ROLES: attribute name -> role tuple or None */
    PyObject *key_role; /* genai.key_role: classifies (and remembers) a name not in roles yet */
    Py_ssize_t max_attributes;
} Roles;

/* flat[a][b][c] = value, creating the inner dicts (dict.setdefault twice, then a store). */
static int nest(PyObject **flat, PyObject *a, PyObject *b, PyObject *c, PyObject *value) {
    if (!*flat && !(*flat = PyDict_New()))
        return ERROR;
    PyObject *level = *flat, *keys[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        PyObject *fresh = PyDict_New();
        if (!fresh)
            return ERROR;
        PyObject *inner = PyDict_SetDefault(level, keys[i], fresh); /* borrowed */
        Py_DECREF(fresh);
        if (!inner)
            return ERROR;
        level = inner;
    }
    return PyDict_SetItem(level, c, value) < 0 ? ERROR : OK;
}

/* SpanBuilder's pass over a span's attributes, done here (spans.SpanBuilder._roles is the same pass in
 * Python): (fields {slot: value}, flat documents, flat messages, output metadata), the last three None
 * when empty. A role this pass does not know: DECLINE. */
static int role_pass(Roles *r, PyObject *attrs, PyObject **out) {
    PyObject *fields = PyDict_New(), *ranks = PyDict_New(), *docs = NULL, *msgs = NULL, *meta = NULL;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    int rc = OK;
    if (!fields || !ranks)
        goto error;
    while (PyDict_Next(attrs, &pos, &key, &value)) {
        PyObject *role = PyDict_GetItemWithError(r->roles, key); /* borrowed */
        if (role) {
            Py_INCREF(role);
        } else {
            if (PyErr_Occurred() || !(role = PyObject_CallOneArg(r->key_role, key)))
                goto error;
        }
        if (role == Py_None) {
            Py_DECREF(role);
            continue;
        }
        Py_ssize_t n = PyTuple_Check(role) ? PyTuple_GET_SIZE(role) : 0;
        PyObject *tag = n ? PyTuple_GET_ITEM(role, 0) : NULL;
        Py_UCS4 t = tag && PyUnicode_Check(tag) && PyUnicode_GET_LENGTH(tag) == 1 ? PyUnicode_READ_CHAR(tag, 0) : 0;
        if (t == 'f' && n == 3) {
            if (!(value == Py_None || (PyUnicode_Check(value) && PyUnicode_GET_LENGTH(value) == 0))) {
                PyObject *slot = PyTuple_GET_ITEM(role, 1), *rank = PyTuple_GET_ITEM(role, 2);
                PyObject *held = PyDict_GetItemWithError(ranks, slot); /* borrowed */
                int better = 1;
                if (held)
                    better = PyObject_RichCompareBool(rank, held, Py_LT);
                if (PyErr_Occurred() || better < 0)
                    rc = ERROR;
                else if (better && (PyDict_SetItem(fields, slot, value) < 0 || PyDict_SetItem(ranks, slot, rank) < 0))
                    rc = ERROR;
            }
        } else if ((t == 'd' || t == 'm') && n == 4) {
            rc = nest(t == 'd' ? &docs : &msgs, PyTuple_GET_ITEM(role, 1), PyTuple_GET_ITEM(role, 2),
                      PyTuple_GET_ITEM(role, 3), value);
        } else if (t == 'o' && n == 2) {
            if ((!meta && !(meta = PyDict_New())) || PyDict_SetItem(meta, PyTuple_GET_ITEM(role, 1), value) < 0)
                rc = ERROR;
        } else {
            rc = DECLINE;
        }
        Py_DECREF(role);
        if (rc != OK)
            goto fail;
    }
    Py_DECREF(ranks);
    *out = PyTuple_Pack(4, fields, docs ? docs : Py_None, msgs ? msgs : Py_None, meta ? meta : Py_None);
    Py_DECREF(fields);
    Py_XDECREF(docs);
    Py_XDECREF(msgs);
    Py_XDECREF(meta);
    return *out ? OK : ERROR;
error:
    rc = ERROR;
fail:
    Py_XDECREF(fields);
    Py_XDECREF(ranks);
    Py_XDECREF(docs);
    Py_XDECREF(msgs);
    Py_XDECREF(meta);
    return rc;
}

/* -- spans ------------------------------------------------------------------------------------- */
static int event(Cache *cache, Cur c, PyObject **out) {
    uint64_t time = 0;
    Cur name = {c.p, c.p};
    uint32_t field;
    int wire, rc;
    PyObject *attrs = PyDict_New();
    if (!attrs)
        return ERROR;
    while (c.p < c.end) {
        Cur s;
        if (tag(&c, &field, &wire) != OK)
            goto decline;
        if (field == 1 && wire == I64) {
            if (fixed64(&c, &time) != OK)
                goto decline;
        } else if (field == 2) {
            if ((rc = take_str(&c, wire, &name)) != OK)
                goto fail;
        } else if (field == 3 && wire == LEN) {
            if (sub(&c, &s) != OK)
                goto decline;
            if ((rc = key_value(cache, s, 0, attrs)) != OK)
                goto fail;
        } else if (field == 4) {
            if (skip(&c, wire, VARINT) != OK)
                goto decline;
        } else {
            goto decline;
        }
    }
    PyObject *n;
    if ((rc = cached_str(cache, name, &n)) != OK)
        goto fail;
    PyObject *t = PyLong_FromUnsignedLongLong(time);
    if (!t) {
        Py_DECREF(n);
        Py_DECREF(attrs);
        return ERROR;
    }
    *out = PyTuple_Pack(3, t, n, attrs);
    Py_DECREF(t);
    Py_DECREF(n);
    Py_DECREF(attrs);
    return *out ? OK : ERROR;
decline:
    rc = DECLINE;
fail:
    Py_DECREF(attrs);
    return rc;
}

enum { S_TRACE, S_SPAN, S_PARENT, S_NAME, S_KIND, S_START, S_END, S_ATTRS, S_EVENTS, S_CODE, S_MESSAGE, S_FLAGS,
       S_LINKS, S_ROLES, S_FIELDS };

static int status(Cache *cache, Cur c, uint64_t *code, Cur *message) {
    uint32_t field;
    int wire;
    while (c.p < c.end) {
        if (tag(&c, &field, &wire) != OK)
            return DECLINE;
        if (field == 2) {
            int rc = take_str(&c, wire, message);
            if (rc != OK)
                return rc;
        } else if (field == 3 && wire == VARINT) {
            if (varint(&c, code) != OK)
                return DECLINE;
        } else {
            return DECLINE;
        }
    }
    return OK;
}

static int span(Cache *cache, Roles *roles, Cur c, PyObject **out) {
    Cur ids[3] = {{c.p, c.p}, {c.p, c.p}, {c.p, c.p}}; /* trace, span, parent */
    Cur name = {c.p, c.p}, message = {c.p, c.p}, s;
    uint64_t kind = 0, start = 0, end = 0, code = 0;
    uint32_t flags = 0, field;
    int wire, rc, has_status = 0;
    PyObject *v[S_FIELDS] = {NULL};
    PyObject *attrs = PyDict_New(), *events = NULL;
    if (!attrs)
        return ERROR;
    while (c.p < c.end) {
        if (tag(&c, &field, &wire) != OK)
            goto decline;
        switch (field) {
        case 1:
        case 2:
        case 4:
            if (wire != LEN || sub(&c, &ids[field == 4 ? 2 : field - 1]) != OK)
                goto decline;
            break;
        case 3: /* trace_state */
            if ((rc = check_str(&c, wire)) != OK)
                goto fail;
            break;
        case 5:
            if ((rc = take_str(&c, wire, &name)) != OK)
                goto fail;
            break;
        case 6:
            if (wire != VARINT || varint(&c, &kind) != OK)
                goto decline;
            break;
        case 7:
        case 8:
            if (wire != I64 || fixed64(&c, field == 7 ? &start : &end) != OK)
                goto decline;
            break;
        case 9:
            if (wire != LEN || sub(&c, &s) != OK)
                goto decline;
            if ((rc = key_value(cache, s, 0, attrs)) != OK)
                goto fail;
            break;
        case 11: {
            PyObject *ev;
            if (wire != LEN || sub(&c, &s) != OK)
                goto decline;
            if (!events && !(events = PyList_New(0)))
                goto error;
            if ((rc = event(cache, s, &ev)) != OK)
                goto fail;
            rc = PyList_Append(events, ev);
            Py_DECREF(ev);
            if (rc < 0)
                goto error;
            break;
        }
        case 10:
        case 12:
        case 14:
            if (skip(&c, wire, VARINT) != OK)
                goto decline;
            break;
        case 15:
            if (has_status || wire != LEN || sub(&c, &s) != OK)
                goto decline;
            if ((rc = status(cache, s, &code, &message)) != OK)
                goto fail;
            has_status = 1;
            break;
        case 16:
            if (wire != I32 || fixed32(&c, &flags) != OK)
                goto decline;
            break;
        default: /* 13 links (upb reads their ids, attributes, trace state), and fields newer than this module */
            goto decline;
        }
    }
    for (int i = 0; i < 3; i++)
        if (!(v[S_TRACE + i] = bytes_of(ids[i])))
            goto error;
    if ((rc = cached_str(cache, name, &v[S_NAME])) != OK || (rc = cached_str(cache, message, &v[S_MESSAGE])) != OK)
        goto fail;
    if (!(v[S_KIND] = PyLong_FromLong((long)(int32_t)(uint32_t)kind)) || !(v[S_START] = PyLong_FromUnsignedLongLong(start)) ||
        !(v[S_END] = PyLong_FromUnsignedLongLong(end)) || !(v[S_CODE] = PyLong_FromLong((long)(int32_t)(uint32_t)code)) ||
        !(v[S_FLAGS] = PyLong_FromUnsignedLong(flags)) || !(v[S_LINKS] = PyLong_FromLong(0)))
        goto error;
    if (roles && PyDict_GET_SIZE(attrs) <= roles->max_attributes) {
        if ((rc = role_pass(roles, attrs, &v[S_ROLES])) != OK)
            goto fail;
    } else {
        Py_INCREF(Py_None); /* the builder makes the pass itself (and clips the attributes first) */
        v[S_ROLES] = Py_None;
    }
    v[S_ATTRS] = attrs;
    attrs = NULL;
    if (events) {
        v[S_EVENTS] = events;
        events = NULL;
    } else if (!(v[S_EVENTS] = PyTuple_New(0))) {
        goto error;
    }
    PyObject *tuple = PyTuple_New(S_FIELDS);
    if (!tuple)
        goto error;
    for (int i = 0; i < S_FIELDS; i++) {
        PyTuple_SET_ITEM(tuple, i, v[i]);
        v[i] = NULL;
    }
    *out = tuple;
    return OK;
decline:
    rc = DECLINE;
    goto fail;
error:
    rc = ERROR;
fail:
    for (int i = 0; i < S_FIELDS; i++)
        Py_XDECREF(v[i]);
    Py_XDECREF(attrs);
    Py_XDECREF(events);
    return rc;
}

/* -- the request ------------------------------------------------------------------------------- */
static int scope_name(Cur c, Cur *name) {
    uint32_t field;
    int wire, rc;
    while (c.p < c.end) {
        if (tag(&c, &field, &wire) != OK)
            return DECLINE;
        if (field == 1) {
            if ((rc = take_str(&c, wire, name)) != OK)
                return rc;
        } else if (field == 2) {
            if ((rc = check_str(&c, wire)) != OK)
                return rc;
        } else if (field == 4) {
            if (skip(&c, wire, VARINT) != OK)
                return DECLINE;
        } else {
            return DECLINE; /* 3: scope attributes */
        }
    }
    return OK;
}

/* One ScopeSpans: (scope name or None, [span, ...]). */
static int scope_spans(Cache *cache, Roles *roles, Cur c, PyObject **out) {
    Cur name = {c.p, c.p}, s;
    uint32_t field;
    int wire, rc, has_scope = 0;
    PyObject *spans = PyList_New(0), *sp, *scope = NULL;
    if (!spans)
        return ERROR;
    while (c.p < c.end) {
        if (tag(&c, &field, &wire) != OK)
            goto decline;
        if (field == 1 && wire == LEN && !has_scope) {
            if (sub(&c, &s) != OK)
                goto decline;
            if ((rc = scope_name(s, &name)) != OK)
                goto fail_rc;
            has_scope = 1;
        } else if (field == 2 && wire == LEN) {
            if (sub(&c, &s) != OK)
                goto decline;
            if ((rc = span(cache, roles, s, &sp)) != OK)
                goto fail_rc;
            rc = PyList_Append(spans, sp);
            Py_DECREF(sp);
            if (rc < 0)
                goto error;
        } else if (field == 3) {
            if ((rc = check_str(&c, wire)) != OK)
                goto fail_rc;
        } else {
            goto decline;
        }
    }
    if (name.end == name.p) {
        scope = Py_None;
        Py_INCREF(scope);
    } else if ((rc = cached_str(cache, name, &scope)) != OK) {
        goto fail_rc;
    }
    *out = PyTuple_Pack(2, scope, spans);
    Py_DECREF(scope);
    Py_DECREF(spans);
    return *out ? OK : ERROR;
decline:
    rc = DECLINE;
    goto fail_rc;
error:
    rc = ERROR;
fail_rc:
    Py_DECREF(spans);
    return rc;
}

static int resource(Cache *cache, Cur c, PyObject *attrs) {
    uint32_t field;
    int wire, rc;
    while (c.p < c.end) {
        Cur s;
        if (tag(&c, &field, &wire) != OK)
            return DECLINE;
        if (field == 1 && wire == LEN) {
            if (sub(&c, &s) != OK)
                return DECLINE;
            if ((rc = key_value(cache, s, 0, attrs)) != OK)
                return rc;
        } else if (field == 2) {
            if (skip(&c, wire, VARINT) != OK)
                return DECLINE;
        } else {
            return DECLINE; /* 3: entity_refs */
        }
    }
    return OK;
}

/* One ResourceSpans: (resource attributes, [(scope, spans), ...]). */
static int resource_spans(Cache *cache, Roles *roles, Cur c, PyObject **out) {
    uint32_t field;
    int wire, rc, has_resource = 0;
    PyObject *attrs = PyDict_New(), *scopes = PyList_New(0), *ss;
    if (!attrs || !scopes) {
        rc = ERROR;
        goto fail;
    }
    while (c.p < c.end) {
        Cur s;
        if (tag(&c, &field, &wire) != OK)
            goto decline;
        if (field == 1 && wire == LEN && !has_resource) {
            if (sub(&c, &s) != OK)
                goto decline;
            if ((rc = resource(cache, s, attrs)) != OK)
                goto fail;
            has_resource = 1;
        } else if (field == 2 && wire == LEN) {
            if (sub(&c, &s) != OK)
                goto decline;
            if ((rc = scope_spans(cache, roles, s, &ss)) != OK)
                goto fail;
            rc = PyList_Append(scopes, ss);
            Py_DECREF(ss);
            if (rc < 0) {
                rc = ERROR;
                goto fail;
            }
        } else if (field == 3) {
            if ((rc = check_str(&c, wire)) != OK)
                goto fail;
        } else {
            goto decline;
        }
    }
    *out = PyTuple_Pack(2, attrs, scopes);
    rc = *out ? OK : ERROR;
    goto fail; /* drops this function's references either way */
decline:
    rc = DECLINE;
fail:
    Py_XDECREF(attrs);
    Py_XDECREF(scopes);
    return rc;
}

PyDoc_STRVAR(decode_doc,
             "decode(body: bytes, roles: dict = None, key_role=None, max_attributes: int = 0) -> list | None\n\n"
             "An ExportTraceServiceRequest as [(resource_attributes, [(scope_name, [span, ...]), ...]), ...],\n"
             "each span a tuple of SpanBuilder.add's arguments after the scope; None where upb must decide.\n"
             "With roles, the last argument is the builder's pass over the attributes (else None).");

static PyObject *decode(PyObject *self, PyObject *args) {
    Py_buffer body;
    Roles roles = {NULL, NULL, 0}, *with_roles = NULL;
    if (!PyArg_ParseTuple(args, "y*|O!On:decode", &body, &PyDict_Type, &roles.roles, &roles.key_role,
                          &roles.max_attributes))
        return NULL;
    if (roles.roles) {
        if (!roles.key_role || !PyCallable_Check(roles.key_role)) {
            PyBuffer_Release(&body);
            PyErr_SetString(PyExc_TypeError, "decode: roles needs a callable key_role and max_attributes");
            return NULL;
        }
        with_roles = &roles;
    }
    Cache *cache = PyMem_Calloc(1, sizeof(Cache));
    PyObject *result = cache ? PyList_New(0) : PyErr_NoMemory();
    Cur c = {(const uint8_t *)body.buf, (const uint8_t *)body.buf + body.len};
    int rc = result ? OK : ERROR;
    while (rc == OK && c.p < c.end) {
        uint32_t field;
        int wire;
        Cur s;
        PyObject *rs = NULL;
        if (tag(&c, &field, &wire) != OK || field != 1 || wire != LEN || sub(&c, &s) != OK) {
            rc = DECLINE;
            break;
        }
        if ((rc = resource_spans(cache, with_roles, s, &rs)) != OK)
            break;
        if (PyList_Append(result, rs) < 0)
            rc = ERROR;
        Py_XDECREF(rs);
    }
    if (rc != OK) {
        Py_XDECREF(result);
        result = NULL;
        if (rc == DECLINE) {
            result = Py_None;
            Py_INCREF(result);
        }
    }
    if (cache) {
        for (int i = 0; i < CACHE_SLOTS; i++)
            Py_XDECREF(cache->slot[i]);
        PyMem_Free(cache);
    }
    PyBuffer_Release(&body);
    return result;
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS, decode_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_otlpwire", "OTLP protobuf trace exports to span values in C (see ingest/otlp.py).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__otlpwire(void) { return PyModule_Create(&module); }
