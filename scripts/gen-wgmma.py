# scripts/gen-wgmma.py -- generates the wgmma inline-asm wrappers (explicit operand lists) for tile_wgmma.cu
def ss(n, ty, name):
    nreg = n // 2
    regs = ",".join(f"%{i}" for i in range(nreg))
    outs = ", ".join(f'"+f"(d[{i}])' for i in range(nreg))
    s = f"""__device__ __forceinline__ void {name}(float *d, uint64_t da, uint64_t db, int scale_d) {{
    asm volatile("{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{nreg+2}, 0;\\n"
                 "wgmma.mma_async.sync.aligned.m64n{n}k16.f32.{ty}.{ty} {{{regs}}}, %{nreg}, %{nreg+1}, p, 1, 1, 0, 0;\\n}}\\n"
                 : {outs}
                 : "l"(da), "l"(db), "r"(scale_d));
}}
"""
    return s
def rs(n, ty, name):
    nreg = n // 2
    regs = ",".join(f"%{i}" for i in range(nreg))
    outs = ", ".join(f'"+f"(d[{i}])' for i in range(nreg))
    s = f"""__device__ __forceinline__ void {name}(float *d, const uint32_t *a, uint64_t db) {{
    asm volatile("{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{nreg+5}, 0;\\n"
                 "wgmma.mma_async.sync.aligned.m64n{n}k16.f32.{ty}.{ty} {{{regs}}}, {{%{nreg},%{nreg+1},%{nreg+2},%{nreg+3}}}, %{nreg+4}, p, 1, 1, 1;\\n}}\\n"
                 : {outs}
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "r"(1));
}}
"""
    return s
out = []
for ty, tn in (("bf16", "bf16"), ("f16", "f16")):
    for n in (16, 64):
        out.append(ss(n, ty, f"wgmma_ss_n{n}_{tn}"))
    for n in (8, 64, 128, 256):
        out.append(rs(n, ty, f"wgmma_rs_n{n}_{tn}"))
print("\n".join(out))
