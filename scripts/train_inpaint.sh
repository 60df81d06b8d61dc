#!/usr/bin/env bash
# inpaint v2: the free-form hole filler that `sparsepix restore --mask` uses
# (docs/models/inpaint.md): natural v8 fine-tuned on BSDS500 train + test with free-form holes
# over 5-50 % (train/corruptions.free_form_holes), squared error. Ran on this project's 2-core
# CPU: a 40-minute run stopped at step 3858 (v1), resumed for 18 minutes to step 5604 (v2);
# resumes are exact, so --stop-at 5604 replays both.
# A smoke run: STOP_AT=2 CROP=32 BATCH=2 WORKERS=0 RUN=/tmp/inp WEIGHTS=/tmp/inp-w bash scripts/train_inpaint.sh
# A GPU lease continues from v2: INIT=models/weights/inpaint.pt with --batch 16 --crop 256
# --data-path workers --workers 15 --echo 2 and a fresh --stop-at or --time-limit.
set -euo pipefail
D=${DATA:-../shared/datasets/bsds500}
RUN=${RUN:-runs/inpaint}
if [ -z "${INIT:-}" ]; then
    INIT="$RUN-natural-v8.pt"
    mkdir -p "$(dirname "$RUN")" && git show 110a74d:models/weights/natural.pt > "$INIT"
fi
sparsepix train --data "$D/train" --data "$D/test" --val-count 8 --out "$RUN" --task inpaint \
    --preset refine-32-deep --init "$INIT" --loss l2 --beta1 0.9 --lr 1e-4 --warmup 100 \
    --crop "${CROP:-128}" --batch "${BATCH:-8}" --steps 100000 --workers "${WORKERS:-1}" --seed 35 \
    --val-every 500 --ckpt-every 500 --device "${DEVICE:-cpu}" --stop-at "${STOP_AT:-5604}"
sparsepix export "$RUN/latest.pt" inpaint --out "${WEIGHTS:-models/weights}" --version 2 --description \
    "X-GAN filler of free-form holes (refine-32-deep, from natural v8), BSDS500, strokes and boxes over 5-50 %, squared error"
