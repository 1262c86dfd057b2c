"""KoOCR against Tesseract 5 (Korean) in one run: same held-out glyphs, same machine, both cores each.

    nice -n 10 python bench/tesseract_vs_koocr.py --weights default --limit 3000

Both read the validation patches crawl_data.py made from fonts no training run saw, printed and
handwriting-style (clova, handwritten) counted apart. KoOCR ranks the patches directly (``ocr.rank``, batches
of 256). Tesseract (``tesserocr``, lang='kor', one process per core, each with its own API) gets the same
glyphs rescaled to a few sizes on a white border, at page segmentation modes 10, 8 and 7: the size and mode
that give it the best mean top-1 on a separate tuning sample are the ones measured. Prints a markdown table
and writes a JSON of the results (--out).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context

os.environ.setdefault('OMP_THREAD_LIMIT', '1')  # one thread per Tesseract process: the processes use the cores
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from utils import hangul  # noqa: E402
from utils.crawl import read_manifest  # noqa: E402
from utils.patches import list_patches, read_patch  # noqa: E402

GROUPS = {'printed': ('printed',), 'handwriting': ('clova', 'handwritten')}
TESSDATA = '/usr/share/tesseract-ocr/5/tessdata'


def load_groups(data_path, limit, tune):
    """{group: dict(images, labels, tune_images, tune_labels)}: a deterministic shuffle of each group's patches;
    its first ``tune`` images choose Tesseract's settings, the next ``limit`` (0: all) are the test sample."""
    groups = {}
    for group, kinds in GROUPS.items():
        parts = [read_patch(path) for path in list_patches(data_path, kinds)]
        if not parts:
            continue
        images = np.concatenate([p.images for p in parts])
        labels = np.concatenate([p.labels for p in parts])
        order = np.random.default_rng(0).permutation(len(images))
        disjoint = len(order) > tune
        chosen, tuning = (order[tune:] if disjoint else order)[:limit or None], order[:tune]
        groups[group] = dict(images=images[chosen], labels=labels[chosen],
                             tune_images=images[tuning], tune_labels=labels[tuning], tune_disjoint=disjoint)
    if not groups:
        raise SystemExit(f'{data_path}: no printed/clova/handwritten patches')
    return groups


def held_out_fonts(data_path):
    """{group: ['Family Style', ...]} of the validation fonts named by the folder's manifest.tsv."""
    path = os.path.join(data_path, 'manifest.tsv')
    rows = read_manifest(path) if os.path.isfile(path) else []
    return {group: [f"{r['family']} {r['style']}" for r in rows if r['split'] == 'val' and r['kind'] in kinds]
            for group, kinds in GROUPS.items()}


def tesseract_syllables(tessdata):
    """The KS X 1001 syllables in kor.traineddata's LSTM unicharset: all that Tesseract can ever output."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(['combine_tessdata', '-u', os.path.join(tessdata, 'kor.traineddata'),
                        os.path.join(tmp, 'kor.')], check=True, capture_output=True)
        with open(os.path.join(tmp, 'kor.lstm-unicharset'), encoding='utf-8') as f:
            unichars = {line.split(' ')[0] for line in f.read().splitlines()[1:]}
    return [c for c in hangul.load_charset('ksx1001') if c in unichars]


# Tesseract ----------------------------------------------------------------------------------------------

def for_tesseract(image, size):
    """A patch scaled to size px, on a white border of size/6 px (8 px at 48)."""
    border = size // 6
    canvas = Image.new('L', (size + 2 * border,) * 2, 255)
    canvas.paste(Image.fromarray(image).resize((size, size), Image.BICUBIC), (border, border))
    return np.asarray(canvas)


_apis = {}


def _init_worker(tessdata):
    global TESSDATA
    TESSDATA = tessdata


def _api(psm):
    import tesserocr
    if psm not in _apis:
        _apis[psm] = tesserocr.PyTessBaseAPI(path=TESSDATA, lang='kor', psm=psm)
    return _apis[psm]


def _read_one(api, image):
    api.SetImageBytes(image.tobytes(), image.shape[1], image.shape[0], 1, image.shape[1])
    return api.GetUTF8Text().strip()


def _read_chunk(job):
    psm, images = job
    api = _api(psm)
    return [_read_one(api, image) for image in images]


def tesseract_read(pool, psm, images, workers):
    """Tesseract's text for each image, spread over the pool in small chunks to keep both processes busy."""
    chunks = np.array_split(np.asarray(images), workers * 8)
    return [text for part in pool.map(_read_chunk, [(psm, c) for c in chunks]) for text in part]


def bench_tesseract(groups, tessdata, psms, sizes, workers, latency_n):
    import tesserocr
    results = dict(engine=f'tesserocr {tesserocr.__version__}, '
                          f'{tesserocr.tesseract_version().splitlines()[0]}, lang=kor',
                   model_mb=os.path.getsize(os.path.join(tessdata, 'kor.traineddata')) / 2**20, tuning=[])
    with get_context('spawn').Pool(workers, _init_worker, (tessdata,)) as pool:
        for size in sizes:
            tune = {g: [for_tesseract(i, size) for i in d['tune_images']] for g, d in groups.items()}
            for psm in psms:
                top1 = {g: float(np.mean(np.array(tesseract_read(pool, psm, tune[g], workers))
                                         == groups[g]['tune_labels'])) for g in groups}
                results['tuning'].append(dict(psm=psm, size=size, top1=top1))
                print(f'Tesseract tuning: psm {psm}, {size} px: {top1}', flush=True)
        best = max(results['tuning'], key=lambda t: np.mean(list(t['top1'].values())))
        psm, size = best['psm'], best['size']
        images = {g: [for_tesseract(i, size) for i in d['images']] for g, d in groups.items()}
        started = time.perf_counter()
        texts = {g: tesseract_read(pool, psm, images[g], workers) for g in groups}
        seconds = time.perf_counter() - started
    results.update(psm=psm, size=size, images_per_s=sum(map(len, texts.values())) / seconds,
                   correct={g: np.array(texts[g]) == groups[g]['labels'] for g in groups})
    singles = [i for g in groups for i in images[g][:latency_n]][:latency_n]
    with tesserocr.PyTessBaseAPI(path=tessdata, lang='kor', psm=psm) as api:
        _read_one(api, singles[0])
        results['latency_ms'] = median_ms(lambda image: _read_one(api, image), singles)
    return results


# KoOCR --------------------------------------------------------------------------------------------------

def bench_koocr(groups, weights, latency_n):
    import model
    ocr = model.KoOCR(weights=weights)
    size = ocr.image_size
    inputs = {g: (d['images'] if d['images'].shape[1] == size else ocr.prepare(list(d['images'])))
              .astype(np.float32) for g, d in groups.items()}
    batch = np.concatenate(list(inputs.values()))
    ocr.rank(batch[:300]), ocr.rank(batch[:1])  # warm up both paths (model.predict, predict_on_batch)
    started = time.perf_counter()
    ranked = ocr.rank(batch, n=5)
    seconds = time.perf_counter() - started
    results = dict(engine=f'KoOCR {ocr.weights_path}', images_per_s=len(batch) / seconds,
                   model_mb=os.path.getsize(ocr.weights_path) / 2**20, correct={}, top5={},
                   ksx1001_syllables=len(set(ocr.charset) & set(hangul.load_charset())))
    for g, d in groups.items():
        mine, ranked = ranked[:len(d['labels'])], ranked[len(d['labels']):]
        results['correct'][g] = np.array([r[0] for r in mine]) == d['labels']
        results['top5'][g] = float(np.mean([label in r for r, label in zip(mine, d['labels'])]))
    singles = [i for d in groups.values() for i in d['images'][:latency_n]][:latency_n]
    for image in singles[:10]:
        ocr.predict(image)
    results['latency_ms'] = median_ms(ocr.predict, singles)
    return results


def median_ms(call, items):
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


# Report -------------------------------------------------------------------------------------------------

def summarize(results, groups, covered):
    """Accuracies from the per-image right/wrong arrays: top-1 per group, and on the syllables Tesseract has."""
    for r in results.values():
        correct = r.pop('correct')
        r['top1'] = {g: float(np.mean(correct[g])) for g in groups}
        r['top1_tesseract_charset'] = {g: float(np.mean(correct[g][np.isin(groups[g]['labels'], covered)]))
                                       for g in groups}


def table(results, groups, fonts, covered):
    k, t = results['koocr'], results['tesseract']
    pct = '{:.1%}'.format
    rows = [('', 'KoOCR', f"Tesseract 5 (kor, PSM {t['psm']}, {t['size']} px glyphs)")]
    for g in groups:
        label = f"top-1, {g} ({len(groups[g]['labels']):,} images, {len(fonts[g])} held-out fonts)"
        rows.append((label, pct(k['top1'][g]), pct(t['top1'][g])))
    for g in groups:
        rows.append((f'top-1, {g}, only the {len(covered):,} syllables Tesseract can output',
                     pct(k['top1_tesseract_charset'][g]), pct(t['top1_tesseract_charset'][g])))
    rows += [(f'top-5, {g}', pct(k['top5'][g]), '—') for g in groups]
    rows += [
        (f'batched throughput, images/s ({os.cpu_count()} cores)', f"{k['images_per_s']:,.0f}",
         f"{t['images_per_s']:,.0f}"),
        ('one image, ms (median of single calls)', f"{k['latency_ms']:.1f}", f"{t['latency_ms']:.1f}"),
        ('model size, MB', f"{k['model_mb']:.1f}", f"{t['model_mb']:.1f}"),
        ('KS X 1001 syllables it can output (of 2,350)', f"{k['ksx1001_syllables']:,}", f'{len(covered):,}'),
    ]
    lines = ['| ' + ' | '.join(r) + ' |' for r in rows]
    return '\n'.join(lines[:1] + ['|---|---|---|'] + lines[1:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='default', help="KoOCR model: 'default' (shipped) or a .keras file")
    parser.add_argument('--data_path', default='/work/koocr-data/val_data', help='held-out validation patches')
    parser.add_argument('--limit', type=int, default=0,
                        help='test images per group, sampled deterministically (0: all but the tuning ones)')
    parser.add_argument('--tune', type=int, default=300, help='images per group to choose Tesseract settings')
    parser.add_argument('--psms', default='10,8,7', help='Tesseract page segmentation modes to try')
    parser.add_argument('--sizes', default='32,48,64,96,128', help='glyph sizes (px) to try for Tesseract')
    parser.add_argument('--latency_n', type=int, default=200, help='single calls for the latency median')
    parser.add_argument('--workers', type=int, default=os.cpu_count(), help='Tesseract processes')
    parser.add_argument('--tessdata', default=TESSDATA, help='folder holding kor.traineddata')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'tesseract_vs_koocr.json'))
    args = parser.parse_args(argv)

    groups = load_groups(args.data_path, args.limit, args.tune)
    fonts = held_out_fonts(args.data_path)
    covered = tesseract_syllables(args.tessdata)
    load = os.getloadavg()
    results = {'koocr': bench_koocr(groups, args.weights, args.latency_n),
               'tesseract': bench_tesseract(groups, args.tessdata, [int(p) for p in args.psms.split(',')],
                                            [int(s) for s in args.sizes.split(',')], args.workers, args.latency_n)}
    summarize(results, groups, covered)
    report = table(results, groups, fonts, covered)
    print(report)
    cpu = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')),
               platform.processor())
    summary = dict(command=' '.join(sys.argv), data_path=args.data_path, held_out_fonts=fonts,
                   images={g: len(d['labels']) for g, d in groups.items()},
                   tuning_sample_disjoint={g: bool(d['tune_disjoint']) for g, d in groups.items()},
                   machine=f'{cpu}, {os.cpu_count()} cores, {platform.platform()}', load_average_at_start=load,
                   tesseract_ksx1001_syllables=len(covered), results=results, table=report)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
