"""The line reader's segmenter and its shortest-path reading, on drawn lines and crafted scores."""
import numpy as np
import pytest
from PIL import Image

from conftest import FONT
from utils.data.lines import LineRenderer
from utils.data.symbols import FRAGMENT_CLASS, HANGUL_CLASS, SYMBOL_CLASSES, symbol_class
from utils.inference import reading, segment
from utils.training.symbol_data import (LEAN_JITTER, LEANS, label_run, lean, line_examples, reshape_line,
                                       sprinkle_symbols, wobble)


@pytest.fixture(scope='module')
def renderer():
    return LineRenderer(FONT, 40)


def lines_of(gray):
    cleaned, ink = segment.clean_page(segment.stretched_page(gray))
    return segment.find_lines(ink)


@pytest.mark.parametrize('varied', [{}, {'scales': [1.25, 1, 0.75, 1.2], 'shifts': [3, 0, -3, 2]},
                                    {'slants': [0.3, 0, -0.2, 0.25], 'scales': [0.8, 1, 1, 1]}])
def test_renderer_boxes_hold_each_characters_ink(renderer, varied):
    gray, boxes = renderer.render('가 A.', **varied)
    assert gray.dtype == np.uint8 and len(boxes) == 4
    for char, (left, top, right, bottom) in zip('가 A.', boxes):
        if char != ' ':
            inside = gray[top:bottom, left:right] < 128
            assert inside.any()
    # Everything dark lies inside some box: the boxes are not the advance spans' guesses.
    ink = gray < 128
    covered = np.zeros_like(ink)
    for left, top, right, bottom in boxes:
        covered[top:bottom, left:right] = True
    assert not (ink & ~covered).any()


def test_reshaped_lines_keep_each_characters_ink_in_its_box(renderer):
    gray, boxes = renderer.render('가나 A.')
    widths, inks = set(), set()
    for seed in range(12):
        shaped, shaped_boxes = reshape_line(gray, boxes, np.random.default_rng(seed))
        assert shaped.shape[0] == gray.shape[0] and len(shaped_boxes) == len(boxes)
        covered = np.zeros(shaped.shape, bool)
        for left, top, right, bottom in shaped_boxes:   # a pixel of bolder stroke, a pixel of resampling
            covered[max(0, top - 2):bottom + 2, max(0, left - 2):right + 2] = True
        assert not (shaped < 128)[~covered].any()
        widths.add(shaped.shape[1])
        inks.add(int((shaped < 128).sum() * gray.shape[1] / shaped.shape[1]))
    assert len(widths) > 3 and len(inks) > 3   # condensed and widened, bolder and lighter


def test_wobbled_syllables_change_size_and_height_and_nothing_else_does(renderer):
    text = '가나 Oo.'
    varied = wobble(text, 40, np.random.default_rng(0))
    hangul = np.array([True, True, False, False, False, False])
    assert (varied['scales'][~hangul] == 1).all() and (varied['shifts'][~hangul] == 0).all()
    assert (varied['scales'][hangul] < 1).all() and (varied['scales'] >= 0.75).all()   # never larger
    assert (varied['shifts'] <= 0).all() and (varied['shifts'] >= -(1 - varied['scales']) * 20).all()
    plain, plain_boxes = renderer.render(text)
    _, boxes = renderer.render(text, scales=[1.25, 0.75, 1, 1, 1, 1])

    def height(box):
        return box[3] - box[1]
    assert height(boxes[0]) > height(plain_boxes[0]) and height(boxes[1]) < height(plain_boxes[1])
    assert [height(b) for b in boxes[3:]] == [height(b) for b in plain_boxes[3:]]
    assert np.array_equal(renderer.render(text, scales=[1] * 6, shifts=[0] * 6)[0], plain)


def test_leaning_characters_lean_and_an_upright_one_is_drawn_as_before(renderer):
    text = 'I가'

    def centres(gray, box):   # the ink's mean column in the box's top and bottom quarters
        left, top, right, bottom = box
        ink = 255 - gray[top:bottom, left:right].astype(float)
        quarter = max(1, (bottom - top) // 4)
        return [left + (ink[rows] * np.arange(right - left)).sum() / ink[rows].sum()
                for rows in (slice(0, quarter), slice(-quarter, None))]
    plain, plain_boxes = renderer.render(text)
    for slant in (0.3, -0.2):
        leaning, boxes = renderer.render(text, slants=[slant, slant])
        top, bottom = centres(leaning, boxes[0])
        height = boxes[0][3] - boxes[0][1]
        assert top - bottom == pytest.approx(slant * height * 0.75, abs=2)   # the quarters' middles are 3/4 apart
        plain_top, plain_bottom = centres(plain, plain_boxes[0])
        assert abs(plain_top - plain_bottom) < 1
    nearly, nearly_boxes = renderer.render(text, slants=[1e-9, 1e-9])
    assert np.abs(nearly.astype(int) - plain).max() <= 1
    assert all(abs(a - b) <= 1 for box, plain_box in zip(nearly_boxes, plain_boxes) for a, b in zip(box, plain_box))
    for slants in ([0.4, 0.4], [-0.3, -0.3]):   # the tops lean past the margin: the line widens to keep it
        leaning, _ = renderer.render(text, slants=slants)
        inked = np.flatnonzero((leaning < 128).any(axis=0))
        assert inked[0] >= 9 and inked[-1] < leaning.shape[1] - 9 and leaning.shape[1] > plain.shape[1]
    slants = lean('가나 Ab', np.random.default_rng(0))['slants']
    assert len(slants) == 5 and np.ptp(slants) <= 2 * LEAN_JITTER
    assert LEANS[0] - LEAN_JITTER <= slants.min() and slants.max() <= LEANS[1] + LEAN_JITTER


def test_sprinkled_symbols_sit_at_word_edges_and_reach_the_rare_ones():
    from utils.data.symbols import SYMBOLS
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(2000):
        text = sprinkle_symbols('가나 다라', rng)
        words = text.split(' ')
        assert len(words) == 2 and [w.strip(SYMBOLS) for w in words] == ['가나', '다라']
        added = ''.join(w.replace('가나', '').replace('다라', '') for w in words)
        assert 1 <= len(added) <= 3
        seen.update(added)
    assert seen == set(SYMBOLS)   # every symbol, the Korean marks included


def test_letter_spacing_widens_the_line(renderer):
    tight, _ = renderer.render('가나다라', letter_spacing=0.0)
    loose, _ = renderer.render('가나다라', letter_spacing=0.2)
    assert loose.shape[1] - tight.shape[1] == pytest.approx(3 * 0.2 * 40, abs=2)


def test_a_missing_glyph_is_named(renderer):
    with pytest.raises(ValueError, match="'※'"):
        renderer.render('가※')


def test_two_lines_are_found_top_to_bottom(renderer):
    first, _ = renderer.render('가나다')
    second, _ = renderer.render('라마')
    page = np.full((first.shape[0] + second.shape[0], first.shape[1]), 255, np.uint8)
    page[:first.shape[0]] = first
    page[first.shape[0]:, :second.shape[1]] = second
    lines = lines_of(page)
    assert len(lines) == 2 and lines[0].bottom <= lines[1].top
    # 가 is ㄱ and ㅏ apart: a syllable may be two pieces, never less than one.
    assert len(lines[0].pieces) >= 3 and len(lines[1].pieces) >= 2


def test_specks_go_and_a_full_stop_stays(renderer):
    gray, boxes = renderer.render('가.')
    gray = gray.copy()
    gray[2, 2] = gray[-3, -3] = 0  # dust in two corners
    lines = lines_of(gray)
    assert len(lines) == 1
    stop = boxes[1]
    assert lines[0].pieces[-1][0] >= stop[0] - 1 and lines[0].pieces[-1][1] <= stop[2] + 1
    assert lines[0].pieces[0][0] >= boxes[0][0] - 1  # the corner dust made no piece


def test_touching_characters_are_cut_between_them(renderer):
    gray, boxes = renderer.render('가나', letter_spacing=-0.12)  # strokes of 가 and 나 run together
    line = lines_of(gray)[0]
    assert len(line.pieces) >= 2
    cut = line.pieces[0][1]
    assert boxes[0][0] < cut < boxes[1][2]


def test_neighbours_that_abut_without_touching_are_parted():
    # Strokes of a line 30 px high: the first's last column is next to the second's first column, at other
    # rows, so no column is blank between them; the third touches the second, one component with it.
    band = np.zeros((30, 30), bool)
    band[2:8, 0:12] = True      # ends at column 11
    band[12:18, 12:20] = True   # starts at column 12, rows apart: not one component
    band[16:20, 19:30] = True   # overlaps the second's last column
    assert segment._pieces(band, 30) == [(0, 12), (12, 30)]
    # A run narrower than SPLIT_PIECE is left whole: it cannot hold two syllables.
    assert segment._pieces(band[:, :14], 30) == [(0, 14)]


def test_candidates_join_pieces_up_to_a_width():
    line = segment.Line(0, 10, ((0, 4), (5, 9), (10, 14), (40, 60)))
    spans = segment.candidates(line)
    assert (0, 1) in spans and (0, 2) in spans and (3, 4) in spans
    assert (0, 3) not in spans  # 14 px wide: more than 1.3 line heights
    assert (2, 4) not in spans


def test_symbol_view_keeps_where_the_ink_sits_in_the_line(renderer):
    low, _ = renderer.render('가.')
    line = lines_of(low)[0]
    stretched = segment.stretched_page(low)
    view, = segment.symbol_views(stretched, line, [line.pieces[-1]])
    rows = np.flatnonzero((view < 128).any(axis=1))
    assert view.shape == (segment.SYMBOL_SIDE, segment.SYMBOL_SIDE)
    assert rows.min() > segment.SYMBOL_SIDE / 2  # a full stop sits in the lower half


def test_symbol_views_shrink_as_pillows_box_filter_does():
    rng = np.random.default_rng(0)
    stretched = rng.integers(0, 256, (50, 200)).astype(np.uint8)
    line = segment.Line(3, 47, ())
    columns = [(0, 20), (20, 64), (30, 31), (100, 157), (150, 200)]  # narrower, as wide as high, wider
    views = segment.symbol_views(stretched, line, columns)
    for view, (left, right) in zip(views, columns):
        side = max(44, right - left)
        canvas = np.full((side, side), 255, np.uint8)
        y, x = (side - 44) // 2, (side - (right - left)) // 2
        canvas[y:y + 44, x:x + right - left] = stretched[3:47, left:right]
        expected = np.asarray(Image.fromarray(canvas).resize((segment.SYMBOL_SIDE,) * 2, Image.BOX), np.int16)
        assert np.abs(view.astype(np.int16) - expected).max() <= 1  # Pillow rounds between its two passes


def test_runs_are_labelled_whole_or_fragment():
    boxes = [(0, 0, 30, 40), (0, 0, 0, 0), (45, 0, 55, 40)]
    assert label_run(0, 30, boxes, '가 A', 40) == HANGUL_CLASS
    assert label_run(1, 29, boxes, '가 A', 40) == HANGUL_CLASS   # within the edge tolerance
    assert label_run(0, 15, boxes, '가 A', 40) == FRAGMENT_CLASS  # half a syllable
    assert label_run(0, 55, boxes, '가 A', 40) == FRAGMENT_CLASS  # two characters
    assert label_run(45, 55, boxes, '가 A', 40) == SYMBOL_CLASSES.index('A')


@pytest.mark.parametrize('slants', [None, [0.2] * 6])
def test_line_examples_hold_every_whole_character(renderer, slants):
    text = '가나 AB1'
    gray, boxes = renderer.render(text, letter_spacing=0.05, slants=slants)
    views, classes = line_examples(gray, boxes, text)
    assert views.shape[1:] == (segment.SYMBOL_SIDE, segment.SYMBOL_SIDE) and len(views) == len(classes)
    wanted = sorted(symbol_class(c) for c in text if c != ' ')
    assert sorted(c for c in classes if c != FRAGMENT_CLASS) == wanted


def test_symbol_class_refuses_what_a_line_cannot_hold():
    with pytest.raises(ValueError, match=r'U\+00E9'):
        symbol_class('é')


def _line(*pieces):
    return segment.Line(0, 40, tuple(pieces))


def test_the_most_likely_cutting_wins_and_spaces_follow_the_gaps():
    line = _line((0, 15), (18, 35), (60, 80))
    readings = {span: [(text, np.log(p), p)] for span, (text, p) in {
        (0, 1): ('ㅇ', 0.3), (1, 2): ('l', 0.6), (0, 2): ('이', 0.9), (2, 3): ('A', 0.8), (1, 3): ('x', 0.01)}.items()}
    characters = reading._decode(line, readings, None, None)
    assert ''.join(c.text for c in characters) == '이 A'
    assert characters[0].box == (0, 0, 35, 40) and characters[1].box == (35, 0, 60, 40)
    assert characters[2].probability == pytest.approx(0.8)


def test_two_likely_pieces_beat_an_unlikely_join():
    line = _line((0, 15), (17, 35))
    readings = {(0, 1): [('1', np.log(0.9), 0.9)], (1, 2): [('2', np.log(0.9), 0.9)],
                (0, 2): [('이', np.log(0.2), 0.2)]}
    assert ''.join(c.text for c in reading._decode(line, readings, None, None)) == '12'


def test_the_character_bonus_keeps_two_fair_letters_from_joining_into_a_syllable():
    line = _line((0, 15), (17, 30))
    readings = {(0, 1): [('G', np.log(0.6), 0.6)], (1, 2): [('I', np.log(0.6), 0.6)],
                (0, 2): [('이', np.log(0.5), 0.5)]}
    assert 2 * np.log(0.6) < np.log(0.5)   # by probability alone, the join would win
    assert ''.join(c.text for c in reading._decode(line, readings, None, None)) == 'GI'


def test_a_thin_digit_is_measured_from_its_cell_only_towards_the_syllable_after_it():
    # 가 1 2 1 도 . : two thin 1s beside a 2 18 px wide; blanks 14, 8, 8, 14 and 14 px
    line = _line((0, 30), (44, 49), (57, 75), (83, 88), (102, 133), (147, 150))
    kinds = np.array([reading.kind_of(text) for text in '가121도.'])
    blank, pitched = reading._gaps(line, [(k, k + 1) for k in range(6)], kinds)
    assert blank == pytest.approx(np.array([14, 8, 8, 14, 14]) / 40)
    assert pitched[0] == pytest.approx(blank[0])                      # before a number: the blank itself
    assert pitched[3] == pytest.approx((14 - (18 - 5) / 2) / 40)      # 1 sits in a cell as wide as the 2's
    assert pitched[4] == pytest.approx(blank[4])                      # a syllable's own blank is untouched


def test_spaces_are_the_wider_kind_of_gap_whatever_the_letter_spacing():
    tight = np.array([0.05, 0.06, 0.4, 0.05, 0.14, 0.42])
    assert 0.14 < reading.space_threshold(tight) < 0.4
    loose = tight + 0.15  # the same line with wide letter spacing
    assert 0.29 < reading.space_threshold(loose) < 0.55
    assert reading.space_threshold(np.array([0.1, 0.12, 0.11])) > 0.12  # no spaces at all
    assert reading.space_threshold(np.array([0.4])) < 0.4  # two words, one gap


def test_finals_hanging_apart_stay_on_their_line():
    ink = np.zeros((60, 100), bool)
    ink[10:30, 5:95] = True   # initials and vowels
    ink[34:44, 5:40] = True   # finals, 4 px below (Bangwool draws them so)
    lines = segment.find_lines(ink)
    assert [(line.top, line.bottom) for line in lines] == [(10, 44)]


def test_a_syllable_crop_takes_its_own_components_whole_and_leaves_the_neighbours():
    ink = np.zeros((40, 100), bool)
    ink[8:32, 27:45] = True    # a glyph from column 27, with a notch ...
    ink[16:22, 27:31] = False
    ink[5:35, 10:14] = True    # ... that the tick of the glyph before reaches into, up to column 29
    ink[18:20, 14:30] = True
    cleaned = np.where(ink, 0, 255).astype(np.uint8)
    line = segment.Line(0, 40, ((10, 28), (28, 45)))
    components = segment.Components.of(ink)
    reach = int(segment.OVERHANG * 40)
    first = segment.glyph_crop(cleaned, components, line, 10, 28)
    low = 10 - reach
    assert (first[:, 27 - low] == 0).sum() == 2          # of column 27, only the tick is ink
    assert (first[18:20, 14 - low:30 - low] == 0).all()  # the whole tick, past the run's columns
    second = segment.glyph_crop(cleaned, components, line, 28, 45)
    low = 28 - reach
    assert (second[8:16, 27 - low] == 0).all()           # its own edge, left of its columns
    assert (second[18:20, 28 - low:30 - low] == 255).all()  # the neighbour's tick turned to paper


def test_training_examples_hold_sprinkled_symbols_only_when_asked():
    from utils.data.fonts import FontFace
    from utils.training.symbol_data import examples
    face = FontFace(FONT, 0, 'Test', 'Regular')
    texts = ['가나 다라', '마바 사아', '자차 카타', '파하 가나']
    plain = examples([face], texts, 4, 40, 0, 'test', sprinkled=0)[1]
    sprinkled = examples([face], texts, 4, 40, 0, 'test', sprinkled=1.0)[1]
    assert set(plain) <= {HANGUL_CLASS, FRAGMENT_CLASS}
    assert set(sprinkled) - {HANGUL_CLASS, FRAGMENT_CLASS}   # some symbol the face covers was drawn
