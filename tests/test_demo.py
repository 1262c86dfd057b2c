"""The demo's request handling without a browser: the handler functions on good and bad inputs, the HTTP
server on a real socket, demo.py's start. The browser itself: test_demo_browser.py."""
import base64
import http.client
import io
import json
import os
import struct
import subprocess
import sys
import threading
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import ROOT
from utils.demo import handlers
from utils.demo.handlers import EMPTY, NOT_AN_IMAGE, answer_read, check_length, open_image, read_image
from utils.demo.server import make_server
from utils.inference.preprocess import prepare

EXAMPLES = os.path.join(ROOT, 'examples')


def example(name):
    with open(os.path.join(EXAMPLES, name), 'rb') as f:
        return f.read()


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format='PNG')
    return buffer.getvalue()


def png_header(width, height):
    """A PNG that declares width×height 1-bit pixels and holds almost no data: a decompression bomb's
    header, a few dozen bytes (PIL reads the size from it without decoding)."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 1, 0, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(b'')) + chunk(b'IEND', b''))


def drawn_ga():
    """가 drawn with a 20 px brush on the page's 320 px white canvas, as the page sends it."""
    canvas = Image.new('L', (320, 320), 255)
    pen = ImageDraw.Draw(canvas)
    for stroke in ([(50, 80), (160, 80), (150, 170), (110, 260)], [(225, 40), (225, 290)], [(225, 160), (280, 160)]):
        pen.line(stroke, fill=0, width=20, joint='curve')
    return png_bytes(canvas)


@pytest.fixture(scope='module')
def reader():
    from predict import open_reader
    return open_reader('default')


class FailingReader:
    image_size = 48

    def rank(self, inputs, n=5, probabilities=False):
        raise RuntimeError('interpreter exploded')


def test_check_length_refuses_missing_malformed_and_oversized_lengths():
    assert check_length('1234') == 1234
    assert check_length(str(handlers.MAX_UPLOAD_BYTES)) == handlers.MAX_UPLOAD_BYTES
    for header, status, text in [(None, 411, 'no Content-Length'), ('abc', 400, "Content-Length 'abc' is not a size"),
                                 ('-5', 400, "'-5' is not a size"),
                                 (str(12_582_912), 413, 'The file is 12 MB; the demo reads files up to 10 MB.')]:
        with pytest.raises(handlers.BadInput) as refused:
            check_length(header)
        assert text in str(refused.value) and refused.value.status == status, str(refused.value)


def test_open_image_refuses_empty_non_image_huge_and_damaged_files():
    cases = [(b'', 400, 'The file is empty'),
             ('한글 notes, not a picture\n'.encode(), 400, NOT_AN_IMAGE),
             # PIL opens an EPS header by itself and would run Ghostscript to decode it: not among our formats.
             (b'%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n%%EndComments\n', 400, NOT_AN_IMAGE),
             (png_header(8000, 7000), 413, 'The image is 8000×7000 pixels (56 megapixels); the demo reads images '
                                           'up to 50 megapixels.'),
             (png_header(15000, 15000), 413, 'The image has over 179 megapixels'),
             (example('printed_01.png')[:300], 400, 'the file may be cut short or damaged'),
             (b'\x89PNG' + bytes(handlers.MAX_UPLOAD_BYTES), 413, 'The file is 10 MB; the demo reads files up to')]
    for data, status, text in cases:
        with pytest.raises(handlers.BadInput) as refused:
            open_image(data)
        assert text in str(refused.value) and refused.value.status == status, str(refused.value)
    assert open_image(example('hand_01.png')).size == (96, 96)


def test_read_image_answers_the_top5_and_the_image_the_model_saw(reader):
    image = open_image(example('printed_01.png'))
    answer = read_image(reader, image)
    assert [row['char'] for row in answer['top']][0] == '한' and len(answer['top']) == 5
    probabilities = [row['p'] for row in answer['top']]
    assert probabilities == sorted(probabilities, reverse=True) and 0.9 < probabilities[0] <= 1.0
    header, encoded = answer['prepared'].split(',', 1)
    assert header == 'data:image/png;base64'
    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))))
    np.testing.assert_array_equal(seen, prepare(image, reader.image_size))


def test_a_drawn_ga_is_read(reader):
    status, answer = answer_read(reader, drawn_ga(), 'drawing')  # its latency: bench/demo_latency.py
    assert status == 200 and '가' in [row['char'] for row in answer['top']]


def test_blank_images_get_the_message_of_their_source(reader):
    white = png_bytes(Image.new('L', (320, 320), 255))
    assert answer_read(reader, white, 'drawing') == (400, {'error': EMPTY['drawing']})
    assert answer_read(reader, white, 'upload') == (400, {'error': EMPTY['upload']})
    faint = Image.new('L', (64, 64), 250)
    ImageDraw.Draw(faint).line([(10, 32), (54, 32)], fill=240, width=4)  # 10 grey levels: no ink to tell
    faint = png_bytes(faint)
    assert answer_read(reader, faint, 'example') == (400, {'error': EMPTY['example']})
    status, answer = answer_read(reader, white, 'elsewhere')
    assert status == 400 and answer['error'].startswith("Unknown source 'elsewhere'")


def test_answer_read_never_raises_and_logs_what_failed(capsys):
    status, answer = answer_read(FailingReader(), example('printed_01.png'))
    assert status == 500
    assert answer == {'error': 'The server failed to read this image (RuntimeError); its log says why.'}
    assert 'Traceback' in capsys.readouterr().err and 'Traceback' not in answer['error']
    assert answer_read(FailingReader(), b'not an image') == (400, {'error': NOT_AN_IMAGE})


def test_examples_are_served_by_listed_name_only():
    listed = handlers.example_list()
    assert {row['file'] for row in listed} == {name for name in os.listdir(EXAMPLES) if name.endswith('.png')}
    assert listed[0]['kind'] == 'handwriting-style'
    assert handlers.example_bytes('hand_02.png') == example('hand_02.png')
    for name in ('labels.tsv', '../README.md', 'make_examples.py', '/etc/passwd', ''):
        assert handlers.example_bytes(name) is None, name


def test_the_page_carries_the_upload_limit_and_nothing_from_the_internet():
    page = handlers.page_bytes().decode('utf-8')
    assert f'const MAX_UPLOAD_BYTES = {handlers.MAX_UPLOAD_BYTES};' in page and '__' not in page
    assert 'http://' not in page and 'https://' not in page and '//cdn' not in page


@pytest.fixture(scope='module')
def server(reader):
    server = make_server(reader, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def request(server, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection('127.0.0.1', server.server_port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader('Content-Type'), response.read()
    finally:
        connection.close()


def test_server_routes_pages_examples_and_reads(server):
    status, kind, body = request(server, 'GET', '/')
    assert status == 200 and kind == 'text/html; charset=utf-8' and b'<canvas id="pad"' in body
    status, _, body = request(server, 'GET', '/examples.json')
    assert status == 200 and json.loads(body) == handlers.example_list()
    assert request(server, 'GET', '/examples/hand_01.png')[:2] == (200, 'image/png')
    for path in ('/examples/../README.md', '/examples/labels.tsv', '/demo.py'):
        status, _, body = request(server, 'GET', path)
        assert status == 404 and json.loads(body)['error'].startswith('No page at'), path
    status, _, body = request(server, 'POST', '/read?source=upload', example('printed_01.png'))
    assert status == 200 and json.loads(body)['top'][0]['char'] == '한'
    status, _, body = request(server, 'POST', '/elsewhere', b'x')
    assert status == 404 and 'images go to /read' in json.loads(body)['error']


def test_server_answers_bad_posts_with_a_message_and_keeps_serving(server):
    status, _, body = request(server, 'POST', '/read', bytes(11 * 2 ** 20))  # sent whole, answered, not reset
    assert (status, json.loads(body)) == (413, {'error': 'The file is 11 MB; the demo reads files up to 10 MB.'})
    connection = http.client.HTTPConnection('127.0.0.1', server.server_port, timeout=30)
    connection.putrequest('POST', '/read')  # no Content-Length: a client streaming an unknown size
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 411 and 'no Content-Length' in json.loads(response.read())['error']
    connection.close()
    status, _, body = request(server, 'POST', '/read', b'GIF89a broken')
    assert status == 400 and json.loads(body)['error'] == NOT_AN_IMAGE
    status, _, body = request(server, 'POST', '/read?source=drawing', drawn_ga())
    assert status == 200 and '가' in [row['char'] for row in json.loads(body)['top']]


def test_a_busy_server_answers_503_and_serves_again_when_free(server):
    taken = 0
    while server.slots.acquire(blocking=False):
        taken += 1
    try:
        status, _, body = request(server, 'POST', '/read', example('printed_01.png'))
        assert status == 503 and 'busy' in json.loads(body)['error']
    finally:
        for _ in range(taken):
            server.slots.release()
    assert taken == 8
    assert request(server, 'POST', '/read', example('printed_01.png'))[0] == 200


def test_demo_reads_the_shipped_model_without_tensorflow():
    code = ('import sys, demo, predict; from utils.demo import server, handlers; '
            'reader = predict.open_reader("default"); '
            'status, answer = handlers.answer_read(reader, open("examples/printed_01.png", "rb").read()); '
            'print(type(reader).__name__, status, answer["top"][0]["char"], "tensorflow" in sys.modules)')
    probe = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert probe.stdout.split() == ['LiteReader', '200', '한', 'False'], probe.stderr


def test_demo_py_says_when_the_port_is_taken(server, capsys):
    import demo
    with pytest.raises(SystemExit) as stopped:
        demo.main(['--port', str(server.server_port)])
    assert str(stopped.value).startswith(f'demo.py: cannot listen on 127.0.0.1:{server.server_port} (')
    assert str(stopped.value).endswith('choose another --port or --host')
