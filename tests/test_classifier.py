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
    best = net.history.val_auc.max()  # the last epoch of the best validation AUC is kept
    assert net.best_val_auc == best and net.best_epoch == int(net.history.epoch[net.history.val_auc == best].max())
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


def test_epoch_selection_on_a_threshold_free_score_and_patience(monkeypatch):
    from thesis_lib.training import classifier
    x, y = _toy(8, 0)
    # validation scores by epoch: F1 at 0.5 stays 0 (nothing called a mass) while AUC improves, then stalls
    aucs = (0.60, 0.70, 0.80, 0.75, 0.78, 0.79, 0.95)

    def script():
        scripted = iter([{"val_f1": 0.0, "val_auc": a} for a in aucs])
        monkeypatch.setattr(classifier, "validation_scores", lambda model, xv, yv: next(scripted))

    script()
    by_f1 = train_classifier(x, y, x, y, ClassifierConfig(epochs=3, select_on="f1"))
    assert by_f1.best_epoch == 3  # every epoch ties at F1 0: the longest-trained is kept (the thesis' code: the first)
    script()
    by_auc = train_classifier(x, y, x, y, ClassifierConfig(epochs=10, patience=3))
    assert by_auc.best_epoch == 3 and by_auc.best_val_auc == 0.80
    assert len(by_auc.history) == 6  # three epochs without a better AUC: stopped before the 0.95 and the cap
    with pytest.raises(ValueError, match="select_on='loss'"):
        ClassifierConfig(select_on="loss")


def test_the_auc_standard_error_matches_the_spread_of_auc_on_small_validation_sets():
    """Hanley and McNeil's standard error against the spread of the AUC over 2,000 validation
    sets of 12 masses and 120 normals (exponential scores, for which the formula is exact)."""
    from sklearn.metrics import roc_auc_score

    from thesis_lib.evaluation.scoring import auc_standard_error
    rng = np.random.default_rng(0)
    n_pos, n_neg, ratio = 12, 120, 4.0  # positives' scores 4 x larger on average: AUC = 4 / 5
    aucs = [roc_auc_score(np.r_[np.ones(n_pos), np.zeros(n_neg)],
                          np.r_[rng.exponential(ratio, n_pos), rng.exponential(1.0, n_neg)]) for _ in range(2000)]
    assert np.mean(aucs) == pytest.approx(0.8, abs=0.01)
    assert auc_standard_error(0.8, n_pos, n_neg) == pytest.approx(np.std(aucs), rel=0.08)
    assert auc_standard_error(0.8, 120, 1200) < auc_standard_error(0.8, 12, 120) / 3  # ten times the cases
    with pytest.raises(ValueError, match="one case of each class"):
        auc_standard_error(0.8, 0, 120)
