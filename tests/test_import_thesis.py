"""Importing the thesis' own generator: its exact key layout converts and samples the same
images; other layouts, truncated files and pickled modules are refused, nothing is executed."""

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from thesis_lib.images import to_uint8
from thesis_lib.models.generate import generate, load_generator
from thesis_lib.models.import_thesis import ThesisWeightsError, import_thesis, main


class ThesisGenerator(nn.Module):
    """The thesis' Generator(ngpu=1, nz, ngf, nc=1) as its code lays it out: one Sequential named
    ``model`` of five ConvTranspose2d + BatchNorm2d + LeakyReLU(0.2) blocks, then ConvTranspose2d + Tanh."""

    def __init__(self, nz=200, ngf=45):
        super().__init__()
        widths = [nz, 10 * ngf, 8 * ngf, 4 * ngf, 2 * ngf, ngf]
        layers = []
        for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [nn.ConvTranspose2d(cin, cout, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False),
                       nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]
        self.model = nn.Sequential(*layers, nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.model(z)


def _thesis_state(nz=200, ngf=45, seed=0):
    torch.manual_seed(seed)
    g = ThesisGenerator(nz, ngf)
    for m in g.modules():  # random weights and running statistics, as after training
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.normal_(1, 0.1)
            m.bias.data.normal_(0, 0.1)
    return g


def test_the_thesis_layout_converts_and_samples_the_same_images(tmp_path):
    thesis = _thesis_state(nz=200, ngf=4)
    weights = tmp_path / "500.pt"
    torch.save(thesis.state_dict(), weights)
    source = import_thesis(weights, tmp_path / "thesis_G.pt")
    assert source["nz"] == 200 and source["ngf"] == 4 and source["file"] == "500.pt" and len(source["sha256"]) == 64
    assert list(thesis.state_dict())[0] == "model.0.weight" and "model.15.weight" in thesis.state_dict()
    ours = generate(tmp_path / "thesis_G.pt", 6, seed=3)
    z = torch.randn(6, 200, generator=torch.Generator().manual_seed(3)).view(6, 200, 1, 1)
    with torch.no_grad():
        expected = to_uint8(thesis.eval()(z))
    np.testing.assert_array_equal(ours, expected)
    assert (255 * (thesis(z)[:, 0].detach().numpy() / 2 + 0.5)).round().astype(np.uint8).tolist() == expected.tolist()
    assert load_generator(tmp_path / "thesis_G.pt").nz == 200


def test_a_medigan_zip_is_read_in_place_without_running_its_code(tmp_path):
    weights = tmp_path / "w.pt"
    torch.save(_thesis_state(nz=16, ngf=2).state_dict(), weights)
    archive = tmp_path / "00002_DCGAN_MMG_MASS_ROI.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(weights, "00002_DCGAN_MMG_MASS_ROI/500.pt")
        z.writestr("00002_DCGAN_MMG_MASS_ROI/__init__.py", "open('EXECUTED', 'w').write('x')\n")
    source = import_thesis(archive, tmp_path / "g.pt")
    assert source["member"] == "00002_DCGAN_MMG_MASS_ROI/500.pt" and source["ngf"] == 2
    assert not (tmp_path / "EXECUTED").exists() and len(list(tmp_path.iterdir())) == 3  # nothing extracted
    assert generate(tmp_path / "g.pt", 2).shape == (2, 128, 128)


def test_another_layout_lists_missing_unexpected_and_different_keys(tmp_path):
    state = _thesis_state(nz=16, ngf=2).state_dict()
    state["model.3.weight"] = torch.zeros(20, 15, 4, 4)  # a different width
    del state["model.15.weight"]
    state["model.16.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "odd.pt")
    with pytest.raises(ThesisWeightsError) as err:
        import_thesis(tmp_path / "odd.pt", tmp_path / "g.pt")
    message = str(err.value)
    assert "missing keys ['model.15.weight']" in message and "unexpected keys ['model.16.weight']" in message
    assert "'model.3.weight': ((20, 15, 4, 4), (20, 16, 4, 4))" in message
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ThesisWeightsError, match="no thesis generator layout"):
        import_thesis(tmp_path / "other.pt", tmp_path / "g.pt")
    assert not (tmp_path / "g.pt").exists()


class Payload:
    """A pickled object that would create a file if unpickling ran code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_truncated_files_and_pickled_modules_are_refused(tmp_path):
    weights = tmp_path / "w.pt"
    torch.save(_thesis_state(nz=16, ngf=2).state_dict(), weights)
    (tmp_path / "cut.pt").write_bytes(weights.read_bytes()[:500])
    with pytest.raises(ThesisWeightsError, match="cut.pt: not a plain state_dict"):
        import_thesis(tmp_path / "cut.pt", tmp_path / "g.pt")
    torch.save(_thesis_state(nz=16, ngf=2), tmp_path / "module.pt")  # the whole module, pickled
    with pytest.raises(ThesisWeightsError, match="module.pt: not a plain state_dict"):
        import_thesis(tmp_path / "module.pt", tmp_path / "g.pt")
    marker = tmp_path / "EXECUTED"
    torch.save({"model.0.weight": Payload(marker)}, tmp_path / "evil.pt")
    with pytest.raises(ThesisWeightsError):
        import_thesis(tmp_path / "evil.pt", tmp_path / "g.pt")
    assert not marker.exists() and not (tmp_path / "g.pt").exists()


def test_command_line_reports_and_exits_2_on_bad_files(tmp_path, capsys):
    weights = tmp_path / "w.pt"
    torch.save(_thesis_state(nz=16, ngf=2).state_dict(), weights)
    main([str(weights), "--out", str(tmp_path / "g.pt")])
    assert "nz=16, ngf=2" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "missing.pt"), "--out", str(tmp_path / "h.pt")])
    assert exit_.value.code == 2 and "missing.pt: no such file" in capsys.readouterr().err
