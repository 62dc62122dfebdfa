"""The matching benchmark (issue 15): how well and how fast the market ranks candidates for a demand.

`python -m bench.matching [--seed N] [--sizes 2000,100000] [--demands 200] [--json FILE]`

A seeded generator writes a corpus of patents with Chinese titles and abstracts over 32 IPC subclasses, each
subclass with its own objects, functions, features and effects, and 200 demands, each meant for one patent: a
title, a description, an industry and a prefecture, no IPC, in words that differ from the patent's (synonyms
from `matching_lexicon.py`, a different order and the SME's own phrasing; never a copy of its title). The market's
own ranking (`pb_market.matching.rank.Index`, the code behind its matching job) is built over the corpus and asked
each demand; the figures are recall@1, recall@5 and MRR of the intended patent, and the latency of one ranking
(p50, p99) at each corpus size. The index is built once per size and not timed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.matching_lexicon import ENDINGS, NEEDS, OPENINGS, SYNONYMS
from pb_market.matching.rank import Candidate, Index, Wanted

PREFECTURES = ("520100", "520200", "520300", "520400", "520500", "520600", "522300", "522600", "522700")
# subclass: (industry, objects, functions, features, effects)
FIELDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "A01B": ("ecological_food", ("土壤", "坡地", "梯田", "稻田"), ("耕作", "翻整", "松土"), ("犁刀", "旋耕轴", "深度调节机构", "履带底盘"), ("降低能耗", "减少磨损")),
    "A01G": ("ecological_food", ("辣椒", "食用菌", "猕猴桃", "刺梨"), ("种植", "育苗", "采摘"), ("遮阳棚", "滴灌管", "培养基", "温湿度传感器"), ("提高产量", "降低成本")),
    "A23F": ("ecological_food", ("茶叶", "绿茶", "红茶", "抹茶"), ("烘干", "揉捻", "杀青"), ("热风循环", "滚筒", "温度控制", "风量调节"), ("提高品质", "稳定温度")),
    "A23L": ("ecological_food", ("食品", "米粉", "腊肉", "酸汤"), ("加工", "杀菌", "保鲜"), ("真空包装", "微波加热", "发酵罐", "冷链"), ("延长保质期", "保持风味")),
    "A61K": ("health_medicine", ("中药", "苗药", "天麻", "杜仲"), ("提取", "制备", "配伍"), ("组合物", "有效成分", "乙醇回流", "冻干粉"), ("治疗糖尿病", "抗炎镇痛")),
    "A61B": ("health_medicine", ("心电", "血糖", "影像", "病理"), ("检测", "诊断", "监测"), ("可穿戴电极", "光学传感器", "采样针", "报警模块"), ("提高精度", "实时预警")),
    "B01D": ("modern_chemicals", ("粉尘", "烟气", "油雾", "废气"), ("过滤", "分离", "除尘"), ("滤袋", "旋风筒", "静电极板", "喷淋塔"), ("减少污染", "提高效率")),
    "B23K": ("advanced_equipment", ("钢结构", "管道", "铝合金", "钢轨"), ("焊接", "切割", "熔覆"), ("激光头", "焊枪", "送丝机构", "视觉定位"), ("提高精度", "减少变形")),
    "B25J": ("advanced_equipment", ("机械手", "机器人", "夹爪", "关节"), ("抓取", "码垛", "装配"), ("伺服电机", "力传感器", "视觉识别", "减速器"), ("提高效率", "自动作业")),
    "B60L": ("advanced_equipment", ("电动车辆", "电动汽车", "换电站", "充电桩"), ("充电", "换电", "能量回收"), ("电池包", "快充模块", "热管理", "能量控制器"), ("延长续航", "降低能耗")),
    "B65G": ("advanced_equipment", ("物料", "煤炭", "包裹", "矿石"), ("输送", "分拣", "提升"), ("皮带机", "托辊", "滚筒", "张紧装置"), ("降低故障", "提高效率")),
    "C02F": ("modern_chemicals", ("污水", "废水", "矿井水", "渗滤液"), ("处理", "净化", "回用"), ("膜生物反应器", "絮凝剂", "曝气池", "活性炭"), ("减少污染", "降低成本")),
    "C04B": ("new_building_materials", ("水泥", "混凝土", "砂浆", "砌块"), ("制备", "养护", "改性"), ("磷石膏", "粉煤灰", "减水剂", "纤维"), ("提高强度", "降低成本")),
    "C08L": ("new_building_materials", ("塑料", "橡胶", "复合材料", "涂料"), ("改性", "共混", "成型"), ("阻燃剂", "增韧剂", "纳米填料", "偶联剂"), ("提高韧性", "耐老化")),
    "C12G": ("liquor_tobacco", ("白酒", "酱香酒", "果酒", "米酒"), ("发酵", "蒸馏", "勾调"), ("窖池", "酒曲", "蒸馏甑", "陈酿罐"), ("提高出酒率", "稳定风味")),
    "C22B": ("basic_materials", ("锰", "铝土矿", "磷矿", "锌渣"), ("冶炼", "浸出", "回收"), ("焙烧炉", "浸出槽", "萃取剂", "电解槽"), ("提高回收率", "降低能耗")),
    "E01D": ("basic_energy", ("桥梁", "斜拉桥", "拱桥", "桥墩"), ("施工", "监测", "加固"), ("拉索", "支座", "应变传感器", "预应力筋"), ("提高安全", "延长寿命")),
    "E21B": ("basic_energy", ("钻井", "煤层气", "页岩气", "地热井"), ("钻探", "压裂", "固井"), ("钻头", "套管", "泥浆泵", "随钻测量"), ("提高效率", "降低成本")),
    "F24S": ("clean_power", ("太阳能", "集热器", "光热", "热水器"), ("集热", "储热", "跟踪"), ("真空管", "反射镜", "储热罐", "跟踪支架"), ("提高效率", "降低能耗")),
    "F26B": ("ecological_food", ("烟叶", "中药材", "粮食", "木材"), ("干燥", "烘烤", "脱水"), ("热泵", "烤房", "除湿机", "循环风机"), ("降低能耗", "提高品质")),
    "G01N": ("big_data_electronics", ("水质", "重金属", "农药残留", "气体"), ("检测", "分析", "测定"), ("光谱仪", "电化学传感器", "色谱柱", "快检试纸"), ("提高精度", "快速检测")),
    "G05B": ("big_data_electronics", ("生产线", "设备", "工业过程", "泵站"), ("控制", "监控", "调度"), ("可编程控制器", "故障诊断", "数字孪生", "传感器网络"), ("降低故障", "自动运行")),
    "G06F": ("big_data_electronics", ("数据", "数据库", "日志", "文件"), ("存储", "检索", "同步"), ("区块链", "分布式集群", "索引结构", "加密"), ("提高安全", "提高效率")),
    "G06N": ("big_data_electronics", ("神经网络", "深度学习", "知识图谱", "大模型"), ("训练", "推理", "预测"), ("注意力机制", "特征提取", "样本增强", "模型压缩"), ("提高精度", "降低算力")),
    "G06Q": ("big_data_electronics", ("物流", "供应链", "电商", "能源"), ("管理", "调度", "结算"), ("订单平台", "路径规划", "信用评估", "库存预测"), ("降低成本", "提高效率")),
    "G06T": ("big_data_electronics", ("图像", "视频", "遥感影像", "医学影像"), ("识别", "分割", "增强"), ("卷积网络", "边缘检测", "三维重建", "去噪"), ("提高精度", "实时处理")),
    "H01L": ("big_data_electronics", ("芯片", "半导体", "功率器件", "封装"), ("散热", "封装", "测试"), ("热沉", "键合线", "基板", "导热胶"), ("降低温度", "提高可靠")),
    "H01M": ("clean_power", ("电池", "锂电池", "储能电池", "电极"), ("制备", "管理", "回收"), ("正极材料", "隔膜", "电解液", "均衡电路"), ("延长寿命", "提高安全")),
    "H02J": ("clean_power", ("电网", "微电网", "配电网", "光伏电站"), ("调度", "储能", "保护"), ("逆变器", "储能变流器", "负荷预测", "继电保护"), ("提高稳定", "降低损耗")),
    "H04L": ("big_data_electronics", ("通信", "数据传输", "物联网", "报文"), ("加密", "路由", "认证"), ("密钥", "网关", "协议栈", "身份令牌"), ("提高安全", "降低时延")),
    "H04W": ("big_data_electronics", ("无线网络", "基站", "移动终端", "5G"), ("接入", "切换", "定位"), ("天线阵列", "信道估计", "功率控制", "波束赋形"), ("提高覆盖", "降低能耗")),
    "H05K": ("big_data_electronics", ("服务器", "机柜", "电路板", "电源模块"), ("散热", "防护", "布线"), ("液冷板", "风道", "屏蔽罩", "热管"), ("降低温度", "降低能耗")),
}
SUFFIXES = ("方法", "装置", "系统")


@dataclass(frozen=True)
class Patent:
    number: str
    subclass: str
    ipc: str
    title: str
    abstract: str
    industry: str
    prefecture: str
    words: tuple[str, ...]  # its object, function, features and effect, for the demand generator


def corpus(size: int, seed: int) -> list[Patent]:
    rng = random.Random(seed)
    subclasses = list(FIELDS)
    patents = []
    for i in range(size):
        subclass = subclasses[i % len(subclasses)]
        industry, objects, functions, features, effects = FIELDS[subclass]
        obj, fn = rng.choice(objects), rng.choice(functions)
        f1, f2 = rng.sample(features, 2)
        effect = rng.choice(effects)
        suffix = rng.choice(SUFFIXES)
        title = f"一种基于{f1}的{obj}{fn}{suffix}"
        abstract = (f"本发明公开了一种{obj}{fn}{suffix}，包括{f1}和{f2}，通过{f1}与{f2}的配合实现{obj}的{fn}，"
                    f"能够{effect}，适用于{obj}{fn}场景。")
        patents.append(Patent(number=f"BENCH{i:07d}", subclass=subclass, ipc=f"{subclass} {rng.randint(1, 99)}/{rng.randint(0, 99):02d}",
                              title=title, abstract=abstract, industry=industry, prefecture=rng.choice(PREFECTURES),
                              words=(obj, fn, f1, f2, effect)))
    return patents


def _say_otherwise(word: str, rng: random.Random) -> str:
    """The word in other words: a synonym of the whole, or of a part, when the lexicon has one; else as it is."""
    if word in SYNONYMS:
        return rng.choice(SYNONYMS[word])
    for part, others in SYNONYMS.items():
        if part in word and part != word:
            return word.replace(part, rng.choice(others))
    return word


def demand_for(patent: Patent, rng: random.Random) -> dict[str, str]:
    obj, fn, f1, f2, effect = (_say_otherwise(w, rng) for w in patent.words)
    title = rng.choice([f"{obj}{fn}技术需求", f"寻求{obj}的{fn}技术", f"{obj}{fn}难题求解"])
    description = (f"{rng.choice(OPENINGS)}在{obj}{fn}方面遇到瓶颈，{rng.choice(NEEDS)}采用{f1}或{f2}的成熟技术，"
                   f"目标是{effect}。{rng.choice(ENDINGS)}")
    return {"title": title, "description": description, "industry": patent.industry,
            "prefecture_code": rng.choice(PREFECTURES)}


def demands(patents: list[Patent], count: int, seed: int) -> list[tuple[str, dict[str, str]]]:
    """`count` demands, each for one patent (chosen evenly over the corpus): (its number, the demand)."""
    rng = random.Random(seed + 1)
    targets = rng.sample(patents, count)
    made = []
    for patent in targets:
        wanted = demand_for(patent, rng)
        assert wanted["title"] != patent.title and patent.title not in wanted["description"]
        made.append((patent.number, wanted))
    return made


def measure(size: int, seed: int, count: int) -> dict[str, Any]:
    patents = corpus(size, seed)
    built = time.perf_counter()
    index = Index([Candidate(number=p.number, kind="sleeping", text=f"{p.title} {p.abstract}", ipc=(p.ipc,),
                             industry=p.industry, prefecture_code=p.prefecture, title=p.title) for p in patents])
    build_s = time.perf_counter() - built
    hits1 = hits5 = 0
    reciprocal = 0.0
    latencies = []
    for number, wanted in demands(patents, count, seed):
        started = time.perf_counter()
        ranked = index.rank(Wanted(text=f"{wanted['title']} {wanted['description']}", industry=wanted["industry"],
                                   prefecture_code=wanted["prefecture_code"]), limit=10)
        latencies.append((time.perf_counter() - started) * 1000)
        numbers = [m.candidate.number for m in ranked]
        if number in numbers:
            position = numbers.index(number) + 1
            hits1 += position == 1
            hits5 += position <= 5
            reciprocal += 1 / position
    latencies.sort()
    return {"patents": size, "subclasses": len({p.subclass for p in patents}), "demands": count, "seed": seed,
            "recall@1": round(hits1 / count, 2), "recall@5": round(hits5 / count, 2), "MRR": round(reciprocal / count, 2),
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
            "index_build_s": round(build_s, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.matching", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--sizes", default="2000,100000")
    parser.add_argument("--demands", type=int, default=200)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rows = [measure(int(size), args.seed, args.demands) for size in args.sizes.split(",")]
    for row in rows:
        print(f"{row['patents']} patents ({row['subclasses']} IPC subclasses), {row['demands']} demands, seed "
              f"{row['seed']}: recall@1 {row['recall@1']:.2f}, recall@5 {row['recall@5']:.2f}, MRR {row['MRR']:.2f}, "
              f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms (index built in {row['index_build_s']} s)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(rows, out, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main()
