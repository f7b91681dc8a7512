"""The environment switches that docs/gpu.md lists are the ones the sources read, no more, no
fewer: a switch added to the library without a line in the table (or a line left behind after
its switch went) fails here."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
NAME = re.compile(r"GRAPHATTN_[A-Z0-9_]+")


def read_in_sources():
    """Every GRAPHATTN_* name read from the environment: getenv in the C/CUDA sources, os.environ
    in the Python package."""
    names = set()
    for path in list((ROOT / "src").rglob("*.c")) + list((ROOT / "src").rglob("*.cu")) + \
            list((ROOT / "src").rglob("*.cuh")) + list((ROOT / "src").rglob("*.h")):
        names |= set(re.findall(r'getenv\("(GRAPHATTN_[A-Z0-9_]+)"\)', path.read_text()))
    for path in (ROOT / "python" / "graphattn").rglob("*.py"):
        names |= set(re.findall(r'environ(?:\.get)?[\(\[]"(GRAPHATTN_[A-Z0-9_]+)"', path.read_text()))
    return names


def listed_in_docs():
    text = (ROOT / "docs" / "gpu.md").read_text()
    section = text.split("## Environment switches", 1)[1].split("\n## ", 1)[0]
    return {m.group(1) for m in re.finditer(r"^\| `(GRAPHATTN_[A-Z0-9_]+)` \|", section, re.M)}


def test_every_switch_the_sources_read_is_in_the_table_and_no_other():
    read, listed = read_in_sources(), listed_in_docs()
    assert read, "no GRAPHATTN_* reads found: the scan is broken"
    assert read - listed == set(), "read by the sources but not in docs/gpu.md: %s" % sorted(read - listed)
    assert listed - read == set(), "in docs/gpu.md but read nowhere: %s" % sorted(listed - read)
