"""Synthetic data shaped like the Funding Scheme for Youth Internship in the Mainland.

Used by the benchmarks and by the app's ``internmatch demo`` loader. At the
default size (120 projects) there are about 3,500 places, a third of them in
the Guangdong Greater Bay Area, at about HK$26,000 per place; everything scales
proportionally with ``n_projects``. Deterministic for a given seed.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from . import io
from .geography import CITIES
from .model import HONG_KONG, Applicant, Education, Project, Scheme

PLACES_PER_PROJECT = 3500 / 120
BUDGET_PER_PLACE = 91_000_000 / 3500

# sector: (en, zh, roles [(en, zh)], fields of study [(en, zh)], keywords [(en, zh)], min education)
SECTORS = {
    "finance": ("Finance", "金融", [
        ("Data analytics intern at a fintech firm", "金融科技公司數據分析實習"),
        ("Investment research intern", "投資研究實習生"),
        ("Risk management intern at a bank", "銀行風險管理實習")],
        [("Finance", "金融學"), ("Accounting", "會計學"), ("Economics", "經濟學")],
        [("financial analysis", "財務分析"), ("fintech", "金融科技"), ("risk management", "風險管理"),
         ("excel", "試算表"), ("investment", "投資"), ("accounting", "會計")], Education.ASSOCIATE),
    "technology": ("Technology", "科技", [
        ("Software engineering intern", "軟件工程實習"),
        ("Machine learning intern at an AI start-up", "人工智能初創機器學習實習"),
        ("Cloud and data platform intern", "雲端數據平台實習")],
        [("Computer Science", "電腦科學"), ("Data Science", "數據科學"), ("Information Engineering", "資訊工程")],
        [("python", "編程"), ("machine learning", "機器學習"), ("data science", "數據科學"),
         ("software development", "軟件開發"), ("cloud computing", "雲端運算"),
         ("artificial intelligence", "人工智能")], Education.ASSOCIATE),
    "heritage": ("Heritage and museums", "文化遺產及博物館", [
        ("Museum curatorial assistant", "博物館策展助理"),
        ("Cultural heritage conservation intern", "文化遺產保育實習")],
        [("History", "歷史"), ("Fine Arts", "藝術"), ("Cultural Studies", "文化研究")],
        [("museum", "博物館"), ("exhibition curation", "展覽策劃"), ("cultural heritage", "文化遺產"),
         ("archaeology", "考古"), ("art history", "藝術史")], Education.SECONDARY),
    "conservation": ("Nature conservation", "自然保育", [
        ("Nature reserve conservation intern", "自然保護區保育實習"),
        ("Wildlife research assistant", "野生動物研究助理")],
        [("Environmental Science", "環境科學"), ("Biology", "生物學"), ("Geography", "地理")],
        [("ecology", "生態"), ("wildlife", "野生動物"), ("biodiversity", "生物多樣性"),
         ("field survey", "野外考察"), ("nature reserve", "自然保護區")], Education.SECONDARY),
    "media": ("Media", "媒體", [
        ("Digital media and journalism intern", "數碼媒體新聞實習"),
        ("Video production intern", "影片製作實習")],
        [("Journalism", "新聞學"), ("Communication", "傳理"), ("Creative Media", "創意媒體")],
        [("journalism", "新聞採訪"), ("video production", "影片製作"), ("social media", "社交媒體"),
         ("copywriting", "文案寫作"), ("photography", "攝影")], Education.SECONDARY),
    "logistics": ("Logistics", "物流", [
        ("Supply chain and logistics intern", "供應鏈物流實習"),
        ("Port operations intern", "港口營運實習")],
        [("Supply Chain Management", "供應鏈管理"), ("Business Administration", "工商管理")],
        [("supply chain", "供應鏈"), ("logistics", "物流"), ("operations", "營運管理"),
         ("e-commerce", "電子商貿"), ("shipping", "航運")], Education.SECONDARY),
    "healthcare": ("Healthcare", "醫療", [
        ("Hospital administration intern", "醫院行政實習"),
        ("Public health research intern", "公共衞生研究實習")],
        [("Nursing", "護理學"), ("Public Health", "公共衞生"), ("Biomedical Sciences", "生物醫學")],
        [("healthcare", "醫療護理"), ("public health", "公共衞生"), ("nursing", "護理"),
         ("clinical research", "臨床研究"), ("elderly care", "長者照顧")], Education.DIPLOMA),
    "law": ("Law", "法律", [
        ("Legal assistant at a law firm", "律師事務所法律助理"),
        ("Cross-border compliance intern", "跨境合規實習")],
        [("Law", "法律"), ("Political Science", "政治學")],
        [("legal research", "法律研究"), ("contracts", "合約"), ("compliance", "合規"),
         ("arbitration", "仲裁"), ("corporate law", "公司法")], Education.BACHELOR),
    "architecture": ("Architecture", "建築", [
        ("Architectural design intern", "建築設計實習"),
        ("Urban planning intern", "城市規劃實習")],
        [("Architecture", "建築學"), ("Urban Planning", "城市規劃"), ("Civil Engineering", "土木工程")],
        [("architecture", "建築設計"), ("urban planning", "城市規劃"), ("autocad", "繪圖"),
         ("sustainable design", "可持續設計"), ("surveying", "測量")], Education.BACHELOR),
    "social": ("Social services", "社會服務", [
        ("Community social services intern", "社區社會服務實習"),
        ("Youth development programme assistant", "青年發展計劃助理")],
        [("Social Work", "社會工作"), ("Psychology", "心理學"), ("Sociology", "社會學")],
        [("social work", "社會工作"), ("community service", "社區服務"), ("counselling", "輔導"),
         ("youth work", "青年工作"), ("volunteering", "義工")], Education.SECONDARY),
    "hospitality": ("Hospitality and tourism", "酒店及旅遊", [
        ("Hotel and tourism management intern", "酒店及旅遊管理實習"),
        ("Event planning intern", "活動策劃實習")],
        [("Hotel Management", "酒店管理"), ("Tourism", "旅遊管理")],
        [("hospitality", "酒店服務"), ("tourism", "旅遊"), ("customer service", "客戶服務"),
         ("event planning", "活動策劃"), ("marketing", "市場推廣")], Education.SECONDARY),
    "manufacturing": ("Manufacturing", "製造業", [
        ("Smart manufacturing engineering intern", "智能製造工程實習"),
        ("Electronics quality engineering intern", "電子產品質量工程實習")],
        [("Mechanical Engineering", "機械工程"), ("Electronic Engineering", "電子工程"),
         ("Industrial Engineering", "工業工程")],
        [("engineering", "工程"), ("automation", "自動化"), ("quality control", "品質管理"),
         ("robotics", "機械人"), ("electronics", "電子")], Education.DIPLOMA),
}
SECTOR_KEYS = tuple(SECTORS)
SECTOR_POPULARITY = np.array([16, 18, 7, 6, 8, 6, 7, 6, 6, 8, 7, 5], float)
ORGS = [("a leading company", "一所大型企業"), ("a state-owned enterprise", "一所國有企業"),
        ("a research institute", "一所研究院"), ("a non-profit organisation", "一所非牟利機構"),
        ("a start-up", "一所初創企業")]
GBA_SHARE = 1 / 3


def _cities():
    gba = [c for c in CITIES if c.gba]
    gba_w = np.array([6 if c.name_en in ("Shenzhen", "Guangzhou") else 1.5 for c in gba])
    other_names = ["Beijing", "Shanghai", "Hangzhou", "Nanjing", "Suzhou", "Chengdu", "Wuhan",
                   "Xi'an", "Chongqing", "Tianjin", "Xiamen", "Kunming", "Qingdao", "Changsha",
                   "Guilin", "Harbin", "Dalian", "Zhengzhou", "Hefei", "Ningbo", "Guiyang",
                   "Nanning", "Haikou", "Lanzhou", "Urumqi", "Shenyang", "Fuzhou", "Jinan",
                   "Taiyuan", "Hohhot", "Lhasa", "Xining", "Yinchuan", "Nanchang", "Changchun",
                   "Shijiazhuang"]
    by_name = {c.name_en: c for c in CITIES}
    other = [by_name[n] for n in other_names]
    other_w = np.array([10, 10, 5, 4, 3, 4, 4, 3, 3, 3, 3, 2, 2, 2] + [1] * (len(other) - 14),
                       float)
    return gba, gba_w / gba_w.sum(), other, other_w / other_w.sum()


def _project(rng, k, sector, city, places, gba) -> Project:
    en, zh, roles, _fields, keywords, min_edu = SECTORS[sector]
    role_en, role_zh = roles[rng.integers(len(roles))]
    org_en, org_zh = ORGS[rng.integers(len(ORGS))]
    kws = [keywords[i] for i in rng.choice(len(keywords), 3, replace=False)]
    weeks = int(rng.integers(4, 9))
    start = date(2025, 6, 2) + timedelta(weeks=int(rng.integers(0, 5)))
    end = start + timedelta(weeks=weeks) - timedelta(days=1)
    # Farther away costs more (travel, lodging); multiples of HK$100.
    per_week = 2800 if gba else 3400
    subsidy = int(round((per_week * weeks + (4000 if gba else 7000)) * rng.uniform(0.9, 1.1), -2))
    r = rng.random()
    languages = {"putonghua": 3} if r < 0.35 else {"putonghua": 2, "english": 3} if r < 0.55 \
        else {"english": 3} if r < 0.65 else {}
    if " at " in role_en:  # the role already names its organisation
        org_en, org_zh = "", ""
    where = f" at {org_en}" if org_en else ""
    title = f"{role_en}{where} in {city.name_en} {city.name_zh}{org_zh}{role_zh}"
    description = (
        f"Join {org_en or 'us'} in {city.name_en} for {weeks} weeks this summer: "
        f"{kws[0][0]}, {kws[1][0]} and {kws[2][0]}. "
        f"於{city.name_zh}實習{weeks}星期，工作包括{kws[0][1]}、{kws[1][1]}及{kws[2][1]}。")
    return Project(
        id=f"P{k + 1:04d}", title=title, description=description, sector=f"{en} {zh}",
        city=city.name_en, region=city.region, start_date=start, end_date=end,
        places=int(places), subsidy_per_place=subsidy, languages=languages,
        min_age=18, max_age=29 if rng.random() < 0.85 else 25, min_education=min_edu)


def generate(n_projects: int = 120, n_applicants: int = 6000, seed: int = 2025,
             budget_hkd: int | None = None, tight: bool = False,
             ) -> tuple[list[Project], list[Applicant], Scheme]:
    """Projects, applicants and the scheme (budget and Guangdong cap).

    ``tight=True`` sets the budget to ~85% of the cost of all places and the
    Guangdong cap to ~80% of its places so both bind.
    """
    rng = np.random.default_rng(seed)
    gba, gba_w, other, other_w = _cities()
    total_places = round(n_projects * PLACES_PER_PROJECT)
    raw = rng.lognormal(0, 0.6, n_projects)
    places = np.maximum(1, np.floor(raw / raw.sum() * total_places)).astype(int)
    places[np.argsort(-raw)[: max(0, total_places - places.sum())]] += 1
    sectors = rng.choice(len(SECTOR_KEYS), n_projects, p=SECTOR_POPULARITY / SECTOR_POPULARITY.sum())
    in_gba = rng.random(n_projects) < GBA_SHARE
    projects = []
    for k in range(n_projects):
        pool, w = (gba, gba_w) if in_gba[k] else (other, other_w)
        city = pool[rng.choice(len(pool), p=w)]
        projects.append(_project(rng, k, SECTOR_KEYS[sectors[k]], city, places[k], in_gba[k]))

    applicants = _applicants(rng, projects, sectors, n_applicants)

    total_cost = sum(p.places * p.subsidy_per_place for p in projects)
    gd_places = sum(p.places for p in projects if p.region == "Guangdong")
    scale = total_places / 3500
    if tight:
        budget = int(round(total_cost * 0.85, -3))
        gd_cap = int(gd_places * 0.8)
    else:
        budget = int(round(max(91_000_000 * scale, total_cost * 1.02), -3))
        gd_cap = max(int(round(1500 * scale)), gd_places)
    if budget_hkd is not None:
        budget = int(budget_hkd)
    name = "Funding Scheme for Youth Internship in the Mainland (synthetic)"
    return projects, applicants, Scheme(name, budget, {"Guangdong": gd_cap})


def _applicants(rng, projects, project_sectors, n) -> list[Applicant]:
    n_sec = len(SECTOR_KEYS)
    popularity = rng.lognormal(0, 1.0, len(projects))  # some projects are far more wanted
    by_sector = [np.flatnonzero(project_sectors == s) for s in range(n_sec)]
    cum_all = np.cumsum(popularity) / popularity.sum()
    cum_sec = [np.cumsum(popularity[ix]) / popularity[ix].sum() if len(ix) else None
               for ix in by_sector]
    sector = rng.choice(n_sec, n, p=SECTOR_POPULARITY / SECTOR_POPULARITY.sum())
    age_days = rng.normal(22 * 365.25, 2.0 * 365.25, n).clip(16.5 * 365.25, 31 * 365.25)
    ref = date(2025, 6, 1).toordinal()
    edu = rng.choice(np.arange(1, 7), n, p=[0.05, 0.1, 0.15, 0.55, 0.13, 0.02])
    resident = rng.random(n) > 0.015
    lang_mode = rng.random(n)  # <0.2 English only, <0.35 Chinese only, else mixed
    n_choices = rng.choice(np.arange(1, 6), n, p=[0.1, 0.15, 0.2, 0.2, 0.35])
    draws = rng.random((n, 12))
    from_sector = rng.random((n, 12)) < 0.75
    avail_from = ref + rng.integers(-25, 12, n)
    avail_to = date(2025, 8, 8).toordinal() + rng.integers(0, 28, n)
    open_other = rng.random(n) < 0.6
    first = rng.random(n) < 0.7
    region_pref = rng.random(n)
    putonghua = rng.choice(np.arange(1, 6), n, p=[0.1, 0.2, 0.35, 0.25, 0.1])
    english = rng.choice(np.arange(1, 6), n, p=[0.05, 0.15, 0.35, 0.3, 0.15])
    kw_pick = rng.integers(0, 1000, (n, 4))
    regions_all = sorted({p.region for p in projects})
    out = []
    for i in range(n):
        s = int(sector[i])
        _en, _zh, _roles, fields, keywords, _e = SECTORS[SECTOR_KEYS[s]]
        f_en, f_zh = fields[kw_pick[i, 0] % len(fields)]
        k1, k2, k3 = (keywords[kw_pick[i, j] % len(keywords)] for j in (1, 2, 3))
        mode = lang_mode[i]
        if mode < 0.2:
            texts = (f_en, f"{k1[0]}, {k2[0]}", f"{k3[0]}",
                     f"I study {f_en.lower()} and want hands-on {k1[0]} experience in the Mainland.")
        elif mode < 0.35:
            texts = (f_zh, f"{k1[1]}、{k2[1]}", k3[1],
                     f"我主修{f_zh}，希望到內地實習，累積{k1[1]}經驗。")
        else:
            texts = (f"{f_en} {f_zh}", f"{k1[0]}, {k2[1]}", f"{k3[0]} {k3[1]}",
                     f"Keen on {k2[0]}; 希望在內地學習{k1[1]}。")
        ix, cum = (by_sector[s], cum_sec[s]) if cum_sec[s] is not None else (None, None)
        chosen: list[str] = []
        for d, own in zip(draws[i], from_sector[i], strict=True):
            if own and ix is not None:
                j = int(ix[min(np.searchsorted(cum, d), len(ix) - 1)])
            else:
                j = int(min(np.searchsorted(cum_all, d), len(projects) - 1))
            pid = projects[j].id
            if pid not in chosen:
                chosen.append(pid)
                if len(chosen) == n_choices[i]:
                    break
        if region_pref[i] < 0.25:
            regions = ("Guangdong",)
        elif region_pref[i] < 0.32:
            regions = tuple(sorted({"Beijing", "Shanghai", regions_all[i % len(regions_all)]}))
        else:
            regions = ()
        if regions:
            # People who name regions choose projects there.
            chosen = [c for c in chosen if projects[int(c[1:]) - 1].region in regions] or chosen[:1]
        languages = {"cantonese": 5 if mode >= 0.2 else 4, "putonghua": int(putonghua[i]),
                     "english": int(english[i])}
        out.append(Applicant(
            id=f"A{i + 1:06d}", date_of_birth=date.fromordinal(int(ref - age_days[i])),
            origin=HONG_KONG if resident[i] else "", education=Education(int(edu[i])),
            field_of_study=texts[0], skills=texts[1], interests=texts[2], statement=texts[3],
            languages=languages, available_from=date.fromordinal(int(avail_from[i])),
            available_to=date.fromordinal(int(avail_to[i])), regions=regions,
            choices=tuple(chosen), open_to_other=bool(open_other[i]), first_timer=bool(first[i])))
    return out


def generate_rankings(projects, applicants, seed: int = 7, share: float = 0.5
                      ) -> dict[str, list[str]]:
    """NGO interview rankings for a ``share`` of projects (their applicants, shuffled)."""
    rng = np.random.default_rng(seed)
    applied: dict[str, list[str]] = {p.id: [] for p in projects}
    for a in applicants:
        for pid in a.choices:
            if pid in applied:
                applied[pid].append(a.id)
    rankings = {}
    for p in projects:
        if applied[p.id] and rng.random() < share:
            order = list(applied[p.id])
            rng.shuffle(order)
            rankings[p.id] = order
    return rankings


def write_csv(directory, projects, applicants, scheme, rankings=None) -> dict[str, Path]:
    """Write projects.csv, applicants.csv, scheme.json (and rankings.csv) into ``directory``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = {"projects": d / "projects.csv", "applicants": d / "applicants.csv",
             "scheme": d / "scheme.json"}
    paths["projects"].write_text(io.format_projects(projects), encoding="utf-8")
    paths["applicants"].write_text(io.format_applicants(applicants), encoding="utf-8")
    paths["scheme"].write_text(io.format_scheme(scheme), encoding="utf-8")
    if rankings:
        paths["rankings"] = d / "rankings.csv"
        paths["rankings"].write_text(io.format_rankings(rankings), encoding="utf-8")
    return paths
