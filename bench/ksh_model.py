# bench/ksh_model.py -- a CPU model of the warp-specialized kernel's key walk with the key-tile shift
# of bench/patches/ksh.patch (key_tiles, the consumer's affine bounds, masked(), mask_rows): for
# the named windows and 300 random ones (Nq != Nk included) every row must keep exactly its window
# clipped to [0, nk), and each consumer's tiles must lie in the producer's union for its super
# tile; prints the tiles walked with and without the shift. Run: python3 bench/ksh_model.py
import random
BK = 64
def ksh_of(lo_off): return ((-lo_off) % BK + BK) % BK   # python % is already non-negative
def check(nq, nk, L, R, NC=4, use_shift=True):
    d = nk - nq; lo_off = d - L; hi_off = d + R
    ksh = ksh_of(lo_off) if use_shift else 0
    lo = lambda i: i + lo_off; hi = lambda i: i + hi_off
    q_tiles = (nq + 63) // 64
    tiles_walked = 0
    for qt0 in range(0, q_tiles, NC):
        # producer: key_tiles over the super tile's rows
        r0, r1 = qt0 * 64, min(min(qt0 + NC, q_tiles) * 64, nq) - 1
        klo, khi = max(0, lo(r0)), min(nk - 1, hi(r1))
        kb = (klo + ksh) // BK; ke = (khi + ksh) // BK + 1 if khi >= klo else kb
        for c in range(NC):
            qt = qt0 + c
            if qt >= q_tiles: continue
            q0 = qt * 64; qlast = min(q0 + 64, nq) - 1
            lb = max(-128, min(nk + 64, q0 + lo_off)); hb = max(-128, min(nk + 64, q0 + hi_off))
            clo = lambda dd: max(0, min(nk, lb + dd)) + ksh
            chi = lambda dd: max(-1, min(nk - 1, hb + dd)) + ksh
            a, b = clo(0), chi(qlast - q0)
            mkb = a >> 6; mke = (b >> 6) + 1 if b >= a else mkb
            assert kb <= mkb and (mke <= ke or mke == mkb), (nq, nk, L, R, qt, kb, ke, mkb, mke)
            full_lo = clo(63) if qlast - q0 == 63 else 2**31 - 1
            full_hi = chi(0)
            tiles_walked += mke - mkb
            for row in range(q0, qlast + 1):
                rlo = clo(row - q0); rhi = chi(row - q0) if row < nq else -1
                kept = set()
                for k in range(mkb, mke):
                    masked = not (k * BK >= full_lo and k * BK + BK - 1 <= full_hi)
                    for col in range(64):
                        sh = k * BK + col          # shifted key coordinate
                        keep = (rlo <= sh <= rhi) if masked else True
                        if keep: kept.add(sh - ksh)  # the real key
                want = set(range(max(0, lo(row)), min(nk - 1, hi(row)) + 1))
                assert kept == want, (nq, nk, L, R, row, sorted(kept - want)[:5], sorted(want - kept)[:5])
    return tiles_walked
random.seed(1)
n = 0
for L, R, nq, nk in [(16, 16, 4096, 4096), (32, 32, 4096, 4096), (144, 144, 4096, 4096), (256, 256, 4096, 4096),
                     (1, 40, 2900, 2900), (20, 20, 3000, 3010), (60, 60, 2500, 2500), (0, 0, 300, 300)]:
    on, off = check(nq, nk, L, R), check(nq, nk, L, R, use_shift=False)
    print(f"window:{L},{R} nq={nq} nk={nk}: tiles walked {off} -> {on}")
for t in range(300):
    nq = random.randint(1, 1200); nk = random.randint(1, 1200)
    L = random.randint(0, 300); R = random.randint(0, 300)
    check(nq, nk, L, R); n += 1
print("random cases ok:", n)
