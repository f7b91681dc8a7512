"""scripts/sass-diff.py tells which functions two builds of one source compiled differently."""
from conftest import load_script

sass_diff = load_script("sass-diff.py")

# the same file compiled from two folders: its anonymous namespace's name differs
OLD = """
        Function : _ZN46_GLOBAL__N__1353794f_13_tile_wgmma_cu_16d2b1536kernelILb0EEEvv
        /*0000*/                   LDC.64 R8, c[0x0][0x210] ;
        /*0010*/                   IMAD.HI.U32 R6, R22, R8, RZ ;
        /*0020*/                   EXIT ;
        Function : _ZN46_GLOBAL__N__1353794f_13_tile_wgmma_cu_16d2b1535otherEv
        /*0000*/                   MOV R1, c[0x0][0x28] ;
        /*0010*/                   EXIT ;
        Function : _ZN46_GLOBAL__N__1353794f_13_tile_wgmma_cu_16d2b1534goneEv
        /*0000*/                   EXIT ;
"""
NEW = """
        Function : _ZN46_GLOBAL__N__d4ad6fb3_13_tile_wgmma_cu_16d2b1536kernelILb0ELb0EEEvv
        /*0000*/                   LDC R8, c[0x0][0x218] ;
        /*0010*/                   LDC R9, c[0x0][0x21c] ;
        /*0020*/                   IMAD.HI.U32 R6, R22, R8, RZ ;
        /*0030*/                   EXIT ;
        Function : _ZN46_GLOBAL__N__d4ad6fb3_13_tile_wgmma_cu_16d2b1536kernelILb0ELb1EEEvv
        /*0000*/                   EXIT ;
        Function : _ZN46_GLOBAL__N__d4ad6fb3_13_tile_wgmma_cu_16d2b1535otherEv
        /*0000*/                   MOV R1, c[0x0][0x30] ;
        /*0010*/                   EXIT ;
"""


def test_names_from_two_folders_match_and_immediates_are_ignored():
    old = sass_diff.functions(OLD)
    new = sass_diff.functions(NEW)
    other = "_ZN46NS5otherEv"
    assert other in old and other in new, (sorted(old), sorted(new))
    # the constant's offset moved (0x28 -> 0x30): not counted
    assert sass_diff.differing(old[other], new[other]) == 0


def test_a_changed_function_counts_the_larger_side_of_each_changed_run():
    old = sass_diff.functions(OLD)
    new = sass_diff.functions(NEW, [("ELb0EEEvv$", "EEEvv")])
    k = "_ZN46NS6kernelILb0EEEvv"
    # one 64-bit load became two 32-bit loads: a run of 1 against 2
    assert sass_diff.differing(old[k], new[k]) == 2


def test_compare_lists_missing_and_added_functions():
    old = sass_diff.functions(OLD)
    new = sass_diff.functions(NEW, [("ELb0EEEvv$", "EEEvv")])
    rows, added = sass_diff.compare(old, new)
    by_name = {r[0]: r for r in rows}
    assert by_name["_ZN46NS4goneEv"] == ("_ZN46NS4goneEv", 1, None, None)
    assert by_name["_ZN46NS5otherEv"][3] == 0
    assert by_name["_ZN46NS6kernelILb0EEEvv"][1:] == (3, 4, 2)
    assert added == ["_ZN46NS6kernelILb0ELb1EEEvv"]


def test_exit_status_says_whether_every_old_function_is_unchanged(tmp_path, capsys):
    a, b = tmp_path / "a.sass", tmp_path / "b.sass"
    a.write_text(OLD)
    b.write_text(NEW)
    assert sass_diff.main(["sass-diff", str(a), str(a)]) == 0
    assert "3 of 3 functions identical, 0 added" in capsys.readouterr().out
    assert sass_diff.main(["sass-diff", str(a), str(b), "--rename", "ELb0EEEvv$=EEEvv"]) == 1
    out = capsys.readouterr().out
    assert "missing in new: _ZN46NS4goneEv" in out and "differs: _ZN46NS6kernelILb0EEEvv: 3 -> 4" in out
    assert "1 of 3 functions identical, 1 added" in out
    assert sass_diff.main(["sass-diff", str(a)]) == 2
