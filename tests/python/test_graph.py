"""Graphs from Python: builders, specs, unions, explicit arrays, queries, errors."""
import copy
import os
import pickle

import numpy as np
import pytest

import graphattn as ga
from conftest import GRAPH_CASES
from reference import hash64, union_mask

SIZES = [(1, 1), (37, 37), (64, 64), (29, 50), (50, 29)]


@pytest.mark.parametrize("nq,nk", SIZES)
@pytest.mark.parametrize("case", sorted(GRAPH_CASES))
def test_graph_edges_match_numpy_definition(case, nq, nk):
    if case in ("global", "longformer", "spec", "window_global_random") and max(nq, nk) < 4:
        pytest.skip("global tokens need a longer sequence")
    g, parts = GRAPH_CASES[case](nq, nk)
    want = union_mask(parts, nq, nk)
    got = g.to_dense(nq, nk)
    diff = np.argwhere(got != want)
    assert diff.size == 0, "%s %dx%d: %d edges differ, first (row, key) %s: library %s, definition %s" % (
        case, nq, nk, len(diff), diff[0].tolist(), got[tuple(diff[0])], want[tuple(diff[0])])
    assert g.count_edges(nq, nk) == int(want.sum())


@pytest.mark.parametrize("case", ["longformer", "bigbird", "csr", "random"])
def test_row_lists_the_sorted_keys_of_one_query(case):
    nq = nk = 64
    g, parts = GRAPH_CASES[case](nq, nk)
    want = union_mask(parts, nq, nk)
    for i in (0, 1, 17, nq - 1):
        np.testing.assert_array_equal(g.row(i, nq, nk), np.nonzero(want[i])[0], err_msg="row %d" % i)


def test_to_csr_is_sorted_and_matches_the_mask():
    g, parts = GRAPH_CASES["window_global_random"](40, 40)
    indptr, indices = g.to_csr(40)
    want = union_mask(parts, 40, 40)
    assert indptr.dtype == np.int64 and indices.dtype == np.int64
    assert indptr[0] == 0 and indptr[-1] == indices.size == want.sum()
    for i in range(40):
        np.testing.assert_array_equal(indices[indptr[i]:indptr[i + 1]], np.nonzero(want[i])[0])


def test_degree_stats_match_the_mask():
    g, parts = GRAPH_CASES["csr"](30, 30)
    want = union_mask(parts, 30, 30)
    s = g.degree_stats(30)
    deg = want.sum(axis=1)
    assert (s["edges"], s["min_degree"], s["max_degree"], s["empty_rows"]) == (
        deg.sum(), deg.min(), deg.max(), (deg == 0).sum())
    assert s["mean_degree"] == pytest.approx(deg.mean())


def test_union_counts_a_shared_edge_once():
    n = 50
    assert (ga.window(3) + ga.window(3)).count_edges(n) == ga.window(3).count_edges(n)
    assert (ga.window(3) + ga.dense()).count_edges(n) == n * n


def test_spec_string_and_builders_give_the_same_graph():
    n = 45
    a = ga.graph("window:4 + global:0,9 + random:2,5 + dilated:2,3")
    b = ga.window(4) + ga.global_tokens([9, 0]) + ga.random_keys(2, 5) + ga.dilated(2, 3)
    np.testing.assert_array_equal(a.to_dense(n), b.to_dense(n))


def test_builders_describe_themselves_as_spec_strings():
    g = ga.window(4, 0) + ga.global_tokens([3, 1]) + ga.bigbird(16, 1, 2, 3, seed=5)
    assert g.spec == "window:4,0+global:1,3+bigbird:16,1,2,3,5"
    assert ga.graph(g.spec).to_dense(70).tolist() == g.to_dense(70).tolist()
    assert g.components == ["window", "global", "bigbird"]
    assert len(g) == 3


def test_graph_plus_spec_string_combines():
    g = ga.window(1) + "global:0"
    h = "global:0" + ga.window(1)
    np.testing.assert_array_equal(g.to_dense(20), h.to_dense(20))
    assert g.to_dense(20)[10, 0]


def test_explicit_graphs_have_no_spec():
    indptr = np.array([0, 1, 2], dtype=np.int64)
    g = ga.csr(indptr, np.array([1, 0]))
    assert g.spec is None and g.is_explicit
    assert (g + ga.causal()).spec is None


def test_csr_copies_the_callers_arrays():
    indptr = np.array([0, 1, 2, 3], dtype=np.int64)
    indices = np.array([0, 1, 2], dtype=np.int64)
    g = ga.csr(indptr, indices)
    indices[:] = 0
    indptr[:] = 0
    np.testing.assert_array_equal(g.to_dense(3), np.eye(3, dtype=bool))


def test_csr_accepts_int32_indices_and_lists():
    g = ga.csr([0, 2, 3], [0, 1, 1], shape=(2, 2))
    np.testing.assert_array_equal(g.to_dense(2), [[True, True], [False, True]])
    g32 = ga.csr(np.array([0, 2, 3], dtype=np.int32), np.array([0, 1, 1], dtype=np.int32))
    np.testing.assert_array_equal(g32.to_dense(2), g.to_dense(2))


def test_coo_in_any_order_becomes_the_same_graph():
    rows = np.array([2, 0, 1, 0])
    cols = np.array([2, 1, 0, 0])
    g = ga.coo(rows, cols)
    want = np.zeros((3, 3), dtype=bool)
    want[rows, cols] = True
    np.testing.assert_array_equal(g.to_dense(3), want)


def test_spec_may_name_npy_files(tmp_path):
    indptr = np.array([0, 2, 3, 3], dtype=np.int64)
    indices = np.array([0, 2, 1], dtype=np.int64)
    np.save(tmp_path / "ptr.npy", indptr)
    np.save(tmp_path / "idx.npy", indices)
    g = ga.graph("csr:%s,%s" % (tmp_path / "ptr.npy", tmp_path / "idx.npy"))
    np.testing.assert_array_equal(g.to_dense(3), ga.csr(indptr, indices).to_dense(3))


def _save_csr(tmp_path, g, n):
    """Write g over n x n as csr files; returns the spec naming them."""
    indptr, indices = g.to_csr(n)
    np.save(tmp_path / "ptr.npy", indptr)
    np.save(tmp_path / "idx.npy", indices)
    return "csr:%s,%s" % (tmp_path / "ptr.npy", tmp_path / "idx.npy")


def test_a_spec_naming_files_reads_them_when_each_graph_is_made(tmp_path):
    """A csr:/coo: spec is never cached by its text: each graph(spec), and each attention(...,
    spec) call, reads the files as they are then; a Graph made earlier keeps what it read."""
    n = 12
    spec = _save_csr(tmp_path, ga.window(0), n)
    old = ga.graph(spec)
    q = np.random.default_rng(0).standard_normal((n, 2, 4)).astype(np.float32)
    before = ga.attention(q, q, q, spec)
    _save_csr(tmp_path, ga.dense(), n)
    new = ga.graph(spec)
    assert old.count_edges(n) == n and new.count_edges(n) == n * n
    assert old.spec == new.spec == spec and old.is_explicit and new.is_explicit
    np.testing.assert_array_equal(ga.attention(q, q, q, spec), ga.attention(q, q, q, new))
    np.testing.assert_array_equal(ga.attention(q, q, q, old), before)
    assert (new + ga.window(1)).count_edges(n) == n * n


@pytest.mark.parametrize("make,kinds", [
    (lambda: ga.window(256) + "global:0,5", ["window", "global"]),
    (lambda: "global:0,5" + ga.window(256), ["global", "window"]),
    (lambda: ga.graph("global:0") + ga.window(2) + ga.graph("causal"), ["global", "window", "causal"]),
    (lambda: ga.csr([0, 1, 2], [0, 1]) + "window:2 + global:1" + ga.causal(), ["csr", "window", "global", "causal"]),
    (lambda: ga.documents(np.arange(0, 15000, 3)) + "window:2" + ga.blocks(2), ["documents", "window", "blocks"]),
])
def test_components_keep_the_order_they_are_written_in(make, kinds):
    """The GPU's fast path depends on the first component, so builders and spec strings mixed
    in any order give the components in that order, as repr and spec say."""
    assert make().components == kinds


def test_builders_and_spec_strings_of_one_graph_give_the_same_results():
    q = np.random.default_rng(1).standard_normal((300, 2, 16)).astype(np.float32)
    built = ga.attention(q, q, q, ga.window(20) + ga.global_tokens([0, 5]))
    for g in (ga.window(20) + "global:0,5", ga.graph("window:20 + global:0,5"), "window:20+global:0,5"):
        np.testing.assert_array_equal(ga.attention(q, q, q, g), built)


def test_a_spec_naming_files_may_follow_arrays_and_reads_them_then(tmp_path):
    """A csr:/coo: spec may come anywhere in a graph, after csr()/coo() arrays too: the files are
    read when the graph is made, and the result is the union of the parts in the order written."""
    n = 6
    spec = _save_csr(tmp_path, ga.window(1), n)
    arrays = ga.csr(*ga.causal().to_csr(n))
    after = arrays + spec
    assert after.components == ["csr", "csr"] and (spec + arrays).components == ["csr", "csr"]
    _save_csr(tmp_path, ga.dense(), n)  # made already: keeps the edges it read
    want = (ga.window(1).to_dense(n) | ga.causal().to_dense(n))
    assert after.to_dense(n).tolist() == want.tolist()
    assert (arrays + spec).count_edges(n) == n * n  # a new graph reads the files as they are now
    with pytest.raises(ga.GraphAttnIOError) as e:
        arrays + ("csr:%s,%s" % (tmp_path / "nope.npy", tmp_path / "nope2.npy"))
    assert e.value.status == ga.Status.ERR_IO and "nope.npy" in str(e.value)
    # the files gone between graph(spec) and the union that reads them again: the union's build
    # fails as a whole (GraphAttnIOError), and the graphs made before still work
    sg = ga.graph(spec)
    os.remove(tmp_path / "ptr.npy")
    with pytest.raises(ga.GraphAttnIOError) as e:
        arrays + sg
    assert e.value.status == ga.Status.ERR_IO and "ptr.npy" in str(e.value)
    assert sg.count_edges(n) == n * n and after.to_dense(n).tolist() == want.tolist()


@pytest.mark.parametrize("spec", ["window:2\x00+global:1", "causal\x00garbage", "\x00"])
def test_a_nul_character_in_a_spec_is_refused(spec):
    """C strings end at a NUL: the library would read less than was written."""
    for make in (ga.graph, ga.Graph, lambda s: ga.window(1) + s, lambda s: ga.attention(
            *(np.ones((4, 1, 2), np.float32),) * 3, s)):
        with pytest.raises(ga.GraphAttnValueError, match="NUL") as e:
            make(spec)
        assert e.value.status == ga.Status.ERR_SPEC_SYNTAX


def test_index_lists_may_be_torch_tensors():
    """global_tokens, csr, coo and documents take torch tensors as they take NumPy arrays
    (copied to the host); tensors of floats are refused by name."""
    torch = pytest.importorskip("torch")
    t = torch.tensor
    assert ga.global_tokens(t([0, 5])).to_dense(8).tolist() == ga.global_tokens([0, 5]).to_dense(8).tolist()
    csr = ga.csr(t([0, 1, 3]), t([1, 0, 1], dtype=torch.int32))
    assert csr.to_dense(2).tolist() == ga.csr([0, 1, 3], [1, 0, 1]).to_dense(2).tolist()
    assert ga.coo(t([1, 0]), t([0, 1])).to_dense(2).tolist() == [[False, True], [True, False]]
    for make in (lambda: ga.global_tokens(t([0.0])), lambda: ga.csr(t([0, 1]), t([0.5])),
                 lambda: ga.coo(t([True]), t([0]), shape=(1, 1))):
        with pytest.raises(ga.GraphAttnTypeError, match="must hold integers"):
            make()


def test_integer_parameters_refuse_bools_and_out_of_range_values():
    with pytest.raises(ga.GraphAttnTypeError, match="window left"):
        ga.window(True)
    for args, what in (((-(1 << 63) - 1, 0, 0), "seed"), ((1 << 64, 0, 0), "seed"), ((0, 1 << 70, 0), "row"),
                       ((0, 0, -(1 << 63) - 1), "t")):
        with pytest.raises(ga.GraphAttnValueError, match=what):
            ga.hash64(*args)
    with pytest.raises(ga.GraphAttnTypeError, match="seed"):
        ga.hash64(1.5, 0, 0)
    # a negative seed is taken modulo 2^64, as a spec's is: random:2,-1 is seed 2^64 - 1
    assert ga.hash64(-1, 7, 3) == ga.hash64((1 << 64) - 1, 7, 3)


def test_builders_with_seeds_past_int64_combine_with_spec_strings():
    # the builder's spec text gives such a seed as its negative twin, which the library reads
    # modulo 2^64: the same graph as the builder alone
    q = np.random.default_rng(9).standard_normal((64, 1, 8)).astype(np.float32)
    for part in (ga.random_keys(2, (1 << 64) - 1), ga.bigbird(4, 1, 1, 1, seed=(1 << 63) + 5)):
        both = part + "causal"
        alone = part + ga.causal()
        assert np.array_equal(ga.attention(q, q, q, both), ga.attention(q, q, q, alone))
        assert np.array_equal(both.to_dense(64), part.to_dense(64) | ga.causal().to_dense(64))


def test_builders_take_a_negative_seed_modulo_2_64_as_spec_strings_do():
    # "random:2,-1" parses as seed 2^64 - 1 (graphattn.h); the builders read -1 the same way,
    # and refuse what hash64 refuses (below -2^63, from 2^64 up)
    for built, spec in ((ga.random_keys(2, -1), "random:2,-1"), (ga.bigbird(4, 1, 1, 1, seed=-3), "bigbird:4,1,1,1,-3")):
        assert np.array_equal(built.to_dense(48), ga.graph(spec).to_dense(48))
    assert np.array_equal(ga.random_keys(2, -1).to_dense(48), ga.random_keys(2, (1 << 64) - 1).to_dense(48))
    for seed in (-(1 << 63) - 1, 1 << 64):
        for make in (lambda: ga.random_keys(2, seed), lambda: ga.bigbird(4, seed=seed)):
            with pytest.raises(ga.GraphAttnValueError, match="seed"):
                make()


def test_hash64_is_the_documented_splitmix_mix():
    for seed, row, t in [(0, 0, 0), (42, 7, 3), ((1 << 64) - 1, 123456789, 5), (5, 1 << 40, 2)]:
        assert ga.hash64(seed, row, t) == hash64(seed, row, t)


def test_graphs_pickle_and_copy():
    indptr, indices = np.array([0, 1, 3]), np.array([1, 0, 1])
    g = ga.window(2) + ga.csr(indptr, indices)
    h = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(h.to_dense(2), g.to_dense(2))
    assert copy.deepcopy(g) is g and copy.copy(g) is g


@pytest.mark.parametrize("kind", ["csr", "coo"])
def test_int32_index_arrays_are_copied_so_later_changes_to_them_change_no_graph(kind):
    idx = np.array([1, 2], np.int32)
    if kind == "csr":
        g = ga.csr(np.array([0, 2]), idx, shape=(1, 4))
    else:
        g = ga.coo(np.zeros(2, np.int32), idx, shape=(1, 4))
    idx[0] = 0  # the caller reuses their array
    for h in (g, pickle.loads(pickle.dumps(g))):
        assert h.row(0, 1, 4).tolist() == [1, 2], kind
    assert (g + ga.blocks(1)).row(0, 1, 4).tolist() == [0, 1, 2]


def test_part_tuples_from_outside_are_checked_like_the_builders_arguments():
    # Graph(parts) is how a pickle comes back: its tuples go through the builders again, so no
    # short array or wrong dtype reaches the library's raw pointers
    with pytest.raises(ga.GraphAttnError, match="indptr holds 2 entries"):
        ga.Graph([("csr", 3000000, 10, np.array([0, 1]), np.array([1]))])
    g = ga.Graph([("global", np.array([1, 2], np.int32))])  # int32: converted, not read as int64
    assert g.spec == "global:1,2" and g.count_edges(4, 4) == 12
    assert ga.Graph([("global", [3])]).count_edges(4, 4) == 7  # a list, as global_tokens takes
    with pytest.raises(TypeError):
        ga.Graph([("window", 1, 2, 3)])  # too many values
    with pytest.raises(ga.GraphAttnError):
        ga.Graph([("window", "a", 2)])
    with pytest.raises(TypeError):
        ga.Graph([("spec", ga.window(2))])  # a spec part holds text


def test_repr_names_the_components():
    r = repr(ga.window(3) + ga.csr([0, 1], [0]))
    assert r == "graphattn.graph('window:3,3') + graphattn.csr(<1x1+, nnz=1>)", r  # 1+: an open key count
    assert repr(ga.csr([0, 1], [4], shape=(1, 9))) == "graphattn.csr(<1x9, nnz=1>)"


def test_repr_of_a_long_spec_is_abbreviated():
    r = repr(ga.window(2) + ga.global_tokens(list(range(0, 3000, 3))))
    assert len(r) < 200 and "..." in r, r


def test_a_graph_takes_no_new_attributes():
    g = ga.window(3)
    with pytest.raises(AttributeError):
        g.foo = 1


def test_repr_of_a_spec_graph_evaluates_to_the_same_graph():
    import graphattn
    for g in (ga.window(3), ga.graph("dense") + ga.window(3), ga.Graph("window:3"), ga.causal(),
              ga.window(2) + ga.global_tokens([0, 5])):
        r = repr(g)
        assert r.startswith("graphattn.graph('"), r
        h = eval(r, {"graphattn": graphattn})
        assert h.spec == g.spec
        np.testing.assert_array_equal(h.to_dense(8), g.to_dense(8))


# ---- errors ----------------------------------------------------------------------------------


def test_bad_spec_raises_with_the_librarys_message():
    with pytest.raises(ga.GraphAttnError) as e:
        ga.graph("window:4 + wobble:3")
    assert e.value.status == ga.Status.ERR_SPEC_SYNTAX
    assert isinstance(e.value, ValueError)
    assert "GA_ERR_SPEC_SYNTAX" in str(e.value)
    assert e.value.detail and e.value.detail in str(e.value)


@pytest.mark.parametrize("spec", ["", "window", "window:", "window:-1", "window:1,2,3", "global:", "dense+",
                                  "blocks:0", "longnet:8,4,4", "random:0,1", "window:abc"])
def test_malformed_specs_raise(spec):
    with pytest.raises(ga.GraphAttnError) as e:
        ga.graph(spec)
    assert e.value.status in (ga.Status.ERR_SPEC_SYNTAX, ga.Status.ERR_BAD_PARAMETER, ga.Status.ERR_BAD_SIZE)
    assert e.value.detail


def test_spec_naming_a_missing_file_raises_an_io_error(tmp_path):
    with pytest.raises(ga.GraphAttnError) as e:
        ga.graph("csr:%s,%s" % (tmp_path / "nope.npy", tmp_path / "nope2.npy"))
    assert e.value.status == ga.Status.ERR_IO
    assert isinstance(e.value, OSError)


@pytest.mark.parametrize("make,status", [
    (lambda: ga.window(-1), ga.Status.ERR_BAD_PARAMETER),
    (lambda: ga.window(2, -3), ga.Status.ERR_BAD_PARAMETER),
    (lambda: ga.dilated(2, 0), ga.Status.ERR_BAD_PARAMETER),
    (lambda: ga.blocks(0), ga.Status.ERR_BAD_PARAMETER),
    (lambda: ga.longnet(8, 4, 4), ga.Status.ERR_BAD_PARAMETER),
    (lambda: ga.random_keys(0, 1), ga.Status.ERR_BAD_PARAMETER),
    (lambda: ga.global_tokens([-1]), ga.Status.ERR_INDEX_OUT_OF_RANGE),
    (lambda: ga.random_keys(1, -(1 << 63) - 1), ga.Status.ERR_BAD_PARAMETER),  # -1 is 2^64 - 1
    (lambda: ga.window(1 << 70), ga.Status.ERR_BAD_PARAMETER),
])
def test_bad_builder_parameters_raise_where_written(make, status):
    with pytest.raises(ga.GraphAttnValueError) as e:
        make()
    assert e.value.status in (status, ga.Status.ERR_BAD_PARAMETER, ga.Status.ERR_BAD_SIZE)
    assert e.value.detail


def test_non_integer_parameters_raise_type_error():
    with pytest.raises(TypeError):
        ga.window(2.5)
    with pytest.raises(TypeError):
        ga.csr([0, 1], [0.5])


def test_empty_global_list_raises():
    with pytest.raises(ga.GraphAttnError) as e:
        ga.global_tokens([])
    assert e.value.status in (ga.Status.ERR_BAD_SIZE, ga.Status.ERR_BAD_PARAMETER)


@pytest.mark.parametrize("indptr,indices,status", [
    ([1, 2, 3], [0, 1, 2], ga.Status.ERR_ROW_PTR_START),
    ([0, 2, 1, 3], [0, 1, 2], ga.Status.ERR_ROW_PTR_NOT_MONOTONE),
    ([0, 2, 3], [1, 0, 1], ga.Status.ERR_INDEX_UNSORTED),
    ([0, 2, 3], [1, 1, 1], ga.Status.ERR_INDEX_DUPLICATE),
    ([0, 1, 2], [0, 5], ga.Status.ERR_INDEX_OUT_OF_RANGE),
    ([0, 1, 2], [0, -1], ga.Status.ERR_INDEX_OUT_OF_RANGE),
    ([0, 1, 3], [0, 1], ga.Status.ERR_ROW_PTR_END),
])
def test_invalid_csr_raises_its_own_status(indptr, indices, status):
    n = len(indptr) - 1
    with pytest.raises(ga.GraphAttnError) as e:
        ga.csr(np.array(indptr), np.array(indices), shape=(n, n))
    assert e.value.status == status, str(e.value)
    assert e.value.detail


def test_csr_takes_as_many_keys_as_its_largest_index_needs_by_default():
    # one row with keys 0 and 1: 1 x 2 (a square default refused it as too many edges for 1 x 1)
    g = ga.csr([0, 2], [0, 1])
    assert g.to_csr(1, 2)[1].tolist() == [0, 1]
    assert ga.csr([0, 1, 2], [0, 5]).to_dense(2, 6).sum() == 2
    assert ga.csr([0, 1, 2], [1, 0]).to_dense(2).tolist() == [[False, True], [True, False]]  # square still
    with pytest.raises(ga.GraphAttnError) as e:  # unsorted says so
        ga.csr([0, 2], [1, 0])
    assert e.value.status == ga.Status.ERR_INDEX_UNSORTED


@pytest.mark.parametrize("nq,nk", [(3, 5), (5, 2), (4, 4), (2, 1000)])
def test_explicit_graphs_without_shape_take_any_key_count_their_indices_fit_as_specs_do(nq, nk, tmp_path):
    """No shape: the rows are exact and the key count open, as a csr:/coo: spec's files give it:
    a chunk of queries over a longer KV cache (nq < nk) and more queries than keys both run,
    with the keys past the largest index edgeless, and the same as the spec and an explicit shape."""
    rng = np.random.default_rng(nq * 1000 + nk)
    mask = rng.random((nq, nk)) < 0.5
    mask[:, min(nk, 2) - 1] = True  # every row an edge; the largest index below nk - 1 where nk > 2
    mask[:, 2:] &= np.arange(2, nk) < max(2, nk - 1)
    indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64)
    indices = np.nonzero(mask)[1].astype(np.int64)
    rows, cols = np.nonzero(mask)
    np.save(tmp_path / "p.npy", indptr)
    np.save(tmp_path / "i.npy", indices)
    q = rng.standard_normal((nq, 2, 8)).astype(np.float32)
    k, v = (rng.standard_normal((nk, 1, 8)).astype(np.float32) for _ in range(2))
    ref = ga.attention(q, k, v, ga.csr(indptr, indices, shape=(nq, nk)))
    for g in (ga.csr(indptr, indices), ga.csr(indptr, indices, shape=(nq, None)), ga.coo(rows, cols),
              ga.graph("csr:%s,%s" % (tmp_path / "p.npy", tmp_path / "i.npy"))):
        np.testing.assert_array_equal(g.to_dense(nq, nk), mask)
        np.testing.assert_array_equal(ga.attention(q, k, v, g), ref)
    with pytest.raises(ga.GraphAttnError) as e:  # fewer keys than an index needs
        ga.attention(q, k[:int(indices.max())], v[:int(indices.max())], ga.csr(indptr, indices))
    assert e.value.status == ga.Status.ERR_GRAPH_MISMATCH and "at least %d" % (indices.max() + 1) in str(e.value)
    with pytest.raises(ga.GraphAttnError) as e:  # the rows stay exact
        ga.csr(indptr, indices).check(nq + 1, nk)
    assert e.value.status == ga.Status.ERR_GRAPH_MISMATCH


def test_coo_duplicates_and_length_mismatch_raise():
    with pytest.raises(ga.GraphAttnError) as e:
        ga.coo([0, 0], [1, 1], shape=(2, 2))
    assert e.value.status == ga.Status.ERR_INDEX_DUPLICATE
    with pytest.raises(ga.GraphAttnError) as e:
        ga.coo([0, 1], [1], shape=(2, 2))
    assert e.value.status == ga.Status.ERR_SHAPE_MISMATCH


def test_explicit_graph_of_another_size_fails_the_check():
    g = ga.csr([0, 1, 2], [0, 1])
    g.check(2)
    with pytest.raises(ga.GraphAttnError) as e:
        g.check(3)
    assert e.value.status == ga.Status.ERR_GRAPH_MISMATCH


def test_global_token_beyond_the_sequence_fails_the_check():
    g = ga.global_tokens([10])
    g.check(11)
    with pytest.raises(ga.GraphAttnError) as e:
        g.count_edges(8, 8)
    assert e.value.status == ga.Status.ERR_INDEX_OUT_OF_RANGE


def test_library_reports_version_and_backends():
    assert ga.library_version() == ga.__version__
    assert "cpu" in ga.backends() and "cpu-reference" in ga.backends()
    assert ga.cuda_device_count() >= 0


def test_status_names_agree_with_the_library():
    from graphattn import _capi
    for st in ga.Status:
        assert _capi.status_string(st).startswith("GA_" + st.name), (st, _capi.status_string(st))


def test_a_missing_library_fails_the_import_with_advice(tmp_path):
    import os
    import subprocess
    import sys
    env = dict(os.environ, GRAPHATTN_LIBRARY=str(tmp_path / "libnothing.so"))
    r = subprocess.run([sys.executable, "-c", "import graphattn"], env=env, capture_output=True, text=True)
    assert r.returncode != 0
    assert "GRAPHATTN_LIBRARY" in r.stderr and "libnothing.so" in r.stderr and "pip install" in r.stderr


def test_graph_class_takes_a_spec_string_or_a_graph():
    g = ga.Graph("window:4+global:0")
    assert g.spec == ga.graph("window:4+global:0").spec
    assert ga.Graph(g).spec == g.spec
    with pytest.raises(ga.GraphAttnError) as e:
        ga.Graph("window:x")  # the library's own spec error, at construction
    assert e.value.status == ga.Status.ERR_SPEC_SYNTAX
    for bad in (123, None, ["window:4"], [("nonsense", 1)]):
        with pytest.raises(TypeError) as e:
            ga.Graph(bad)
        assert "spec string" in str(e.value)


def test_documents_take_cu_seqlens_as_is_with_empty_sequences_and_tensors():
    # cu_seqlens of sequences 5, 0 (empty), 9 and 6 tokens: the repeat cuts nothing more
    cu = np.array([0, 5, 5, 14, 20])
    g = ga.documents(cu, causal=True)
    want = union_mask([("documents", [0, 5, 14, 20], True)], 20, 20)
    assert g.to_dense(20).tolist() == want.tolist()
    assert ga.graph(g.spec).to_dense(20).tolist() == want.tolist()
    torch = pytest.importorskip("torch")
    gt = ga.documents(torch.tensor(cu, dtype=torch.int32), causal=True)
    assert gt.to_dense(20).tolist() == want.tolist()


@pytest.mark.parametrize("causal", ["no", "yes", 1, 0, [], None, 1.0])
def test_documents_causal_must_be_a_bool(causal):
    """causal= is True or False (a NumPy bool too), as accumulate= is: any other value, truthy
    ("no") or not ([]), raises a GraphAttnTypeError naming it rather than picking a graph."""
    with pytest.raises(ga.GraphAttnTypeError, match="causal must be True or False") as e:
        ga.documents([0, 4, 8], causal=causal)
        pytest.fail("documents(causal=%r) was accepted" % (causal,))
    assert e.value.status == ga.Status.ERR_BAD_PARAMETER
    assert ga.documents([0, 4, 8], causal=np.bool_(True)).spec == "causal_documents:0,4,8"
    assert ga.documents([0, 4, 8], causal=False).spec == "documents:0,4,8"


@pytest.mark.parametrize("causal", [False, True])
def test_documents_rows_before_the_first_key_get_no_keys(causal):
    """With more queries than keys (Nq > Nk) the diagonal sits bottom right: query i is at key
    position i' = i + Nk - Nq, and rows with i' < 0 belong to no document (docs/python.md)."""
    nq, nk = 7, 4
    m = ga.documents([0, 2, 4], causal=causal).to_dense(nq, nk)
    assert not m[:nq - nk].any(), m.astype(int)
    assert m[nq - nk:].any(axis=1).all(), m.astype(int)


def test_a_global_token_past_both_sizes_raises_at_call_time():
    """A global token g is checked against max(Nq, Nk) when the sizes are known (docs/python.md):
    one past both raises GA_ERR_INDEX_OUT_OF_RANGE, not silently ignored; past only one is fine."""
    g = ga.global_tokens([11])
    assert g.to_dense(10, 12)[:, 11].all() and not g.to_dense(10, 12)[10:].any()
    with pytest.raises(ga.GraphAttnError) as e:
        g.to_dense(10, 11)
    assert e.value.status == ga.Status.ERR_INDEX_OUT_OF_RANGE, str(e.value)
    q = np.zeros((10, 1, 4), np.float32)
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, q, q, g)
    assert e.value.status == ga.Status.ERR_INDEX_OUT_OF_RANGE, str(e.value)


def test_lists_mixing_signed_and_unsigned_numpy_integers_are_integers():
    """NumPy promotes int64 beside uint64 to float64; a list of integers is still integers."""
    assert ga.global_tokens([np.int32(1), np.uint64(4)]).spec == "global:1,4"
    assert ga.global_tokens([1, np.uint64(2)]).spec == "global:1,2"
    assert ga.documents([np.int64(0), np.uint64(3)]).spec == ga.documents([0, 3]).spec
    np.testing.assert_array_equal(ga.csr([0, 2], [np.int64(0), np.uint64(3)]).to_dense(1, 4),
                                  ga.csr([0, 2], [0, 3]).to_dense(1, 4))
    for floats in ([1, 2.0], [1, np.float32(2)]):
        with pytest.raises(ga.GraphAttnTypeError, match="must hold integers, got dtype float64"):
            ga.global_tokens(floats)


@pytest.mark.parametrize("make,status,words", [
    (lambda: ga.global_tokens([2 ** 70]), ga.Status.ERR_INDEX_OUT_OF_RANGE,
     "global tokens holds 1180591620717411303424, outside the int64 range"),
    (lambda: ga.global_tokens([0, -2 ** 64]), ga.Status.ERR_INDEX_OUT_OF_RANGE,
     "global tokens holds -18446744073709551616, outside the int64 range"),
    (lambda: ga.global_tokens(np.array([2 ** 64 - 1], np.uint64)), ga.Status.ERR_INDEX_OUT_OF_RANGE,
     "global tokens holds 18446744073709551615, outside the int64 range"),
    (lambda: ga.documents([0, 2 ** 63]), ga.Status.ERR_INDEX_OUT_OF_RANGE,  # (NumPy makes that list float64)
     "document bounds holds 9223372036854775808, outside the int64 range"),
    (lambda: ga.csr([0, 1], [2 ** 65]), ga.Status.ERR_INDEX_OUT_OF_RANGE, "indices holds 36893488147419103232"),
    (lambda: ga.csr([], []), ga.Status.ERR_BAD_SIZE,
     "csr: indptr holds 0 entries; a graph of num_queries >= 1 rows needs num_queries + 1 >= 2"),
    (lambda: ga.csr([0], []), ga.Status.ERR_BAD_SIZE,
     "csr: indptr holds 1 entry; a graph of num_queries >= 1 rows needs num_queries + 1 >= 2"),
    (lambda: ga.csr([0, 1], [0], shape=(-1, 3)), ga.Status.ERR_BAD_SIZE,
     "csr: shape = (-1, 3); num_queries and num_keys must be >= 1"),
    (lambda: ga.csr([0, 1], [0], shape=(1, 0)), ga.Status.ERR_BAD_SIZE,
     "csr: shape = (1, 0); num_queries and num_keys must be >= 1"),
    (lambda: ga.coo([0], [0], shape=(0, 3)), ga.Status.ERR_BAD_SIZE,
     "coo: shape = (0, 3); num_queries and num_keys must be >= 1"),
    (lambda: ga.global_tokens(["a"]), ga.Status.ERR_BAD_PARAMETER, "global tokens must hold integers, got dtype <U1"),
])
def test_index_list_errors_name_the_real_problem(make, status, words):
    """An integer past int64 is out of range (not 'must hold integers, got dtype object'); an
    indptr too short for one row, or a shape below 1 x 1, says so (not 'nrows must be >= 1, got
    -1' or 'expected num_queries + 1 = 0')."""
    with pytest.raises(ga.GraphAttnValueError) as e:
        make()
        pytest.fail("no error, want %r" % words)
    assert e.value.status == status and words in e.value.detail, "want %r, got %s" % (words, e.value)


def test_documents_past_the_spec_list_limit_are_named_by_handle():
    bounds = np.arange(0, 5000 * 3, 3)  # 5000 bounds: more than one spec component holds
    g = ga.documents(bounds)
    assert g.spec is None
    n = 60
    assert g.to_dense(n).tolist() == union_mask([("documents", bounds.tolist(), False)], n, n).tolist()
    with pytest.raises(ga.GraphAttnValueError):
        ga.documents([3, 2])


def test_spec_integers_may_be_powers_of_two_before_and_after_arrays():
    # 2^K reads as on the command line, whether the library parses the spec (first) or the
    # package adds it after csr() arrays
    q = np.random.default_rng(5).standard_normal((8, 1, 4)).astype(np.float32)
    arrays = ga.csr(np.arange(9), np.arange(8))
    for a, b in ((ga.graph("window:2^1"), ga.graph("window:2")),
                 (arrays + "window:2^1", arrays + "window:2")):
        assert np.array_equal(ga.attention(q, q, q, a), ga.attention(q, q, q, b))


def test_int32_columns_past_2_31_keys_are_widened_not_refused():
    g = ga.csr(np.array([0, 1]), np.array([5], np.int32), shape=(1, 2**31 + 5))
    assert g.row(0, 1, 2**31 + 5).tolist() == [5]
    g = ga.coo(np.array([0], np.int32), np.array([2**31 + 1], np.int64), shape=(1, 2**31 + 5))
    assert g.count_edges(1, 2**31 + 5) == 1


def test_spec_cache_is_safe_under_threads():
    # many threads parsing more specs than the cache keeps: each gets its graph, none an error
    import sys
    import threading
    graph_module = sys.modules["graphattn.graph"]  # (graphattn.graph is the builder function)
    errors = []

    def work(t):
        try:
            for i in range(300):
                spec = "window:%d" % (t * 1000 + i)
                g = graph_module._graph_for_spec(spec)
                w = t * 1000 + i
                want = sum(min(2, r + w) - max(0, r - w) + 1 for r in range(3))
                assert g.spec == spec and g.count_edges(3) == want, (spec, g.count_edges(3), want)
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:3]
    assert len(graph_module._parsed) <= graph_module._PARSED_MAX
