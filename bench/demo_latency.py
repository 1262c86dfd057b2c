"""How long the demo takes to answer one drawing on the server: decode, prepare, rank through the shipped
model's LiteRT twin (``handlers.answer_read``), on 가 drawn as the page sends it (a 320 px canvas PNG).

    python bench/demo_latency.py [--calls 50]
"""
import argparse
import io
import os
import statistics
import sys
import time

from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from predict import open_reader  # noqa: E402  (the repository root on the path first)
from utils.demo.handlers import answer_read  # noqa: E402

# 가 with the page's 20 px brush: a ㄱ, then ㅏ's stem and tick.
STROKES = ([(50, 80), (160, 80), (150, 170), (110, 260)], [(225, 40), (225, 290)], [(225, 160), (280, 160)])


def drawing():
    canvas = Image.new('L', (320, 320), 255)
    pen = ImageDraw.Draw(canvas)
    for stroke in STROKES:
        pen.line(stroke, fill=0, width=20, joint='curve')
    buffer = io.BytesIO()
    canvas.save(buffer, 'PNG')
    return buffer.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--calls', type=int, default=50)
    args = parser.parse_args(argv)
    reader, data = open_reader('default'), drawing()
    status, answer = answer_read(reader, data, 'drawing')
    times = []
    for _ in range(args.calls):
        started = time.perf_counter()
        answer_read(reader, data, 'drawing')
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    print(f"top-1 {answer['top'][0]['char']} (status {status}); median {statistics.median(times):.1f} ms, "
          f"90th percentile {times[int(0.9 * (len(times) - 1))]:.1f} ms over {args.calls} calls; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == '__main__':
    main()
