"""Graphs: which keys each query attends to, as a union of components.

    g = graphattn.window(256) + graphattn.global_tokens([0, 5])
    g = graphattn.graph("window:256+global:0,5")          # the same graph, from a spec string
    g = graphattn.csr(indptr, indices)                     # explicit edges

A Graph is immutable. `+` concatenates the component lists, keeping their order as written (the
edge set is the union of the parts whatever the order, but the GPU's fast path depends on the
first component). The C graph behind a Graph is built once, on first use, and reused by every
later call (an explicit CSR/COO graph is validated and copied once; the CUDA backend keeps its
device copy with it). A graph whose spec names .npy files (csr:, coo:) reads them when it is made.

Implicit graphs do not know their size: the query and key counts come from the tensors at call
time. Explicit graphs (csr, coo) fix them.
"""
import ctypes
import itertools
import operator
import sys
import threading
import weakref

import numpy as np

from . import _capi
from ._capi import C, Status, check, make_error
from ._errors import GraphAttnTypeError

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1

_materialize_lock = threading.Lock()
# Graphs that a torch op names by an integer (those holding index lists, arrays or files): handle -> Graph.
_registry = weakref.WeakValueDictionary()
_next_handle = itertools.count(1)
# Live graphs named by their spec, so that the torch op reuses their prepared C graph: spec -> Graph.
_by_spec = weakref.WeakValueDictionary()
# Graphs parsed from spec strings handed to attention() or the torch op (no live Graph had that
# spec): kept so that a loop over attention(q, k, v, "window:256") parses once. Bounded. A spec
# that names files is never kept: the files may change.
_parsed = {}
_PARSED_MAX = 64
_parsed_lock = threading.Lock()

# Components that carry data rather than a few parameters. A graph holding one travels to the
# torch op by handle: as a string constant, every new list would make torch.compile recompile.
_DATA_KINDS = frozenset(("global", "documents", "causal_documents", "csr", "coo"))
_FILE_KINDS = frozenset(("csr", "coo"))  # in a spec string: read from .npy files
_C_SPACE = " \t\n\v\f\r"  # what the library's parser skips (C isspace)


def _int(value, what, lo=_INT64_MIN, hi=_INT64_MAX):
    try:
        if isinstance(value, bool):
            raise TypeError
        v = operator.index(value)
    except TypeError:
        raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                                 "%s must be an integer, got %r" % (what, value)) from None
    if not lo <= v <= hi:
        raise make_error(Status.ERR_BAD_PARAMETER, "%s = %d is outside [%d, %d]" % (what, v, lo, hi))
    return v


def _refuse_compiling():
    """Graphs are made outside torch.compile: Dynamo cannot trace the builders (their weak
    registries, NumPy copies and ctypes calls). Raised while it traces one, this names the problem
    (with fullgraph=True torch.compile stops with it; without, the builder runs eagerly after a
    graph break, as before). torch is looked up, never imported."""
    torch = sys.modules.get("torch")
    is_compiling = getattr(getattr(torch, "compiler", None), "is_compiling", None)  # (None: no torch, or too old)
    if is_compiling is not None and is_compiling():
        raise make_error(Status.ERR_BAD_PARAMETER,
                         "graphattn graphs cannot be built inside torch.compile: build the Graph outside the "
                         "compiled function (e.g. as a module attribute) and pass it in, or pass a spec string "
                         "to attention()")


def _index_array(values, what, allow_int32=True):
    _refuse_compiling()
    if hasattr(values, "detach") and hasattr(values, "cpu"):  # a torch tensor, on any device
        values = values.detach().cpu()
        if values.is_floating_point() or values.is_complex():
            raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                                     "%s must hold integers, got dtype %s" % (what, values.dtype))
        values = values.numpy()
    a = np.asarray(values)
    if a.size == 0 and a.dtype.kind not in "iu":
        a = a.astype(np.int64)
    if a.dtype.kind in "fO":
        # what NumPy makes of Python ints past the int64 range: object, or float64 beside other ints
        # ([0, 2**63]); an integer there is out of range, not a float
        items = a.ravel() if a.dtype == object else values if isinstance(values, (list, tuple)) else ()
        for x in items:
            if isinstance(x, (int, np.integer)) and not isinstance(x, bool) and not _INT64_MIN <= x <= _INT64_MAX:
                raise make_error(Status.ERR_INDEX_OUT_OF_RANGE, "%s holds %d, outside the int64 range [-2^63, "
                                 "2^63 - 1]" % (what, x))
        # integers all, in range (NumPy promotes int64 beside uint64 to float64): int64 as given
        if len(items) and all(isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) for x in items):
            a = np.array([int(x) for x in items], dtype=np.int64)
    if a.dtype.kind not in "iu":
        raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                                 "%s must hold integers, got dtype %s" % (what, a.dtype))
    if a.ndim != 1:
        raise make_error(Status.ERR_BAD_PARAMETER, "%s must be 1-D, got shape %s" % (what, a.shape))
    if allow_int32 and a.dtype == np.int32:  # kept as int32 (half the memory), but a private copy too
        return np.array(a, dtype=np.int32, copy=True, order="C")
    if a.dtype.kind == "u" and a.size and int(a.max()) > _INT64_MAX:
        raise make_error(Status.ERR_INDEX_OUT_OF_RANGE, "%s holds %d, outside the int64 range [-2^63, 2^63 - 1]"
                         % (what, int(a.max())))
    # a private copy: the caller may change their array after building the graph
    return np.array(a, dtype=np.int64, copy=True, order="C")


def _ptr64(a):
    return a.ctypes.data_as(_capi.c_int64_p)


def _index_type(a):
    return _capi.GA_INDEX_INT32 if a.dtype == np.int32 else _capi.GA_INDEX_INT64


_SPEC_MAX_ARGS = 4096  # the most integers one spec component holds (src/graph/spec.c)


def _part_spec(part):
    """The spec text of one component, or None for explicit arrays."""
    kind = part[0]
    if kind == "spec":
        return part[1]
    if kind in ("dense", "causal"):
        return kind
    if kind in ("global", "documents") and len(part[1]) > _SPEC_MAX_ARGS:
        return None  # past the spec grammar's list limit: named by a handle instead
    if kind == "global":
        return "global:" + ",".join(str(int(t)) for t in part[1])
    if kind == "documents":
        return ("causal_documents:" if part[2] else "documents:") + ",".join(str(int(t)) for t in part[1])
    if kind in ("csr", "coo"):
        return None
    # a seed of 2^63 or more as its negative twin, which the spec reads modulo 2^64 (its
    # integers are int64)
    return kind + ":" + ",".join(str(x - (1 << 64) if x > _INT64_MAX else x) for x in part[1:])


def _part_repr(part):
    """One component in a Graph's repr: graphattn.graph('SPEC') where a spec says it, else the
    builder's call (its arrays abbreviated: csr / coo show their shape and edge count)."""
    kind = part[0]
    if kind in ("csr", "coo"):
        # an open key count (shape not given): at least the largest index + 1
        keys = "%d" % part[2] if part[2] else "%d+" % (int(part[4].max()) + 1 if len(part[4]) else 1)
        return "graphattn.%s(<%dx%s, nnz=%d>)" % (kind, part[1], keys, len(part[4]))
    if kind == "global":
        toks = [int(t) for t in part[1][:8]]
        more = ", ..." if len(part[1]) > 8 else ""
        return "graphattn.global_tokens([%s%s])" % (", ".join(map(str, toks)), more)
    if kind == "documents":
        b = [int(t) for t in part[1][:8]]
        more = ", ..." if len(part[1]) > 8 else ""
        return "graphattn.documents([%s%s]%s)" % (", ".join(map(str, b)), more, ", causal=True" if part[2] else "")
    return "graphattn.graph(%r)" % (part[1] if kind == "spec" else _part_spec(part))


def _add_part(h, part):
    kind = part[0]
    if kind == "dense":
        check(C.ga_graph_add_dense(h))
    elif kind == "causal":
        check(C.ga_graph_add_causal(h))
    elif kind == "window":
        check(C.ga_graph_add_window(h, part[1], part[2]))
    elif kind == "dilated":
        check(C.ga_graph_add_dilated(h, part[1], part[2]))
    elif kind == "blocks":
        check(C.ga_graph_add_blocks(h, part[1]))
    elif kind == "longnet":
        check(C.ga_graph_add_longnet(h, part[1], part[2], part[3]))
    elif kind == "global":
        toks = part[1]
        check(C.ga_graph_add_global(h, _ptr64(toks), toks.size))
    elif kind == "documents":
        check(C.ga_graph_add_documents(h, _ptr64(part[1]), part[1].size, 1 if part[2] else 0))
    elif kind == "random":
        check(C.ga_graph_add_random(h, part[1], part[2]))
    elif kind == "bigbird":
        check(C.ga_graph_add_bigbird(h, *part[1:]))
    elif kind == "csr":
        _, nrows, ncols, indptr, indices = part
        check(C.ga_graph_add_csr(h, nrows, ncols, _ptr64(indptr), indices.ctypes.data, _index_type(indices)))
    elif kind == "coo":
        _, nrows, ncols, row, col = part
        check(C.ga_graph_add_coo(h, nrows, ncols, row.size, row.ctypes.data, col.ctypes.data, _index_type(row)))
    else:  # pragma: no cover - parts are made only by this module
        raise AssertionError("unknown graph part %r" % (kind,))


def _spec_components(text):
    """(name, args) of each component of a spec string, split as the library splits it (args is
    None where there is no ':')."""
    found = []
    for component in text.split("+"):
        name, colon, args = component.partition(":")
        found.append((name.strip(_C_SPACE), args if colon else None))
    return found


def _part_kinds(part):
    """The component names a part stands for ("window", "csr", ...)."""
    return [name for name, _ in _spec_components(part[1])] if part[0] == "spec" else [part[0]]


def _build(parts):
    """A new C graph holding all parts in order: spec strings through the library's parser (a
    csr:/coo: spec's files are read then), the others by its builders. A graph that starts with
    a spec is parsed by ga_graph_parse, which every version of the library has; a spec after
    another part is appended by ga_graph_add_spec."""
    h = ctypes.c_void_p()
    first = parts and parts[0][0] == "spec"
    if first:
        check(C.ga_graph_parse(parts[0][1].encode("utf-8"), ctypes.byref(h)))
    else:
        check(C.ga_graph_create(ctypes.byref(h)))
    try:
        for p in parts[1 if first else 0:]:
            if p[0] == "spec":
                check(C.ga_graph_add_spec(h, p[1].encode("utf-8")))
            else:
                _add_part(h, p)
    except BaseException:
        C.ga_graph_destroy(h)
        raise
    return h


def _checked_spec(spec):
    """A spec string, refused where the library would read less than it (a NUL ends a C string)."""
    if not isinstance(spec, str):
        raise GraphAttnTypeError(Status.ERR_SPEC_SYNTAX, _capi.status_string(Status.ERR_SPEC_SYNTAX),
                                 "a graph spec must be a str, got %s" % type(spec).__name__)
    if "\x00" in spec:
        raise make_error(Status.ERR_SPEC_SYNTAX, "graph spec %r holds a NUL character (offset %d)"
                         % (spec, spec.index("\x00")))
    return spec


_PART_KINDS = frozenset(("spec", "dense", "causal", "window", "dilated", "blocks", "longnet", "global", "random",
                         "bigbird", "documents", "csr", "coo"))


class Graph:
    """A union of graph components (see the module docstring). Build with graphattn.graph(spec)
    or the builder functions, combine with `+`. Graph("window:256") builds the same graph as
    graph("window:256"), and Graph(g) is a graph with g's components."""

    # immutable: no attributes beyond these (and these are set once, in __init__ and prepare)
    __slots__ = ("_parts", "_handle", "_finalizer", "_spec", "_explicit", "_op_key", "__weakref__")

    def __init__(self, parts, _trusted=False):
        _refuse_compiling()
        validate = False
        if isinstance(parts, str):  # a spec string, as graph(spec): validated at once
            parts, validate = (("spec", _checked_spec(parts)),), True
        elif isinstance(parts, Graph):
            parts = parts._parts
        elif not (isinstance(parts, (list, tuple)) and all(
                isinstance(p, tuple) and p and p[0] in _PART_KINDS for p in parts)):
            raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                                     "Graph() takes a spec string or a Graph, got %s; build graphs with "
                                     "graphattn.graph(spec), window(), global_tokens(), csr(), ..."
                                     % type(parts).__name__)
        elif not _trusted:  # part tuples from outside (unpickling): through the builders' checks
            parts = [_checked_part(p) for p in parts]
        self._parts = tuple(parts)
        self._handle = None
        self._finalizer = None
        texts = [_part_spec(p) for p in self._parts]
        self._spec = "+".join(texts) if self._parts and None not in texts else None
        kinds = {kind for p in self._parts for kind in _part_kinds(p)}
        self._explicit = bool(kinds & {"csr", "coo"})
        if self._spec is not None and not kinds & _DATA_KINDS:
            # the torch op names this graph by its spec; it finds this Graph while it lives
            _by_spec.setdefault(self._spec, self)
            self._op_key = (self._spec, -1)
        else:
            hid = next(_next_handle)
            _registry[hid] = self
            self._op_key = ("", hid)
        if validate or any(p[0] == "spec" and _FILE_KINDS.intersection(_part_kinds(p)) for p in self._parts):
            self.prepare()  # a spec names the files of a graph as they are now

    # -- the C graph ---------------------------------------------------------------------------

    @property
    def _ptr(self):
        """The prepared C graph (a c_void_p), built on first use and kept."""
        h = self._handle
        if h is None:
            with _materialize_lock:
                h = self._handle
                if h is None:
                    h = _build(self._parts)
                    self._finalizer = weakref.finalize(self, C.ga_graph_destroy, h)
                    self._handle = h
        return h

    def prepare(self):
        """Build and validate the C graph now (otherwise done on first use). Returns self."""
        self._ptr
        return self

    # -- combination ---------------------------------------------------------------------------

    def __add__(self, other):
        if isinstance(other, str):
            other = graph(other)
        if not isinstance(other, Graph):
            return NotImplemented
        return Graph(self._parts + other._parts, _trusted=True)

    def __radd__(self, other):
        if isinstance(other, str):
            return graph(other) + self
        return NotImplemented

    # -- description ---------------------------------------------------------------------------

    @property
    def spec(self):
        """The spec string of this graph, or None if it holds explicit (csr/coo) arrays."""
        return self._spec

    @property
    def components(self):
        """The component kinds of the C graph, in order ("window", "global", "csr", ...); explicit
        edges are stored as CSR, so a coo graph reports "csr"."""
        h = self._ptr
        n = C.ga_graph_component_count(h)
        return [_capi.COMPONENT_KIND_NAMES.get(C.ga_graph_component_kind(h, i), "?") for i in range(n)]

    @property
    def is_explicit(self):
        """True if the graph holds explicit edges (csr/coo arrays or files), which fix its size."""
        return self._explicit

    def __len__(self):
        return int(C.ga_graph_component_count(self._ptr))

    def __bool__(self):  # a Graph is never empty; do not build the C graph to say so
        return True

    def __repr__(self):
        # graphattn.graph('SPEC') where the whole graph is a spec (eval() gives it back), else its
        # components' reprs joined by +
        if self._spec is not None and not self._explicit and len(self._spec) <= 200:
            return "graphattn.graph(%r)" % self._spec
        return " + ".join(_part_repr(p) for p in self._parts) or "graphattn.Graph(())"

    # Immutable: copies share the prepared C graph; pickles rebuild it from the parts.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (Graph, (self._parts,))

    # -- queries over a concrete size ----------------------------------------------------------

    @staticmethod
    def _sizes(nq, nk):
        nq = _int(nq, "nq")
        nk = nq if nk is None else _int(nk, "nk")
        return nq, nk

    def check(self, nq, nk=None):
        """Raise if the graph cannot be used with nq queries and nk keys (nk defaults to nq)."""
        nq, nk = self._sizes(nq, nk)
        check(C.ga_graph_check(self._ptr, nq, nk))

    def count_edges(self, nq, nk=None):
        """Number of distinct edges over nq x nk."""
        nq, nk = self._sizes(nq, nk)
        n = ctypes.c_int64(-1)
        check(C.ga_graph_count_edges(self._ptr, nq, nk, ctypes.byref(n)))
        return int(n.value)

    def degree_stats(self, nq, nk=None):
        """dict(edges, min_degree, max_degree, empty_rows, mean_degree) over nq x nk."""
        nq, nk = self._sizes(nq, nk)
        s = _capi.DegreeStats()
        check(C.ga_graph_degree_stats(self._ptr, nq, nk, ctypes.byref(s)))
        return {"edges": s.edges, "min_degree": s.min_degree, "max_degree": s.max_degree,
                "empty_rows": s.empty_rows, "mean_degree": s.mean_degree}

    def row(self, i, nq, nk=None):
        """The sorted keys of query row i (an int64 array)."""
        nq, nk = self._sizes(nq, nk)
        i = _int(i, "row")
        degree = ctypes.c_int64(-1)
        check(C.ga_graph_row(self._ptr, nq, nk, i, None, 0, ctypes.byref(degree)))
        keys = np.empty(max(degree.value, 1), dtype=np.int64)
        check(C.ga_graph_row(self._ptr, nq, nk, i, _ptr64(keys), keys.size, ctypes.byref(degree)))
        return keys[:degree.value].copy()

    def to_csr(self, nq, nk=None):
        """The whole graph as CSR: (indptr int64[nq+1], indices int64[edges]), columns sorted."""
        nq, nk = self._sizes(nq, nk)
        edges = self.count_edges(nq, nk)
        indptr = np.empty(nq + 1, dtype=np.int64)
        indices = np.empty(max(edges, 1), dtype=np.int64)
        check(C.ga_graph_to_csr(self._ptr, nq, nk, _ptr64(indptr), _ptr64(indices), edges))
        return indptr, indices[:edges].copy()

    def to_dense(self, nq, nk=None):
        """A dense boolean mask of shape (nq, nk): True where query i attends to key j.
        O(nq * nk) memory: for small sizes, tests and comparisons with dense attention."""
        nq, nk = self._sizes(nq, nk)
        indptr, indices = self.to_csr(nq, nk)
        mask = np.zeros((nq, nk), dtype=bool)
        rows = np.repeat(np.arange(nq, dtype=np.int64), np.diff(indptr))
        mask[rows, indices] = True
        return mask


def _one(*part):
    """A single-component graph, validated at once so that bad parameters fail where written."""
    return Graph([part], _trusted=True).prepare()


def _checked_part(part):
    """A part tuple that did not come from this module's builders (Graph(parts), unpickling)
    made again by the builder of its kind, so that only checked numbers and private arrays of the
    right dtype and consistent sizes reach the library (its builders take raw pointers: an
    indptr shorter than the row count it names would be read past its end)."""
    kind, args = part[0], part[1:]
    builders = {"spec": lambda text: graph(_checked_spec(text)), "dense": dense, "causal": causal, "window": window, "dilated": dilated,
                "blocks": blocks, "longnet": longnet, "global": global_tokens, "documents": documents,
                "random": random_keys, "bigbird": bigbird,
                "csr": lambda nrows, ncols, indptr, indices: csr(indptr, indices, shape=_part_shape(nrows, ncols)),
                "coo": lambda nrows, ncols, row, col: coo(row, col, shape=_part_shape(nrows, ncols))}
    try:
        return builders[kind](*args)._parts[0]
    except TypeError as e:
        if isinstance(e, GraphAttnTypeError):
            raise
        raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                                 "graph part %r: %s" % (kind, e)) from None


# ---- constructors --------------------------------------------------------------------------


def graph(spec):
    """A graph from a spec string, the grammar of the command line:
    dense | causal | window:W | window:L,R | dilated:W,S | blocks:B | longnet:S,R,O |
    global:I1,I2,... | random:R,SEED | bigbird:B,W,G,R,SEED | documents:B1,B2,... |
    causal_documents:B1,B2,... | csr:PTR.npy,IDX.npy | coo:ROW.npy,COL.npy,
    joined with '+'. csr/coo files are read now: a later graph(spec) sees the files as they are
    then. A Graph passed in is returned as it is."""
    if isinstance(spec, Graph):
        return spec
    return _one("spec", _checked_spec(spec))


def dense():
    """Every query attends to every key."""
    return _one("dense")


def causal():
    """Query i attends to keys j <= i + (Nk - Nq) (bottom-right aligned)."""
    return _one("causal")


def window(left, right=None):
    """Sliding window: keys i'-left .. i'+right (i' = i + Nk - Nq). window(w) is window(w, w);
    window(w, 0) is a causal sliding window."""
    left = _int(left, "window left")
    right = left if right is None else _int(right, "window right")
    return _one("window", left, right)


def dilated(w, step):
    """Keys i' + k*step for -w <= k <= w."""
    return _one("dilated", _int(w, "dilated w"), _int(step, "dilated step"))


def blocks(block):
    """Block diagonal: i // block == j // block."""
    return _one("blocks", _int(block, "block"))


def longnet(segment, rate, offset=0):
    """LongNet-style dilated segments: same segment, and i % rate == j % rate == offset."""
    return _one("longnet", _int(segment, "segment"), _int(rate, "rate"), _int(offset, "offset"))


def global_tokens(tokens):
    """Global tokens: each listed token attends to every key and every query attends to it.
    tokens: a list, a NumPy array or a torch tensor (on any device) of integers."""
    toks = np.unique(_index_array(tokens, "global tokens", allow_int32=False))  # as the library stores them
    return _one("global", toks)


def documents(bounds, causal=False):
    """Packed documents: the nondecreasing positions `bounds` (>= 0) cut the keys into documents;
    each query attends the keys of its own document (causal=True: those up to its own position).
    FlashAttention's cu_seqlens (0, ends..., total; a NumPy array, a list or a torch tensor on any
    device) works as is. The bounds are copied: O(documents) memory, whatever the sequence length."""
    if not isinstance(causal, (bool, np.bool_)):
        raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                                 "documents: causal must be True or False, got %r" % (causal,))
    b = _index_array(bounds, "document bounds", allow_int32=False)
    return _one("documents", b, bool(causal))


def _seed(seed):
    """A seed in [-2^63, 2^64) as the library's uint64: a negative one taken modulo 2^64, as a
    spec's seed is ("random:2,-1" is seed 2^64 - 1) and hash64's."""
    return _int(seed, "seed", -(1 << 63), _UINT64_MAX) & _UINT64_MAX


def random_keys(r, seed=0):
    """r keys per query drawn by a seeded hash (reproducible: see ga_graph_add_random).
    seed in [-2^63, 2^64); a negative one is taken modulo 2^64 (-1 is 2^64 - 1)."""
    return _one("random", _int(r, "r"), _seed(seed))


def bigbird(block, window_blocks=1, global_blocks=1, random_blocks=1, seed=0):
    """BigBird on blocks of `block` tokens: block window + global blocks + random blocks.
    seed as random_keys'."""
    return _one("bigbird", _int(block, "block"), _int(window_blocks, "window_blocks"),
                _int(global_blocks, "global_blocks"), _int(random_blocks, "random_blocks"),
                _seed(seed))


def _shape(shape, default_rows, what):
    """(nrows, ncols) from shape = (num_queries, num_keys) or (num_queries, None); num_keys None
    (or no shape) is an open key count, ncols 0 for the library: any Nk above the largest index."""
    if shape is None:
        return default_rows, 0
    try:
        nrows, ncols = shape
    except (TypeError, ValueError):
        raise make_error(Status.ERR_BAD_PARAMETER, "shape must be (num_queries, num_keys), got %r" % (shape,)) from None
    nrows = _int(nrows, "shape[0]")
    ncols = None if ncols is None else _int(ncols, "shape[1]")
    if nrows < 1 or (ncols is not None and ncols < 1):
        raise make_error(Status.ERR_BAD_SIZE, "%s: shape = (%d, %s); num_queries and num_keys must be >= 1"
                         % (what, nrows, ncols))
    return nrows, 0 if ncols is None else ncols


def _part_shape(nrows, ncols):
    """A part's (nrows, ncols) as a builder's shape argument (ncols 0: open)."""
    return (nrows, ncols if ncols else None)


def csr(indptr, indices, shape=None):
    """Explicit edges in CSR form: the keys of query i are indices[indptr[i]:indptr[i+1]], sorted,
    without duplicates. shape = (num_queries, num_keys); by default len(indptr)-1 queries and an
    open key count (as a csr: spec's): any number of keys above the largest index fits at call
    time, keys past it having no edges; shape=(nq, None) gives the same. The arrays (lists, NumPy
    arrays or torch tensors on any device) are copied: the graph does not change if the caller's
    arrays do."""
    ptr = _index_array(indptr, "indptr", allow_int32=False)
    idx = _index_array(indices, "indices")
    if shape is None and ptr.size < 2:  # (with a shape, the count is checked against it below)
        raise make_error(Status.ERR_BAD_SIZE, "csr: indptr holds %d entr%s; a graph of num_queries >= 1 rows needs "
                         "num_queries + 1 >= 2 (e.g. [0, nnz] for one row)"
                         % (ptr.size, "y" if ptr.size == 1 else "ies"))
    nrows, ncols = _shape(shape, ptr.size - 1, "csr")
    if idx.dtype == np.int32 and ncols > 0x7FFFFFFF:  # the library takes int32 columns below 2^31 keys only
        idx = idx.astype(np.int64)
    if ptr.size == nrows + 1 and ptr.size and ptr[-1] != idx.size:
        raise make_error(Status.ERR_ROW_PTR_END,
                         "csr: indptr[-1] = %d but indices holds %d entries" % (ptr[-1], idx.size))
    if ptr.size != nrows + 1:
        raise make_error(Status.ERR_BAD_SIZE,
                         "csr: indptr holds %d entries, expected num_queries + 1 = %d" % (ptr.size, nrows + 1))
    return _one("csr", nrows, ncols, ptr, idx)


def coo(row, col, shape=None):
    """Explicit edges as (row[e], col[e]) pairs in any order, no pair twice (lists, NumPy arrays or
    torch tensors on any device; copied). shape = (num_queries, num_keys); by default as a coo:
    spec's: the largest row index + 1 queries and an open key count (any number of keys above the
    largest column index fits at call time); shape=(nq, None) keeps the key count open."""
    r = _index_array(row, "row")
    c = _index_array(col, "col")
    if r.size != c.size:
        raise make_error(Status.ERR_SHAPE_MISMATCH,
                         "coo: row holds %d entries and col holds %d" % (r.size, c.size))
    if r.dtype != c.dtype:
        r, c = r.astype(np.int64), c.astype(np.int64)
    if shape is None:
        if r.size == 0:
            raise make_error(Status.ERR_BAD_PARAMETER, "coo: an empty edge list needs an explicit shape")
        # (a negative index: one row at least, which the library's range check then names)
        shape = (max(int(r.max()) + 1, 1), None)
    nrows, ncols = _shape(shape, None, "coo")
    if r.dtype == np.int32 and max(nrows, ncols) > 0x7FFFFFFF:  # int32 pairs below 2^31 rows and keys only
        r, c = r.astype(np.int64), c.astype(np.int64)
    return _one("coo", nrows, ncols, r, c)


# ---- for the torch operator ------------------------------------------------------------------


def _graph_for_op(spec, handle):
    """The Graph a torch op call names: a registered handle, or a spec string."""
    if handle >= 0:
        g = _registry.get(handle)
        if g is None:
            raise make_error(Status.ERR_BAD_PARAMETER,
                             "graph handle %d names no live graphattn.Graph (keep the Graph object alive "
                             "while code that uses it runs)" % handle)
        return g
    return _graph_for_spec(spec)


def _graph_for_spec(spec):
    """A prepared Graph for a spec string, parsed at most once while it stays in use; one that
    names files is parsed (and its files read) every time."""
    g = _by_spec.get(spec) or _parsed.get(spec)
    if g is None:
        g = graph(spec)
        if not g.is_explicit:
            with _parsed_lock:  # threads calling at once: one evicts the oldest at a time
                while len(_parsed) >= _PARSED_MAX:
                    _parsed.pop(next(iter(_parsed)))
                _parsed[spec] = g
    return g
