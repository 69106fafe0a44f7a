"""Suggestions for applicants open to other projects: their best-fitting eligible projects they did not choose."""
from __future__ import annotations

import numpy as np

from matching.engine import _top_k_open
from matching.rules import RuleArrays
from matching.synthetic import generate
from matching.text import TextModel


def _market():
    projects, applicants, _ = generate(60, 3000, seed=7, tight=True)
    rules = RuleArrays(projects, applicants)
    return rules, TextModel.fit(projects, applicants), np.flatnonzero(rules.a_open)


def test_suggestions_do_not_depend_on_block_size_or_threads():
    rules, text, rows = _market()
    barred = {(int(rows[3]), 5), (int(rows[-1]), 11)}
    one = _top_k_open(rules, text, rows, 8, barred, chunk=len(rows), threads=1)
    for chunk, threads in ((64, 1), (64, 2), (257, 2)):
        many = _top_k_open(rules, text, rows, 8, barred, chunk=chunk, threads=threads)
        assert all(np.array_equal(x, y) for x, y in zip(one, many, strict=True)), (chunk, threads)


def test_each_open_applicant_is_offered_her_best_fitting_eligible_projects_she_did_not_choose():
    rules, text, rows = _market()
    barred = {(int(rows[3]), 5)}
    app, proj, fit_of = _top_k_open(rules, text, rows, 8, barred, chunk=100, threads=2)
    assert len(app) > 0
    assert np.array_equal(fit_of, text.pair_fit(app, proj))  # each offered with the pair's own fit, to the bit
    assert rules.pairs(app, proj).all()
    chosen = set(zip(rules.choice_app.tolist(), rules.choice_proj.tolist(), strict=True))
    pairs = set(zip(app.tolist(), proj.tolist(), strict=True))
    assert not pairs & chosen and not pairs & barred
    for i in rows[:200].tolist():
        mine = proj[app == i]
        fit = text.scores(np.array([i]))[0]
        others = [j for j in range(len(rules.project_ids)) if j not in mine and (i, j) not in chosen
                  and (i, j) not in barred and rules.pairs([i], [j])[0] and fit[j] > 0]
        assert len(mine) == 8 or not others, i  # fewer than k only when nothing else is eligible
        if len(mine) and others:
            assert fit[mine].min() >= max(fit[j] for j in others), i
