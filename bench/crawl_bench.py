"""Time crawl_data.py on every installed Korean font (or --font_path) into a temporary folder.

    python bench/crawl_bench.py                    # 64 and 96 px, the KS X 1001 charset
    python bench/crawl_bench.py --image_size 96

Prints a Markdown table: fonts, images, wall seconds (font scan included), CPU seconds of the crawl and its
render workers (what the wall time would shrink to on idle cores, divided by their number), images/s
(wall) and the patches' size on disk.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from utils.data.patches import read_manifest  # noqa: E402


def crawl(image_size, charset, font_path, folder):
    """Run crawl_data.py once; returns (fonts, images, wall seconds, CPU seconds, bytes on disk)."""
    data, val = os.path.join(folder, 'data'), os.path.join(folder, 'val_data')
    command = [sys.executable, os.path.join(ROOT, 'crawl_data.py'), f'--image_size={image_size}',
               f'--charset={charset}', f'--font_path={font_path}', f'--pickle_path={data}', f'--val_path={val}']
    started, cpu_before = time.time(), _children_cpu()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds, cpu = time.time() - started, _children_cpu() - cpu_before
    rows = read_manifest(os.path.join(data, 'manifest.tsv'))
    size = sum(os.path.getsize(os.path.join(f, name)) for f in (data, val) for name in os.listdir(f))
    return len(rows), sum(row['glyphs'] for row in rows), seconds, cpu, size


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--image_size', type=int, nargs='+', default=[64, 96])
    parser.add_argument('--charset', default='ksx1001')
    parser.add_argument('--font_path', default=None, help='default: the Korean fonts installed on this machine')
    args = parser.parse_args()
    print(f'{os.cpu_count()} cores; charset {args.charset}')
    print('| image size | fonts | images | wall s | CPU s | images/s | disk MB |')
    print('|---|---|---|---|---|---|---|')
    for image_size in args.image_size:
        with tempfile.TemporaryDirectory() as folder:
            font_path = args.font_path or os.path.join(folder, 'no_fonts')  # empty: the installed fonts
            fonts, images, seconds, cpu, size = crawl(image_size, args.charset, font_path, folder)
        print(f'| {image_size} | {fonts} | {images:,} | {seconds:.0f} | {cpu:.0f} | {images / seconds:,.0f} '
              f'| {size / 2 ** 20:,.0f} |', flush=True)


if __name__ == '__main__':
    main()
