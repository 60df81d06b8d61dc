#!/usr/bin/env bash
# natural or natural-opt on the CPU, chained: one planned schedule of cosine stages run session
# after session in the background (docs/TRAINING.md, "Chained CPU training"). Each stage is
# STAGE_STEPS steps of a cosine decay with warmup (a warm restart); stage 1 starts from the shipped
# natural weights, stage k from stage k-1's EMA, each with its own seed (new crops). MODEL=natural-opt
# trains the same network on values tuned by least squares (what default encodes store). One call
# trains until MINUTES of wall time have passed, saves and exits; call it again to go on. Run
# folders live outside the work tree, so a machine that keeps them resumes exactly; a machine
# without them restarts stage 1 from the shipped weights (whatever version ships then).
#   nice -n 19 bash scripts/train_natural-chain.sh          # resume or start, 150 minutes
#   MODEL=natural-opt nice -n 19 bash scripts/train_natural-chain.sh
#   MINUTES=1 STAGE_STEPS=4 BATCH=1 CROP=64 RUNS=/tmp/chain bash scripts/train_natural-chain.sh
set -euo pipefail
# Linux groups each terminal session's processes and shares the CPU between the groups, so `nice`
# alone yields only to this session's other processes: lower the group's weight too.
echo 19 2>/dev/null > /proc/self/autogroup || true
DATA=${DATA:-../shared/datasets}
MODEL=${MODEL:-natural}
case $MODEL in
    natural) TUNE=0 ;;
    natural-opt) TUNE=50 ;;  # encode's least-squares iterations (effort 1-3)
    *) echo "MODEL must be natural or natural-opt" >&2; exit 2 ;;
esac
RUNS=${RUNS:-$HOME/.cache/sparsepix/$MODEL-chain}
STAGE_STEPS=${STAGE_STEPS:-4000}
MINUTES=${MINUTES:-150}
BATCH=${BATCH:-4}
CROP=${CROP:-320}
WORKERS=${WORKERS:-1}
# Stage 1 of either starts from natural: the shipped natural-opt v2 is the smaller refine-16
# (once a refine-32-deep natural-opt ships, its own weights are the natural-opt start).
WEIGHTS=${WEIGHTS:-models/weights/natural.pt}
mkdir -p "$RUNS"

# The highest stage with a checkpoint, and whether it reached its own end.
read -r STAGE DONE < <(python3 - "$RUNS" <<'EOF'
import sys
from pathlib import Path
from sparsepix.train import checkpoint
stages = sorted(int(p.name[5:]) for p in Path(sys.argv[1]).glob("stage*") if (p / "latest.pt").is_file())
if not stages:
    print(0, 1)
else:
    run = checkpoint.load_run(Path(sys.argv[1]) / f"stage{stages[-1]}" / "latest.pt")
    print(stages[-1], int(run["step"] >= run["config"]["steps"]))
EOF
)

if [ "$DONE" = 0 ]; then
    echo "chain: resuming stage $STAGE" >&2
    exec sparsepix train --resume "$RUNS/stage$STAGE/latest.pt" --workers "$WORKERS" \
        --time-limit "$MINUTES"
fi
if [ "$STAGE" = 0 ]; then INIT=$WEIGHTS; else INIT=$RUNS/stage$STAGE/latest.pt; fi
NEXT=$((STAGE + 1))
echo "chain: stage $NEXT from $INIT" >&2
# BSDS500 train + test and photos/; bsds500/val and Kodak stay for evaluation. The last 8 files
# by path (photos/popos_*) are the run's own validation.
exec sparsepix train --data "$DATA/bsds500/train" --data "$DATA/bsds500/test" --data "$DATA/photos" \
    --val-count 8 --out "$RUNS/stage$NEXT" --preset refine-32-deep --init "$INIT" --loss l2 \
    --task sparse --quality 65 --optimize "$TUNE" --crop "$CROP" --lr 1e-4 --schedule cosine \
    --warmup 200 --beta1 0.9 --batch "$BATCH" --steps "$STAGE_STEPS" --workers "$WORKERS" \
    --seed $((40 + NEXT)) --val-every 500 --ckpt-every 100 --time-limit "$MINUTES"
