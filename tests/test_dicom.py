import numpy as np
import pydicom
import pytest

from thesis_lib.data import dicom


def _write(path, pixels=None, **kw):
    pixels = np.arange(64 * 48, dtype=np.uint16).reshape(64, 48) % 4096 if pixels is None else pixels
    args = dict(patient_id="P_1", laterality="L", view="CC", spacing_mm=0.1, bits_stored=12,
                uids={"study": dicom.uid(1), "series": dicom.uid(2), "sop": dicom.uid(3)})
    dicom.write_mammogram(path, pixels, **{**args, **kw})
    return pixels


def test_round_trip_keeps_pixels_and_tags(tmp_path):
    pixels = _write(tmp_path / "a.dcm")
    image = dicom.read_image(tmp_path / "a.dcm")
    np.testing.assert_array_equal(image.pixels, pixels)
    assert (image.spacing_mm, image.laterality, image.view, image.inverted) == (0.1, "L", "CC", False)
    ds = pydicom.dcmread(tmp_path / "a.dcm")
    assert ds.Modality == "MG" and ds.PhotometricInterpretation == "MONOCHROME2"
    assert ds.BitsStored == 12 and ds.PatientID == "P_1"
    assert ds.SOPClassUID == pydicom.uid.DigitalMammographyXRayImageStorageForPresentation
    assert list(tmp_path.iterdir()) == [tmp_path / "a.dcm"], "no temporary file left behind"


def test_uids_are_deterministic_and_valid():
    assert dicom.uid("a", 1) == dicom.uid("a", 1) != dicom.uid("a", 2)
    assert len(dicom.uid("x")) <= 64


def test_monochrome1_is_inverted(tmp_path):
    pixels = _write(tmp_path / "a.dcm")
    ds = pydicom.dcmread(tmp_path / "a.dcm")
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.save_as(tmp_path / "m1.dcm")
    image = dicom.read_image(tmp_path / "m1.dcm")
    assert image.inverted
    np.testing.assert_array_equal(image.pixels, pixels.max() - pixels.astype(np.float32))


def test_rescale_slope_is_applied(tmp_path):
    pixels = _write(tmp_path / "a.dcm")
    ds = pydicom.dcmread(tmp_path / "a.dcm")
    ds.RescaleSlope, ds.RescaleIntercept = 2, -10
    ds.save_as(tmp_path / "r.dcm")
    np.testing.assert_array_equal(dicom.read_image(tmp_path / "r.dcm").pixels, pixels * 2.0 - 10)


def test_corrupt_file_error_names_the_file(tmp_path):
    bad = tmp_path / "corrupt.dcm"
    bad.write_bytes(b"this is not DICOM at all" * 10)
    with pytest.raises(dicom.DicomError, match="corrupt.dcm.*not a readable DICOM"):
        dicom.read_image(bad)


def test_non_image_dicom_is_refused(tmp_path):
    _write(tmp_path / "a.dcm")
    ds = pydicom.dcmread(tmp_path / "a.dcm")
    del ds.PixelData
    ds.save_as(tmp_path / "sr.dcm")
    with pytest.raises(dicom.DicomError, match="sr.dcm: has no pixel data"):
        dicom.read_image(tmp_path / "sr.dcm")


def test_truncated_pixel_data_is_refused(tmp_path):
    _write(tmp_path / "a.dcm")
    data = (tmp_path / "a.dcm").read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[: len(data) - 2000])
    with pytest.raises(dicom.DicomError, match="cut.dcm"):
        dicom.read_image(tmp_path / "cut.dcm")


def test_writer_refuses_wrong_dtype(tmp_path):
    with pytest.raises(ValueError, match="uint16"):
        _write(tmp_path / "a.dcm", pixels=np.zeros((8, 8), np.float32))


def test_voi_window_is_applied_after_the_rescale_on_request(tmp_path):
    pixels = _write(tmp_path / "a.dcm")
    ds = pydicom.dcmread(tmp_path / "a.dcm")
    ds.RescaleSlope, ds.RescaleIntercept = 2, 0
    ds.WindowCenter, ds.WindowWidth = 4000, 2001  # rescaled values 3000..5000 span the output range
    ds.save_as(tmp_path / "w.dcm")
    np.testing.assert_array_equal(dicom.read_image(tmp_path / "w.dcm").pixels, pixels * 2.0)  # off by default
    windowed = dicom.read_image(tmp_path / "w.dcm", voi_window=True).pixels
    rescaled = pixels * 2.0
    assert windowed[rescaled < 3000].max() == 0 and windowed.min() == 0  # below the window: 0
    assert np.all(windowed[rescaled > 5000] == windowed.max())  # above: saturated
    inside = (rescaled > 3000) & (rescaled < 5000)
    assert np.all(np.diff(windowed[inside][np.argsort(rescaled[inside])]) >= 0)  # monotone inside
    ds.WindowCenter, ds.WindowWidth = None, None
    del ds.WindowCenter, ds.WindowWidth
    ds.save_as(tmp_path / "none.dcm")
    np.testing.assert_array_equal(dicom.read_image(tmp_path / "none.dcm", voi_window=True).pixels, rescaled)
