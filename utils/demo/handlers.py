"""What the demo answers, as plain functions of bytes: an image in, the top syllables and the image the model
saw out, or a message written for the page. No sockets here, so tests call them without a server."""
import base64
import csv
import io
import os
import sys
import time
import traceback
import warnings

from PIL import Image, UnidentifiedImageError

from utils.inference.preprocess import prepare
from utils.io import ROOT

EXAMPLES = os.path.join(ROOT, 'examples')
PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'page.html')
MAX_UPLOAD_BYTES = 10 * 2 ** 20
MAX_PIXELS = 50_000_000
TOP_N = 5
# Formats PIL decodes itself: others it knows (EPS, say) would start external programs on an upload.
IMAGE_FORMATS = ('PNG', 'JPEG', 'GIF', 'BMP', 'TIFF', 'WEBP')
EMPTY = {
    'drawing': 'The canvas is empty: draw a syllable first.',
    'upload': 'No ink found: the image looks blank, or too faint to tell ink from paper.',
}
EMPTY['example'] = EMPTY['upload']
NOT_AN_IMAGE = 'This file is not an image the demo can read: upload a PNG, JPEG, GIF, BMP, TIFF or WebP picture.'


class BadInput(ValueError):
    """An input the demo refuses: the message is shown on the page as it is, ``status`` is the HTTP status."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def megabytes(size):
    """Bytes -> '10 MB', '12.5 MB'."""
    return f'{size / 2 ** 20:.1f}'.removesuffix('.0') + ' MB'


def too_large(size):
    return BadInput(f'The file is {megabytes(size)}; the demo reads files up to {megabytes(MAX_UPLOAD_BYTES)}.', 413)


def check_length(header):
    """A request's Content-Length header -> the body's size; BadInput when it is missing, not a size, or over
    MAX_UPLOAD_BYTES (refused before the body is read)."""
    if header is None:
        raise BadInput('No image arrived: the request had no Content-Length.', 411)
    try:
        size = int(header)
    except ValueError:
        size = -1
    if size < 0:
        raise BadInput(f'Content-Length {header!r} is not a size in bytes.')
    if size > MAX_UPLOAD_BYTES:
        raise too_large(size)
    return size


def open_image(data):
    """Uploaded bytes -> a decoded PIL image. BadInput when there is nothing, no image, over MAX_PIXELS pixels
    (checked from the header, before anything is decoded) or a damaged file."""
    if not data:
        raise BadInput('The file is empty: nothing to read.')
    if len(data) > MAX_UPLOAD_BYTES:
        raise too_large(len(data))
    limit = f'the demo reads images up to {MAX_PIXELS / 1e6:.0f} megapixels'
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)  # the pixel limit below is ours
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise BadInput(f'The image has over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels; {limit}.',
                       413) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise BadInput(NOT_AN_IMAGE) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise BadInput(f'The image is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels); {limit}.',
                       413)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise BadInput(f'The image could not be decoded ({e}): the file may be cut short or damaged.') from None
    return image


def png_data_url(gray):
    """uint8 (H, W) -> 'data:image/png;base64,...' for an <img>."""
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, format='PNG')
    return 'data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode('ascii')


def read_image(reader, image, source='upload'):
    """A decoded image -> {'top': [{'char', 'p'}] best first, 'prepared': the model's input as a PNG data URL}.
    ``reader`` is what predict.open_reader gives (image_size, rank); a blank image is BadInput."""
    try:
        prepared = prepare(image, reader.image_size)
    except (ValueError, TypeError) as e:
        raise BadInput(f'The image could not be read: {e}') from None
    if prepared.min() == 255:  # prepare's answer when it finds no ink
        raise BadInput(EMPTY[source])
    top, = reader.rank(prepared[None], n=TOP_N, probabilities=True)
    return {'top': [{'char': char, 'p': round(float(p), 6)} for char, p in top], 'prepared': png_data_url(prepared)}


def answer_read(reader, data, source='upload'):
    """A POST /read body -> (HTTP status, JSON-able dict): the answer with 'ms' (server time: decode,
    prepare, rank), or {'error': message}. Never raises: an unexpected failure is logged with its
    traceback on stderr and answered with a one-line message, so the server keeps serving."""
    if source not in EMPTY:
        return 400, {'error': f'Unknown source {source!r}; expected one of {", ".join(EMPTY)}.'}
    start = time.perf_counter()
    try:
        answer = read_image(reader, open_image(data), source)
    except BadInput as e:
        return e.status, {'error': str(e)}
    except Exception as e:  # noqa: BLE001  (the page gets a message, the log the traceback)
        traceback.print_exc(file=sys.stderr)
        return 500, {'error': f'The server failed to read this image ({type(e).__name__}); its log says why.'}
    answer['ms'] = round((time.perf_counter() - start) * 1000, 1)
    return 200, answer


def example_list(folder=EXAMPLES):
    """The examples that ``folder/labels.tsv`` lists, handwriting-style first: [{'file', 'label', 'kind'}]."""
    with open(os.path.join(folder, 'labels.tsv'), encoding='utf-8') as f:
        rows = [{key: row[key] for key in ('file', 'label', 'kind')} for row in csv.DictReader(f, delimiter='\t')]
    return sorted(rows, key=lambda row: row['kind'] != 'handwriting-style')


def example_bytes(name, folder=EXAMPLES):
    """The file of a listed example, or None: only names in labels.tsv are served, so no URL reaches
    another file on the disk."""
    if name not in {row['file'] for row in example_list(folder)}:
        return None
    with open(os.path.join(folder, name), 'rb') as f:
        return f.read()


def page_bytes():
    """The page, with the server's upload limit filled in (the page refuses larger files before sending)."""
    with open(PAGE, encoding='utf-8') as f:
        return f.read().replace('__MAX_UPLOAD_BYTES__', str(MAX_UPLOAD_BYTES)).encode('utf-8')
