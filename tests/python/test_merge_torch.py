"""Merging partial results with torch tensors: graphattn.merge_states and attention(accumulate=True)
on CPU and CUDA tensors, eagerly, through the operators graphattn::merge_states and
graphattn::attention_accumulate, and under torch.compile. The NumPy side is in test_merge.py.
Skipped where torch is not installed; the CUDA cases without a GPU."""
import pytest

torch = pytest.importorskip("torch")

import graphattn as ga  # noqa: E402
from conftest import SPLIT_CASES  # noqa: E402
from reference import assert_close, assert_lse_close, dense_attention  # noqa: E402
from test_torch import DEVICES, DTYPES, f64, needs_cuda, negative_view, qkv  # noqa: E402

S = ga.Status


def assert_exact_union(out, lse, q, k, v, union, dtype_name):
    """(out, lse) is the attention over `union`, to the dtype's tolerance (float64 oracle)."""
    q4, k4, v4, o4 = (f64(t if t.dim() == 4 else t.unsqueeze(0)) for t in (q, k, v, out))
    want, want_lse = dense_attention(q4, k4, v4, union.to_dense(q4.shape[1], k4.shape[1]))
    assert_close(o4, want, dtype_name)
    assert_lse_close(f64(lse if lse.dim() == 3 else lse.unsqueeze(0)), want_lse)


def setup(case, dtype, device, b=2, n=64, h=4, hkv=2, d=32, seed=31):
    union, part_a, part_b = SPLIT_CASES[case](n, n)
    return qkv(seed, b, n, n, h, hkv, d, dtype, device), part_a, part_b, union


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("case", sorted(SPLIT_CASES))
def test_merging_two_disjoint_parts_equals_one_call_over_the_union(device, dtype, case):
    (q, k, v), part_a, part_b, union = setup(case, DTYPES[dtype], device)
    out_a, lse_a = ga.attention(q, k, v, part_a, return_lse=True)
    out_b, lse_b = ga.attention(q, k, v, part_b, return_lse=True)
    res = ga.merge_states(out_a, lse_a, out_b, lse_b)
    assert res[0] is out_a and res[1] is lse_a
    assert_exact_union(out_a, lse_a, q, k, v, union, dtype)
    want, want_lse = ga.attention(q, k, v, union, return_lse=True)
    torch.testing.assert_close(lse_a, want_lse, atol=2e-4, rtol=1e-5)  # (LSE_TOLERANCE)
    if dtype == "float32":
        torch.testing.assert_close(out_a, want, atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("case", sorted(SPLIT_CASES))
def test_accumulate_equals_one_call_over_the_union(device, dtype, case):
    (q, k, v), part_a, part_b, union = setup(case, DTYPES[dtype], device)
    out, lse = ga.attention(q, k, v, part_a, return_lse=True)
    res = ga.attention(q, k, v, part_b, out=out, lse=lse, accumulate=True, return_lse=True)
    assert res[0] is out and res[1] is lse
    assert_exact_union(out, lse, q, k, v, union, dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_a_kv_cache_in_two_pieces_three_dimensional(device):
    """(N, H, D) tensors: a chunk of 24 new queries over 40 cached keys (dense) and its own keys
    (causal) is causal over all 64, merged either way."""
    q, k, v = qkv(32, 1, 24, 64, 4, 2, 64, torch.bfloat16, device)
    q, k, v = q[0], k[0], v[0]
    out, lse = ga.attention(q, k[:40], v[:40], ga.dense(), return_lse=True)
    acc = out.clone(), lse.clone()
    ga.merge_states(out, lse, *ga.attention(q, k[40:], v[40:], ga.causal(), return_lse=True))
    ga.attention(q, k[40:], v[40:], ga.causal(), out=acc[0], lse=acc[1], accumulate=True)
    for o, l_ in ((out, lse), acc):
        assert_exact_union(o, l_, q, k, v, ga.causal(), "bfloat16")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("how", ["merge_states", "accumulate"])
def test_rows_where_b_has_no_edges_keep_a_bit_for_bit(device, how):
    (q, k, v), part_a, part_b, _ = setup("causal_key_halves", torch.bfloat16, device)
    out_a, lse_a = ga.attention(q, k, v, part_a, return_lse=True)
    out_b, lse_b = ga.attention(q, k, v, part_b, return_lse=True)
    empty = torch.isneginf(lse_b)
    assert empty.any() and not empty.all()
    before = out_a.clone(), lse_a.clone()
    if how == "merge_states":
        ga.merge_states(out_a, lse_a, out_b, lse_b)
    else:
        ga.attention(q, k, v, part_b, out=out_a, lse=lse_a, accumulate=True)
    assert torch.equal(out_a[empty], before[0][empty]) and torch.equal(lse_a[empty], before[1][empty])
    assert not torch.equal(out_a[~empty], before[0][~empty])


@pytest.mark.parametrize("device", DEVICES)
def test_strided_views_are_merged_in_place(device):
    (q, k, v), part_a, part_b, union = setup("window_then_global", torch.float32, device, b=1)
    big_out = torch.full((1, 64, 5, 32), 7.0, device=device)
    big_lse = torch.full((1, 64, 4, 3), 7.0, device=device)
    out_a, lse_a = big_out[:, :, :4], big_lse[..., 1]
    o, l_ = ga.attention(q, k, v, part_a, return_lse=True)
    out_a.copy_(o), lse_a.copy_(l_)
    ob, lb = ga.attention(q, k, v, part_b, return_lse=True)
    ga.merge_states(out_a, lse_a, ob.transpose(1, 2).contiguous().transpose(1, 2), lb)
    assert (big_out[:, :, 4] == 7.0).all() and (big_lse[..., 0] == 7.0).all() and (big_lse[..., 2] == 7.0).all()
    assert_exact_union(out_a, lse_a, q, k, v, union, "float32")


# ---- bad inputs --------------------------------------------------------------------------------


def _bad_cases(device):
    other = "meta"
    return {
        "lse_a_float16": (lambda oa, la, ob, lb: (oa, la.half(), ob, lb), S.ERR_BAD_DTYPE, "lse_a has dtype"),
        "lse_b_float64": (lambda oa, la, ob, lb: (oa, la, ob, lb.double()), S.ERR_BAD_DTYPE, "lse_b has dtype"),
        "out_b_other_dtype": (lambda oa, la, ob, lb: (oa, la, ob.half(), lb), S.ERR_BAD_DTYPE,
                              "out_b has dtype torch.float16 but out_a has torch.float32"),
        "out_b_shape": (lambda oa, la, ob, lb: (oa, la, ob[:, :5], lb), S.ERR_SHAPE_MISMATCH, "out_b has shape"),
        "lse_b_shape": (lambda oa, la, ob, lb: (oa, la, ob, lb[..., :1]), S.ERR_SHAPE_MISMATCH, "lse_b has shape"),
        "out_b_on_another_device": (lambda oa, la, ob, lb: (oa, la, ob.to(other), lb), S.ERR_DEVICE_MISMATCH,
                                    "out_b is on meta but out_a is on"),
        "lse_b_a_numpy_array": (lambda oa, la, ob, lb: (oa, la, ob, lb.cpu().numpy()), S.ERR_DEVICE_MISMATCH,
                                "lse_b is ndarray"),
        "out_a_is_out_b": (lambda oa, la, ob, lb: (oa, la, oa, lb), S.ERR_ALIASING, "out_a overlaps out_b"),
        "lse_b_overlaps_out_a": (lambda oa, la, ob, lb: (oa, la, ob, oa[..., 0]), S.ERR_ALIASING,
                                 "out_a overlaps lse_b"),
        "out_a_overlaps_itself": (lambda oa, la, ob, lb: (oa[:, :1].expand(oa.shape), la, ob, lb), S.ERR_ALIASING,
                                  "out_a"),
    }


@pytest.mark.parametrize("device", DEVICES)
def test_bad_merge_inputs_raise_naming_the_argument_and_write_nothing(device):
    out_a = torch.full((2, 6, 3, 8), 123.0, device=device)
    lse_a = torch.full((2, 6, 3), 5.0, device=device)
    out_b, lse_b = torch.randn(2, 6, 3, 8, device=device), torch.randn(2, 6, 3, device=device)
    for name, (change, status, words) in sorted(_bad_cases(device).items()):
        with pytest.raises(ga.GraphAttnError) as e:
            ga.merge_states(*change(out_a, lse_a, out_b, lse_b))
        assert e.value.status == status, "%s: %s" % (name, e.value)
        assert words in str(e.value), "%s: %s" % (name, e.value)
        assert (out_a == 123.0).all() and (lse_a == 5.0).all(), name
    # torch's in-place rules: no autograd through it, no inference tensor outside inference mode
    with pytest.raises(RuntimeError, match="merge_states does not support autograd"):
        ga.merge_states(out_a, lse_a, out_b.clone().requires_grad_(), lse_b)
    with torch.inference_mode():
        inf_out, inf_lse = out_a.clone(), lse_a.clone()
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
        ga.merge_states(inf_out, inf_lse, out_b, lse_b)
    assert (out_a == 123.0).all() and (inf_out == 123.0).all() and (lse_a == 5.0).all()
    with torch.inference_mode():
        ga.merge_states(inf_out, inf_lse, out_b, lse_b)
    assert torch.equal(inf_out, ga.merge_states(out_a.clone(), lse_a.clone(), out_b, lse_b)[0])


@pytest.mark.parametrize("device", DEVICES)
def test_bad_accumulate_arguments_raise_and_write_nothing(device):
    (q, k, v), part_a, part_b, _ = setup("causal_key_halves", torch.float32, device)
    out, lse = ga.attention(q, k, v, part_a, return_lse=True)
    before = out.clone(), lse.clone()
    cases = [(dict(out=out, accumulate=True), S.ERR_BAD_PARAMETER, "missing lse="),
             (dict(out=out, lse=lse), S.ERR_BAD_PARAMETER, "lse= is the prior state"),
             (dict(out=out, lse=lse.double(), accumulate=True), S.ERR_BAD_DTYPE, "lse has dtype torch.float64"),
             (dict(out=out, lse=lse[:, :3], accumulate=True), S.ERR_SHAPE_MISMATCH, "lse has shape"),
             (dict(out=out, lse=lse.to("meta"), accumulate=True), S.ERR_DEVICE_MISMATCH, "lse is on meta"),
             (dict(out=out, lse=lse.cpu().numpy(), accumulate=True), S.ERR_DEVICE_MISMATCH, "lse is ndarray"),
             (dict(out=out, lse=out[..., 0], accumulate=True), S.ERR_ALIASING, "lse overlaps out")]
    for kwargs, status, words in cases:
        with pytest.raises(ga.GraphAttnError) as e:
            ga.attention(q, k, v, part_b, **kwargs)
        assert e.value.status == status and words in str(e.value), str(e.value)
        assert torch.equal(out, before[0]) and torch.equal(lse, before[1])
    with pytest.raises(RuntimeError, match="does not support autograd"):
        ga.attention(q.clone().requires_grad_(), k, v, part_b, out=out, lse=lse, accumulate=True)
    assert torch.equal(out, before[0]) and torch.equal(lse, before[1])


@pytest.mark.parametrize("written", ["merge_states out_a", "merge_states lse_a", "accumulate out",
                                     "accumulate lse"])
def test_a_written_tensor_with_a_negative_bit_is_refused_and_nothing_is_written(written):
    """merge_states' out_a / lse_a and accumulate's out / lse are written as raw memory: a view with
    torch's negative bit (z.conj().imag) would be read and written with the wrong sign. It raises
    GA_ERR_BAD_STRIDE naming the argument before anything is written. (out has D = 1 so that its
    stride is one the library takes: only the bit can refuse it.)"""
    (q, k, v), part_a, part_b, _ = setup("window_then_global", torch.float32, "cpu", d=1)
    out, lse = ga.attention(q, k, v, part_a, return_lse=True)
    ob, lb = ga.attention(q, k, v, part_b, return_lse=True)
    how, name = written.split()
    if name.startswith("out"):
        view, buf = negative_view(out)
        out = view
    else:
        view, buf = negative_view(lse)
        lse = view
    before = buf.clone()
    with pytest.raises(ga.GraphAttnValueError, match="%s is a view with torch's negative bit" % name) as e:
        if how == "merge_states":
            ga.merge_states(out, lse, ob, lb)
        else:
            ga.attention(q, k, v, part_b, out=out, lse=lse, accumulate=True)
    assert e.value.status == S.ERR_BAD_STRIDE, str(e.value)
    assert torch.equal(buf, before), "the refused call wrote %s" % name


@pytest.mark.filterwarnings("ignore::FutureWarning")  # (make_dual's own, about torch.jit.script)
def test_forward_mode_ad_through_a_merge_raises():
    """merge_states and accumulate=True have no derivative formula either: a dual tensor among
    their arguments (torch.autograd.forward_ad) raises rather than losing its tangent."""
    import torch.autograd.forward_ad as fwAD
    (q, k, v), part_a, part_b, _ = setup("causal_key_halves", torch.float32, "cpu")
    out, lse = ga.attention(q, k, v, part_a, return_lse=True)
    ob, lb = ga.attention(q, k, v, part_b, return_lse=True)
    before = out.clone(), lse.clone()
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"merge_states does not support forward-mode AD \(.*\): out_b"):
            ga.merge_states(out, lse, fwAD.make_dual(ob, torch.ones_like(ob)), lb)
        with pytest.raises(RuntimeError, match=r"attention does not support forward-mode AD \(.*\): k carries"):
            ga.attention(q, fwAD.make_dual(k, torch.ones_like(k)), v, part_b, out=out, lse=lse, accumulate=True)
    assert torch.equal(out, before[0]) and torch.equal(lse, before[1])


def test_writing_a_in_place_is_seen_by_autograd():
    """merge_states writes out_a and lse_a in place: a backward that saved them fails as for any
    in-place op."""
    (q, k, v), part_a, part_b, _ = setup("random_halves", torch.float32, "cpu")
    out, lse = ga.attention(q, k, v, part_a, return_lse=True)
    w = torch.randn(out.shape, requires_grad=True)
    y = (w * out).sum() + (w[..., 0] * lse).sum()
    with torch.no_grad():
        ga.merge_states(out, lse, *ga.attention(q, k, v, part_b, return_lse=True))
    with pytest.raises(RuntimeError, match="inplace operation"):
        y.backward()


# ---- the operators, torch.compile ----------------------------------------------------------------


def test_operators_are_registered():
    assert hasattr(torch.ops.graphattn, "merge_states")
    assert hasattr(torch.ops.graphattn, "attention_accumulate")


@pytest.mark.parametrize("device", DEVICES)
def test_opcheck(device):
    """torch.library.opcheck: schema (the declared mutations), fake implementation, autograd."""
    (q, k, v), part_a, part_b, _ = setup("window_then_global", torch.float32, device, b=1, n=32, d=16)
    out, lse = ga.attention(q, k, v, part_a, return_lse=True)
    ob, lb = ga.attention(q, k, v, part_b, return_lse=True)
    torch.library.opcheck(torch.ops.graphattn.merge_states.default, (out.clone(), lse.clone(), ob, lb, 0))
    spec, handle = part_b._op_key
    torch.library.opcheck(torch.ops.graphattn.attention_accumulate.default,
                          (q, k, v, spec, handle, 0.0, 0, 0, out.clone(), lse.clone()))


def test_fake_tensors_go_through_the_operators():
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        q = torch.empty(2, 64, 4, 16)
        out, lse = ga.attention(q, q, q, ga.window(8), return_lse=True)
        res = ga.merge_states(out, lse, torch.empty_like(out), torch.empty_like(lse))
        assert res[0] is out and res[1] is lse
        assert ga.attention(q, q, q, ga.global_tokens([0]), out=out, lse=lse, accumulate=True) is out
        with pytest.raises(ga.GraphAttnError, match="lse_b has shape"):
            ga.merge_states(out, lse, out.clone(), lse[:, :3])


@pytest.mark.parametrize("device", DEVICES)
def test_torch_compile_fullgraph(device):
    """Both in a compiled graph, with ops around them (aot_eager on the CPU: no C++ compiler
    needed; inductor on the GPU): two key halves, merged, then a third part accumulated."""
    torch._dynamo.reset()
    n = 48
    union, part_a, part_b = SPLIT_CASES["causal_key_halves"](n, n)
    extra = ga.global_tokens([5])  # (its edges overlap the causal ones: fine for comparing runs)

    def f(x, w):
        q = (x @ w).view(1, n, 2, 16)
        out_a, lse_a = ga.attention(q, q, q, part_a, return_lse=True)
        out_b, lse_b = ga.attention(q, q, q, part_b, return_lse=True)
        out, lse = ga.merge_states(out_a, lse_a, out_b, lse_b)
        ga.attention(q, q, q, extra, out=out, lse=lse, accumulate=True)
        return out * 2, lse + 1

    backend = "inductor" if device == "cuda" else "aot_eager"
    cf = torch.compile(f, backend=backend, fullgraph=True)
    x = torch.randn(n, 32, device=device)
    w = torch.randn(32, 32, device=device) / 6
    with torch.no_grad():
        want = f(x, w)
        got = cf(x, w)
        got2 = cf(x * 2, w)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        for a, b in zip(got2, f(x * 2, w)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_torch_compile_of_merge_states_on_inputs():
    """The compiled merge writes its graph inputs in place, as the eager one does."""
    torch._dynamo.reset()
    (q, k, v), part_a, part_b, union = setup("random_halves", torch.float32, "cpu")
    a = ga.attention(q, k, v, part_a, return_lse=True)
    b = ga.attention(q, k, v, part_b, return_lse=True)
    eager = tuple(t.clone() for t in a)
    ga.merge_states(*eager, *b)
    merge = torch.compile(lambda oa, la, ob, lb: ga.merge_states(oa, la, ob, lb), backend="aot_eager",
                          fullgraph=True)
    with torch.no_grad():
        merge(*a, *b)
    assert torch.equal(a[0], eager[0]) and torch.equal(a[1], eager[1])


# ---- CUDA streams --------------------------------------------------------------------------------


@needs_cuda
def test_merge_runs_on_the_current_stream():
    (q, k, v), part_a, part_b, union = setup("causal_key_halves", torch.bfloat16, "cuda", b=2, n=4096, d=64)
    a = ga.attention(q, k, v, part_a, return_lse=True)
    b = ga.attention(q, k, v, part_b, return_lse=True)
    want = tuple(t.clone() for t in a)
    ga.merge_states(*want, *b)
    torch.cuda.synchronize()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        # b produced on s right before the merge: correct only if the merge runs on s
        out_b, lse_b = b[0] * 1.0, b[1] * 1.0
        out, lse = a[0].clone(), a[1].clone()
        ga.merge_states(out, lse, out_b, lse_b)
        got = out.clone(), lse.clone()
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


@needs_cuda
def test_merge_of_tensors_on_a_non_current_device():
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")
    (q, k, v), part_a, part_b, union = setup("window_then_global", torch.bfloat16, "cuda:1", b=1, d=64)
    out, lse = ga.attention(q, k, v, part_a, return_lse=True)
    ga.merge_states(out, lse, *ga.attention(q, k, v, part_b, return_lse=True))
    assert out.device == q.device
    assert_exact_union(out, lse, q, k, v, union, "bfloat16")
