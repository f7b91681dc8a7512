"""torch.nn modules built on graphattn (needs PyTorch).

    layer = graphattn.nn.SparseSelfAttention(768, 12, graphattn.window(256) + graphattn.global_tokens([0]))
    y = layer(x)            # x: (B, N, 768) -> (B, N, 768)
"""
import torch
from torch import nn

from . import _capi, _torch_op
from ._capi import Status, make_error
from ._errors import GraphAttnTypeError
from .attention import as_graph, scale_value
from .graph import _int

_PARAM_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def _count(value, what):
    """A size argument: an int >= 1 (not a float, not a bool)."""
    v = _int(value, what)  # GraphAttnTypeError for 2.0, True, "2"
    if v < 1:
        raise make_error(Status.ERR_BAD_SIZE, "%s must be >= 1, got %d" % (what, v))
    return v


class SparseSelfAttention(nn.Module):
    """Longformer/BigBird-style self-attention: a fused q/k/v projection, graphattn over a sparse
    graph, and an output projection.

    embed_dim:    model width E, an int >= 1.
    num_heads:    query heads H, an int >= 1.
    graph:        a graphattn.Graph or spec string (e.g. window(256) + global_tokens([0]) for
                  Longformer, bigbird(64, 3, 2, 3) for BigBird). Can be overridden per call.
    num_kv_heads: key/value heads (grouped-query attention); must divide num_heads. Default H.
    head_dim:     D, an int >= 1, default E // H.
    bias:         biases in the projections.
    scale:        softmax scale as for graphattn.attention (finite, > 0, at most the float32 maximum),
                  default (None) 1/sqrt(D).
    device, dtype: of the parameters, as in torch.nn; dtype torch.float32, torch.float16,
                  torch.bfloat16 or None (torch's default dtype), those graphattn computes in.

    The configuration is checked here, with graphattn's errors (GraphAttnValueError, or
    GraphAttnTypeError for a value of the wrong type or dtype): not at the first forward.

    forward(x, graph=None): x is (B, N, E) or (N, E); returns the same shape. Forward only: the
    attention has no backward pass yet, so backward raises whenever a gradient has to flow through
    it, and it does for any parameter before it, this layer's own qkv projection included. Run the
    layer under torch.no_grad() / torch.inference_mode(), or train only what comes after the
    attention (out_proj and later layers) with qkv and everything before it frozen
    (requires_grad_(False)).

    Compilers: torch.compile and torch.export capture the layer (the attention as the operator
    graphattn::attention); torch.jit.trace records that operator too; torch.jit.script raises.
    """

    def __init__(self, embed_dim, num_heads, graph, *, num_kv_heads=None, head_dim=None, bias=True, scale=None,
                 device=None, dtype=None):
        super().__init__()
        embed_dim = _count(embed_dim, "embed_dim")
        num_heads = _count(num_heads, "num_heads")
        num_kv_heads = num_heads if num_kv_heads is None else _count(num_kv_heads, "num_kv_heads")
        if num_heads % num_kv_heads:
            raise make_error(Status.ERR_SHAPE_MISMATCH,
                             "num_kv_heads (%d) must divide num_heads (%d)" % (num_kv_heads, num_heads))
        if head_dim is None:
            if embed_dim % num_heads:
                raise make_error(Status.ERR_SHAPE_MISMATCH, "embed_dim (%d) is not a multiple of num_heads (%d); "
                                 "pass head_dim" % (embed_dim, num_heads))
            head_dim = embed_dim // num_heads
        else:
            head_dim = _count(head_dim, "head_dim")
        if dtype is not None and dtype not in _PARAM_DTYPES:
            raise GraphAttnTypeError(Status.ERR_BAD_DTYPE, _capi.status_string(Status.ERR_BAD_DTYPE),
                                     "dtype must be torch.float32, torch.float16, torch.bfloat16 or None, got %r"
                                     % (dtype,))
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads
        self.head_dim = head_dim
        self.scale = None if scale is None else scale_value(scale)
        self.graph = as_graph(graph).prepare()
        factory = {"device": device, "dtype": dtype}
        self.qkv = nn.Linear(embed_dim, (num_heads + 2 * num_kv_heads) * head_dim, bias=bias, **factory)
        self.out_proj = nn.Linear(num_heads * head_dim, embed_dim, bias=bias, **factory)

    def __prepare_scriptable__(self):
        # torch.jit.script calls this first: say why it cannot work, instead of TorchScript's parse
        # error somewhere inside graphattn's Python
        raise RuntimeError("graphattn.nn.SparseSelfAttention does not support TorchScript (torch.jit.script): "
                           "graphattn's Python frontend is not TorchScript. Use torch.compile, or torch.export to "
                           "capture the layer as a graph (the graphattn::attention operator); torch.jit.trace also "
                           "records that operator")

    def extra_repr(self):
        return "heads=%d, kv_heads=%d, head_dim=%d, graph=%r" % (
            self.num_heads, self.num_kv_heads, self.head_dim, self.graph)

    def forward(self, x, graph=None):
        g = self.graph if graph is None else graph  # a spec string is resolved by _torch_op.attention
        r = x.dim()
        if (r != 2 and r != 3) or x.shape[-1] != self.embed_dim:
            raise make_error(Status.ERR_SHAPE_MISMATCH, "x has shape %s; expected (B, N, embed_dim) or (N, "
                             "embed_dim) with embed_dim = %d" % (tuple(x.shape), self.embed_dim))
        squeeze = r == 2
        if squeeze:
            x = x.unsqueeze(0)
        b, n, _ = x.shape
        h, hkv, d = self.num_heads, self.num_kv_heads, self.head_dim
        qkv = self.qkv(x).view(b, n, h + 2 * hkv, d)
        # strided views into the fused projection: no copies, the library reads them in place
        q = qkv[:, :, :h]
        k = qkv[:, :, h:h + hkv]
        v = qkv[:, :, h + hkv:]
        o = _torch_op.attention(q, k, v, g, scale=self.scale)
        y = self.out_proj(o.reshape(b, n, h * d))
        return y.squeeze(0) if squeeze else y
