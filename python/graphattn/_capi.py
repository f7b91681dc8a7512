"""ctypes binding of include/graphattn.h: library loading, structs, prototypes, status checks.

Only this module knows the C names. Everything above it talks in Python objects.

The library is found, in this order:
  1. the file named by the environment variable GRAPHATTN_LIBRARY (a prebuilt libgraphattn.so);
  2. _lib/libgraphattn.so inside this package (what `pip install .` ships);
  3. the system's library search path (ctypes.util.find_library("graphattn")).
"""
import ctypes
import ctypes.util
import enum
import os
import sys

from ._errors import GraphAttnError, error_class_for

# ---- enums (values pinned by the header) -----------------------------------------------------


class Status(enum.IntEnum):
    OK = 0
    ERR_NULL_POINTER = 1
    ERR_BAD_SIZE = 2
    ERR_BAD_DTYPE = 3
    ERR_SHAPE_MISMATCH = 4
    ERR_BAD_STRIDE = 5
    ERR_UNSUPPORTED_HEAD_DIM = 6
    ERR_OVERFLOW = 7
    ERR_BAD_PARAMETER = 8
    ERR_ROW_PTR_START = 9
    ERR_ROW_PTR_END = 10
    ERR_ROW_PTR_NOT_MONOTONE = 11
    ERR_INDEX_OUT_OF_RANGE = 12
    ERR_INDEX_UNSORTED = 13
    ERR_INDEX_DUPLICATE = 14
    ERR_GRAPH_MISMATCH = 15
    ERR_ALIASING = 16
    ERR_OUT_OF_MEMORY = 17
    ERR_WORKSPACE_TOO_SMALL = 18
    ERR_DEVICE_MISMATCH = 19
    ERR_BACKEND_UNAVAILABLE = 20
    ERR_CUDA = 21
    ERR_SPEC_SYNTAX = 22
    ERR_IO = 23
    ERR_FILE_FORMAT = 24
    ERR_EMPTY_GRAPH = 25
    ERR_INTERNAL = 26


GA_F32, GA_F16, GA_BF16 = 0, 1, 2
GA_DEVICE_CPU, GA_DEVICE_CUDA = 0, 1
GA_INDEX_INT32, GA_INDEX_INT64 = 0, 1
GA_FLAG_ACCUMULATE = 1
GA_MAX_THREADS = 1024  # the most CPU threads a call may ask for (ga_options.num_threads)

BACKENDS = {"auto": 0, "cpu": 1, "reference": 2, "cpu-reference": 2, "cuda": 3}

COMPONENT_KIND_NAMES = {
    0: "dense", 1: "causal", 2: "window", 3: "dilated", 4: "blocks", 5: "longnet",
    6: "global", 7: "random", 8: "bigbird", 9: "csr", 10: "documents",
}

# ---- structs ---------------------------------------------------------------------------------

c_int64_p = ctypes.POINTER(ctypes.c_int64)


class Tensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int),
        ("device", ctypes.c_int),
        ("device_index", ctypes.c_int),
        ("shape", ctypes.c_int64 * 4),
        ("stride", ctypes.c_int64 * 4),
    ]


class Options(ctypes.Structure):
    _fields_ = [
        ("scale", ctypes.c_double),
        ("flags", ctypes.c_uint),
        ("backend", ctypes.c_int),
        ("stream", ctypes.c_void_p),
        ("num_threads", ctypes.c_int),
    ]


class DegreeStats(ctypes.Structure):
    _fields_ = [
        ("edges", ctypes.c_int64),
        ("min_degree", ctypes.c_int64),
        ("max_degree", ctypes.c_int64),
        ("empty_rows", ctypes.c_int64),
        ("mean_degree", ctypes.c_double),
    ]


# ---- loading -----------------------------------------------------------------------------------

_HERE = os.path.dirname(os.path.abspath(__file__))
_LIB_NAMES = {"linux": "libgraphattn.so", "darwin": "libgraphattn.dylib", "win32": "graphattn.dll"}


def _candidates():
    env = os.environ.get("GRAPHATTN_LIBRARY")
    if env:
        return [("GRAPHATTN_LIBRARY", env)]
    name = _LIB_NAMES.get(sys.platform, "libgraphattn.so")
    found = [("package", os.path.join(_HERE, "_lib", name))]
    system = ctypes.util.find_library("graphattn")
    if system:
        found.append(("system", system))
    return found


def _load():
    tried = []
    for origin, path in _candidates():
        if origin != "system" and not os.path.exists(path):
            tried.append("%s: %s (no such file)" % (origin, path))
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s: %s (%s)" % (origin, path, e))
    raise ImportError(
        "graphattn: cannot load the C library libgraphattn. Install the package with `pip install .` "
        "from the repository (it builds the library), or set GRAPHATTN_LIBRARY to a built "
        "libgraphattn.so. Tried:\n  " + "\n  ".join(tried or ["nothing"]))


lib, library_path = _load()

_P = ctypes.c_void_p
_I64 = ctypes.c_int64
_PROTOTYPES = {
    "ga_version_number": (ctypes.c_int, []),
    "ga_version_string": (ctypes.c_char_p, []),
    "ga_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "ga_last_error_detail": (ctypes.c_char_p, []),
    "ga_graph_create": (ctypes.c_int, [ctypes.POINTER(_P)]),
    "ga_graph_destroy": (None, [_P]),
    "ga_graph_add_dense": (ctypes.c_int, [_P]),
    "ga_graph_add_causal": (ctypes.c_int, [_P]),
    "ga_graph_add_window": (ctypes.c_int, [_P, _I64, _I64]),
    "ga_graph_add_dilated": (ctypes.c_int, [_P, _I64, _I64]),
    "ga_graph_add_blocks": (ctypes.c_int, [_P, _I64]),
    "ga_graph_add_longnet": (ctypes.c_int, [_P, _I64, _I64, _I64]),
    "ga_graph_add_global": (ctypes.c_int, [_P, c_int64_p, _I64]),
    "ga_graph_add_documents": (ctypes.c_int, [_P, c_int64_p, _I64, ctypes.c_int]),
    "ga_graph_add_random": (ctypes.c_int, [_P, _I64, ctypes.c_uint64]),
    "ga_graph_add_bigbird": (ctypes.c_int, [_P, _I64, _I64, _I64, _I64, ctypes.c_uint64]),
    "ga_graph_add_csr": (ctypes.c_int, [_P, _I64, _I64, c_int64_p, _P, ctypes.c_int]),
    "ga_graph_add_coo": (ctypes.c_int, [_P, _I64, _I64, _I64, _P, _P, ctypes.c_int]),
    "ga_graph_parse": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_P)]),
    "ga_graph_add_spec": (ctypes.c_int, [_P, ctypes.c_char_p]),
    "ga_graph_component_count": (_I64, [_P]),
    "ga_graph_component_kind": (ctypes.c_int, [_P, _I64]),
    "ga_graph_check": (ctypes.c_int, [_P, _I64, _I64]),
    "ga_graph_count_edges": (ctypes.c_int, [_P, _I64, _I64, c_int64_p]),
    "ga_graph_degree_stats": (ctypes.c_int, [_P, _I64, _I64, ctypes.POINTER(DegreeStats)]),
    "ga_graph_row": (ctypes.c_int, [_P, _I64, _I64, _I64, c_int64_p, _I64, c_int64_p]),
    "ga_graph_to_csr": (ctypes.c_int, [_P, _I64, _I64, c_int64_p, c_int64_p, _I64]),
    "ga_hash64": (ctypes.c_uint64, [ctypes.c_uint64, _I64, _I64]),
    "ga_options_init": (None, [ctypes.POINTER(Options)]),
    "ga_backends_compiled": (ctypes.c_char_p, []),
    "ga_cuda_device_count": (ctypes.c_int, []),
    "ga_cuda_device_name": (ctypes.c_int, [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]),
    "ga_attention_workspace_size": (ctypes.c_int, [_P, ctypes.POINTER(Tensor), ctypes.POINTER(Tensor),
                                                   ctypes.POINTER(Tensor), ctypes.POINTER(Options),
                                                   ctypes.POINTER(ctypes.c_size_t)]),
    "ga_attention_forward": (ctypes.c_int, [_P, ctypes.POINTER(Tensor), ctypes.POINTER(Tensor),
                                            ctypes.POINTER(Tensor), ctypes.POINTER(Tensor),
                                            ctypes.POINTER(Tensor), ctypes.POINTER(Options), _P,
                                            ctypes.c_size_t]),
    "ga_merge_states": (ctypes.c_int, [ctypes.POINTER(Tensor), ctypes.POINTER(Tensor), ctypes.POINTER(Tensor),
                                       ctypes.POINTER(Tensor), ctypes.POINTER(Options)]),
}


class _Functions:
    """Attribute access to the C functions; a symbol the loaded library lacks fails on use with
    a clear message instead of failing the import (so an older library still loads)."""

    def __init__(self):
        self._missing = []
        for name, (restype, argtypes) in _PROTOTYPES.items():
            try:
                fn = getattr(lib, name)
            except AttributeError:
                self._missing.append(name)
                setattr(self, name, _missing_symbol(name))
                continue
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)


def _missing_symbol(name):
    def fail(*_args):
        raise GraphAttnError(
            Status.ERR_INTERNAL, "GA_ERR_INTERNAL",
            "the loaded library %s does not export %s (it is older or incomplete)" % (library_path, name))
    return fail


C = _Functions()


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


def _status_text(status):
    try:
        return _text(C.ga_status_string(int(status)))
    except GraphAttnError:
        return "status %d" % int(status)


# read once: an error raised while torch.compile traces (bad arguments) then needs no C call
_STATUS_TEXT = {int(st): _status_text(st) for st in Status}


def status_string(status):
    text = _STATUS_TEXT.get(int(status))
    return text if text is not None else _status_text(status)


def last_error_detail():
    try:
        return _text(C.ga_last_error_detail())
    except GraphAttnError:
        return ""


def make_error(status, detail):
    """A Python exception for a status, with a detail made on the Python side."""
    try:
        st = Status(int(status))
    except ValueError:
        st = int(status)
    return error_class_for(int(status))(st, status_string(status), detail)


def check(status):
    """Raise the GraphAttnError matching a non-OK status, with the library's detail text."""
    if status != 0:
        # read the thread-local detail first: any other graphattn call would overwrite it
        detail = last_error_detail()
        raise make_error(status, detail)

