"""The matching benchmark (issue 15): how well and how fast the market ranks candidates for a demand.

`python -m bench.matching [--seed N] [--sizes 2000,100000] [--demands 200] [--json FILE]`

A seeded generator writes a corpus of patents with Chinese titles and abstracts over 32 IPC subclasses, each
subclass with its own objects, functions, features and effects, and each patent with its own specifics, as real
ones have: the material, component or technique it builds on, a second one it adds, the place it is meant for, and
a parameter range (so that 100,000 patents are 100,000 different texts, not a few thousand repeated). 200 demands,
each meant for one patent: a title, a description, an industry and a prefecture, no IPC, in words that differ from
the patent's (synonyms from `matching_lexicon.py`, other sentence frames and the SME's own phrasing; never a copy
of its title). The market's own ranking (`pb_market.matching.rank.Index`, the index its matching job keeps) is
built over the corpus and asked each demand; the figures are recall@1, recall@5 and MRR of the intended patent,
the latency of one ranking (p50, p99) at each corpus size, and the cost of following a changed candidate. The
index is built once per size and not timed.
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
from pb_market.matching.service import refresh

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
    "H01L": ("big_data_electronics", ("芯片", "半导体", "功率器件", "引线框架"), ("散热", "封装", "测试"), ("热沉", "键合线", "基板", "导热胶"), ("降低温度", "提高可靠")),
    "H01M": ("clean_power", ("电池", "锂电池", "储能电池", "电极"), ("制备", "管理", "回收"), ("正极材料", "隔膜", "电解液", "均衡电路"), ("延长寿命", "提高安全")),
    "H02J": ("clean_power", ("电网", "微电网", "配电网", "光伏电站"), ("调度", "储能", "保护"), ("逆变器", "储能变流器", "负荷预测", "继电保护"), ("提高稳定", "降低损耗")),
    "H04L": ("big_data_electronics", ("通信", "数据传输", "物联网", "报文"), ("加密", "路由", "认证"), ("密钥", "网关", "协议栈", "身份令牌"), ("提高安全", "降低时延")),
    "H04W": ("big_data_electronics", ("无线网络", "基站", "移动终端", "5G"), ("接入", "切换", "定位"), ("天线阵列", "信道估计", "功率控制", "波束赋形"), ("提高覆盖", "降低能耗")),
    "H05K": ("big_data_electronics", ("服务器", "机柜", "电路板", "电源模块"), ("散热", "防护", "布线"), ("液冷板", "风道", "屏蔽罩", "热管"), ("降低温度", "降低能耗")),
}
SUFFIXES = ("方法", "装置", "系统")
# The specifics that tell one patent of a field from another, as real ones do: what it is made of or builds on (a
# material, a component, a technique), where it is meant to be used, and a parameter. Each family of subclasses
# has its own.
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str, int, int], ...]]] = {
    "agri_food": (
        ("不锈钢内胆", "竹编托盘", "远红外加热管", "石墨烯发热膜", "食品级硅胶", "生物质颗粒燃料", "空气能热泵",
         "乳酸菌", "复合酶制剂", "壳聚糖涂膜", "紫外线灯管", "臭氧发生器", "光伏板", "北斗定位模块", "变频风机",
         "称重传感器", "光电分选机", "近红外光谱", "低温等离子体", "有机肥", "秸秆", "菌渣", "陶瓷膜", "碳纤维"),
        ("山地茶园", "坝区", "石漠化地区", "高海拔冷凉地区", "林下种植", "农民专业合作社", "家庭农场", "小作坊",
         "梯田", "连栋大棚", "冷链仓储", "农村电商", "民族村寨", "学校食堂", "出口基地", "易地扶贫搬迁安置点"),
        (("温度", "℃", 30, 120), ("转速", "r/min", 60, 600), ("含水率", "%", 5, 40), ("时间", "min", 10, 240))),
    "medicine": (
        ("纳米脂质体", "微囊包埋", "超临界二氧化碳萃取", "大孔树脂", "柔性电路", "蓝牙低功耗", "微流控芯片",
         "荧光探针", "石墨烯电极", "水凝胶", "透皮贴剂", "缓释微球", "环糊精包合", "酶联免疫", "光电容积脉搏",
         "毫米波雷达", "聚乳酸", "医用钛合金", "银离子抗菌层", "一次性采血管"),
        ("基层卫生院", "县级医院", "家庭护理", "老年人", "孕产妇", "养老机构", "急诊科", "社区卫生服务中心",
         "乡村医生", "体检中心", "康复科", "中医馆", "儿童", "慢病管理"),
        (("浓度", "mg/mL", 1, 50), ("粒径", "nm", 20, 400), ("采样频率", "Hz", 50, 2000), ("温度", "℃", 2, 80))),
    "equipment": (
        ("碳化硅", "钛合金", "高锰钢", "聚氨酯", "304不锈钢", "铸铁", "谐波减速器", "行星齿轮", "液压缸",
         "永磁同步电机", "激光雷达", "工业相机", "编码器", "磁悬浮轴承", "陶瓷涂层", "橡胶履带", "无线遥控",
         "变频器", "超声波探伤", "电磁制动器", "碳纤维复合材料", "柔性铰链"),
        ("煤矿井下", "山区公路", "隧道", "装配车间", "物流园区", "港口码头", "风电场", "高寒地区", "狭小空间",
         "高温车间", "露天矿山", "城市公交", "中小型工厂", "化工园区"),
        (("功率", "kW", 1, 500), ("转速", "r/min", 100, 3000), ("压力", "MPa", 1, 40), ("负载", "kg", 5, 2000))),
    "chem_materials": (
        ("磷石膏", "粉煤灰", "赤泥", "电解锰渣", "钢渣", "玄武岩纤维", "聚丙烯纤维", "石墨烯", "纳米二氧化硅",
         "硅藻土", "沸石", "聚合氯化铝", "聚丙烯酰胺", "改性膨润土", "生物炭", "氧化石墨烯", "环氧树脂",
         "聚四氟乙烯", "陶瓷纤维", "稀土", "硫酸钙晶须", "木质素"),
        ("磷化工园区", "锰矿区", "煤矿", "乡镇污水站", "垃圾填埋场", "装配式建筑", "高速公路", "水泥厂",
         "电镀企业", "养殖场", "喀斯特地区", "地下工程", "化工厂", "冶炼厂"),
        (("温度", "℃", 20, 1200), ("pH", "", 2, 12), ("掺量", "%", 1, 60), ("粒度", "目", 50, 800))),
    "electronics_it": (
        ("边缘计算", "联邦学习", "国密算法", "时序数据库", "图数据库", "消息队列", "现场可编程门阵列", "容器编排",
         "零信任", "同态加密", "哈希链", "轻量化模型", "知识蒸馏", "迁移学习", "图神经网络", "毫米波",
         "低功耗广域网", "北斗", "氮化镓", "铜柱凸点", "相变材料", "碳化硅衬底", "数字签名", "多模态"),
        ("数据中心", "政务云", "智慧城市", "电力调度中心", "智慧矿山", "智慧交通", "工业园区", "医院信息科",
         "银行", "物流仓库", "偏远山区", "地铁", "高速公路收费站", "农村电商"),
        (("时延", "ms", 1, 200), ("频率", "GHz", 1, 40), ("功耗", "W", 1, 300), ("准确率", "%", 80, 99))),
    "energy_civil": (
        ("磷酸铁锂", "钠离子", "固态电解质", "碳纤维布", "超高性能混凝土", "耐候钢", "光纤光栅", "北斗监测站",
         "钙钛矿", "槽式集热管", "熔盐", "相变储热材料", "压电陶瓷", "超级电容", "液流电池", "聚晶金刚石",
         "纳米流体", "无人机巡检", "碳化硅器件", "双面组件"),
        ("山区", "喀斯特地貌", "高海拔地区", "峡谷", "城市配电网", "农村电网", "工业园区", "光伏电站", "水电站",
         "高寒冻土", "隧道", "海岛", "页岩气田", "矿区"),
        (("电压", "kV", 1, 500), ("容量", "kWh", 5, 2000), ("跨径", "m", 30, 1500), ("深度", "m", 200, 5000))),
}
FAMILY_OF = {"A01B": "agri_food", "A01G": "agri_food", "A23F": "agri_food", "A23L": "agri_food", "C12G": "agri_food",
             "F26B": "agri_food", "A61K": "medicine", "A61B": "medicine", "G01N": "medicine", "B23K": "equipment",
             "B25J": "equipment", "B60L": "equipment", "B65G": "equipment", "E21B": "equipment",
             "B01D": "chem_materials", "C02F": "chem_materials", "C04B": "chem_materials", "C08L": "chem_materials",
             "C22B": "chem_materials", "G05B": "electronics_it", "G06F": "electronics_it", "G06N": "electronics_it",
             "G06Q": "electronics_it", "G06T": "electronics_it", "H01L": "electronics_it", "H04L": "electronics_it",
             "H04W": "electronics_it", "H05K": "electronics_it", "E01D": "energy_civil", "F24S": "energy_civil",
             "H01M": "energy_civil", "H02J": "energy_civil"}


@dataclass(frozen=True)
class Patent:
    number: str
    subclass: str
    ipc: str
    title: str
    abstract: str
    industry: str
    prefecture: str
    # Its object, function, features, effect, specific (material or technique) and place of use: what an SME
    # would describe in its demand.
    words: tuple[str, ...]


def corpus(size: int, seed: int) -> list[Patent]:
    rng = random.Random(seed)
    subclasses = list(FIELDS)
    patents = []
    for i in range(size):
        subclass = subclasses[i % len(subclasses)]
        industry, objects, functions, features, effects = FIELDS[subclass]
        specifics, places, parameters = FAMILIES[FAMILY_OF[subclass]]
        obj, fn = rng.choice(objects), rng.choice(functions)
        f1, f2 = rng.sample(features, 2)
        effect = rng.choice(effects)
        specific, other, place = *rng.sample(specifics, 2), rng.choice(places)
        suffix = rng.choice(SUFFIXES)
        name, unit, low, high = rng.choice(parameters)
        a = rng.randint(low, high)
        b = rng.randint(a, high)
        title = rng.choice([f"一种基于{f1}的{obj}{fn}{suffix}", f"一种采用{specific}的{obj}{fn}{suffix}",
                            f"一种适用于{place}的{obj}{fn}{suffix}", f"{specific}{obj}{fn}{suffix}及其应用"])
        abstract = rng.choice([
            f"本发明公开了一种{obj}{fn}{suffix}，包括{f1}和{f2}，所述{f1}基于{specific}，{name}为{a}～{b}{unit}；"
            f"通过{f1}与{f2}的配合实现{obj}的{fn}，辅以{other}，能够{effect}，适用于{place}。",
            f"本发明涉及{obj}{fn}技术领域，提供一种{obj}{fn}{suffix}：以{specific}为核心，设置{f1}，"
            f"并以{f2}控制{name}在{a}～{b}{unit}之间，结合{other}，解决了{place}{obj}{fn}的难题，{effect}。",
            f"本发明提供的{suffix}针对{place}的需要，将{specific}与{f1}结合用于{obj}{fn}，"
            f"{f2}使{name}保持在{a}～{b}{unit}，另设{other}，实验表明可{effect}。",
        ])
        patents.append(Patent(number=f"BENCH{i:07d}", subclass=subclass, ipc=f"{subclass} {rng.randint(1, 99)}/{rng.randint(0, 99):02d}",
                              title=title, abstract=abstract, industry=industry, prefecture=rng.choice(PREFECTURES),
                              words=(obj, fn, f1, f2, effect, specific, place)))
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
    """What an SME would write: its object and need, where it works (it always knows its own setting), one or both
    of the features it has in mind, nine times in ten the material or technique it has heard of, and the effect it
    wants; each in its own words where it has others. A demand that names less cannot single out one patent of
    100,000, and is then not a demand meant for one patent."""
    obj, fn, f1, f2, effect, specific, place = (_say_otherwise(w, rng) for w in patent.words)
    title = rng.choice([f"{obj}{fn}技术需求", f"寻求{obj}的{fn}技术", f"{obj}{fn}难题求解"])
    features = rng.choice([f"{f1}或{f2}", f"{f2}和{f1}", f1, f2])
    where = rng.choice([f"位于{place}，", f"面向{place}，", f"服务于{place}，"])
    built = rng.choice([f"最好用到{specific}", f"考虑{specific}方案", f"对{specific}感兴趣"]) \
        if rng.random() < 0.9 else ""
    description = (f"{rng.choice(OPENINGS)}{where}在{obj}{fn}方面遇到瓶颈，{rng.choice(NEEDS)}采用{features}的"
                   f"成熟技术，{built + '，' if built else ''}目标是{effect}。{rng.choice(ENDINGS)}")
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
    found = [Candidate(number=p.number, kind="sleeping", text=f"{p.title} {p.abstract}", ipc=(p.ipc,),
                       industry=p.industry, prefecture_code=p.prefecture, title=p.title) for p in patents]
    index = Index(found)
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
    # How the job's index follows its candidates: 100 patents replaced by a changed text, 100 dropped.
    changed = time.perf_counter()
    for p in patents[:100]:
        index.put(Candidate(number=p.number, kind="open_licence", text=f"{p.title} {p.abstract} 开放许可",
                            ipc=(p.ipc,), industry=p.industry, prefecture_code=p.prefecture, title=p.title))
    for p in patents[100:200]:
        index.drop(p.number)
    update_ms = (time.perf_counter() - changed) * 1000 / 200
    # A matching round brings the index to the candidates it read: with none changed, only their comparison.
    compared = time.perf_counter()
    refresh(index, [index.get(c.number) for c in found if c.number in index])
    refresh_s = time.perf_counter() - compared
    distinct = len({(p.title, p.abstract) for p in patents}) / size
    return {"patents": size, "subclasses": len({p.subclass for p in patents}), "demands": count, "seed": seed,
            "distinct_texts": round(distinct, 3),
            "recall@1": round(hits1 / count, 2), "recall@5": round(hits5 / count, 2), "MRR": round(reciprocal / count, 2),
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
            "index_build_s": round(build_s, 1), "index_update_ms": round(update_ms, 2),
            "refresh_unchanged_s": round(refresh_s, 2)}


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
              f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms (index built in {row['index_build_s']} s, "
              f"{row['index_update_ms']} ms a changed candidate, {row['refresh_unchanged_s']} s to compare them all; "
              f"{row['distinct_texts']:.0%} of the texts distinct)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(rows, out, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main()
