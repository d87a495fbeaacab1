import numpy as np
import pytest

from thesis_lib.data.patches import bounding_box, histogram_stretch, positive_patch, resize_patch, sample_negatives


def _image(shape=(400, 300), seed=0):
    rng = np.random.default_rng(seed)
    breast = np.zeros(shape, bool)
    breast[20:380, :250] = True
    return (rng.integers(0, 256, shape) * breast).astype(np.uint8), breast


def test_histogram_stretch_keeps_background_and_fills_range():
    pixels = np.zeros((50, 50), np.float32)
    pixels[10:40, 10:40] = np.linspace(1000, 3000, 900).reshape(30, 30)
    out, window = histogram_stretch(pixels, pixels > 0)
    assert out.dtype == np.uint8 and out[0, 0] == 0
    assert out[pixels > 0].min() == 0 and out.max() == 255
    assert window == {"low": 1000.0, "high": 3000.0}
    with pytest.raises(ValueError, match="constant"):
        histogram_stretch(np.ones((5, 5)), np.ones((5, 5), bool))


def test_bbox_resize_and_centre_crop():
    image, _ = _image()
    patch, window = positive_patch(image, (100, 50, 160, 90), "bbox_resize")
    assert patch.shape == (128, 128) and window == (100, 50, 160, 90)
    patch, window = positive_patch(image, (100, 50, 160, 90), "centre_crop")
    assert patch.shape == (128, 128) and window == (66, 6, 194, 134)
    np.testing.assert_array_equal(patch, image[66:194, 6:134])
    # near the border the window shifts inwards and stays 128 x 128
    patch, window = positive_patch(image, (0, 0, 10, 10), "centre_crop")
    assert window == (0, 0, 128, 128) and patch.shape == (128, 128)
    with pytest.raises(ValueError, match="patch_rule='resize'"):
        positive_patch(image, (0, 0, 10, 10), "resize")


def test_bounding_box_of_empty_mask():
    with pytest.raises(ValueError, match="empty mask"):
        bounding_box(np.zeros((5, 5), bool))


def test_negatives_follow_the_rules():
    image, breast = _image()
    lesion = (150, 80, 230, 170)
    found = sample_negatives(image, breast, [lesion], 10, np.random.default_rng(0))
    assert 1 <= len(found) <= 10
    boxes = [w for _, w in found]
    for patch, (r0, c0, r1, c1) in found:
        assert patch.shape == (128, 128) and breast[r0:r1, c0:c1].all()
        assert r1 <= lesion[0] or r0 >= lesion[2] or c1 <= lesion[1] or c0 >= lesion[3]
        assert np.unique(patch).size >= 30
    for i, a in enumerate(boxes):  # no two negatives overlap
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_negatives_need_grey_levels_and_room():
    image, breast = _image()
    flat = (breast * 100).astype(np.uint8)  # one grey level: nothing qualifies
    assert sample_negatives(flat, breast, [], 5, np.random.default_rng(0)) == []
    tiny = np.zeros_like(breast)
    tiny[:100, :100] = True  # no 128 x 128 window fits
    assert sample_negatives(image, tiny, [], 5, np.random.default_rng(0)) == []
    with pytest.raises(ValueError, match="n=-1"):
        sample_negatives(image, breast, [], -1, np.random.default_rng(0))


def test_negatives_are_reproducible():
    image, breast = _image()
    a = sample_negatives(image, breast, [], 4, np.random.default_rng(5))
    b = sample_negatives(image, breast, [], 4, np.random.default_rng(5))
    assert [w for _, w in a] == [w for _, w in b]


def test_bbox_margin_widens_the_box_within_the_image():
    image, _ = _image()
    _, window = positive_patch(image, (100, 50, 160, 90), "bbox_resize", margin=0.25)
    assert window == (85, 40, 175, 100)
    _, window = positive_patch(image, (0, 0, 40, 40), "bbox_resize", margin=0.5)
    assert window == (0, 0, 60, 60)  # clipped at the border
    with pytest.raises(ValueError, match="bbox_margin=-0.1"):
        positive_patch(image, (0, 0, 40, 40), "bbox_resize", margin=-0.1)


def test_matched_negatives_take_the_given_sizes_and_are_resized_like_masses():
    image, breast = _image()
    lesion = (100, 50, 160, 90)
    sizes = np.array([(40, 60), (90, 70), (150, 150)])
    taken = sample_negatives(image, breast, [lesion], 8, np.random.default_rng(0), window_sizes=sizes)
    assert len(taken) >= 4
    windows = [w for _, w in taken]
    for patch, (r0, c0, r1, c1) in taken:
        assert patch.shape == (128, 128) and (r1 - r0, c1 - c0) in {tuple(s) for s in sizes}
        assert breast[r0:r1, c0:c1].all()
        assert r1 <= lesion[0] or r0 >= lesion[2] or c1 <= lesion[1] or c0 >= lesion[3]  # touches no lesion
        np.testing.assert_array_equal(patch, resize_patch(image[r0:r1, c0:c1], 128))  # the masses' resampling
    for i, a in enumerate(windows):  # no two windows overlap
        for b in windows[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_matched_negatives_place_large_windows_first():
    """Redrawing a size that did not fit would favour small windows; sizes are drawn up front and
    placed largest first, and a size that fits nowhere is dropped: here one large window fits,
    and ten small ones scattered first could have left no room for it."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (200, 260)).astype(np.uint8)
    breast = np.zeros(image.shape, bool)
    breast[10:190, :250] = True  # 180 x 250: room for one 170 x 170 window, not two
    sizes = np.array([(20, 20), (170, 170)])
    for seed in range(5):
        drawn = np.random.default_rng(seed).integers(2, size=10)
        taken = sample_negatives(image, breast, [], 10, np.random.default_rng(seed), window_sizes=sizes)
        big = [w for _, w in taken if w[2] - w[0] == 170]
        assert len(big) == min(int(drawn.sum()), 1) and len(taken) - len(big) == 10 - int(drawn.sum())


def test_bad_window_sizes_are_named():
    image, breast = _image()
    for bad in (np.zeros((0, 2)), np.array([(0, 10)])):
        with pytest.raises(ValueError, match="window_sizes"):
            sample_negatives(image, breast, [], 3, np.random.default_rng(0), window_sizes=bad)
