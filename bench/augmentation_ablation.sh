#!/usr/bin/env bash
# Leave-one-out ablation of the photo/style augmentation: one epoch of the shipped fine-tune recipe from the
# same start, with all of today's augmentation or with one group switched off, each then read by
# bench/robustness.py and evaluate.py. Run from a folder holding code/ (a checkout), data/ and val_data/
# (crawl_data.py --image_size=48 --val_ratio=0.15) and init/model.keras (config.json's first train command).
#   bash code/bench/augmentation_ablation.sh            # writes ablation_aug/<variant>/{logs,robustness.json}
set -euo pipefail
declare -A CHANGES=([all]="" [no_hollow]="hollow=0.0" [no_heavy]="heavy=0.0" [no_photo]="clean=1.0")
for variant in all no_hollow no_heavy no_photo; do
  out=ablation_aug/$variant
  mkdir -p "$out"
  python - "$out/start.keras" "${CHANGES[$variant]}" <<'PY'
import sys
sys.path.insert(0, 'code')
import model
from network.augment import GlyphAugmentation
ocr = model.KoOCR(weights='init/model.keras', runtime='keras')
layer, = [layer for layer in ocr.model.layers if isinstance(layer, GlyphAugmentation)]
for change in filter(None, sys.argv[2].split(',')):
    name, value = change.split('=')
    setattr(layer, name, float(value))
ocr.save(sys.argv[1])
PY
  python code/train.py --weights="$out/start.keras" --data_path=./data --val_path=./val_data --epochs=1 \
    --batch_size=128 --optimizer=adam --learning_rate=0.0005 --lr_schedule=cosine --patch_size=40 \
    --log_tensorboard=false --log_dir="$out/logs"
  python code/bench/robustness.py --weights "$out/logs/best.keras" --data_path ./val_data --tesseract false \
    --out "$out/robustness.json"
  python code/evaluate.py --weights="$out/logs/best.keras" --data_path=./val_data --accuracy=true
done
