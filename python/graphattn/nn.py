"""torch.nn modules built on graphattn (needs PyTorch).

    layer = graphattn.nn.SparseSelfAttention(768, 12, graphattn.window(256) + graphattn.global_tokens([0]))
    y = layer(x)            # x: (B, N, 768) -> (B, N, 768)
"""
from torch import nn

from . import _torch_op
from .attention import as_graph


class SparseSelfAttention(nn.Module):
    """Longformer/BigBird-style self-attention: a fused q/k/v projection, graphattn over a sparse
    graph, and an output projection.

    embed_dim:    model width E.
    num_heads:    query heads H.
    graph:        a graphattn.Graph or spec string (e.g. window(256) + global_tokens([0]) for
                  Longformer, bigbird(64, 3, 2, 3) for BigBird). Can be overridden per call.
    num_kv_heads: key/value heads (grouped-query attention); must divide num_heads. Default H.
    head_dim:     D, default E // H.
    bias:         biases in the projections.
    scale:        softmax scale, default 1/sqrt(D).

    forward(x, graph=None): x is (B, N, E) or (N, E); returns the same shape. Forward only: the
    attention has no backward pass yet, so backward raises whenever a gradient has to flow through
    it, and it does for any parameter before it, this layer's own qkv projection included. Run the
    layer under torch.no_grad() / torch.inference_mode(), or train only what comes after the
    attention (out_proj and later layers) with qkv and everything before it frozen
    (requires_grad_(False)).
    """

    def __init__(self, embed_dim, num_heads, graph, *, num_kv_heads=None, head_dim=None, bias=True, scale=None,
                 device=None, dtype=None):
        super().__init__()
        if num_heads < 1:
            raise ValueError("num_heads must be >= 1, got %d" % num_heads)
        num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
        if num_kv_heads < 1 or num_heads % num_kv_heads:
            raise ValueError("num_kv_heads (%d) must divide num_heads (%d)" % (num_kv_heads, num_heads))
        if head_dim is None:
            if embed_dim % num_heads:
                raise ValueError("embed_dim (%d) is not a multiple of num_heads (%d); pass head_dim"
                                 % (embed_dim, num_heads))
            head_dim = embed_dim // num_heads
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads
        self.head_dim = head_dim
        self.scale = scale
        self.graph = as_graph(graph).prepare()
        factory = {"device": device, "dtype": dtype}
        self.qkv = nn.Linear(embed_dim, (num_heads + 2 * num_kv_heads) * head_dim, bias=bias, **factory)
        self.out_proj = nn.Linear(num_heads * head_dim, embed_dim, bias=bias, **factory)

    def extra_repr(self):
        return "heads=%d, kv_heads=%d, head_dim=%d, graph=%r" % (
            self.num_heads, self.num_kv_heads, self.head_dim, self.graph)

    def forward(self, x, graph=None):
        g = self.graph if graph is None else graph  # a spec string is resolved by _torch_op.attention
        squeeze = x.dim() == 2
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
