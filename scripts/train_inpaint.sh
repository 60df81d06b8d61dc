#!/usr/bin/env bash
# Recipe for `inpaint`, the free-form hole filler for photos that `sparsepix restore` uses when
# installed (docs/models/restoration.md). Not shipped yet: it is sized for a lent GPU. The paper's
# objective (multi-scale adversarial, feature matching, corresponding point loss) on BSDS500
# train + test, free-form masks over 5-50 % (train/corruptions.free_form_holes).
# A CPU smoke run: PRESET=tiny STEPS=2 CROP=64 BATCH=2 WORKERS=0 OUT=/tmp/inpaint bash scripts/train_inpaint.sh
set -euo pipefail
D=${DATA:-../shared/datasets/bsds500}
OUT=${OUT:-runs/inpaint}
sparsepix train --data "$D/train" --data "$D/test" --out "$OUT" --task inpaint \
    --preset "${PRESET:-refine-32-deep}" --loss xgan --crop "${CROP:-256}" --batch "${BATCH:-16}" \
    --steps "${STEPS:-6000}" --lr 2e-4 --schedule cosine --warmup 500 --echo 2 \
    --workers "${WORKERS:-15}" --seed 35 --val-every 500 --ckpt-every 1000 ${TIME_LIMIT:+--time-limit "$TIME_LIMIT"}
sparsepix export "$OUT/latest.pt" inpaint --out "${WEIGHTS:-models/weights}" --version 1 --description \
    "X-GAN inpainter of free-form holes (${PRESET:-refine-32-deep}), BSDS500, strokes and boxes over 5-50 %"
