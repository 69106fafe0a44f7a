"""Text fit for English, Chinese and mixed profiles."""

from __future__ import annotations

import numpy as np
import pytest

from matching.text import TextModel, analyze, shared_terms
from tests.matching.matchkit import applicant, project

PROJECTS = [
    project("FIN", title="金融科技公司數據分析實習", description="協助分析交易數據，建立風險模型。",
            sector="金融"),
    project("MUS", title="博物館策展助理", description="協助籌備文物展覽，整理館藏資料。",
            sector="文化遺產"),
    project("ECO", title="自然保護區保育實習", description="參與野生動物調查及生態研究。",
            sector="自然保育"),
    project("ENG", title="Software engineering intern", description="Build cloud services in "
            "Python; machine learning pipelines.", sector="Technology"),
    project("LAW", title="Legal assistant at a law firm", description="Legal research, "
            "contracts and cross-border compliance.", sector="Law"),
]


def _ranking(model: TextModel, i: int) -> list[str]:
    scores = model.scores(np.array([i]))[0]
    return [PROJECTS[j].id for j in np.argsort(-scores, kind="stable")]


def test_chinese_words_become_character_bigrams_and_english_keeps_phrases():
    tokens = analyze("Data Science 數據科學")
    # Chinese is compared in one script (Simplified), whichever the writer used
    assert {"data", "science", "data science", "数据", "据科", "科学"} <= set(tokens)
    assert "数据科学" not in tokens  # a whole run is not one token


def test_traditional_and_simplified_spellings_of_a_word_are_the_same_word():
    assert analyze("故宮博物院 熊貓") == analyze("故宫博物院 熊猫")
    palace = project("PALACE", title="故宮博物院文物修復實習", description="")
    pandas = project("PANDA", title="臥龍熊貓保育實習", description="")
    guangdong_student = [applicant("GD", field_of_study="生物", interests="熊猫 卧龙")]  # no character in common unfolded
    model = TextModel.fit([palace, pandas], guangdong_student)
    scores = model.scores(np.array([0]))[0]
    assert scores[1] > 0.3 > 0.1 > scores[0]
    # the shared word is shown as the project writes it
    assert set(model.shared_terms(0, 1, k=3)) == {"臥龍", "熊貓"}


def test_chinese_only_profile_ranks_its_chinese_project_first():
    people = [applicant("ZH", field_of_study="歷史", interests="博物館、文物展覽",
                        statement="我希望到博物館實習，學習策展。")]
    model = TextModel.fit(PROJECTS, people)
    assert _ranking(model, 0)[0] == "MUS"


def test_english_only_profile_ranks_its_english_project_first():
    people = [applicant("EN", field_of_study="Computer Science",
                        skills="Python, machine learning", statement="I build cloud software.")]
    model = TextModel.fit(PROJECTS, people)
    assert _ranking(model, 0)[0] == "ENG"


def test_mixed_profile_finds_chinese_described_project():
    people = [applicant("MIX", field_of_study="Finance 金融學", skills="數據分析, excel",
                        statement="Keen on fintech; 希望學習風險模型。")]
    model = TextModel.fit(PROJECTS, people)
    assert _ranking(model, 0)[0] == "FIN"


def test_shared_terms_are_readable_words_in_both_languages():
    a = applicant(field_of_study="Data Science 數據科學", skills="machine learning")
    p = project(title="Data science intern 數據科學實習", description="machine learning models")
    terms = shared_terms(a, p, k=3)
    assert "數據科學" in terms
    assert "data science" in terms or "machine learning" in terms



def test_shared_terms_of_repeated_profiles_equal_those_worked_out_one_pair_at_a_time():
    # shared_terms_many works out each distinct (profile text, project) once: a profile repeated by several
    # applicants, against the same or other projects, must get what each pair gets alone.
    profiles = [dict(field_of_study="Data Science 數據科學", skills="Python, machine learning 數據分析"),
                dict(field_of_study="歷史", interests="博物館、文物展覽", statement="希望學習策展。"),
                dict(field_of_study="Law 法律", statement="contracts and compliance; 自然保育")]
    people = [applicant(f"A{k}", **profiles[k % 3]) for k in range(9)]
    model = TextModel.fit(PROJECTS, people)
    app = np.array([0, 3, 6, 1, 4, 7, 2, 5, 8, 0, 3, 1])
    proj = np.array([0, 0, 3, 1, 1, 2, 4, 4, 2, 3, 3, 0])
    together = model.shared_terms_many(app, proj, 3)
    alone = [model.shared_terms_many(np.array([i]), np.array([j]), 3) for i, j in zip(app, proj, strict=True)]
    assert together == [terms for [terms] in alone]
    assert any(together)
    # each pair has a list of its own: changing one leaves a repeat of the same pair as it was
    together[0].append("changed")
    assert together[1] == alone[1][0]


def test_a_lone_shared_chinese_character_is_not_offered_as_a_reason():
    # '理' (in 管理 and 理想) and '習' (學習 / 實習) are shared, but no word is: nothing readable to show.
    a = applicant(field_of_study="管理", statement="希望學習")
    p = project(title="理想實習", description="")
    assert shared_terms(a, p, k=3) == []


def test_matches_scikit_learn_tfidf_semantics():
    sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
    docs_p = [f"{p.title}\n{p.description}\n{p.sector}" for p in PROJECTS]
    # Repeated profiles (and one that copies a project's text) are weighed once but count once per document.
    docs_a = ["歷史 博物館 展覽", "Python machine learning 數據", "law contracts 法律", "歷史 博物館 展覽",
              "歷史 博物館 展覽", docs_p[0]]
    ours = TextModel(docs_p, docs_a)
    vec = sklearn_text.TfidfVectorizer(analyzer=analyze, sublinear_tf=True, norm="l2")
    theirs = vec.fit_transform(docs_p + docs_a)
    ours_all = np.vstack([ours.P.toarray(), ours.A.toarray()])
    # Same vocabulary, possibly in another column order.
    cols = [ours.terms.index(t) for t in vec.get_feature_names_out()]
    np.testing.assert_allclose(ours_all[:, cols], theirs.toarray(), rtol=1e-5, atol=1e-6)


def test_fit_of_many_pairs_is_the_applicants_row_of_scores_to_the_last_bit_in_any_order():
    """Orders and tie-breaks read the fit, so working it out project by project must give exactly the float that
    the applicant's row of scores (what her suggestions are chosen from) holds for the project, whichever order
    the pairs come in."""
    from matching.synthetic import generate  # noqa: PLC0415 - a generated market has many shared terms

    projects, applicants, _scheme = generate(40, 600, seed=7)
    applicants[3] = applicant("EMPTY", field_of_study="", skills="", interests="", statement="")
    model = TextModel.fit(projects, applicants)
    rng = np.random.default_rng(7)
    app = rng.integers(0, len(applicants), 5_000)
    proj = rng.integers(0, len(projects), 5_000)
    app[:40], proj[:40] = 3, np.arange(40)  # a profile with no words fits nothing
    expected = model.scores(app)[np.arange(len(app)), proj].astype(np.float64)
    fit = model.pair_fit(app, proj)
    assert fit.dtype == np.float64
    assert np.array_equal(fit, expected)
    assert not fit[:40].any() and (fit > 0).sum() > 1_000
    # Many pairs share a dozen terms or more, where summing in another order would round differently.
    shared = np.diff(model.A[app].multiply(model.P[proj]).tocsr().indptr)
    assert (shared > 8).sum() > 100
    backwards = model.pair_fit(app[::-1], proj[::-1])
    assert np.array_equal(backwards, expected[::-1])


def test_a_merged_words_weight_does_not_depend_on_the_processs_string_hashes():
    """A word merged from bigrams weighs the sum of its pieces, which sit in a set; summed in the set's order,
    0.1 + 0.2 + 0.3 is 0.6 in some processes and 0.6000000000000001 in others, and against a term of weight 0.6
    the order of the two reasons shown changed from one process to the next."""
    import subprocess  # noqa: PLC0415 - only this test starts processes
    import sys  # noqa: PLC0415

    script = ("from matching.text import _readable\n"
              "ranked = [('數據', 0.1), ('據科', 0.2), ('科學', 0.3), ('zzz', 0.6)]\n"
              "print(_readable(ranked, ('數據科學 zzz', '數據科學 zzz'), '數據科學 zzz', 2))\n")
    shown = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env={"PYTHONHASHSEED": str(seed), "PYTHONPATH": "."}).stdout
             for seed in range(12)}
    assert len(shown) == 1, shown
