"""PyTorch: the custom operator, CPU and CUDA tensors, non-contiguous views, streams, torch.compile,
and the SparseSelfAttention module. Skipped where torch is not installed; the CUDA tests are
skipped without a GPU (or without the CUDA backend in the loaded library)."""
import gc
import numpy as np
import re
import sys
import warnings
import weakref

import pytest

torch = pytest.importorskip("torch")

import graphattn as ga  # noqa: E402
import graphattn.nn  # noqa: E402,F401  (registers torch.ops.graphattn.*)
from conftest import GRAPH_CASES  # noqa: E402
from reference import assert_close, assert_lse_close, dense_attention, union_mask  # noqa: E402

HAVE_CUDA = torch.cuda.is_available() and "cuda" in ga.backends() and ga.cuda_device_count() > 0
needs_cuda = pytest.mark.skipif(not HAVE_CUDA, reason="no CUDA GPU (or library built without CUDA)")

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
DEVICES = ["cpu", pytest.param("cuda", marks=needs_cuda)]


def qkv(seed, b, nq, nk, h, hkv, d, dtype=torch.float32, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(b, nq, h, d, generator=g).to(dtype)
    k = torch.randn(b, nk, hkv, d, generator=g).to(dtype)
    v = torch.randn(b, nk, hkv, d, generator=g).to(dtype)
    return q.to(device), k.to(device), v.to(device)


def f64(t):
    return t.detach().to("cpu", torch.float64).numpy()


def expect(q, k, v, parts, scale=None):
    q4, k4, v4 = (f64(t if t.dim() == 4 else t.unsqueeze(0)) for t in (q, k, v))
    return dense_attention(q4, k4, v4, union_mask(parts, q4.shape[1], k4.shape[1]), scale)


def check(out, lse, q, k, v, parts, dtype_name, scale=None):
    want, want_lse = expect(q, k, v, parts, scale)
    o = f64(out if out.dim() == 4 else out.unsqueeze(0))
    assert_close(o, want, dtype_name)
    if lse is not None:
        l4 = lse if lse.dim() == 3 else lse.unsqueeze(0)
        assert_lse_close(f64(l4), want_lse)


# ---- correctness on both devices -------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("case", ["window", "longformer", "bigbird", "csr", "causal", "dense", "window_global_random"])
def test_matches_dense_masked_reference(device, dtype, case):
    b, nq, nk, h, hkv, d = 2, 77, 77, 4, 2, 64
    g, parts = GRAPH_CASES[case](nq, nk)
    q, k, v = qkv(1, b, nq, nk, h, hkv, d, DTYPES[dtype], device)
    out, lse = ga.attention(q, k, v, g, return_lse=True)
    assert out.device == q.device and out.dtype == q.dtype and out.shape == q.shape
    assert lse.dtype == torch.float32 and lse.shape == q.shape[:-1]
    check(out, lse, q, k, v, parts, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("d", [16, 32, 64, 128])
def test_head_dims(device, d):
    q, k, v = qkv(2, 1, 130, 130, 2, 1, d, torch.bfloat16, device)
    out = ga.attention(q, k, v, ga.window(9) + ga.global_tokens([0, 64]))
    check(out, None, q, k, v, [("window", 9, 9), ("global", [0, 64])], "bfloat16")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("d", [48, 96, 160])
def test_head_dims_between_the_kernel_sizes(device, d):
    """Multiples of 8 between 32 and 256: on Hopper the tensor-core kernels of the next size
    padded with zero columns (walks of 300 keys a side reach them); elsewhere the edge engine.
    The same answer, lse included; out is a view of D columns into rows of D + 8, whose last 8
    (where a padded column would land) must keep their NaNs."""
    q, k, v = qkv(21, 1, 1000, 1000, 2, 1, d, torch.bfloat16, device)
    buf = torch.full((1, 1000, 2, d + 8), float("nan"), dtype=torch.bfloat16, device=device)
    out = buf[..., :d]
    res, lse = ga.attention(q, k, v, ga.window(300), out=out, return_lse=True)
    assert res.data_ptr() == out.data_ptr()
    assert torch.isnan(buf[..., d:]).all(), "a column past D was written"
    check(out, lse, q, k, v, [("window", 300, 300)], "bfloat16")


@pytest.mark.parametrize("device", DEVICES)
def test_three_dimensional_layout_and_nq_ne_nk(device):
    q, k, v = qkv(3, 1, 40, 70, 2, 2, 32, torch.float16, device)
    q, k, v = q[0], k[0], v[0]
    out, lse = ga.attention(q, k, v, ga.causal(), return_lse=True)
    assert out.shape == q.shape and lse.shape == q.shape[:-1]
    check(out, lse, q, k, v, [("causal",)], "float16")


@pytest.mark.parametrize("device", DEVICES)
def test_non_contiguous_views_of_a_fused_projection(device):
    b, n, h, d = 2, 96, 4, 64
    fused = torch.randn(b, n, 3 * h, d, dtype=torch.bfloat16, device=device)
    q, k, v = fused[:, :, :h], fused[:, :, h:2 * h], fused[:, :, 2 * h:]
    assert not q.is_contiguous()
    out = ga.attention(q, k, v, ga.window(8))
    check(out, None, q, k, v, [("window", 8, 8)], "bfloat16")


@pytest.mark.parametrize("device", DEVICES)
def test_heads_first_storage_and_non_contiguous_last_dim(device):
    b, n, h, d = 1, 64, 2, 32
    qs = torch.randn(b, h, n, d, device=device)
    q = qs.transpose(1, 2)                                                   # (B, N, H, D) view
    k = torch.randn(b, n, h, 2 * d, device=device)[..., ::2]                 # last stride 2: copied
    v = torch.randn(b, n, h, d, device=device)
    out = ga.attention(q, k, v, ga.window(3, 0))
    check(out, None, q, k, v, [("window", 3, 0)], "float32")


@pytest.mark.parametrize("device", DEVICES)
def test_out_argument_written_in_place(device):
    q, k, v = qkv(4, 1, 50, 50, 2, 2, 32, torch.float32, device)
    big = torch.full((1, 50, 3, 32), 5.0, device=device)
    out = big[:, :, :2]
    res, lse = ga.attention(q, k, v, ga.window(2), out=out, return_lse=True)
    assert res is out
    assert (big[:, :, 2] == 5.0).all()
    check(out, lse, q, k, v, [("window", 2, 2)], "float32")


@pytest.mark.parametrize("device", DEVICES)
def test_errors_raise_and_write_nothing(device):
    q, k, v = qkv(5, 1, 16, 16, 4, 4, 8, torch.float32, device)
    out = torch.full_like(q, 123.0)
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k[..., :4], v[..., :4], ga.window(1), out=out)
    assert e.value.status == ga.Status.ERR_SHAPE_MISMATCH and e.value.detail
    assert (out == 123.0).all()
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k, v, ga.csr(np.arange(9), np.arange(8)))
    assert e.value.status == ga.Status.ERR_GRAPH_MISMATCH
    with pytest.raises(TypeError):
        ga.attention(q.double(), k.double(), v.double(), ga.window(1))


@pytest.mark.parametrize("device", DEVICES)
def test_inputs_of_mixed_or_wrong_rank_raise_and_write_nothing(device):
    """q, k, v and out must all be 3-D (N, H, D) or all 4-D (B, N, H, D); the error names them."""
    q, k, v = qkv(7, 1, 16, 16, 2, 2, 8, torch.float32, device)
    out = torch.full_like(q, 123.0)
    cases = [((q[0], k, v), out, "3-D or all 4-D"), ((q, k, v[0]), out, "3-D or all 4-D"),
             ((q, k, v), out[0], "3-D or all 4-D"), ((q[0, :, 0], k[0, :, 0], v[0, :, 0]), None, "expected"),
             ((q[None], k[None], v[None]), None, "expected")]
    for (a, b, c), o, words in cases:
        with pytest.raises(ga.GraphAttnError, match=words) as e:
            ga.attention(a, b, c, ga.window(1), out=o)
        assert e.value.status == ga.Status.ERR_SHAPE_MISMATCH
    assert (out == 123.0).all()


def test_mixing_numpy_and_torch_raises():
    q, k, v = qkv(6, 1, 8, 8, 1, 1, 4)
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k.numpy(), v, ga.dense())
    assert e.value.status == ga.Status.ERR_DEVICE_MISMATCH


@needs_cuda
def test_cpu_and_cuda_tensors_mixed_raise():
    q, k, v = qkv(6, 1, 8, 8, 1, 1, 4)
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q.cuda(), k, v.cuda(), ga.dense())
    assert e.value.status == ga.Status.ERR_DEVICE_MISMATCH


def test_tensors_on_two_devices_raise_and_write_nothing():
    """q, k, v and out must share one device: a meta tensor among CPU ones would otherwise reach
    the operator's fake implementation and come back as uninitialized memory."""
    q, k, v = qkv(6, 1, 8, 8, 1, 1, 4)
    out = torch.full_like(q, 123.0)
    g = ga.window(1)
    calls = [("k", lambda: ga.attention(q, k.to("meta"), v, g)),
             ("v", lambda: ga.attention(q, k, v.to("meta"), g, out=out)),
             ("out", lambda: ga.attention(q, k, v, g, out=out.to("meta"))),
             ("k", lambda: torch.ops.graphattn.attention(q, k.to("meta"), v, "window:1", -1, 0.0, False, 0, 0)),
             ("out", lambda: torch.ops.graphattn.attention_out(q, k, v, "window:1", -1, 0.0, False, 0, 0,
                                                               out.to("meta")))]
    for name, call in calls:
        with pytest.raises(ga.GraphAttnError, match="%s is on meta but q is on cpu" % name) as e:
            call()
        assert e.value.status == ga.Status.ERR_DEVICE_MISMATCH
    assert (out == 123.0).all()


def test_out_made_in_inference_mode_is_refused_outside_it():
    """torch's rule for in-place ops: an inference tensor can be written only in inference mode."""
    q, k, v = qkv(6, 1, 8, 8, 1, 1, 4)
    with torch.inference_mode():
        out = torch.full_like(q, 123.0)
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
        ga.attention(q, k, v, ga.window(1), out=out)
    assert (out == 123.0).all()
    with torch.inference_mode():
        ga.attention(q, k, v, ga.window(1), out=out)
    assert torch.equal(out, ga.attention(q, k, v, ga.window(1)))


def test_scale_and_num_threads_are_checked_as_for_numpy():
    q, k, v = qkv(6, 1, 8, 8, 1, 1, 4)
    with pytest.raises(ga.GraphAttnTypeError, match="scale must be a number"):
        ga.attention(q, k, v, ga.window(1), scale="a")
    with pytest.raises(ga.GraphAttnValueError, match="scale must be finite and > 0"):
        ga.attention(q, k, v, ga.window(1), scale=-1.0)
    for big in (1e39, torch.tensor(1e39, dtype=torch.float64), 10 ** 400):  # past the float32 maximum
        out = torch.full_like(q, 7.0)
        with pytest.raises(ga.GraphAttnValueError, match="at most the float32 maximum") as e:
            ga.attention(q, k, v, ga.window(1), scale=big, out=out)
        assert e.value.status == ga.Status.ERR_BAD_PARAMETER and (out == 7.0).all(), str(e.value)
    with pytest.raises(ga.GraphAttnTypeError, match="num_threads must be an integer"):
        ga.attention(q, k, v, ga.window(1), num_threads=1.5)
    with pytest.raises(ga.GraphAttnValueError, match="num_threads"):
        ga.attention(q, k, v, ga.window(1), num_threads=1 << 32)


@pytest.mark.parametrize("cut", ["batch", "queries", "heads"])
def test_queries_with_no_rows_give_empty_results_on_every_path(cut):
    """B, Nq or H of 0: empty out and lse, as from NumPy and torch's SDPA, whether the call runs
    directly, through the operator (inputs that require grad) or compiled (the fake agrees)."""
    q, k, v = qkv(6, 2, 8, 8, 2, 2, 4)
    q, k, v = {"batch": (q[:0], k[:0], v[:0]), "queries": (q[:, :0], k, v),
               "heads": (q[:, :, :0], k[:, :, :0], v[:, :, :0])}[cut]
    g = ga.window(1)
    compiled = torch.compile(lambda a, b, c: ga.attention(a, b, c, g, return_lse=True), backend="aot_eager",
                             fullgraph=True)
    with torch.no_grad():
        runs = [ga.attention(q, k, v, g, return_lse=True), compiled(q, k, v)]
    runs.append(ga.attention(q.clone().requires_grad_(), k, v, g, return_lse=True))
    want_out, want_lse = ga.attention(q.numpy(), k.numpy(), v.numpy(), g, return_lse=True)
    for out, lse in runs:
        assert out.shape == q.shape == want_out.shape and out.dtype == q.dtype
        assert lse.shape == q.shape[:-1] == want_lse.shape and lse.dtype == torch.float32


# ---- the operator ------------------------------------------------------------------------------


def test_operator_is_registered():
    assert hasattr(torch.ops.graphattn, "attention")
    assert hasattr(torch.ops.graphattn, "attention_out")


@pytest.mark.parametrize("device", DEVICES)
def test_opcheck(device):
    """torch.library.opcheck: schema, fake (meta) implementation, autograd registration."""
    q, k, v = qkv(7, 1, 32, 32, 2, 2, 16, torch.float32, device)
    g = ga.window(2) + ga.global_tokens([0])
    spec, handle = g._op_key
    torch.library.opcheck(torch.ops.graphattn.attention.default, (q, k, v, spec, handle, 0.0, True, 0, 0),
                          test_utils=("test_schema", "test_faketensor"))
    ge = ga.csr(np.arange(33), np.arange(32))
    spec, handle = ge._op_key
    assert spec == "" and handle >= 0
    torch.library.opcheck(torch.ops.graphattn.attention.default, (q, k, v, spec, handle, 0.0, False, 0, 0),
                          test_utils=("test_schema", "test_faketensor"))


def test_fake_tensors_give_shapes_without_running():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        q = torch.empty(2, 1000, 8, 64, dtype=torch.bfloat16)
        k = torch.empty(2, 1000, 2, 64, dtype=torch.bfloat16)
        out, lse = ga.attention(q, k, k, ga.window(16), return_lse=True)
        assert out.shape == q.shape and out.dtype == q.dtype
        assert lse.shape == (2, 1000, 8) and lse.dtype == torch.float32


def test_backward_raises_a_clear_error():
    q, k, v = qkv(8, 1, 16, 16, 1, 1, 8)
    q.requires_grad_(True)
    out = ga.attention(q, k, v, ga.window(1))
    with pytest.raises(RuntimeError, match="forward-only"):
        out.sum().backward()


def negative_view(values):
    """A float32 view that reads as `values` but holds -values in memory (torch's negative bit,
    as z.conj().imag has it), and the complex buffer under it."""
    z = torch.zeros(values.shape, dtype=torch.complex64, device=values.device)
    z.imag.copy_(-values)
    view = z.conj().imag
    assert view.is_neg() and torch.equal(view, values)
    return view, z


def test_inputs_with_a_negative_bit_are_read_as_their_values():
    """q, k, v with torch's negative bit are read as the values they show (resolved first)."""
    q, k, v = qkv(31, 1, 12, 12, 2, 2, 4)
    want = ga.attention(q, k, v, ga.window(2))
    got = ga.attention(negative_view(q)[0], negative_view(k)[0], negative_view(v)[0], ga.window(2))
    assert torch.equal(got, want), (got - want).abs().max()


@pytest.mark.parametrize("path", ["eager", "operator"])
def test_out_with_a_negative_bit_is_refused_and_nothing_is_written(path):
    """out= is written as raw memory: a view with torch's negative bit (z.conj().imag) would get
    the result with its sign flipped. It raises GA_ERR_BAD_STRIDE naming out and the bit, before
    anything is written, whether the call runs directly or through the operator (a torch function
    mode). D = 1 gives the view a stride the library takes, so only the bit can refuse it."""
    from torch.overrides import TorchFunctionMode

    class PassThrough(TorchFunctionMode):  # active, so the call takes the operator
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    q, k, v = qkv(32, 1, 8, 8, 2, 2, 1)
    out, buf = negative_view(torch.full_like(q, 7.0))
    before = buf.clone()
    with pytest.raises(ga.GraphAttnValueError, match="out is a view with torch's negative bit") as e:
        if path == "operator":
            with PassThrough():
                ga.attention(q, k, v, ga.window(1), out=out)
        else:
            ga.attention(q, k, v, ga.window(1), out=out)
    assert e.value.status == ga.Status.ERR_BAD_STRIDE, str(e.value)
    assert torch.equal(buf, before), "the refused call wrote out: %s" % out


@pytest.mark.filterwarnings("ignore::FutureWarning")  # (make_dual's own, about torch.jit.script)
def test_forward_mode_ad_raises_instead_of_a_wrong_tangent():
    """graphattn has no derivative formula: torch.func.jvp, jacfwd (vmap over jvp) and
    torch.autograd.forward_ad dual tensors raise a RuntimeError saying forward-mode AD is not
    supported (as backward does), where they gave a zero tangent (jvp) or dropped it (duals)."""
    import torch.autograd.forward_ad as fwAD
    q, k, v = qkv(33, 1, 6, 6, 2, 2, 4)
    q, k, v = q[0], k[0], v[0]
    g = ga.window(1)

    def dual(name):
        with fwAD.dual_level():
            args = {"q": q, "k": k, "v": v}
            args[name] = fwAD.make_dual(args[name], torch.ones_like(args[name]))
            return fwAD.unpack_dual(ga.attention(args["q"], args["k"], args["v"], g)).tangent

    def dual_out():
        with fwAD.dual_level(), torch.no_grad():
            out = fwAD.make_dual(torch.zeros_like(q), torch.ones_like(q))
            return ga.attention(q, k, v, g, out=out)

    runs = {
        "jvp": lambda: torch.func.jvp(lambda x: ga.attention(x, k, v, g), (q,), (torch.ones_like(q),)),
        "jvp over k": lambda: torch.func.jvp(lambda x: ga.attention(q, x, v, g), (k,), (torch.ones_like(k),)),
        "jacfwd": lambda: torch.func.jacfwd(lambda x: ga.attention(x, k, v, g))(q),
        "jacfwd of a module": lambda: torch.func.jacfwd(ga.SparseSelfAttention(8, 2, g))(torch.randn(5, 8)),
        "dual q": lambda: dual("q"),
        "dual v": lambda: dual("v"),
        "dual out": dual_out,
    }
    for name, run in runs.items():
        with pytest.raises(RuntimeError, match="does not support forward-mode AD"):
            got = run()
            pytest.fail("%s: no error, tangent %s" % (name, got))


def test_forward_mode_ad_that_does_not_reach_graphattn_still_runs():
    """Only a tangent flowing into graphattn is refused: under jvp, a call on tensors the
    transform does not track runs (its correct tangent is 0), and so does a call on plain
    tensors inside a dual level; vmap is not forward-mode AD and keeps working."""
    import torch.autograd.forward_ad as fwAD
    q, k, v = qkv(34, 1, 6, 6, 2, 2, 4)
    q, k, v = q[0], k[0], v[0]
    g = ga.window(1)
    want = ga.attention(q, k, v, g)
    primal, tangent = torch.func.jvp(lambda x: x * 2 + ga.attention(q, k, v, g), (q,), (torch.ones_like(q),))
    assert torch.equal(primal, q * 2 + want) and torch.equal(tangent, torch.full_like(q, 2.0)), tangent
    with fwAD.dual_level():
        assert torch.equal(ga.attention(q, k, v, g), want)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = torch.vmap(lambda a: ga.attention(a, k, v, g))(q[None].expand(3, -1, -1, -1))
    assert torch.equal(got, want[None].expand(3, -1, -1, -1))


def test_eager_calls_skip_the_operator_only_when_nothing_needs_it():
    """Plain tensors in eager mode run without the operator's dispatch (it costs tens of
    microseconds a call); autograd, tensor subclasses, torch function and dispatch modes keep it."""
    from torch.overrides import TorchFunctionMode
    from torch._subclasses.fake_tensor import FakeTensorMode

    from graphattn import _torch_op

    q = torch.randn(1, 8, 1, 8)
    r = q.clone().requires_grad_(True)
    assert _torch_op._eager([q, q, q])
    assert not _torch_op._eager([r, q, q])
    with torch.no_grad():
        assert _torch_op._eager([r, q, q])

    class Sub(torch.Tensor):
        pass

    assert not _torch_op._eager([q.as_subclass(Sub), q, q])
    with TorchFunctionMode():
        assert not _torch_op._eager([q, q, q])
    with FakeTensorMode():
        assert not _torch_op._eager([q, q, q])


def test_writing_out_in_place_is_seen_by_autograd():
    """out= writes a tensor in place: a backward that saved it must fail as for any in-place op."""
    q, k, v = qkv(17, 1, 20, 20, 2, 2, 8)
    w = torch.randn(1, 20, 2, 8, requires_grad=True)
    out = torch.randn(1, 20, 2, 8)
    y = (w * out).sum()
    with torch.no_grad():
        ga.attention(q, k, v, ga.window(3), out=out)
    with pytest.raises(RuntimeError, match="inplace operation"):
        y.backward()


def test_the_profiler_sees_the_operator():
    q, k, v = qkv(16, 1, 20, 20, 2, 2, 8)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        ga.attention(q, k, v, ga.window(3))
    assert any(e.name == "graphattn::attention" for e in prof.events())


def test_vmap_runs_the_operator_per_sample():
    """torch.vmap has no batching rule for the operator: PyTorch's fallback calls it per sample,
    which must give the per-sample results. (Its performance warning is not checked: PyTorch 2.11
    on the GPU machine logs it from C++ rather than raising a Python warning.)"""
    q, k, v = qkv(15, 3, 20, 20, 2, 2, 8)
    g = ga.window(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = torch.vmap(lambda a, b, c: ga.attention(a[None], b[None], c[None], g)[0])(q, k, v)
    for i in range(3):
        assert torch.equal(got[i], ga.attention(q[i:i + 1], k[i:i + 1], v[i:i + 1], g)[0])


def test_fake_tensors_go_through_the_operator():
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        q = torch.empty(2, 64, 4, 16)
        out, lse = ga.attention(q, q, q, ga.window(8), return_lse=True)
        assert out.shape == (2, 64, 4, 16) and out.dtype == q.dtype
        assert lse.shape == (2, 64, 4) and lse.dtype == torch.float32


def _fake_cases():
    """name -> (q, k, v, out, lse) shapes and dtypes of a bad call (out and lse None where not
    given; lse means accumulate=True), the error's status and the words of its detail."""
    f32, f16 = torch.float32, torch.float16
    q4, q3 = ((2, 8, 4, 16), f32), ((8, 4, 16), f32)
    return {
        "kv_heads_do_not_divide": ((q4, ((2, 8, 3, 16), f32), ((2, 8, 3, 16), f32), None, None),
                                   ga.Status.ERR_SHAPE_MISMATCH, "k: shape[2] (Hkv) = 3 does not divide q's H = 4"),
        "head_dims_differ": ((q4, ((2, 8, 4, 8), f32), ((2, 8, 4, 8), f32), None, None),
                             ga.Status.ERR_SHAPE_MISMATCH, "k: shape[3] (D) = 8 differs from q's D = 16"),
        "batches_differ": ((q4, ((1, 8, 4, 16), f32), ((1, 8, 4, 16), f32), None, None),
                           ga.Status.ERR_SHAPE_MISMATCH, "k: shape[0] (B) = 1 differs from q's B = 2"),
        "v_keys_differ": ((q4, ((2, 8, 4, 16), f32), ((2, 9, 4, 16), f32), None, None),
                          ga.Status.ERR_SHAPE_MISMATCH, "v: shape[1] = 9 differs from k's 8"),
        "v_keys_differ_3d": ((q3, ((8, 4, 16), f32), ((9, 4, 16), f32), None, None), ga.Status.ERR_SHAPE_MISMATCH,
                             "v: shape[0] = 9 differs from k's 8 (v must be (Nk, Hkv, D)"),
        "head_dims_differ_3d": ((q3, ((8, 4, 8), f32), ((8, 4, 8), f32), None, None),
                                ga.Status.ERR_SHAPE_MISMATCH, "k: shape[2] (D) = 8 differs from q's D = 16"),
        "zero_head_dim_3d": ((((8, 4, 0), f32), ((8, 4, 0), f32), ((8, 4, 0), f32), None, None),
                             ga.Status.ERR_BAD_SIZE, "q: shape[2] (D) = 0 must be >= 1"),
        "no_keys": ((q4, ((2, 0, 4, 16), f32), ((2, 0, 4, 16), f32), None, None),
                    ga.Status.ERR_BAD_SIZE, "k: shape[1] (N) = 0 must be >= 1"),
        "out_shape": ((q4, q4, q4, ((2, 8, 2, 16), f32), None), ga.Status.ERR_SHAPE_MISMATCH,
                      "out: shape[2] = 2 differs from q's 4"),
        "out_shape_3d": ((q3, q3, q3, ((8, 2, 16), f32), None), ga.Status.ERR_SHAPE_MISMATCH,
                         "out: shape[1] = 2 differs from q's 4 (out must be (Nq, H, D))"),
        "mixed_ranks": ((q4, q3, q3, None, None), ga.Status.ERR_SHAPE_MISMATCH, "must all be 3-D or all 4-D"),
        "k_float16": ((q4, ((2, 8, 4, 16), f16), ((2, 8, 4, 16), f16), None, None), ga.Status.ERR_BAD_DTYPE, "k"),
        "q_float64": ((((2, 8, 4, 16), torch.float64),) * 3 + (None, None), ga.Status.ERR_BAD_DTYPE,
                      "torch.float64"),
        "lse_shape": ((q4, q4, q4, q4, ((2, 8, 3), f32)), ga.Status.ERR_SHAPE_MISMATCH, "lse has shape (2, 8, 3)"),
        "lse_float16": ((q4, q4, q4, q4, ((2, 8, 4), f16)), ga.Status.ERR_BAD_DTYPE, "lse has dtype torch.float16"),
        "accumulate_v_keys_differ": ((q4, q4, ((2, 9, 4, 16), f32), q4, ((2, 8, 4), f32)),
                                     ga.Status.ERR_SHAPE_MISMATCH, "v: shape[1] = 9 differs from k's 8"),
    }


FAKE_CASES = _fake_cases()


def _call_with(specs, graph, direct=False):
    """graphattn.attention on zero tensors of `specs` (out= if given; accumulate=True if lse is),
    or with direct=True the torch operator it would call, given the tensors as they are."""
    q, k, v, out, lse = (None if s is None else torch.zeros(s[0], dtype=s[1]) for s in specs)
    if not direct:
        if lse is not None:
            return ga.attention(q, k, v, graph, out=out, lse=lse, accumulate=True)
        return ga.attention(q, k, v, graph, out=out)
    spec, handle = graph._op_key
    if lse is not None:
        return torch.ops.graphattn.attention_accumulate(q, k, v, spec, handle, 0.0, 0, 0, out, lse)
    if out is not None:
        return torch.ops.graphattn.attention_out(q, k, v, spec, handle, 0.0, False, 0, 0, out)
    return torch.ops.graphattn.attention(q, k, v, spec, handle, 0.0, True, 0, 0)


@pytest.mark.parametrize("name", sorted(FAKE_CASES))
def test_fake_implementations_check_what_the_eager_call_checks(name):
    """The operators' fake (meta) implementations check shapes and dtypes as the eager call (and
    the library) does: under FakeTensorMode, as torch.compile traces, a bad call raises the same
    status, and for shapes the same detail, with the caller's dimension indices (a 3-D v's N is
    its shape[0]), whether it comes through graphattn.attention or calls the operator itself;
    before, the fake returned a result and only the compiled code failed."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    specs, status, words = FAKE_CASES[name]
    g = ga.window(1)
    with pytest.raises(ga.GraphAttnError) as eager:
        _call_with(specs, g)
    errors = {"eager": eager.value}
    for direct in (False, True):
        with pytest.raises(ga.GraphAttnError) as fake:
            with FakeTensorMode():
                got = _call_with(specs, g, direct)
                pytest.fail("the fake call (direct=%s) returned %s" % (direct, got))
        errors["fake, direct" if direct else "fake"] = fake.value
    for how, e in errors.items():
        assert e.status == status and words in e.detail, "%s: want %s %r, got %s" % (how, status, words, e)
        if status != ga.Status.ERR_BAD_DTYPE:  # (the library names dtypes its own way)
            assert e.detail == eager.value.detail, "%s: %s" % (how, e)


def test_torch_compile_reports_a_bad_shape_while_tracing():
    """A compiled call with mismatched shapes fails while torch.compile traces it (the fake
    checks), with the eager error's detail: the backend never gets a graph to compile."""
    torch._dynamo.reset()
    compiled = []

    def backend(gm, example_inputs):
        compiled.append(gm)
        return gm

    g = ga.window(1)
    f = torch.compile(lambda a, b, c: ga.attention(a, b, c, g), backend=backend, fullgraph=True)
    q, k, v = qkv(35, 1, 8, 8, 2, 2, 4)
    with torch.no_grad():
        with pytest.raises(Exception, match=re.escape("k: shape[3] (D) = 2 differs from q's D = 4")):
            f(q, k[..., :2], v[..., :2])
    assert compiled == [], "torch.compile compiled the bad call: the fake did not check it"


@pytest.mark.parametrize("make", [lambda: ga.window(1), lambda: ga.global_tokens([0]), lambda: ga.graph("window:1"),
                                  lambda: ga.documents([0, 4], causal=True), lambda: ga.csr([0, 1, 2], [0, 1]),
                                  lambda: ga.window(1) + "global:0"],
                         ids=["window", "global_tokens", "graph", "documents", "csr", "plus_spec"])
def test_a_graph_built_inside_torch_compile_is_named_as_the_problem(make):
    """Graphs are built outside compiled code (Dynamo cannot trace the builders): with
    fullgraph=True torch.compile stops with an error that names graphattn's rule (rather than a
    weakref or ndarray internal), where Dynamo traces the raise (torch 2.15); older Dynamo (torch
    2.11 on the GPU machine, run 92) stops at the error's own constructor with its Unsupported
    error instead. Without fullgraph the builder runs eagerly after a graph break and the result
    is the eager one."""
    torch._dynamo.reset()
    q = torch.randn(2, 2, 4)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (Dynamo's about the builders it then skips)
        with pytest.raises(Exception) as raised:
            torch.compile(lambda a: ga.attention(a, a, a, make()), backend="eager", fullgraph=True)(q)
        message = str(raised.value)
        assert ("graphattn graphs cannot be built inside torch.compile" in message
                or type(raised.value).__name__ == "Unsupported"), message
        torch._dynamo.reset()
        got = torch.compile(lambda a: ga.attention(a, a, a, make()), backend="eager")(q)
    assert torch.equal(got, ga.attention(q, q, q, make()))


def test_out_argument_with_autograd_raises():
    q, k, v = qkv(8, 1, 16, 16, 1, 1, 8)
    q.requires_grad_(True)
    with pytest.raises(RuntimeError, match="autograd"):
        ga.attention(q, k, v, ga.window(1), out=torch.empty_like(q))


def test_graph_handle_of_a_dead_graph_raises():
    q, k, v = qkv(9, 1, 4, 4, 1, 1, 4)
    g = ga.csr(np.arange(5), np.arange(4))
    _, handle = g._op_key
    del g
    import gc
    gc.collect()
    with pytest.raises(ga.GraphAttnError, match="handle"):
        torch.ops.graphattn.attention(q, k, v, "", handle, 0.0, False, 0, 0)


# ---- torch.compile -----------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_torch_compile_fullgraph(device):
    """The op inside a compiled graph, with ops around it (aot_eager on the CPU: no C++ compiler
    needed; inductor on the GPU)."""
    torch._dynamo.reset()
    g = ga.window(4) + ga.global_tokens([0])
    ge = ga.csr(*GRAPH_CASES["csr"](40, 40)[0].to_csr(40))

    def f(x, wq, wk, wv):
        q = (x @ wq).view(1, 40, 2, 16)
        k = (x @ wk).view(1, 40, 2, 16)
        v = (x @ wv).view(1, 40, 2, 16)
        a = ga.attention(q, k, v, g)
        b = ga.attention(q, k, v, ge)
        return (a + b).sum(-1)

    backend = "inductor" if device == "cuda" else "aot_eager"
    cf = torch.compile(f, backend=backend, fullgraph=True)
    x = torch.randn(40, 32, device=device)
    ws = [torch.randn(32, 32, device=device) / 6 for _ in range(3)]
    with torch.no_grad():
        want = f(x, *ws)
        got = cf(x, *ws)
        got2 = cf(x * 2, *ws)  # runs again without recompiling
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    assert torch.isfinite(got2).all()


def test_spec_strings_work_inside_torch_compile_fullgraph():
    """A spec string goes to the operator as it is while Dynamo traces, and is parsed when the
    compiled code runs: a spec seen before, a new one, in SparseSelfAttention, and bad ones, which
    raise the library's error then."""
    torch._dynamo.reset()
    q, k, v = qkv(18, 1, 24, 24, 2, 2, 8)
    ga.attention(q, k, v, "window:2")  # seen before: the Python side caches its Graph
    with torch.no_grad():
        for spec in ("window:2", "window:3 + global:0,7", "causal+dilated:2,3"):
            f = torch.compile(lambda a, b, c: ga.attention(a, b, c, spec, return_lse=True), backend="aot_eager",
                              fullgraph=True)
            for got, want in zip(f(q, k, v), ga.attention(q, k, v, ga.graph(spec), return_lse=True)):
                assert torch.equal(got, want)
        layer = ga.SparseSelfAttention(16, 2, "window:1")
        x = torch.randn(24, 16)
        torch.testing.assert_close(torch.compile(lambda x: layer(x, graph="window:4"), backend="aot_eager",
                                                 fullgraph=True)(x), layer(x, graph=ga.window(4)))
        for bad, words in (("window:x", "not an integer"), ("window:2\x00+global:0", "NUL")):
            f = torch.compile(lambda a: ga.attention(a, a, a, bad), backend="aot_eager", fullgraph=True)
            with pytest.raises(ga.GraphAttnError, match=words) as e:  # when the compiled code runs
                f(q)
            assert e.value.status == ga.Status.ERR_SPEC_SYNTAX


def test_a_graph_from_files_uses_what_it_read_on_every_path(tmp_path):
    """After the files change, a new graph(spec) gives the new edges whether the call runs
    directly, through the operator or compiled; the older Graph keeps the edges it read; a spec
    string reads the files at every call, compiled too."""
    torch._dynamo.reset()
    n = 16
    q, k, v = qkv(19, 1, n, n, 2, 2, 8)
    paths = tmp_path / "ptr.npy", tmp_path / "idx.npy"
    spec = "csr:%s,%s" % paths

    def save(g):
        for path, a in zip(paths, g.to_csr(n)):
            np.save(path, a)

    save(ga.window(0))
    old = ga.graph(spec)
    by_string = torch.compile(lambda a, b, c: ga.attention(a, b, c, spec), backend="aot_eager", fullgraph=True)
    with torch.no_grad():
        by_string(q, k, v)
    save(ga.dense())
    new = ga.graph(spec)
    for g, edges in ((new, ga.dense()), (old, ga.window(0))):
        want = ga.attention(q, k, v, edges)
        with torch.no_grad():
            compiled = torch.compile(lambda a, b, c: ga.attention(a, b, c, g), backend="aot_eager", fullgraph=True)
            torch.testing.assert_close(compiled(q, k, v), want)
            torch.testing.assert_close(ga.attention(q, k, v, g), want)
        torch.testing.assert_close(ga.attention(q.clone().requires_grad_(), k, v, g).detach(), want)
    with torch.no_grad():
        torch.testing.assert_close(by_string(q, k, v), ga.attention(q, k, v, ga.dense()))


@pytest.mark.parametrize("make", [lambda i: ga.documents([0, 3 + i, 40, 64]),
                                  lambda i: ga.window(2) + ga.global_tokens([i]),
                                  lambda i: ga.documents([0, 5 + i, 64], causal=True) + "global:0"],
                         ids=["documents", "global_tokens", "both"])
def test_a_new_index_list_each_step_does_not_recompile_each_step(make):
    """Graphs holding index lists reach the operator by handle, not as a string constant: after
    one recompile the handle is a dynamic int, so a fresh cu_seqlens per batch costs no more."""
    from torch._dynamo.testing import CompileCounter
    torch._dynamo.reset()
    counter = CompileCounter()
    f = torch.compile(lambda a, g: ga.attention(a, a, a, g) * 2, backend=counter, fullgraph=True)
    q = torch.randn(64, 2, 8)
    with torch.no_grad():
        for i in range(10):
            g = make(i)
            assert torch.equal(f(q, g), ga.attention(q, q, q, g) * 2)
    assert counter.frame_count <= 2


def test_a_new_parametric_graph_each_step_compiles_once():
    """window, causal, bigbird, ... reach the operator as their spec string: a new Graph object of
    the same spec each step is the same constant, and compiles once."""
    from torch._dynamo.testing import CompileCounter
    torch._dynamo.reset()
    counter = CompileCounter()
    f = torch.compile(lambda a, g: ga.attention(a, a, a, g), backend=counter, fullgraph=True)
    q = torch.randn(64, 2, 8)
    ga.attention(q, q, q, ga.window(4))  # (a first call ever made while compiling costs one more compile)
    with torch.no_grad():
        for _ in range(4):
            f(q, ga.window(4) + ga.bigbird(8, 1, 1, 1, seed=3))
    assert counter.frame_count == 1


@needs_cuda
def test_torch_compile_module_inductor_bf16():
    torch._dynamo.reset()
    layer = ga.SparseSelfAttention(256, 4, ga.window(32) + ga.global_tokens([0, 1]),
                                   device="cuda", dtype=torch.bfloat16).eval()
    x = torch.randn(2, 1024, 256, device="cuda", dtype=torch.bfloat16)
    with torch.inference_mode():
        want = layer(x)
        got = torch.compile(layer, fullgraph=True)(x)
    torch.testing.assert_close(got, want, atol=2e-2, rtol=2e-2)


def test_compile_works_when_graphattn_was_imported_before_torch(tmp_path):
    """The operator module is imported lazily, on the first call with torch tensors; here that first
    call happens while Dynamo traces."""
    import subprocess
    import sys
    script = tmp_path / "lazy.py"
    script.write_text(
        "import graphattn as ga\n"
        "import torch\n"
        "g = ga.window(2)\n"
        "f = torch.compile(lambda q: ga.attention(q, q, q, g) * 2, backend='aot_eager', fullgraph=True)\n"
        "q = torch.randn(1, 16, 2, 8)\n"
        "with torch.no_grad():\n"
        "    torch.testing.assert_close(f(q), ga.attention(q, q, q, g) * 2)\n"
        "print('ok')\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("make", ["spec", "csr"])
def test_torch_jit_trace_records_the_operator_and_replays_on_new_inputs(device, make):
    """torch.jit.trace sees only what goes through the dispatcher: the traced function must hold
    graphattn::attention (not just the empty output tensor the direct call writes into) and give on
    new inputs what the eager call gives."""
    n = 70
    if make == "spec":
        g, parts = "window:5+global:0", [("window", 5, 5), ("global", [0])]
    else:
        pairs = sorted({(i, j) for i in range(n) for j in (i, (3 * i + 1) % n, n - 1)})
        rows, cols = (np.array(c, dtype=np.int64) for c in zip(*pairs))
        g = ga.coo(rows, cols, shape=(n, n))
        parts = [("coo", rows, cols)]
    q, k, v = qkv(11, 1, n, n, 2, 2, 16, torch.float32, device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch.jit.trace is deprecated in newer torch)
        traced = torch.jit.trace(lambda q, k, v: ga.attention(q, k, v, g), (q, k, v))
    assert "graphattn::attention" in str(traced.graph), traced.graph
    q2, k2, v2 = qkv(12, 1, n, n, 2, 2, 16, torch.float32, device)
    got = traced(q2, k2, v2)
    torch.testing.assert_close(got, ga.attention(q2, k2, v2, g), rtol=0, atol=0)
    check(got, None, q2, k2, v2, parts, "float32")


def test_torch_jit_trace_of_the_layer_matches_the_layer():
    torch.manual_seed(3)
    layer = ga.nn.SparseSelfAttention(32, 2, "window:4+global:0").eval()
    x, x2 = torch.randn(2, 40, 32), torch.randn(2, 40, 32)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(layer, (x,))
        torch.testing.assert_close(traced(x2), layer(x2), rtol=0, atol=0)


def test_torch_jit_script_of_the_layer_says_torchscript_is_unsupported():
    layer = ga.nn.SparseSelfAttention(32, 2, "window:4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match=r"does not support TorchScript.*torch\.compile.*torch\.export"):
            torch.jit.script(layer)


def test_torch_export_of_the_layer_matches_the_layer():
    torch.manual_seed(4)
    layer = ga.nn.SparseSelfAttention(32, 2, ga.window(4) + ga.global_tokens([0])).eval()
    x, x2 = torch.randn(2, 40, 32), torch.randn(2, 40, 32)
    with torch.no_grad():
        exported = torch.export.export(layer, (x,))
        assert "graphattn.attention" in str(exported.graph), exported.graph
        torch.testing.assert_close(exported.module()(x2), layer(x2), rtol=0, atol=0)


def test_graphattn_nn_loads_on_first_attribute_access():
    """`graphattn.nn` is loaded lazily (so that `import graphattn` does not import torch); the first
    `ga.nn` must import it, in a process where nothing has yet."""
    import subprocess
    r = subprocess.run([sys.executable, "-c", "import graphattn as ga\n"
                        "import sys\nassert 'graphattn.nn' not in sys.modules\n"
                        "print(ga.nn.SparseSelfAttention.__name__, ga.SparseSelfAttention is ga.nn.SparseSelfAttention)"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.split() == ["SparseSelfAttention", "True"], r.stdout + r.stderr


@needs_cuda
def test_index_lists_may_be_cuda_tensors():
    def t(values):
        return torch.tensor(values, device="cuda")

    assert ga.global_tokens(t([0, 5])).to_dense(8).tolist() == ga.global_tokens([0, 5]).to_dense(8).tolist()
    assert ga.csr(t([0, 1, 3]), t([1, 0, 1])).to_dense(2).tolist() == ga.csr([0, 1, 3], [1, 0, 1]).to_dense(2).tolist()
    assert ga.coo(t([1, 0]), t([0, 1])).to_dense(2).tolist() == [[False, True], [True, False]]


@pytest.mark.parametrize("device", DEVICES)
def test_explicit_graph_without_shape_runs_over_more_keys_than_its_largest_index(device):
    """An explicit graph made without a shape (an open key count) over Nk past its largest index:
    a band CSR of 2048 rows whose keys stop at 2047, called with 2048 + 700 keys (dense tiles and
    the residual edges on CUDA), equals the same arrays with shape=(Nq, Nk) bit for bit and the
    fp64 reference; the keys past the band stay unread by the mask."""
    nq, nk = 2048, 2748
    indptr, indices = ga.window(96).to_csr(nq)  # keys <= 2047
    q, k, v = qkv(71, 1, nq, nk, 2, 1, 64, torch.bfloat16 if device == "cuda" else torch.float32, device)
    open_ = ga.attention(q, k, v, ga.csr(indptr, indices))
    shaped = ga.attention(q, k, v, ga.csr(indptr, indices, shape=(nq, nk)))
    assert torch.equal(open_, shaped)
    ref, _ = expect(q, k, v, [("csr", indptr, indices)])
    assert_close(f64(open_), ref, "bfloat16" if device == "cuda" else "float32")


# ---- streams -----------------------------------------------------------------------------------


@needs_cuda
def test_runs_on_the_current_stream():
    q, k, v = qkv(10, 2, 4096, 4096, 8, 8, 64, torch.bfloat16, "cuda")
    g = ga.window(128) + ga.global_tokens([0])
    want = ga.attention(q, k, v, g)
    torch.cuda.synchronize()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        # inputs produced on s right before the call: correct only if the kernel runs on s
        q2 = q * 1.0
        out = ga.attention(q2, k, v, g)
        out2 = out.clone()
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    assert torch.equal(out2, want)


@needs_cuda
def test_the_stream_handle_is_torchs_current_stream(monkeypatch):
    """The package reads the current stream as torch's raw handle (cheaper than a Stream object):
    the same stream as torch.cuda.current_stream, default or set by torch.cuda.stream; and a
    call still runs on it where torch lacks the raw getter."""
    from graphattn import _torch_op
    dev = torch.device("cuda", torch.cuda.current_device())
    idx = dev.index
    assert _torch_op._stream_of(dev, idx) == torch.cuda.current_stream(dev).cuda_stream
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        assert _torch_op._stream_of(dev, idx) == s.cuda_stream == torch.cuda.current_stream(dev).cuda_stream
    monkeypatch.setattr(_torch_op, "_RAW_STREAM", None)
    q, k, v = qkv(12, 1, 1024, 1024, 2, 2, 64, torch.bfloat16, "cuda")
    g = ga.window(64)
    want = ga.attention(q, k, v, g)
    torch.cuda.synchronize()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        assert _torch_op._stream_of(dev, idx) == s.cuda_stream
        out = ga.attention(q * 1.0, k, v, g)  # its input made on s just before: right only on s
        out2 = out.clone()
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    assert torch.equal(out2, want)


@needs_cuda
def test_many_calls_on_two_streams_agree():
    q, k, v = qkv(11, 1, 2048, 2048, 4, 4, 64, torch.float16, "cuda")
    g = ga.csr(*ga.window(16).to_csr(2048))
    want = ga.attention(q, k, v, g)
    streams = [torch.cuda.Stream(), torch.cuda.Stream()]
    outs = []
    torch.cuda.synchronize()
    for i in range(8):
        with torch.cuda.stream(streams[i % 2]):
            outs.append(ga.attention(q, k, v, g))
    torch.cuda.synchronize()
    for o in outs:
        assert torch.equal(o, want)


@needs_cuda
@pytest.mark.parametrize("make", [lambda: ga.window(256) + ga.global_tokens([0, 4095]),
                                  lambda: ga.bigbird(64, 3, 2, 3, seed=5)], ids=["longformer", "bigbird"])
def test_a_call_replays_from_a_cuda_graph(make):
    """After the first call on a device (which uploads and probes, so it cannot be captured), a
    call can be captured into a CUDA graph and replayed on new inputs (docs/gpu.md, CUDA graphs):
    Longformer's shape (listed rows: a pass, the query tiles, a merge) and BigBird (its own
    listed-row pass and random blocks), as bench/gpu_bench.py's graph timings capture them."""
    q, k, v = qkv(13, 1, 4096, 4096, 2, 2, 64, torch.bfloat16, "cuda")
    g = make()
    out = torch.empty_like(q)
    ga.attention(q, k, v, g, out=out)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        ga.attention(q, k, v, g, out=out)
    q2, k2, v2 = qkv(14, 1, 4096, 4096, 2, 2, 64, torch.bfloat16, "cuda")
    q.copy_(q2), k.copy_(k2), v.copy_(v2)
    graph.replay()
    torch.cuda.synchronize()
    assert torch.equal(out, ga.attention(q2, k2, v2, g))


@needs_cuda
def test_a_captured_call_keeps_its_graph_alive():
    """A replay reads the graph's device copy (here the global tokens' list), which the Graph
    frees with itself: a Graph whose call was captured into a CUDA graph is kept when its owner
    drops it, and so is a spec string's graph when the spec cache evicts it; the replay then
    matches the eager calls."""
    graph_module = sys.modules["graphattn.graph"]  # the module (graphattn.graph is the function)
    q, k, v = qkv(16, 1, 4096, 4096, 2, 2, 64, torch.bfloat16, "cuda")
    g = ga.window(64) + ga.global_tokens([0, 17, 4095])
    spec = "window:32 + global:3,4000"
    want_g, want_s = ga.attention(q, k, v, g), ga.attention(q, k, v, spec)
    torch.cuda.synchronize()
    out_g, out_s = torch.empty_like(q), torch.empty_like(q)
    cg = torch.cuda.CUDAGraph()
    with torch.cuda.graph(cg):
        ga.attention(q, k, v, g, out=out_g)
        ga.attention(q, k, v, spec, out=out_s)
    kept_g, kept_s = weakref.ref(g), weakref.ref(graph_module._graph_for_spec(spec))
    del g
    for i in range(10 * graph_module._PARSED_MAX):  # new specs until the cache has evicted spec
        if spec not in graph_module._parsed:
            break
        graph_module._graph_for_spec("window:%d" % (7919 + i))
    assert spec not in graph_module._parsed, "the spec cache never evicted %r" % spec
    gc.collect()
    assert kept_g() is not None, "the captured Graph was freed with its owner's reference"
    assert kept_s() is not None, "the captured spec's Graph was freed when the spec cache evicted it"
    out_g.zero_(), out_s.zero_()
    cg.replay()
    torch.cuda.synchronize()
    assert torch.equal(out_g, want_g)
    assert torch.equal(out_s, want_s)


@needs_cuda
@pytest.mark.parametrize("make", [lambda: ga.window(256), lambda: ga.window(256) + ga.global_tokens([0, 4095])],
                         ids=["window", "longformer"])
def test_torch_ops_and_calls_chained_in_a_cuda_graph(make):
    """Captured in one CUDA graph, torch work and calls that feed each other (a copy and a torch
    kernel make q, a call reads it, a torch kernel reads the call's output to make the next
    call's q, the next call writes over the first call's input) replay to what the same steps
    give eagerly. The window's calls are launched with programmatic dependent launch (captured
    as such after a kernel, after the copy as whatever the capture makes of it; the kernel
    waits before touching memory), Longformer's three kernels plainly. 32768 tokens and 2 heads:
    enough super tiles for the warp-specialized kernel (docs/gpu.md)."""
    q, k, v = qkv(15, 1, 32768, 32768, 2, 2, 64, torch.bfloat16, "cuda")
    g = make()
    qs = torch.empty_like(q)

    def steps(o1, o2):
        qs.copy_(q)
        ga.attention(qs, k, v, g, out=o1)
        ga.attention(o1 * 2 + 0.25, k, v, g, out=o2)
        ga.attention(o2 * 1.5, k, v, g, out=qs)

    want1, want2 = torch.empty_like(q), torch.empty_like(q)
    steps(want1, want2)
    want3 = qs.clone()
    torch.cuda.synchronize()
    o1, o2 = torch.empty_like(q), torch.empty_like(q)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        steps(o1, o2)
    o1.zero_(), o2.zero_(), qs.zero_()
    graph.replay()
    torch.cuda.synchronize()
    assert torch.equal(o1, want1)
    assert torch.equal(o2, want2)
    assert torch.equal(qs, want3)


@needs_cuda
def test_tensors_on_a_non_current_device():
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")
    q, k, v = qkv(12, 1, 256, 256, 2, 2, 64, torch.bfloat16, "cuda:1")
    out = ga.attention(q, k, v, ga.window(8))
    assert out.device == q.device
    check(out, None, q, k, v, [("window", 8, 8)], "bfloat16")


# ---- the module --------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_sparse_self_attention_matches_a_dense_masked_layer(device):
    torch.manual_seed(0)
    e, h, hkv, n = 64, 4, 2, 90
    g = ga.window(6) + ga.global_tokens([0, 45])
    layer = ga.SparseSelfAttention(e, h, g, num_kv_heads=hkv, device=device)
    x = torch.randn(2, n, e, device=device)
    with torch.no_grad():
        y = layer(x)
        d = e // h
        qkv_ = layer.qkv(x).view(2, n, h + 2 * hkv, d)
        q, k, v = qkv_[:, :, :h], qkv_[:, :, h:h + hkv], qkv_[:, :, h + hkv:]
        want, _ = expect(q, k, v, [("window", 6, 6), ("global", [0, 45])])
        want_y = layer.out_proj(torch.from_numpy(want).to(device, torch.float32).reshape(2, n, e))
    assert y.shape == x.shape
    torch.testing.assert_close(y, want_y, atol=1e-4, rtol=1e-4)
    assert "window" in repr(layer)


def test_sparse_self_attention_unbatched_input_and_per_call_graph():
    layer = ga.SparseSelfAttention(32, 2, "window:2")
    x = torch.randn(20, 32)
    with torch.no_grad():
        y = layer(x)
        y2 = layer(x.unsqueeze(0), graph=ga.window(2))
    assert y.shape == (20, 32)
    torch.testing.assert_close(y, y2[0])


def test_sparse_self_attention_rejects_bad_heads():
    with pytest.raises(ValueError):
        ga.SparseSelfAttention(64, 4, ga.window(1), num_kv_heads=3)
    with pytest.raises(ValueError):
        ga.SparseSelfAttention(65, 4, ga.window(1))


@pytest.mark.parametrize("kwargs,error,status,words", [
    (dict(embed_dim=0), ga.GraphAttnValueError, ga.Status.ERR_BAD_SIZE, "embed_dim must be >= 1, got 0"),
    (dict(num_heads=0), ga.GraphAttnValueError, ga.Status.ERR_BAD_SIZE, "num_heads must be >= 1, got 0"),
    (dict(num_heads=2.0), ga.GraphAttnTypeError, ga.Status.ERR_BAD_PARAMETER, "num_heads must be an integer"),
    (dict(num_heads=True), ga.GraphAttnTypeError, ga.Status.ERR_BAD_PARAMETER, "num_heads must be an integer"),
    (dict(num_kv_heads=0), ga.GraphAttnValueError, ga.Status.ERR_BAD_SIZE, "num_kv_heads must be >= 1, got 0"),
    (dict(num_kv_heads=3), ga.GraphAttnValueError, ga.Status.ERR_SHAPE_MISMATCH,
     "num_kv_heads (3) must divide num_heads (2)"),
    (dict(head_dim=0), ga.GraphAttnValueError, ga.Status.ERR_BAD_SIZE, "head_dim must be >= 1, got 0"),
    (dict(head_dim=-8), ga.GraphAttnValueError, ga.Status.ERR_BAD_SIZE, "head_dim must be >= 1, got -8"),
    (dict(scale=-1), ga.GraphAttnValueError, ga.Status.ERR_BAD_PARAMETER, "scale must be finite and > 0"),
    (dict(scale=1e39), ga.GraphAttnValueError, ga.Status.ERR_BAD_PARAMETER, "at most the float32 maximum"),
    (dict(scale="a"), ga.GraphAttnTypeError, ga.Status.ERR_BAD_PARAMETER, "scale must be a number"),
    (dict(dtype=torch.float64), ga.GraphAttnTypeError, ga.Status.ERR_BAD_DTYPE,
     "dtype must be torch.float32, torch.float16, torch.bfloat16 or None, got torch.float64"),
])
def test_sparse_self_attention_checks_its_configuration_when_made(kwargs, error, status, words):
    """A configuration graphattn cannot run is refused when the layer is made, with graphattn's
    errors naming the argument, not at its first forward (nor as a torch error from inside
    nn.Linear): sizes are ints >= 1, the scale as attention() takes it, a dtype graphattn computes in."""
    args = dict(embed_dim=16, num_heads=2)
    args.update(kwargs)
    with pytest.raises(ga.GraphAttnError) as e:
        layer = ga.SparseSelfAttention(args.pop("embed_dim"), args.pop("num_heads"), ga.window(2), **args)
        pytest.fail("accepted: %r" % layer)
    assert type(e.value) is error and e.value.status == status, str(e.value)
    assert words in e.value.detail, "want %r, got %s" % (words, e.value)


def test_sparse_self_attention_rejects_input_of_the_wrong_shape():
    """forward takes (B, N, embed_dim) or (N, embed_dim); anything else raises
    GA_ERR_SHAPE_MISMATCH saying so, not an unpacking or matmul error."""
    layer = ga.SparseSelfAttention(16, 2, ga.window(2))
    for shape in ((16,), (1, 2, 5, 16), (5, 15), (2, 5, 17), ()):
        with pytest.raises(ga.GraphAttnValueError) as e:
            layer(torch.randn(shape))
            pytest.fail("accepted x of shape %s" % (shape,))
        assert e.value.status == ga.Status.ERR_SHAPE_MISMATCH, str(e.value)
        assert "x has shape %s; expected (B, N, embed_dim) or (N, embed_dim) with embed_dim = 16" % (
            shape,) in e.value.detail, str(e.value)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", ["window:40", "window:40+global:0,7"])
def test_out_over_q_of_a_fused_qkv_projection(device, spec):
    """q, k, v as the slices of one (B, N, 3, H, D) projection (qkv.unbind(2)): out=q writes q's
    slots, leaves k's and v's, and gives what separate tensors give; on CUDA through the tiles
    (the window) and the edge engine (its global rows)."""
    b, n, h, d = 1, 4096, 2, 64
    g = torch.Generator().manual_seed(3)
    qkv = torch.randn(b, n, 3, h, d, generator=g).to(torch.bfloat16).to(device)
    q, k, v = qkv.unbind(2)
    q0, k0, v0 = q.clone(), k.clone(), v.clone()
    got = ga.attention(q, k, v, spec, out=q)
    assert got.data_ptr() == q.data_ptr()
    assert torch.equal(k, k0) and torch.equal(v, v0)
    parts = [("window", 40, 40)] + ([("global", [0, 7])] if "global" in spec else [])
    check(q, None, q0, k0, v0, parts, "bfloat16")
