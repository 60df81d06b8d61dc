#!/usr/bin/env bash
# Recipe for `natural-gan`, the perceptual codec decoder: `natural` fine-tuned with the X-GANs
# objective (multi-scale LSGAN, feature matching, corresponding point loss) held near the
# original by a dominant L1 term (`--loss fidelity`; VGG only with --vgg-weights). Not shipped
# yet: sized for a lent GPU, crops made on it (`--data-path device`). BSDS500 train + test,
# sparse 1-20 %, quality-65 values, as `natural` trained on.
# Shipped when it wins at 0.10 bpp on Kodak (docs/TRAINING.md). The CPU stability check:
#   CROP=128 BATCH=4 STEPS=1000 VAL_EVERY=100 EMA=0.99 DEVICE=cpu DATA_PATH=workers WORKERS=0 NO_EXPORT=1 \
#   OUT=/tmp/natural-gan bash scripts/train_natural-gan.sh
set -euo pipefail
D=${DATA:-../shared/datasets/bsds500}
OUT=${OUT:-runs/natural-gan}
STEPS=${STEPS:-6000}
sparsepix train --data "$D/train" --data "$D/test" --val-count 8 --out "$OUT" --task sparse \
    --preset refine-32-deep --init "${INIT:-models/weights/natural.pt}" --loss fidelity --quality 65 \
    --crop "${CROP:-256}" --batch "${BATCH:-16}" --steps "$STEPS" --lr 1e-4 --beta1 0.5 \
    --schedule cosine --warmup 100 --device "${DEVICE:-auto}" --data-path "${DATA_PATH:-device}" \
    --ema "${EMA:-0.999}" --workers "${WORKERS:-2}" --seed 36 --val-every "${VAL_EVERY:-500}" --ckpt-every "${VAL_EVERY:-500}" \
    ${TIME_LIMIT:+--time-limit "$TIME_LIMIT"}
if [ -z "${NO_EXPORT:-}" ]; then
    sparsepix export "$OUT/latest.pt" natural-gan --out "${WEIGHTS:-models/weights}" --version 1 --description \
        "natural fine-tuned with the X-GANs adversarial objective and a dominant L1 term (refine-32-deep), BSDS500, sparse 1-20 %, quality-65 values"
fi
