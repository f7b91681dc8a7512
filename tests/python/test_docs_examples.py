"""The examples that README.md and docs/python.md show run as written, and do what the text beside
them says: every ```python block of both files, the README's C example (compiled against the
library and run) and the README's command lines (in a scratch directory, on inputs made here).

A block that uses names the docs define elsewhere (a KV cache, an input x) runs after a prelude of
this file that defines them; the block itself is never edited. What a block claims is checked
after it where the text makes a claim (results against the fp64 oracle, shapes, the merged KV
cache equal to causal attention over cache and chunk). Blocks that need CUDA skip without a GPU.
Not run: the shell blocks that build or install (scripts/main-job, scripts/test, pip install):
CI runs those itself.
"""
import contextlib
import io
import os
import pathlib
import re
import shlex
import shutil
import subprocess

import numpy as np
import pytest

import graphattn as ga
from graphattn import _capi
from reference import dense_attention, union_mask

ROOT = pathlib.Path(__file__).resolve().parents[2]


def fenced(path, lang):
    """[(line of the block's first code line, code)] for every ```lang block of the file."""
    lines = (ROOT / path).read_text().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```" + lang:
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            out.append((i + 2, "\n".join(lines[i + 1:j])))
            i = j
        i += 1
    return out


def _has_cuda():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available() and "cuda" in ga.backends()


def _needs_torch(code):
    return re.search(r"\btorch\b", code) is not None


def _needs_cuda(code):
    return '"cuda"' in code or "'cuda'" in code


# Names a block uses that the docs define in prose or in another block, keyed by a line of the
# block that needs them. Each prelude is as small as the block allows.
PRELUDES = {
    # "Graphs": a CSR graph from the caller's arrays
    "g = ga.csr(indptr, indices, shape=(nq, nk))": """
nq = nk = 4096
mask = np.random.default_rng(3).random((nq, nk)) < 0.01
indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64)
indices = np.nonzero(mask)[1].astype(np.int64)
""",
    # "KV caches": a chunk of n new queries over a cache of c keys
    "out, lse = ga.attention(q, k_cache, v_cache, ga.dense(), return_lse=True)": """
rng = np.random.default_rng(4)
c, n, H, D = 300, 40, 2, 32
q = rng.standard_normal((n, H, D)).astype(np.float32)
k_cache, v_cache = (rng.standard_normal((c, H, D)).astype(np.float32) for _ in range(2))
k_new, v_new = (rng.standard_normal((n, H, D)).astype(np.float32) for _ in range(2))
""",
    # "torch.compile": the layer's input
    "y = torch.compile(layer)(x)": """
import torch
x = torch.randn(2, 1024, 768, device="cuda", dtype=torch.bfloat16)
""",
}


def _prelude(code):
    pre = [p for key, p in PRELUDES.items() if key in code]
    assert len(pre) <= 1, "two preludes match one block"
    # the examples after the first one of docs/python.md take its import as read
    return "import numpy as np\nimport graphattn as ga\n" + (pre[0] if pre else "")


PY_BLOCKS = [(path, line, code) for path in ("README.md", "docs/python.md") for line, code in fenced(path, "python")]


def test_the_docs_hold_the_python_examples_this_file_knows():
    """A new block, or one whose text changed so that its prelude no longer matches, is noticed
    here rather than run without the names it needs: every prelude matches one block."""
    assert len(PY_BLOCKS) >= 7, PY_BLOCKS
    for key in PRELUDES:
        assert sum(key in code for _, _, code in PY_BLOCKS) == 1, "no block (or several) holds %r" % key


@pytest.mark.parametrize("path,line,code", PY_BLOCKS, ids=["%s:%d" % (p, n) for p, n, _ in PY_BLOCKS])
def test_python_example_runs_as_written(path, line, code):
    if _needs_torch(code):
        pytest.importorskip("torch")
    if _needs_cuda(code) and not _has_cuda():
        pytest.skip("needs CUDA (a GPU and the library built with it)")
    scope = {"__name__": "__docs__"}
    exec(compile(_prelude(code), "<prelude of %s:%d>" % (path, line), "exec"), scope)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "%s:%d" % (path, line), "exec"), scope)
    _check_claims(code, scope, printed.getvalue())


def _oracle(q, k, v, parts, rows=None):
    """fp64 attention of (N, H, D) arrays over the union of parts: (out, lse) of the given rows
    (default all), each (rows, H, ...)."""
    rows = np.arange(len(q)) if rows is None else np.asarray(rows)
    mask = union_mask(parts, len(q), len(k))[rows]
    out, lse = dense_attention(np.asarray(q)[rows][None], np.asarray(k)[None], np.asarray(v)[None], mask)
    return out[0], lse[0]


SAMPLED = np.r_[0:40, 1000:1040, 4056:4096]  # first, middle and last rows of 4096


def _check_claims(code, s, printed):
    """What the text around each block says it gives."""
    if "g = graphattn.window(256) + graphattn.global_tokens([0, 1, 2])" in code:  # README
        ref, ref_lse = _oracle(s["q"], s["k"], s["v"], [("window", 256, 256), ("global", [0, 1, 2])], SAMPLED)
        assert s["out"].shape == s["q"].shape and s["lse"].shape == s["q"].shape[:2]
        assert np.abs(s["out"][SAMPLED] - ref).max() < 1e-4, np.abs(s["out"][SAMPLED] - ref).max()
        assert np.abs(s["lse"][SAMPLED] - ref_lse).max() < 1e-4
    if "# Longformer: sliding window + global tokens" in code:  # docs/python.md, the first example
        assert s["out"].shape == (8192, 8, 64) and s["out"].dtype == np.float32
        assert s["lse"].shape == (8192, 8) and s["lse"].dtype == np.float32
        rows = np.r_[0:40, 4000:4040, 8152:8192]
        ref, ref_lse = _oracle(s["q"], s["k"], s["v"], [("window", 256, 256), ("global", [0, 1, 2])], rows)
        assert np.abs(s["out"][rows] - ref).max() < 1e-4, np.abs(s["out"][rows] - ref).max()
        assert np.abs(s["lse"][rows] - ref_lse).max() < 1e-4
    if "ga.csr(indptr, indices, shape=(nq, nk))" in code:
        g = s["g"]
        assert g.to_dense(s["nq"], s["nk"]).sum() == g.count_edges(s["nq"], s["nk"]) == s["indices"].size
    if "ga.merge_states(out, lse, out_new, lse_new)" in code:  # KV cache: causal over cache + chunk
        k_all = np.concatenate([s["k_cache"], s["k_new"]])
        v_all = np.concatenate([s["v_cache"], s["v_new"]])
        ref, ref_lse = _oracle(s["q"], k_all, v_all, [("causal",)])
        assert np.abs(s["out"] - ref).max() < 1e-4, np.abs(s["out"] - ref).max()
        assert np.abs(s["lse"] - ref_lse).max() < 1e-4
    if 'ga.graph("window:4 + wobble:3")' in code:  # errors: status and detail printed
        assert printed.startswith("ERR_SPEC_SYNTAX graph spec: unknown component") and "'wobble:3' at offset 11" in printed, printed
    if "torch.compile(layer)(x)" in code:
        assert tuple(s["y"].shape) == (2, 1024, 768) and bool(s["y"].isfinite().all())
    if "torch.randn(1, 1 << 20, 8, 64" in code:
        assert tuple(s["out"].shape) == (1, 1 << 20, 8, 64) and bool(s["out"].isfinite().all())


# ---- the README's C example --------------------------------------------------------------------

C_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <graphattn.h>

int main(int argc, char **argv) {
    const int64_t n = 1000, heads = 2, dim = 32;
    const size_t count = (size_t)(n * heads * dim);
    float *qdata = malloc(count * sizeof(float)), *kdata = malloc(count * sizeof(float));
    float *vdata = malloc(count * sizeof(float)), *odata = malloc(count * sizeof(float));
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!qdata || !kdata || !vdata || !odata || !in || !out || argc != 3) return 3;
    if (fread(qdata, sizeof(float), count, in) != count || fread(kdata, sizeof(float), count, in) != count ||
        fread(vdata, sizeof(float), count, in) != count) return 3;
    {
%s
    if (st != GA_OK) return 1;
    }
    fwrite(odata, sizeof(float), count, out);
    fclose(out);
    return 0;
}
"""


def test_readme_c_example_compiles_and_matches_the_reference(tmp_path):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    blocks = fenced("README.md", "c")
    assert len(blocks) == 1
    src = tmp_path / "example.c"
    src.write_text(C_MAIN % blocks[0][1])
    lib = pathlib.Path(_capi.library_path).resolve()
    exe = tmp_path / "example"
    build = subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-I", str(ROOT / "include"), str(src), str(lib),
                            "-Wl,-rpath," + str(lib.parent), "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((1000, 2, 32)).astype(np.float32) for _ in range(3))
    (tmp_path / "in.bin").write_bytes(q.tobytes() + k.tobytes() + v.tobytes())
    run = subprocess.run([str(exe), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, (run.returncode, run.stderr)
    o = np.fromfile(tmp_path / "out.bin", dtype=np.float32).reshape(1000, 2, 32)
    ref, _ = _oracle(q, k, v, [("window", 256, 256), ("global", [0, 1, 2, 3])])
    assert np.abs(o - ref).max() < 1e-4, np.abs(o - ref).max()


# ---- the README's command lines ----------------------------------------------------------------

def _tool():
    exe = pathlib.Path(_capi.library_path).resolve().parent / "tools" / "graphattn"
    if not exe.exists():
        pytest.skip("the command is not beside the library (%s): a build directory's library runs this" % exe)
    return exe


def _readme_commands():
    blocks = [code for _, code in fenced("README.md", "sh") if "build/tools/graphattn" in code]
    assert len(blocks) == 1, blocks
    return [ln.strip() for ln in blocks[0].split("\n") if ln.strip().startswith("build/tools/graphattn")]


def test_readme_command_lines_run_as_written(tmp_path):
    exe = _tool()
    cmds = _readme_commands()
    assert [c.split()[1] for c in cmds] == ["info", "check", "run", "bench", "show", "export"]
    rng = np.random.default_rng(6)
    n = 4096  # the run line's inputs: (N, H, D) float32, any N a block of 64 divides
    for name in ("q", "k", "v"):
        np.save(tmp_path / (name + ".npy"), rng.standard_normal((n, 2, 64)).astype(np.float32))
    for cmd in cmds:
        argv = shlex.split(cmd)
        if argv[1] == "bench" and "cuda" not in ga.backends():
            # as written it times 2^20 tokens, ~2 s a call on a 2-core CPU: the same line at the
            # smaller sizes here, the large one left to machines with the GPU
            argv[argv.index("--n") + 1] = "65536"
        res = subprocess.run([str(exe)] + argv[1:], cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, (cmd, res.returncode, res.stdout[-2000:], res.stderr[-2000:])
    o, lse = np.load(tmp_path / "o.npy"), np.load(tmp_path / "lse.npy")
    q, k, v = (np.load(tmp_path / (name + ".npy")) for name in ("q", "k", "v"))
    ref, ref_lse = _oracle(q, k, v, [("bigbird", 64, 3, 2, 3, 42)], SAMPLED)
    assert o.shape == q.shape and lse.shape == q.shape[:2]
    assert np.abs(o[SAMPLED] - ref).max() < 1e-4, np.abs(o[SAMPLED] - ref).max()
    assert np.abs(lse[SAMPLED] - ref_lse).max() < 1e-4
    assert (tmp_path / "t.csv").stat().st_size > 0 and (tmp_path / "t.svg").read_text().startswith("<")
    assert "<svg" in (tmp_path / "graph.svg").read_text()
    ptr, idx = np.load(tmp_path / "ptr.npy"), np.load(tmp_path / "idx.npy")
    assert ptr.shape == (1001,) and idx.size == ptr[-1] == ga.window(2).count_edges(1000)


# ---- docs/cli.md's transcripts -----------------------------------------------------------------

def _transcripts():
    """[(line, [(command, expected output lines)])] for every block of docs/cli.md that shows
    `$ graphattn ...` sessions."""
    out = []
    for line, code in fenced("docs/cli.md", ""):
        if not code.startswith("$ graphattn"):
            continue
        session = []
        for ln in code.split("\n"):
            if ln.startswith("$ "):
                session.append((ln[2:], []))
            else:
                session[-1][1].append(ln)
        out.append((line, session))
    return out


# The inputs each transcript was made with (its text names the shapes): (q, k, v) shapes, float32
TRANSCRIPT_INPUTS = {
    "window:3+windoe:2": ((64, 4, 16), (64, 4, 16), (64, 4, 16)),
    "K and V (64, 2, 8) do not fit Q (64, 4, 16)": ((64, 4, 16), (64, 2, 8), (64, 2, 8)),
    "wrote o.npy float32 (4096, 8, 64)": ((4096, 8, 64), (4096, 2, 64), (4096, 2, 64)),
}
# Output that depends on the machine or the clock: the command's exit status is checked, its
# words are not
VOLATILE = re.compile(r" ms\b|TFLOP|MiB|ns/edge|threads|devices|backends compiled|CUDA runtime|^graphattn \d|"
                      r"on (cpu|cuda)|max \||median|fastest|^ +[\d,]+ +[\d,]+ ")


def test_the_cli_docs_hold_the_transcripts_this_file_knows():
    blocks = _transcripts()
    assert len(blocks) >= 7, blocks
    text = "\n".join("\n".join("\n".join(out) for _, out in s) for _, s in blocks)
    for key in TRANSCRIPT_INPUTS:
        assert key in text, key


@pytest.mark.parametrize("line,session", _transcripts(), ids=["docs/cli.md:%d" % n for n, _ in _transcripts()])
def test_cli_transcript_runs_as_shown(line, session, tmp_path):
    exe = _tool()
    text = "\n".join("\n".join(out) for _, out in session)
    shapes = [s for key, s in TRANSCRIPT_INPUTS.items() if key in text]
    rng = np.random.default_rng(line)
    for name, shape in zip("qkv", shapes[0] if shapes else ()):
        np.save(tmp_path / (name + ".npy"), rng.standard_normal(shape).astype(np.float32))
    env = dict(os.environ, PATH=str(exe.parent) + os.pathsep + os.environ.get("PATH", ""))
    for cmd, want in session:
        res = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=600)
        got = (res.stdout + res.stderr).rstrip("\n").split("\n")
        fails = "error:" in text or "name the same file" in "\n".join(want)
        assert (res.returncode != 0) == fails, (cmd, res.returncode, got)
        if any(VOLATILE.search(w) for w in want):
            continue  # machine-dependent: ran, with the status the transcript shows
        assert got == want, "docs/cli.md:%d: %s\n--- shown\n%s\n--- got\n%s" % (line, cmd, "\n".join(want), "\n".join(got))
