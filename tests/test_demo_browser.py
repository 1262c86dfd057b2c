"""demo.py in a real headless browser: Debian's chromium driven by Playwright draws 가 with the mouse, uploads
a printed 한, clicks an example and meets every bad-input message on the page. Skipped, with the reason,
where chromium or the playwright package is missing (CI installs both: apt chromium, pip playwright)."""
import os
import select
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from test_demo import png_header
from utils.demo.handlers import example_list

try:
    from playwright.sync_api import Error as PlaywrightError, expect, sync_playwright
except ImportError:
    pytest.skip('the playwright package is not installed (pip install playwright; its own browser '
                'download is not needed)', allow_module_level=True)
CHROMIUM = os.environ.get('KOOCR_CHROMIUM') or shutil.which('chromium') or '/usr/bin/chromium'
if not os.path.isfile(CHROMIUM):
    pytest.skip(f'no chromium at {CHROMIUM} (apt-get install chromium, or set KOOCR_CHROMIUM)',
                allow_module_level=True)

EXAMPLES = os.path.join(ROOT, 'examples')
CANVAS = 320  # the page's canvas side in its own pixels
# 가 in canvas pixels: ㄱ right then down (one stroke), ㅏ's upright, ㅏ's short tick to its right.
GA = [[(50, 80), (160, 80), (150, 170), (110, 260)], [(225, 40), (225, 290)], [(225, 160), (280, 160)]]


@pytest.fixture(scope='module')
def demo_url():
    """demo.py on a free port (it prints the URL once the model is loaded); stopped after the module."""
    process = subprocess.Popen([sys.executable, 'demo.py', '--port', '0'], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([process.stdout], [], [], 60)
    line = process.stdout.readline() if ready else ''
    if not line.startswith('KoOCR demo on http://'):
        process.kill()
        pytest.fail(f'demo.py did not start: {line!r} {process.communicate()[1][-2000:]}')
    yield process, line.split()[3]
    assert process.poll() is None, 'the demo server stopped during the tests'
    process.terminate()
    stderr = process.communicate(timeout=10)[1]
    assert 'Traceback' not in stderr, stderr


@pytest.fixture(scope='module')
def browser():
    with sync_playwright() as playwright:
        try:
            # --no-sandbox: Chromium's sandbox refuses to start as root, which is how CI containers run.
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox'])
        except PlaywrightError as e:
            pytest.skip(f'{CHROMIUM} would not start under Playwright: {str(e).splitlines()[0]}')
        yield browser
        browser.close()


@pytest.fixture
def page(browser, demo_url):
    page = browser.new_page(viewport={'width': 880, 'height': 600})
    page.goto(demo_url[1])
    expect(page.locator('#examples button')).to_have_count(len(example_list()))
    yield page
    page.close()


def draw(page, strokes):
    """Each stroke as a mouse press, moves along its points and a release, in canvas pixels."""
    box = page.locator('#pad').bounding_box()
    scale = box['width'] / CANVAS
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box['x'] + x * scale, box['y'] + y * scale)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box['x'] + x * scale, box['y'] + y * scale, steps=8)
        page.mouse.up()


def settled(page, requests):
    """Wait until the page has sent ``requests`` reads in all and every one is answered."""
    page.wait_for_function('n => +document.body.dataset.sent >= n && '
                           'document.body.dataset.answered === document.body.dataset.sent', arg=requests)


def top5(page):
    return page.locator('#top li').evaluate_all('rows => rows.map(row => [row.dataset.char, +row.dataset.p])')


def test_drawing_ga_stroke_by_stroke_reads_ga(page, tmp_path):
    draw(page, GA)
    settled(page, len(GA))  # one read per stroke's end
    answer = top5(page)
    assert '가' in [char for char, _ in answer], answer
    assert len(answer) == 5 and all(0 <= p <= 1 for _, p in answer)
    expect(page.locator('#message')).to_contain_text(f'Read as {answer[0][0]} (')
    assert page.locator('#prepared').evaluate('img => [img.naturalWidth, img.naturalHeight]') == [48, 48]
    page.screenshot(path=str(tmp_path / 'demo.png'))
    assert (tmp_path / 'demo.png').stat().st_size > 10_000
    page.click('#clear')
    assert top5(page) == [] and page.locator('#seen').is_hidden()


def test_touch_strokes_draw_too(browser, demo_url):
    """A finger on a phone: touch events (through the DevTools protocol, as a touch screen sends them)."""
    context = browser.new_context(viewport={'width': 880, 'height': 600}, has_touch=True)
    page = context.new_page()
    page.goto(demo_url[1])
    box = page.locator('#pad').bounding_box()
    touch = context.new_cdp_session(page)
    for stroke in GA:
        points = [{'x': box['x'] + x * box['width'] / CANVAS, 'y': box['y'] + y * box['height'] / CANVAS}
                  for x, y in stroke]
        touch.send('Input.dispatchTouchEvent', {'type': 'touchStart', 'touchPoints': [points[0]]})
        for a, b in zip(points, points[1:]):
            for t in (0.25, 0.5, 0.75, 1.0):
                point = {'x': a['x'] + t * (b['x'] - a['x']), 'y': a['y'] + t * (b['y'] - a['y'])}
                touch.send('Input.dispatchTouchEvent', {'type': 'touchMove', 'touchPoints': [point]})
        touch.send('Input.dispatchTouchEvent', {'type': 'touchEnd', 'touchPoints': []})
    settled(page, len(GA))
    assert '가' in [char for char, _ in top5(page)]
    context.close()


def test_an_upload_and_an_example_are_read(page):
    page.set_input_files('#upload', os.path.join(EXAMPLES, 'printed_01.png'))
    settled(page, 1)
    assert top5(page)[0][0] == '한'
    expect(page.locator('#source-name')).to_have_text('upload: printed_01.png')
    page.click('#examples button[data-file="hand_01.png"]')
    settled(page, 2)
    assert top5(page)[0][0] == '사'


def test_bad_inputs_show_a_message_and_the_server_keeps_serving(page, tmp_path, demo_url):
    message = page.locator('#message')
    page.click('#read')  # the canvas is still blank
    settled(page, 1)
    expect(message).to_have_text('The canvas is empty: draw a syllable first.')
    expect(message).to_have_class('error')
    (tmp_path / 'notes.png').write_text('not a picture at all\n')
    (tmp_path / 'bomb.png').write_bytes(png_header(8000, 7000))
    (tmp_path / 'large.png').write_bytes(bytes(11 * 2 ** 20))
    refusals = [('notes.png', 'This file is not an image the demo can read'),
                ('bomb.png', 'The image is 8000×7000 pixels (56 megapixels); the demo reads images up to 50'),
                ('large.png', 'The file is 11 MB; the demo reads files up to 10 MB.')]  # refused before sending
    for name, text in refusals:
        page.set_input_files('#upload', str(tmp_path / name))
        expect(message).to_contain_text(text)
        assert top5(page) == []
    assert page.locator('body').evaluate('body => body.dataset.sent') == '3'
    assert 'Traceback' not in page.content()
    draw(page, GA)
    settled(page, 3 + len(GA))
    assert '가' in [char for char, _ in top5(page)]
    assert demo_url[0].poll() is None
