"""Temperature-rule fits: parameter recovery, the paper-rule verdict both ways, validation, bands."""

import numpy as np
import pytest

from yarnlab.errors import UsageError
from yarnlab.theory.fit import FORMS, band_table, compare_forms, fit_temperature_rule

S = np.repeat([2.0, 4.0, 8.0, 16.0, 32.0], 12)


def _noisy(a, b, sd=0.01, seed=0):
    return a * np.log(S) + b + np.random.default_rng(seed).normal(0, sd, S.size)


def test_exact_data_recovers_parameters():
    for form in FORMS:
        m = FORMS[form].fn(S, *FORMS[form].p0)
        rep = fit_temperature_rule(S, m, form=form, n_boot=50)
        for name, p0 in zip(FORMS[form].params, FORMS[form].p0):
            assert rep.params[name] == pytest.approx(p0, rel=1e-5)
        assert rep.rss == pytest.approx(0.0, abs=1e-12)


def test_paper_rule_detected_when_true():
    rep = fit_temperature_rule(S, _noisy(0.1, 1.0), n_boot=500)
    assert rep.ci["a"][0] < 0.1 < rep.ci["a"][1]
    assert rep.contains_paper_rule is True and rep.paper_rule_in_joint_region is True
    assert rep.residuals.shape == S.shape and rep.n == S.size


def test_paper_rule_rejected_when_false():
    rep = fit_temperature_rule(S, _noisy(0.06, 1.0), n_boot=500)
    assert rep.contains_paper_rule is False and rep.paper_rule_in_joint_region is False
    assert rep.params["a"] == pytest.approx(0.06, abs=0.01)


def test_other_forms_have_no_paper_verdict_and_aic_picks_the_true_form():
    m = FORMS["quartic-root"].fn(S, 0.6) + np.random.default_rng(1).normal(0, 0.002, S.size)
    reports = compare_forms(S, m, n_boot=50)
    assert reports[0].form == "quartic-root"
    assert all(r.contains_paper_rule is None for r in reports if r.form != "log")


def test_band_brackets_fit_and_table():
    rep = fit_temperature_rule(S, _noisy(0.1, 1.0, seed=2), n_boot=300)
    rows = band_table(rep, 2.0, 32.0, n=10)
    assert len(rows) == 10 and rows[0]["s"] == pytest.approx(2.0)
    for r in rows:
        assert r["m_lo"] <= r["m_fit"] <= r["m_hi"]
    d = rep.to_dict()
    assert d["form"] == "log" and isinstance(d["residuals"], list)


@pytest.mark.parametrize("kwargs,match", [
    ({"s": [2, 4], "m_opt": [1.0]}, "equal length"),
    ({"s": [2, 2, 2], "m_opt": [1, 1, 1]}, "two distinct"),
    ({"s": [0, 2, 4], "m_opt": [1, 1, 1]}, "> 0"),
    ({"s": [2, 4, float("nan")], "m_opt": [1, 1, 1]}, "finite"),
    ({"s": [2, 4, 8], "m_opt": [1, 1, 1], "form": "cubic"}, "form"),
    ({"s": [2, 4, 8], "m_opt": [1, 1, 1], "n_boot": 3}, "n_boot"),
])
def test_validation(kwargs, match):
    with pytest.raises(UsageError, match=match):
        fit_temperature_rule(**kwargs)
