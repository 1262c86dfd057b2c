"""KoOCR against Tesseract 5 (Korean) in one run: same held-out glyphs, same machine, both cores each.

    nice -n 10 python bench/tesseract_vs_koocr.py --weights default --limit 3000

Both read the validation patches crawl_data.py made from fonts no training run saw, printed and
handwriting-style (clova, handwritten) counted apart. KoOCR ranks the patches directly (``ocr.rank``, batches
of 256); one image is one ``ocr.predict`` on the raw patch, preprocessing included. Tesseract (``tesserocr``,
lang='kor', one process per core, each with its own API) gets the same glyphs rescaled to a few sizes on a
white border, at page segmentation modes 10, 8 and 7: the size and mode that give it the best mean top-1 on a
separate tuning sample are the ones measured; one image is one SetImageBytes + GetUTF8Text. Speed is measured
with the engines taking turns, so both see the same load. Prints a markdown table, writes a JSON (--out).
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
from utils.data import hangul  # noqa: E402
from utils.data.patches import read_manifest  # noqa: E402
from utils.data.patches import list_patches, read_patch  # noqa: E402

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


# Engines: inputs(patches) once, then read_batch(inputs) (top-n lists) and read_one(one image) ---------------

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


class Tesseract:
    """tesserocr with lang='kor': ``workers`` processes with an API each for batches, this process for one."""

    def __init__(self, tessdata, workers):
        import tesserocr
        self.tessdata, self.workers, self.psm, self.size = tessdata, workers, 10, 48
        self.name = f'tesserocr {tesserocr.__version__}, {tesserocr.tesseract_version().splitlines()[0]}'
        self.model_file = os.path.join(tessdata, 'kor.traineddata')
        self.syllables = tesseract_syllables(tessdata)
        _init_worker(tessdata)  # read_one runs here
        self.pool = get_context('spawn').Pool(workers, _init_worker, (tessdata,))

    def tune(self, groups, psms, sizes):
        """Keep the (psm, size) with the best mean top-1 over the groups' tuning samples; returns all tried."""
        tried = []
        for self.size in sizes:
            images = {g: self.inputs(d['tune_images']) for g, d in groups.items()}
            for self.psm in psms:
                top1 = {g: top1_of(self.read_batch(images[g]), d['tune_labels']) for g, d in groups.items()}
                tried.append(dict(psm=self.psm, size=self.size, top1=top1))
                print(f'Tesseract tuning: psm {self.psm}, {self.size} px: {top1}', flush=True)
        best = max(tried, key=lambda t: np.mean(list(t['top1'].values())))
        self.psm, self.size = best['psm'], best['size']
        return tried

    def inputs(self, images):
        return [for_tesseract(image, self.size) for image in images]

    def read_batch(self, inputs):
        step = max(1, -(-len(inputs) // (self.workers * 8)))  # small chunks keep every process busy
        chunks = [inputs[start:start + step] for start in range(0, len(inputs), step)]  # images may differ in size
        return [[text] for part in self.pool.map(_read_chunk, [(self.psm, c) for c in chunks]) for text in part]

    def read_one(self, image):
        return _read_one(_api(self.psm), image)

    def close(self):
        self.pool.terminate()


class KoOCR:
    """The KoOCR model: ``ocr.rank`` (batches of 256) on patches, ``ocr.predict`` on one raw image."""

    def __init__(self, weights, runtime):
        import model
        self.ocr = model.KoOCR(weights=weights, runtime=runtime)
        self.name = 'KoOCR (LiteRT)' if self.ocr.lite else 'KoOCR (Keras)'
        self.model_file = self.ocr.lite.path if self.ocr.lite else self.ocr.weights_path
        self.syllables = self.ocr.charset

    def inputs(self, images):
        size = self.ocr.image_size
        return (images if images.shape[1] == size else self.ocr.prepare(list(images))).astype(np.float32)

    def read_batch(self, inputs):
        return self.ocr.rank(inputs, n=5)

    def read_one(self, image):
        return self.ocr.predict(image)


def top1_of(ranked, labels):
    return float(np.mean([r[0] == label for r, label in zip(ranked, labels)]))


def images_per_s(engine, inputs):
    started = time.perf_counter()
    engine.read_batch(inputs)
    return len(inputs) / (time.perf_counter() - started)


# Report -------------------------------------------------------------------------------------------------

def table(results, groups, fonts, covered, tesseract):
    k, t = results['koocr'], results['tesseract']
    pct = '{:.1%}'.format
    rows = [('', 'KoOCR', f'Tesseract 5 (kor, PSM {tesseract.psm}, {tesseract.size} px glyphs)')]
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


def run(args):
    groups = load_groups(args.data_path, args.limit, args.tune)
    koocr, tesseract = KoOCR(args.weights, args.runtime), Tesseract(args.tessdata, args.workers)
    engines, covered = {'koocr': koocr, 'tesseract': tesseract}, tesseract.syllables
    try:
        tuning = tesseract.tune(groups, [int(p) for p in args.psms.split(',')], [int(s) for s in args.sizes.split(',')])
        results, inputs = {}, {}
        for name, engine in engines.items():
            inputs[name] = {g: engine.inputs(d['images']) for g, d in groups.items()}
            engine.read_batch(inputs[name][next(iter(groups))][:300])  # warm up
            ranked = {g: engine.read_batch(inputs[name][g]) for g in groups}
            right = {g: np.array([r[0] == label for r, label in zip(ranked[g], groups[g]['labels'])]) for g in groups}
            results[name] = dict(
                engine=f'{engine.name} ({engine.model_file})', model_mb=os.path.getsize(engine.model_file) / 2**20,
                ksx1001_syllables=len(set(engine.syllables) & set(hangul.load_charset())),
                top1={g: float(right[g].mean()) for g in groups},
                top1_tesseract_charset={g: float(right[g][np.isin(groups[g]['labels'], covered)].mean())
                                        for g in groups},
                top5={g: float(np.mean([label in r for r, label in zip(ranked[g], groups[g]['labels'])]))
                      if name == 'koocr' else None for g in groups})
        # Speed, the engines taking turns so that both see the same load on a shared machine: batched rounds on
        # the same images (median), then single images, one call of each in turn (the first 10 warm up).
        rounds, times = {name: [] for name in engines}, {name: [] for name in engines}
        for _ in range(args.rounds):
            for name, engine in engines.items():
                batch = [x for g in groups for x in inputs[name][g][:args.speed_n]]
                rounds[name].append(images_per_s(engine, np.asarray(batch)))
        inputs['koocr'] = {g: d['images'] for g, d in groups.items()}  # one KoOCR image: raw, preprocessing included
        n = args.latency_n + 10
        singles = {name: [x for g in groups for x in inputs[name][g][:n]][:n] for name in engines}
        for i in range(len(singles['koocr'])):
            for name, engine in engines.items():
                started = time.perf_counter()
                engine.read_one(singles[name][i])
                times[name].append(time.perf_counter() - started)
        for name in engines:
            results[name].update(images_per_s=float(np.median(rounds[name])), images_per_s_rounds=rounds[name],
                                 latency_ms=1000 * float(np.median(times[name][10:])))
        results['tesseract'].update(psm=tesseract.psm, size=tesseract.size, tuning=tuning)
    finally:
        tesseract.close()
    return groups, covered, results, tesseract


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='default', help="KoOCR model: 'default' (shipped) or a .keras file")
    parser.add_argument('--runtime', default='auto', choices=('auto', 'keras', 'litert'),
                        help="what KoOCR runs on: 'auto' = the LiteRT twin beside the model when there is one")
    parser.add_argument('--data_path', default='/work/koocr-data/val_data', help='held-out validation patches')
    parser.add_argument('--limit', type=int, default=0,
                        help='test images per group, sampled deterministically (0: all but the tuning ones)')
    parser.add_argument('--tune', type=int, default=500, help='images per group to choose Tesseract settings')
    parser.add_argument('--psms', default='10,8,7', help='Tesseract page segmentation modes to try')
    parser.add_argument('--sizes', default='32,48,64,96,128', help='glyph sizes (px) to try for Tesseract')
    parser.add_argument('--speed_n', type=int, default=2000, help='images per group in each batched speed round')
    parser.add_argument('--rounds', type=int, default=3, help='batched speed rounds, the engines taking turns')
    parser.add_argument('--latency_n', type=int, default=200, help='single calls for the latency median')
    parser.add_argument('--workers', type=int, default=os.cpu_count(), help='Tesseract processes')
    parser.add_argument('--tessdata', default=TESSDATA, help='folder holding kor.traineddata')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'tesseract_vs_koocr.json'))
    args = parser.parse_args(argv)

    load = os.getloadavg()
    groups, covered, results, tesseract = run(args)
    fonts = held_out_fonts(args.data_path)
    report = table(results, groups, fonts, covered, tesseract)
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
