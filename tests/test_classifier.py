import numpy as np
import pytest

from thesis_lib.training.classifier import ClassifierConfig, domain_features, predict_proba, train_classifier


def _toy(n, seed):
    """Masses: a bright disc; normal tissue: noise only. Labels 1 / 0."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:128, 0:128]
    disc = ((yy - 64) ** 2 + (xx - 64) ** 2 < 30**2) * 90.0
    y = (np.arange(n) % 2).astype(int)
    x = np.stack([np.clip(rng.normal(100, 15, (128, 128)) + disc * label, 0, 255) for label in y]).astype(np.uint8)
    return x, y


@pytest.mark.slow
def test_classifier_learns_a_separable_problem_and_keeps_the_best_epoch():
    x, y = _toy(96, 0)
    xv, yv = _toy(16, 1)
    net = train_classifier(x, y, xv, yv, ClassifierConfig(epochs=6, batch_size=16, flips=True))
    assert net.best_val_f1 == 1.0
    assert net.history.val_f1.max() == net.best_val_f1 and net.best_epoch == int(net.history.val_f1.idxmax()) + 1
    p = predict_proba(net.model, xv)
    assert p.shape == (16,) and ((p >= 0.5) == yv).all()
    widths = domain_features(net.model, xv)
    assert widths.shape == (16, 90) and np.isfinite(widths).all()


def test_classifier_input_errors():
    x, y = _toy(4, 0)
    with pytest.raises(ValueError, match="training set: patches must be uint8"):
        train_classifier(x.astype(np.float32), y, x, y, ClassifierConfig(epochs=1))
    with pytest.raises(ValueError, match="validation set: need one 0/1 label per patch"):
        train_classifier(x, y, x, y[:2], ClassifierConfig(epochs=1))
    with pytest.raises(ValueError, match="epochs=0"):
        ClassifierConfig(epochs=0)
    net = train_classifier(x, y, x[:0], y[:0], ClassifierConfig(epochs=2))  # no validation set
    assert net.best_epoch == 2 and np.isnan(net.best_val_f1)
