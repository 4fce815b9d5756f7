#!/usr/bin/env bash
# Ablations for the Needle model (README "Ablations"): the same needle-5m config trained from
# scratch for the same wall-clock budget on one CPU thread, changing one thing at a time, then
# evaluated on held-out synthetic requests (a seed never trained on) in three forms: plain,
# synonym-swapped wording, and masked tool/parameter names.
#   bash examples/ablations.sh [MINUTES] [OUT]
set -euo pipefail
MIN=${1:-12}
OUT=${2:-runs/abl}
mkdir -p "$OUT"
[ -f "$OUT/base.jsonl" ] || needle-router data synth --n 30000 --seed 11 --out "$OUT/base.jsonl" --quiet >/dev/null
[ -f "$OUT/syn.jsonl" ] || needle-router data synth --n 30000 --seed 11 --synonyms 0.6 --out "$OUT/syn.jsonl" --quiet >/dev/null
[ -f "$OUT/heldout.jsonl" ] || needle-router data synth --n 400 --seed 424242 --out "$OUT/heldout.jsonl" --quiet >/dev/null
[ -f "$OUT/heldout_syn.jsonl" ] || needle-router data synth --n 400 --seed 424243 --synonyms 1.0 --out "$OUT/heldout_syn.jsonl" --quiet >/dev/null
[ -f "$OUT/heldout_masked.jsonl" ] || python - "$OUT" <<'PY'
import json, random, sys
from needle_router.data.augment import mask_functions
r, out = random.Random(5), sys.argv[1]
with open(f"{out}/heldout_masked.jsonl", "w") as f:
    for line in open(f"{out}/heldout.jsonl"):
        f.write(json.dumps(mask_functions(json.loads(line), r)) + "\n")
PY
run() {  # name data [train options...]
  local name=$1 data=$2; shift 2
  [ -f "$OUT/$name/model.safetensors" ] || needle-router train --config needle-5m --data "$data" --out "$OUT/$name" \
      --minutes "$MIN" --batch-size 32 --lr 2e-3 --seed 0 --threads 1 "$@" > "$OUT/$name.log" 2>&1
  for split in heldout heldout_syn heldout_masked; do
    [ -f "$OUT/$name/eval_$split/report.json" ] || needle-router eval --data "$OUT/$split.jsonl" --model "$OUT/$name" \
        --out "$OUT/$name/eval_$split" > "$OUT/$name/eval_$split.log" 2>&1
  done
}
run base "$OUT/base.jsonl"
run minilm "$OUT/base.jsonl" --init-embeddings minilm
run synonyms "$OUT/syn.jsonl"
run masking "$OUT/base.jsonl" --mask-functions 0.3
python - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print("| variant | steps | trainer held-out exact | plain exact / tool | synonyms exact / tool | masked exact / tool |")
print("|---|---|---|---|---|---|")
for name in ("base", "minilm", "synonyms", "masking"):
    tr = json.loads((out / name / "train_report.json").read_text())
    cells = []
    for split in ("heldout", "heldout_syn", "heldout_masked"):
        m = json.loads((out / name / f"eval_{split}" / "report.json").read_text())["accuracy"]["overall"]
        cells.append(f"{m['exact']:.1%} / {m['tool_selection']:.1%}")
    print(f"| {name} | {tr['steps']} | {tr.get('heldout_exact_call_accuracy', float('nan')):.1%} | " + " | ".join(cells) + " |")
PY
