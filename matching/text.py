"""Text fit between an applicant's profile and a project, for English and Chinese.

TF-IDF with the semantics of scikit-learn's
``TfidfVectorizer(analyzer=analyze, sublinear_tf=True, norm="l2", smooth_idf=True)``
(a test checks equality), implemented here with numpy/scipy because importing
scikit-learn alone takes ~1.7 s, more than half the CLI's time budget.

The analyzer works for mixed English / Chinese text: NFKC + lower case, every
Chinese character folded to its Simplified form (``matching.chinese.fold``, so
故宮 and 故宫 are one word), English word unigrams and bigrams (stop words dropped), and Chinese
character unigrams and bigrams inside each run of CJK characters (Chinese has
no spaces, so a default token pattern would make a whole run one token).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .chinese import fold
from .model import Applicant, Project
from .sortkeys import descending_key

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECES = re.compile(rf"([a-z][a-z0-9+#]*|[0-9]+[a-z][a-z0-9]*)|([{_CJK}]+)|([.,;:!?()\[\]/|、，。；：！？（）「」])")
_IS_CJK = re.compile(rf"^[{_CJK}]+$")

ENGLISH_STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each etc few for
from further had has have having he her here hers him his how i if in into is it its itself
just me more most my no nor not of off on once only or other our ours out over own same she
should so some such than that the their them then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you
your yours want like work working interested interest love enjoy hope looking experience
""".split())
# Particles that carry no topic; bigrams containing them mostly straddle word boundaries.
CHINESE_STOP_CHARS = frozenset(fold("的了和與及並或之我你他她們在是有於為對也就都而"))


def _stem(word: str) -> str:
    """Fold the commonest English plurals ('museums', 'studies') onto the singular."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def analyze(text: str) -> list[str]:
    """Tokens of one document (English uni/bigrams, Chinese character uni/bigrams)."""
    return _tokens(fold(_norm(text)))


# Words and Chinese runs recur across profiles: each is stemmed or split once per process (cleared when large).
_WORDS: dict[str, str] = {}  # word -> its stem, "" for a stop word
_RUNS: dict[str, list[str]] = {}  # run of Chinese characters -> its character unigrams, then bigrams
_CACHE_LIMIT = 200_000


def _han_tokens(han: str) -> list[str]:
    stop = CHINESE_STOP_CHARS
    return [c for c in han if c not in stop] + [han[k:k + 2] for k in range(len(han) - 1)
                                                if han[k] not in stop and han[k + 1] not in stop]


def _tokens(text: str) -> list[str]:
    """`analyze` on a text already normalised and folded."""
    words, runs = _WORDS, _RUNS
    if len(words) > _CACHE_LIMIT or len(runs) > _CACHE_LIMIT:
        words.clear()
        runs.clear()
    tokens: list[str] = []
    append = tokens.append
    prev_word = None  # English bigrams do not cross punctuation or Chinese runs
    for word, han, _punct in _PIECES.findall(text):
        if word:
            stem = words.get(word)
            if stem is None:
                stem = words[word] = "" if word in ENGLISH_STOP_WORDS else _stem(word)
            if not stem:
                prev_word = None
                continue
            append(stem)
            if prev_word is not None:
                append(prev_word + " " + stem)
            prev_word = stem
        else:
            prev_word = None
            if han:
                run = runs.get(han)
                if run is None:
                    run = runs[han] = _han_tokens(han)
                tokens.extend(run)
    return tokens


def project_text(p: Project) -> str:
    return f"{p.title}\n{p.description}\n{p.sector}"


def applicant_text(a: Applicant) -> str:
    return f"{a.field_of_study}\n{a.skills}\n{a.interests}\n{a.statement}"


class TextModel:
    """TF-IDF vectors of projects (rows of ``P``) and applicants (rows of ``A``).

    IDF is fitted once on the whole corpus (projects and applicants together).
    """

    def __init__(self, project_texts: Sequence[str], applicant_texts: Sequence[str]):
        docs = list(project_texts) + list(applicant_texts)
        # Identical profiles are common, and identical texts have identical rows: each distinct text is analysed
        # and weighed once (in order of first appearance, so terms are numbered as they first occur), and every
        # document takes its text's row. Document frequencies still count every document.
        distinct: dict[str, int] = {}
        row_of = np.array([distinct.setdefault(doc, len(distinct)) for doc in docs], np.int64)
        vocab: dict[str, int] = {}
        # Each text normalised and folded, kept for the explanations (shared_terms_many), which read it again.
        self._folded: dict[str, str] = {}
        id_lists = []
        for doc in distinct:
            folded = self._folded[doc] = fold(_norm(doc))
            id_lists.append(np.array([vocab.setdefault(t, len(vocab)) for t in _tokens(folded)], np.int32))
        lengths = np.array([len(ids) for ids in id_lists], np.int64)
        indptr = np.zeros(len(distinct) + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.concatenate(id_lists) if id_lists else np.zeros(0, np.int32)
        counts = sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr),
                               shape=(len(distinct), max(1, len(vocab))))
        counts.sum_duplicates()  # also sorts each row's terms, which the rows keep from here on
        n_docs = len(docs)
        copies = np.bincount(row_of, minlength=len(distinct))
        df = np.bincount(counts.indices, weights=np.repeat(copies, np.diff(counts.indptr)),
                         minlength=counts.shape[1])
        self.idf = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
        counts.data = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        # Each row scaled in place (the same float32 products a diagonal matrix product gives, without its
        # unsorted result).
        counts.data *= np.repeat((1.0 / norms).astype(np.float32), np.diff(counts.indptr))
        tfidf = counts
        self.terms = sorted(vocab, key=vocab.__getitem__)
        n_p = len(project_texts)
        self.P = tfidf[row_of[:n_p]]
        self.A = tfidf[row_of[n_p:]]
        self.project_texts = list(project_texts)
        self.applicant_texts = list(applicant_texts)
        self._PT = None

    @classmethod
    def fit(cls, projects: Sequence[Project], applicants: Sequence[Applicant]) -> TextModel:
        return cls([project_text(p) for p in projects], [applicant_text(a) for a in applicants])

    def pair_fit(self, app: np.ndarray, proj: np.ndarray) -> np.ndarray:
        """Cosine similarity of (applicant index, project index) pairs, in [0, 1]: for every pair the same float as
        that applicant's row of `scores` holds for that project, to the last bit.

        Both sum the products of the shared terms in float32, one after another in term order (a sparse product
        adds each of the applicant's terms in turn; adding the others' zero products changes nothing), so a fit
        found for the suggestions is the fit of the pair, and the suggestions page and the matcher agree.
        Pairs are grouped by project: each project's row is spread once into a dense vector and its applicants'
        rows are multiplied by it (one sparse matrix-vector product per project). One project's pairs at a time,
        so the temporaries stay small: gathering all pairs' rows at once allocated about a gigabyte at national
        scale (docs/matching.md, "Where the time goes").
        """
        if len(app) == 0:
            return np.zeros(0, np.float64)
        app, proj = np.asarray(app), np.asarray(proj)
        # Any order within a project will do (each pair is summed alone), so 16-bit project numbers sort by radix.
        order = np.argsort(proj.astype(np.uint16) if self.P.shape[0] <= 1 << 16 else proj, kind="stable")
        cut = np.searchsorted(proj[order], np.arange(self.P.shape[0] + 1))
        A, P = self.A, self.P
        fit = np.zeros(len(app), np.float64)
        dense = np.zeros(P.shape[1], np.float32)
        for j in np.flatnonzero(np.diff(cut)).tolist():
            pairs = order[cut[j]:cut[j + 1]]
            cols = P.indices[P.indptr[j]:P.indptr[j + 1]]
            dense[cols] = P.data[P.indptr[j]:P.indptr[j + 1]]
            fit[pairs] = A[app[pairs]] @ dense
            dense[cols] = 0
        return fit

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Dense fit of applicants ``rows`` against every project."""
        return self.scores_of(self.A[np.asarray(rows)])

    def scores_of(self, profiles) -> np.ndarray:
        """Dense fit of TF-IDF rows (a slice of ``A``) against every project."""
        if self._PT is None:
            # Row-major, as the product wants it: scipy would otherwise convert a column-major transpose on
            # every call.
            self._PT = sp.csr_matrix(self.P.T)
        return (profiles @ self._PT).toarray()

    def shared_terms(self, i: int, j: int, k: int = 3) -> list[str]:
        """The strongest terms applicant ``i`` and project ``j`` share, readable."""
        A, P = self.A, self.P
        a0, a1 = A.indptr[i], A.indptr[i + 1]
        p0, p1 = P.indptr[j], P.indptr[j + 1]
        common, ia, ip = np.intersect1d(A.indices[a0:a1], P.indices[p0:p1], assume_unique=True,
                                        return_indices=True)
        if len(common) == 0:
            return []
        weight = A.data[a0:a1][ia] * P.data[p0:p1][ip]
        order = np.lexsort((common, -weight))[:16]
        terms = self.terms
        ranked = [(terms[t], w) for t, w in zip(common[order].tolist(), weight[order].tolist(),
                                                strict=True)]
        project_plain = _norm(self.project_texts[j])
        return _readable(ranked, (fold(_norm(self.applicant_texts[i])), fold(project_plain)), project_plain, k)


    def shared_terms_many(self, app: np.ndarray, proj: np.ndarray, k: int = 3) -> list[list[str]]:
        """``shared_terms`` for many (applicant, project) pairs at once (one sparse product).

        Pairs of the same profile text and project have the same answer (identical texts have identical TF-IDF
        rows), so each distinct pair is worked out once and the others get a copy of its list.
        """
        if len(app) == 0:
            return []
        app_rows, proj_rows = np.asarray(app).tolist(), np.asarray(proj).tolist()
        texts = self.applicant_texts
        distinct: dict[tuple[str, int], int] = {}
        first: list[int] = []  # the pair that stands for each distinct (text, project)
        which = [distinct.setdefault((texts[i], j), len(distinct)) for i, j in zip(app_rows, proj_rows, strict=True)]
        for r, u in enumerate(which):
            if u == len(first):
                first.append(r)
        app_u = np.array([app_rows[r] for r in first], np.int64)
        proj_u = np.array([proj_rows[r] for r in first], np.int64)
        prod = sp.csr_matrix(self.A[app_u].multiply(self.P[proj_u]))
        prod.eliminate_zeros()
        prod.sort_indices()  # a no-op when scipy already knows them sorted; the order below relies on it
        indptr, indices, data = prod.indptr, prod.indices, prod.data
        row = np.repeat(np.arange(len(app_u), dtype=np.uint64), np.diff(indptr))
        # Rows stay grouped, best weight first, ties in term order (a row's terms are stored in that order and
        # the sort is stable): one integer sort, where sorting on three keys took ten times as long.
        order = np.argsort((row << np.uint64(32)) | descending_key(data), kind="stable")
        # Each pair's 12 heaviest terms, picked for all pairs at once and turned into Python objects once.
        top = order[np.arange(len(order)) - indptr[row] < 12]
        cut = np.zeros(len(app_u) + 1, np.int64)
        np.cumsum(np.minimum(np.diff(indptr), 12), out=cut[1:])
        cut = cut.tolist()
        terms = self.terms
        top_terms = [terms[t] for t in indices[top].tolist()]
        top_weights = data[top].tolist()
        # The terms written in Chinese characters alone, found once per term rather than once per use.
        cjk = {t for t in set(top_terms) if _IS_CJK.match(t)}
        folded = self._folded
        projects: dict[int, tuple[str, str]] = {}  # project -> (normalised, folded): each is read by many pairs
        answers = []
        for r, (i, j) in enumerate(zip(app_u.tolist(), proj_u.tolist(), strict=True)):
            s, e = cut[r], cut[r + 1]
            if s == e:
                answers.append([])
                continue
            ranked = list(zip(top_terms[s:e], top_weights[s:e], strict=True))
            if j not in projects:
                plain = _norm(self.project_texts[j])
                projects[j] = (plain, fold(plain))
            plain, project_folded = projects[j]
            text = texts[i]
            applicant_folded = folded.get(text)
            if applicant_folded is None:
                applicant_folded = fold(_norm(text))
            answers.append(_readable(ranked, (applicant_folded, project_folded), plain, k, cjk))
        # A list of its own per pair: a caller may keep or change one without touching another's.
        return [list(answers[u]) for u in which]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _cjk_char(c: str) -> bool:
    """`_IS_CJK.match(c)` for one character, without the regex call (it runs for every character tried)."""
    return "\u3400" <= c <= "\u4dbf" or "\u4e00" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"


def _extend(word: str, texts: tuple[str, str], longest: int = 6) -> str:
    """Grow a Chinese word by neighbouring characters both texts share ('長者照' -> '長者照顧')."""
    a, p = texts
    while len(word) < longest:
        at = a.find(word)
        if at < 0:
            break
        after = a[at + len(word):at + len(word) + 1]
        before = a[at - 1:at] if at > 0 else ""
        if after and _cjk_char(after) and word + after in p:
            word += after
        elif before and _cjk_char(before) and before + word in p:
            word = before + word
        else:
            break
    return word


def _readable(ranked: list[tuple[str, float]], texts: tuple[str, str], project_plain: str, k: int,
              cjk: set[str] | None = None) -> list[str]:
    """Merge overlapping Chinese bigrams into words, then keep the heaviest terms, as the project writes them.

    A merged word or an English bigram absorbs the weight of the shorter terms
    it contains, so '數據科學' beats its pieces and 'data science' beats 'data'.
    Terms are compared folded to one script; a Chinese word is shown in the project's own characters
    (the fold keeps every character in place, so the same span of the unfolded text is the word).
    `texts` are the applicant's and the project's texts normalised (`_norm`) and folded, `project_plain` the
    project's normalised only. `cjk` holds (at least) those of the ranked terms written in Chinese characters
    alone, when the caller has found them once for many calls.
    """
    if cjk is None:
        cjk = {t for t, _ in ranked if _IS_CJK.match(t)}
    bigrams = [t for t, _ in ranked if len(t) == 2 and t in cjk]
    words: list[str] = []
    used: set[str] = set()
    a_text, p_text = texts
    for start in bigrams:
        if start in used:
            continue
        word = start
        used.add(start)
        grown = True
        while grown:
            grown = False
            for b in bigrams:
                if b in used:
                    continue
                if b[0] == word[-1] and (longer := word + b[1]) in a_text and longer in p_text:
                    word = longer
                elif b[1] == word[0] and (longer := b[0] + word) in a_text and longer in p_text:
                    word = longer
                else:
                    continue
                used.add(b)
                grown = True
        words.append(_extend(word, texts))
    own = dict(ranked)
    weight: dict[str, float] = {}
    for word in words:
        pieces = set(word)
        pieces.update([word[x:x + 2] for x in range(len(word) - 1)])
        # Summed exactly: a set's order follows the process's string hashes, and a plain sum in that order could
        # round two processes' weights apart, and with them the order of two terms of nearly equal weight.
        weight[word] = math.fsum([own[t] for t in pieces if t in own])
    for term, w in ranked:
        if term in weight or (len(term) <= 2 and term in cjk):
            # Bigrams are represented by the words they merged into; a lone character ('理', '習') tells a
            # reader nothing, though it still counts in the fit.
            continue
        if " " in term:
            first, second = term.split(" ", 1)
            w += own.get(first, 0.0) + own.get(second, 0.0)
        weight[term] = w
    out: list[str] = []
    for cand in sorted(weight, key=lambda t: (-weight[t], t)):
        if any(cand in longer for longer in out):
            continue  # 'data' after 'data science'
        out.append(cand)
        if len(out) >= k:
            break
    # A kept term is Chinese alone when it is a merged word (built from Chinese bigrams and characters) or a
    # ranked term in `cjk`.
    return [_as_written(term, texts[1], project_plain, term in cjk or term in words) for term in out]


def _as_written(term: str, folded: str, plain: str, chinese: bool | None = None) -> str:
    """`term` as the project writes it: a Chinese term (`chinese`, found here when not given) is the same span of
    the unfolded text."""
    if chinese is None:
        chinese = bool(_IS_CJK.match(term))
    at = folded.find(term) if chinese else -1
    return plain[at:at + len(term)] if at >= 0 else term


def shared_terms(applicant: Applicant, project: Project, k: int = 3,
                 model: TextModel | None = None) -> list[str]:
    """Strongest shared terms; without a fitted ``model`` IDF comes from this pair alone."""
    if model is None:
        model = TextModel([project_text(project)], [applicant_text(applicant)])
        return model.shared_terms(0, 0, k)
    raise TypeError("with a fitted model call model.shared_terms(i, j, k)")
