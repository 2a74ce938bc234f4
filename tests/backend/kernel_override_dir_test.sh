#!/usr/bin/env bash
# tools/kernel_override_dir.py on a real generator output (the DSL examples): every kernel's
# cubin copied, and its .meta carrying the KernelImage's shared memory, TMA templates (count and
# boxes) and warps
# (the producer-fed GEMM: 12 warps, 2 templates; vector add: no TMA). Bad flags exit 2.
set -euo pipefail
script=$1 generated_cc=$2
gen_dir=$(dirname "$generated_cc") name=$(basename "$generated_cc" .cc)
out=$(mktemp -d)
python3 "$script" --gen_dir "$gen_dir" --name "$name" --out "$out" >/dev/null
for inst in vector_add_f32 softmax_f32 softmax_bf16 gemm_bf16 gemm_bf16_ws; do
  cmp -s "$gen_dir/${name}_$inst.cubin" "$out/$inst.cubin" || { echo "FAIL: $inst.cubin not copied"; exit 1; }
  smem=$(grep -A3 "KernelImage ${inst}_image" "$generated_cc" | grep -o 'smem_bytes=\*/[0-9]*' | grep -o '[0-9]*$')
  grep -qx "smem_bytes $smem" "$out/$inst.meta" || { echo "FAIL: $inst.meta: want smem_bytes $smem"; cat "$out/$inst.meta"; exit 1; }
done
grep -qx "num_warps 12" "$out/gemm_bf16_ws.meta" || { echo "FAIL: gemm_bf16_ws warps"; exit 1; }
grep -qx "tma_templates 2" "$out/gemm_bf16_ws.meta" || { echo "FAIL: gemm_bf16_ws templates"; exit 1; }
grep -qx "tma_templates 0" "$out/vector_add_f32.meta" || { echo "FAIL: vector_add templates"; exit 1; }
# Each template's box, in order, as the generated array has them (an override of another block
# shape encodes its own), and none for a kernel without TMA.
want=$(sed -n '/TmaTemplate gemm_bf16_ws_tma\[\]/,/^};/p' "$generated_cc" | grep -o '{[0-9]*, [0-9]*, [0-9]*}' | tr -d '{},' | sed 's/^/tma_template /')
got=$(grep '^tma_template ' "$out/gemm_bf16_ws.meta")
[ -n "$want" ] && [ "$want" = "$got" ] || { echo "FAIL: gemm_bf16_ws boxes: want '$want', got '$got'"; exit 1; }
! grep -q '^tma_template ' "$out/vector_add_f32.meta" || { echo "FAIL: vector_add has tma_template lines"; exit 1; }
set +e
python3 "$script" --gen_dir "$out/none" --name "$name" --out "$out/x" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: missing folder exits $rc, want 2"; exit 1; }
python3 "$script" --nonsense 2>/dev/null; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: bad flag exits $rc, want 2"; exit 1; }
echo PASS
