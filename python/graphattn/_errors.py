"""Exceptions: every non-OK ga_status becomes a GraphAttnError.

The concrete class also derives from the built-in exception a Python user expects for that kind
of failure, so `except ValueError` catches a malformed shape or spec just as `except GraphAttnError`
does:
  - bad arguments (sizes, shapes, strides, indices, specs, ...)  -> ValueError
  - a dtype that is not float32/float16/bfloat16 or that differs  -> TypeError (and ValueError)
  - out of memory                                                 -> MemoryError
  - a file that cannot be read                                    -> OSError
  - CUDA errors, missing backends, internal errors                -> RuntimeError
"""


class GraphAttnError(Exception):
    """An error reported by graphattn.

    Attributes:
      status:  the ga_status code (a graphattn.Status member where known, else an int)
      name:    the library's ga_status_string() for it ("GA_ERR_...: description")
      detail:  the library's ga_last_error_detail() (or the Python check's own text)
    """

    def __init__(self, status, name, detail):
        self.status = status
        self.name = name
        self.detail = detail
        message = name if not detail else "%s -- %s" % (name, detail)
        super().__init__(message)

    def __reduce__(self):
        return (type(self), (self.status, self.name, self.detail))


class GraphAttnValueError(GraphAttnError, ValueError):
    """Invalid arguments: sizes, shapes, strides, graph parameters, indices, specs."""


class GraphAttnTypeError(GraphAttnValueError, TypeError):
    """An unsupported dtype, or dtypes that disagree."""


class GraphAttnMemoryError(GraphAttnError, MemoryError):
    """Host or device memory could not be allocated."""


class GraphAttnIOError(GraphAttnError, OSError):
    """A file named in a graph spec could not be opened or read."""


class GraphAttnRuntimeError(GraphAttnError, RuntimeError):
    """A CUDA error, a backend that is not available, or an internal error."""


_BY_STATUS = {
    3: GraphAttnTypeError,
    17: GraphAttnMemoryError,
    23: GraphAttnIOError,
    20: GraphAttnRuntimeError,
    21: GraphAttnRuntimeError,
    26: GraphAttnRuntimeError,
}


def error_class_for(status):
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 1 <= status <= 25:
        return GraphAttnValueError
    return GraphAttnRuntimeError
