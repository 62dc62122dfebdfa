"""The ranking of candidates for a demand (issue 15): jieba + BM25 text relevance, IPC overlap at subclass and group
level, industry, nearness of prefecture, and the reasons each result gives. Pure: no service is needed."""

from __future__ import annotations

from pb_market.matching.rank import Candidate, Index, Wanted

TEA = Candidate("ZL1", "open_licence", "一种茶叶烘干机的温度控制装置 适用于绿茶加工企业", ("F26B 21/10", "A23F 3/06"),
                "ecological_food", "520300", fee_fen=5_000_000, declaration_id="d1")
CHIP = Candidate("ZL2", "sleeping", "大数据芯片散热结构", ("H01L 23/36",), "big_data_electronics", "520100")
DRUG = Candidate("ZL3", "sleeping", "一种治疗糖尿病的中药组合物及其制备方法", ("A61K 36/00",), "health_medicine", "520300")
STORE = Candidate("ZL4", "open_licence", "基于区块链的数据存储方法", ("G06F 16/27",), "big_data_electronics", "520100",
                  fee_fen=20_000_000, declaration_id="d2")
COOL = Candidate("ZL5", "sleeping", "服务器机柜的液冷散热装置", ("H05K 7/20",), "big_data_electronics", "522600")
INDEX = Index([TEA, CHIP, DRUG, STORE, COOL])


def test_the_patent_sharing_the_demands_words_ranks_first_and_says_which_words():
    (first, *_rest) = INDEX.rank(Wanted("绿茶烘干时的温度控制", industry="ecological_food", prefecture_code="520300",
                                        budget_max_fen=8_000_000))
    assert first.candidate.number == "ZL1"
    assert {"温度", "控制", "烘干", "绿茶"} <= set(first.shared_terms)
    assert (first.fee_within_budget, first.same_industry, first.same_prefecture) == (True, True, True)


def test_a_fee_over_the_budget_is_said_and_a_sleeping_patent_has_no_fee_to_compare():
    matches = {m.candidate.number: m for m in INDEX.rank(Wanted("数据存储 芯片散热", budget_max_fen=1_000_000))}
    assert matches["ZL4"].fee_within_budget is False
    assert matches["ZL2"].fee_within_budget is None
    assert matches["ZL5"].shared_terms == ["散热"]


def test_ipc_overlap_breaks_a_tie_of_words_and_a_shared_group_counts_more_than_a_subclass():
    wanted = "散热"
    plain = [m.candidate.number for m in INDEX.rank(Wanted(wanted))]
    by_subclass = INDEX.rank(Wanted(wanted, ipc=("H05K",)))
    assert by_subclass[0].candidate.number == "ZL5" and by_subclass[0].shared_ipc == ["H05K 7/20"]
    by_chip_group = INDEX.rank(Wanted(wanted, ipc=("H01L 23",)))
    by_chip_subclass = INDEX.rank(Wanted(wanted, ipc=("H01L 21",)))
    assert by_chip_group[0].candidate.number == by_chip_subclass[0].candidate.number == "ZL2"
    assert by_chip_group[0].score > by_chip_subclass[0].score
    assert set(plain) == {"ZL2", "ZL5"}


def test_industry_and_prefecture_order_candidates_of_equal_text_relevance():
    twins = Index([Candidate(f"ZL{i}", "sleeping", "服务器机柜的液冷散热装置", ("H05K 7/20",), industry, prefecture)
                   for i, (industry, prefecture) in enumerate([("other", "110100"), ("other", "520100"),
                                                               ("other", "522600"), ("big_data_electronics", "110100")])])
    near = [m.candidate.number for m in twins.rank(Wanted("液冷散热", prefecture_code="522600"))]
    assert near[:2] == ["ZL2", "ZL1"]  # the same prefecture, then another of the province, then another province
    same_field = twins.rank(Wanted("液冷散热", industry="big_data_electronics"))
    assert same_field[0].candidate.number == "ZL3" and same_field[0].same_industry


def test_a_demand_sharing_nothing_matches_nothing_and_the_top_is_bounded():
    assert INDEX.rank(Wanted("火箭发动机燃料")) == []
    assert len(INDEX.rank(Wanted("装置 方法 结构 数据 散热 茶叶 糖尿病"), limit=2)) == 2


def _ranked(index: Index, wanted: Wanted) -> list[tuple[str, float, list[str]]]:
    return [(m.candidate.number, m.score, m.shared_terms) for m in index.rank(wanted)]


def test_an_index_kept_up_to_date_one_candidate_at_a_time_ranks_as_one_built_anew():
    kept = Index([TEA, CHIP, DRUG, STORE, COOL])
    kept.drop("ZL2")
    kept.put(Candidate("ZL5", "sleeping", "茶叶烘干机的液冷散热装置", ("F26B 21/06",), "ecological_food", "520300"))
    kept.put(TEA)  # unchanged: left as it is
    extra = [Candidate(f"ZX{i}", "sleeping", f"数据中心服务器第{i}型散热机柜", ("H05K 7/20",), "big_data_electronics",
                       "520100") for i in range(100)]
    for candidate in extra:
        kept.put(candidate)
    for candidate in extra[:90]:  # most of them gone: the slots are packed again
        kept.drop(candidate.number)
    fresh = Index([TEA, DRUG, STORE, kept.get("ZL5"), *extra[90:]])
    assert len(kept) == len(fresh) == 14 and "ZL2" not in kept
    for wanted in (Wanted("绿茶烘干时的温度控制", industry="ecological_food", prefecture_code="520300"),
                   Wanted("服务器散热", ipc=("H05K 7",)), Wanted("芯片散热"), Wanted("数据存储", ipc=("G06F",))):
        assert _ranked(kept, wanted) == _ranked(fresh, wanted)
    assert [m.candidate.number for m in kept.rank(Wanted("芯片"))] == []  # the dropped chip patent is gone


def test_a_word_said_otherwise_counts_by_its_characters_which_alone_match_nothing():
    index = Index([Candidate("ZR1", "sleeping", "一种茶叶烘干装置"), Candidate("ZR2", "sleeping", "一种茶叶揉捻装置"),
                   Candidate("ZR3", "sleeping", "一种捻线机")])
    ranked = [m.candidate.number for m in index.rank(Wanted("茶叶捻制"))]
    assert ranked == ["ZR2", "ZR1"]  # 捻制 is not 揉捻, but its 捻 is; the twisting machine shares no word
