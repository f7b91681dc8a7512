"""scripts/sass-loops.py finds the backward branches whose bodies hold tensor-core instructions."""
from conftest import load_script

sass_loops = load_script("sass-loops.py")

DUMP = """
        Function : _Z6kernelv
        /*0000*/                   MOV R1, c[0x0][0x28] ;
        /*0010*/                   HGMMA.64x64x16.F32.BF16 R24, gdesc[UR4], RZ ;
        /*0020*/                   FMNMX R2, R3, R4, !PT ;
        /*0030*/                   HGMMA.64x64x16.F32.BF16 R24, gdesc[UR8], R24 ;
        /*0040*/                   MUFU.EX2 R5, R6 ;
        /*0050*/               @P0 BRA 0x10 ;
        /*0060*/                   FFMA R7, R8, R9, R10 ;
        /*0070*/              @!P1 BRA 0x60 ;
        /*0080*/                   EXIT ;
        Function : _Z5otherv
        /*0000*/                   EXIT ;
"""


def test_a_loop_with_tensor_core_work_is_counted_by_opcode():
    name, n, found = sass_loops.loops(DUMP, ["kernel"], min_hgmma=2)
    assert name == "_Z6kernelv" and n == 9
    assert len(found) == 1, found  # the FFMA loop at 0x60 holds no HGMMA
    lo, hi, size, hgmma, counts = found[0]
    assert (lo, hi, size) == (0x10, 0x50, 5)
    assert hgmma == ["HGMMA.64x64x16.F32.BF16"]
    assert counts == {"HGMMA": 2, "FMNMX": 1, "MUFU": 1, "BRA": 1}


def test_loops_with_fewer_tensor_core_instructions_than_asked_are_left_out():
    assert sass_loops.loops(DUMP, ["kernel"], min_hgmma=3)[2] == []


def test_no_matching_function():
    assert sass_loops.loops(DUMP, ["missing"]) == (None, 0, [])
