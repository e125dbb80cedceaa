"""Static catalogue data for the synthetic district (:mod:`creditsup.datasets`).

Everything here is plain data: entity types and their shares, departments,
expertise fields, the check-item list (:mod:`creditsup.datasets._items`),
GB/T 4754-2017 industries with their weights per entity type, the
county-level divisions of Xinzhou (忻州市, GB/T 2260 prefix ``1409``) with
their townships, and the word lists used to build plausible Chinese names and
addresses. Nothing is random here.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from creditsup.datasets._items import ITEMS, Item

__all__ = [
    "CLUSTER_BUILDINGS",
    "CONFLICT_REASONS",
    "COOP",
    "DEPARTMENTS",
    "ENT",
    "ENTITY_TYPES",
    "ENTITY_TYPE_SHARES",
    "EXPERTISE",
    "GIVEN_CHARS",
    "HONORS",
    "IND",
    "INDUSTRIES",
    "ITEMS",
    "OTHER",
    "REGIONS",
    "ROADS",
    "SURNAMES",
    "TRADE_CHARS",
    "Department",
    "Industry",
    "Item",
    "Region",
]

#: Entity-type shares (individual businesses are the majority).
ENTITY_TYPE_SHARES: dict[str, float] = {
    "individual": 0.675,
    "enterprise": 0.28,
    "cooperative": 0.025,
    "other": 0.02,
}
#: The entity types, in the order of their codes ``IND, ENT, COOP, OTHER``.
ENTITY_TYPES: Final[tuple[str, ...]] = tuple(ENTITY_TYPE_SHARES)
IND, ENT, COOP, OTHER = range(4)


class Department(NamedTuple):
    """A checking body (检查主体)."""

    id: str
    name: str
    code: int  # two digits in synthetic certificate numbers


class Industry(NamedTuple):
    """A GB/T 4754-2017 class with the words used to name its entities.

    ``weights`` are relative shares within each entity type (individual,
    enterprise, cooperative, other). ``risk`` shifts the latent risk;
    ``key`` marks industries on the key-supervision list (R23);
    ``sampled`` marks industries whose products are sampled (food, goods);
    ``complaints`` scales the 12315 complaint rate.
    """

    code: str
    name: str
    shop: str  # individual-business name ending (店, 馆, 部 ...)
    biz: str  # enterprise business word (商贸, 餐饮管理 ...)
    coop: str  # co-operative word ('' = none)
    other: str  # public-institution name ending ('' = none; '@' = use township)
    weights: tuple[float, float, float, float]
    risk: float = 0.0
    key: bool = False
    sampled: bool = False
    complaints: float = 1.0


class Region(NamedTuple):
    """A county-level division of Xinzhou (GB/T 2260) and its townships."""

    code: str
    name: str
    city: str  # the prefix used in enterprise names
    weight: float
    towns: tuple[str, ...]


DEPARTMENTS: Final[tuple[Department, ...]] = (
    Department("market", "市场监督管理局（登记注册与信用监管）", 1),
    Department("food", "市场监督管理局（食品安全监督管理）", 2),
    Department("drug", "市场监督管理局（药品医疗器械化妆品监督管理）", 3),
    Department("quality", "市场监督管理局（质量发展与特种设备安全监察）", 4),
    Department("ip", "知识产权局", 5),
    Department("price", "市场监督管理局（价格监督检查）", 6),
    Department("ads", "市场监督管理局（广告监督管理）", 7),
    Department("fire", "消防救援大队", 8),
    Department("env", "生态环境局", 9),
    Department("tax", "税务局", 10),
)

#: Expertise fields (执法领域) by department, with display labels.
EXPERTISE: Final[dict[str, dict[str, str]]] = {
    "market": {
        "publicity": "企业信息公示",
        "registration": "登记注册",
        "online_trade": "网络交易监管",
        "fair_trade": "合同与反不正当竞争",
    },
    "food": {
        "food_production": "食品生产监管",
        "food_distribution": "食品流通监管",
        "catering": "餐饮服务监管",
    },
    "drug": {
        "drug": "药品监管",
        "medical_device": "医疗器械监管",
        "cosmetics": "化妆品监管",
    },
    "quality": {
        "special_equipment": "特种设备安全监察",
        "product_quality": "产品质量监督",
        "metrology": "计量监督",
    },
    "ip": {"trademark": "商标监管", "patent": "专利监管"},
    "price": {"pricing": "价格监督检查"},
    "ads": {"advertising": "广告监管"},
    "fire": {"fire_safety": "消防监督检查"},
    "env": {"pollution": "污染源监管", "hazardous_waste": "固体废物与危险废物监管"},
    "tax": {"invoice": "发票管理", "tax_filing": "纳税评估与检查"},
}


# code|name|shop word|enterprise word|co-op word|other word|weights|risk|flags|complaints
# weights = individual enterprise cooperative other; flags: k = key supervision,
# s = products sampled. An "other" word starting with "@" follows the township.
_INDUSTRY_TABLE = """
A0119|其他谷物种植|种植园|农业开发|杂粮种植||0.1 0.3 5 0|0.3||1
A0141|蔬菜种植|蔬菜种植园|农业科技|蔬菜种植||0.3 0.5 6 0|0.3||1
A0142|食用菌种植|食用菌种植园|生物科技|食用菌种植||0.1 0.2 2 0|0.3||1
A0151|仁果类和核果类水果种植|果园|果业|果品种植||0.1 0.3 3 0|0.3||1
A0181|中草药种植|药材种植园|中药材开发|中药材种植||0 0.2 2 0|0.3||1
A0313|猪的饲养|养殖场|养殖|生猪养殖||0.4 0.5 4 0|0.3|s|1
A0314|羊的饲养|养殖场|畜牧|肉羊养殖||0.2 0.3 3 0|0.3||1
A0321|鸡的饲养|养鸡场|禽业|蛋鸡养殖||0.2 0.3 2 0|0.3||1
A0512|农业机械活动|农机服务部|农机服务|农机服务||0.2 0.2 3 0|0.3||1
C1314|杂粮加工|杂粮加工坊|杂粮食品|杂粮加工||0.4 0.6 1 0|0.2|ks|1
C1391|淀粉及淀粉制品制造|粉条加工坊|淀粉制品|||0.3 0.3 0 0|0.2|ks|1
C1411|糕点、面包制造|糕点坊|食品|||0.5 0.5 0 0|0.2|ks|1
C1431|米、面制品制造|面食加工坊|面业|||0.6 0.4 0 0|0.2|ks|1
C1512|白酒制造|酒坊|酒业|||0.2 0.4 0 0|0.1|ks|1
C1819|其他机织服装制造|服装加工部|服装|||0.3 0.4 0 0|0|s|1
C2110|木质家具制造|家具厂|家具|||0.4 0.5 0 0|0.1|s|1
C2641|涂料制造||化工|||0 0.15 0 0|0.2|ks|1
C2740|中成药生产||药业|||0 0.1 0 0|0|ks|1
C3021|水泥制品制造|水泥制品厂|建材|||0.2 0.5 0 0|0.2|s|1
C3031|粘土砖瓦及建筑砌块制造|砖厂|新型建材|||0.1 0.3 0 0|0.2|s|1
C3311|金属结构制造|铁艺加工部|钢结构|||0.6 0.6 0 0|0.1|s|1
C3360|金属表面处理及热处理加工||表面处理|||0 0.15 0 0|0.2||1
D4430|热力生产和供应||热力|||0 0.1 0 0.1|-0.2|k|1
E4710|住宅房屋建筑||建筑工程|||0 2.5 0 0|0.35||1
E4910|电气安装|水电安装部|电气安装工程|||0.5 0.8 0 0|0.2||1
E5012|住宅装饰和装修|装饰部|装饰工程|||1 2 0 0|0.3||2
F5111|谷物、豆及薯类批发|粮食经销部|粮贸|粮食购销||0.5 1 0.8 0|0||1
F5121|米、面制品及食用油批发|粮油批发部|粮油贸易|||0.3 1 0 0|0|s|1
F5211|百货零售|百货商店|商贸|||8 4 0 0|0|s|1.5
F5212|超级市场零售|超市|超市|||4 2 0 0|0|s|2
F5213|便利店零售|便利店|便利店管理|||6 1 0 0|0|s|1.2
F5221|粮油零售|粮油店|粮油|||3 0.5 0 0|0|s|1
F5222|糕点、面包零售|面包房|食品|||2 0.3 0 0|0.1|s|1
F5223|果品、蔬菜零售|果蔬店|果蔬|||5 0.5 0 0|0|s|1
F5224|肉、禽、蛋、奶及水产品零售|鲜肉店|肉食品|||4 0.3 0 0|0.1|s|1
F5225|营养和保健品零售|保健品店|健康科技|||0.6 0.3 0 0|0.45|s|3
F5226|酒、饮料及茶叶零售|烟酒店|烟酒|||4 0.5 0 0|0.05|s|1
F5227|烟草制品零售|烟酒商行|烟草|||3 0.2 0 0|0||1
F5232|服装零售|服装店|服饰|||6 1 0 0|0|s|1
F5233|鞋帽零售|鞋店|鞋业|||1.5 0.2 0 0|0|s|1
F5251|家用视听设备零售|家电商行|电器|||1.5 0.8 0 0|0|s|2
F5261|汽车新车零售|汽车销售部|汽车销售服务|||0.05 0.6 0 0|0.1||2.5
F5264|汽车零配件零售|汽配店|汽车配件|||1.2 0.5 0 0|0.05||1
F5265|机动车燃油零售|加油站|石油经销|||0.1 0.3 0 0|-0.1|ks|1
F5271|西药零售|药店|医药连锁|||0.8 0.8 0 0|-0.1|k|1.5
F5272|中药零售|中药店|中药|||0.3 0.2 0 0|-0.1|k|1
F5274|医疗用品及器材零售|医疗器械店|医疗器械|||0.3 0.4 0 0|0.1|k|1
F5281|五金零售|五金店|五金机电|||2.5 0.6 0 0|0||1
F5284|家具零售|家具店|家居|||1 0.5 0 0|0||1.5
F5292|互联网零售|网店|电子商务|||1.5 1.5 0 0|0.25||2.5
G5431|普通货物道路运输|货运部|物流|||2 1.5 0 0|0.1||1
H6110|旅游饭店|宾馆|酒店管理|||0.05 0.4 0 0|0||1.5
H6121|一般旅馆|旅馆|宾馆|||1.5 0.5 0 0|0.05||1
H6210|正餐服务|饭店|餐饮管理|||8 2 0 0|0.15||2
H6220|快餐服务|快餐店|餐饮|||5 0.8 0 0|0.15||2
H6231|茶馆服务|茶馆|茶业|||0.6 0.2 0 0|0.05||1
H6241|餐饮配送服务|外卖店|餐饮配送|||0.5 0.3 0 0|0.2||2
H6291|小吃服务|小吃店|小吃|||6 0.3 0 0|0.15||1.5
I6510|软件开发||信息技术|||0 1.2 0 0|0||1
I6531|信息系统集成服务||科技|||0 0.8 0 0|0.05||1
K7010|房地产开发经营||房地产开发|||0 1.2 0 0|0.4||2.5
K7020|物业管理||物业管理|||0 0.8 0 0|0.2||3
K7030|房地产中介服务|房产中介|房地产经纪|||0.4 0.5 0 0|0.3||2
L7121|汽车租赁|汽车租赁部|汽车租赁|||0.1 0.3 0 0|0.2||1
L7212|投资与资产管理||投资管理|||0 1 0 0|0.6||1
L7251|互联网广告服务||网络传媒|||0 0.4 0 0|0.3||1
L7259|其他广告服务|广告部|广告传媒|||0.8 1.2 0 0|0.2||1
O8010|家庭服务|家政服务部|家政服务|||0.5 0.5 0 0|0.1||2
O8030|洗染服务|干洗店|洗涤|||0.6 0.1 0 0|0||1
O8040|理发及美容服务|理发店|美容美发|||4 0.5 0 0|0.1||2
O8051|洗浴服务|浴池|洗浴|||0.4 0.2 0 0|0.1||1
O8060|摄影扩印服务|照相馆|影像|||0.6 0.1 0 0|0||1
O8111|汽车修理与维护|汽修厂|汽车维修|||2 0.6 0 0|0.1||1.5
O8121|计算机和辅助设备修理|电脑维修部|电脑|||0.6 0.1 0 0|0||1
P8310|学前教育||教育咨询||幼儿园|0 0.1 0 3|-0.3|k|1
P8321|普通小学教育||||@中心小学|0 0 0 2|-0.6|k|1
P8391|职业技能培训|培训部|职业培训||职业培训学校|0.2 0.3 0 1|0.1||2
Q8411|综合医院||医院管理||医院|0 0.1 0 0.5|-0.2|k|2
Q8423|乡镇卫生院||||@卫生院|0 0 0 1|-0.4|k|1
Q8424|村卫生室|卫生室|||@村卫生室|0.2 0 0 1.5|-0.2|k|1
Q8425|门诊部（所）|诊所|门诊部||门诊部|0.5 0.3 0 0.5|0.1|k|1
R9011|歌舞厅娱乐活动|KTV|娱乐|||0.2 0.2 0 0|0.25||1
R9013|网吧活动|网吧|网络科技|||0.3 0.1 0 0|0.2||1
"""


def _parse_industries(text: str) -> tuple[Industry, ...]:
    out = []
    for line in text.strip().splitlines():
        code, name, shop, biz, coop, other, w, risk, flags, compl = line.split("|")
        ws = tuple(float(x) for x in w.split())
        out.append(
            Industry(
                code,
                name,
                shop,
                biz,
                coop,
                other,
                (ws[0], ws[1], ws[2], ws[3]),
                float(risk),
                "k" in flags,
                "s" in flags,
                float(compl),
            )
        )
    return tuple(out)


#: GB/T 4754-2017 classes with their name words, weights and risk.
INDUSTRIES: Final[tuple[Industry, ...]] = _parse_industries(_INDUSTRY_TABLE)

# code|name|city prefix|weight|townships (space-separated)
_REGION_TABLE = """
140902|忻府区|忻州市|0.22|秀容街道 新建路街道 长征街街道 云中路街道 旭来街街道 播明镇 奇村镇 三交镇 庄磨镇 豆罗镇 董村镇 西张镇 高城乡 兰村乡 紫岩乡 合索乡
140981|原平市|原平市|0.14|北城街道 南城街道 轩岗镇 崞阳镇 大牛店镇 闫庄镇 东社镇 苏龙口镇 子干乡
140921|定襄县|定襄县|0.06|晋昌镇 河边镇 宏道镇 受禄乡 蒋村乡 南王乡
140922|五台县|五台县|0.07|台城镇 东冶镇 豆村镇 耿镇镇 建安乡 茹村乡
140923|代县|代县|0.06|上馆镇 阳明堡镇 峨口镇 聂营镇 枣林镇
140924|繁峙县|繁峙县|0.06|繁城镇 砂河镇 大营镇 杏园乡 光裕堡乡
140925|宁武县|宁武县|0.05|凤凰镇 阳方口镇 东寨镇 石家庄镇 化北屯乡
140926|静乐县|静乐县|0.04|鹅城镇 杜家村镇 康家会镇 丰润镇
140927|神池县|神池县|0.03|龙泉镇 义井镇 八角镇 东湖乡
140928|五寨县|五寨县|0.035|砚城镇 小河头镇 三岔镇 前所乡
140929|岢岚县|岢岚县|0.03|岚漪镇 三井镇 神堂坪乡 高家会乡
140930|河曲县|河曲县|0.04|文笔镇 楼子营镇 刘家塔镇 巡镇镇
140931|保德县|保德县|0.04|东关镇 义门镇 桥头镇 杨家湾镇
140932|偏关县|偏关县|0.03|新关镇 天峰坪镇 老营镇 万家寨镇
140971|五台山风景名胜区|五台山|0.015|台怀镇 金岗库乡
"""


def _parse_regions(text: str) -> tuple[Region, ...]:
    out = []
    for line in text.strip().splitlines():
        code, name, city, weight, towns = line.split("|")
        out.append(Region(code, name, city, float(weight), tuple(towns.split())))
    return tuple(out)


#: The county-level divisions of Xinzhou with their townships.
REGIONS: Final[tuple[Region, ...]] = _parse_regions(_REGION_TABLE)

#: Common surnames with rough relative frequencies.
SURNAMES: Final[tuple[tuple[str, float], ...]] = (
    ("王", 7.1), ("李", 7.0), ("张", 6.8), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1),
    ("赵", 2.3), ("黄", 2.1), ("周", 1.9), ("吴", 1.8), ("徐", 1.3), ("孙", 1.3),
    ("胡", 1.1), ("朱", 1.0), ("高", 1.0), ("林", 0.9), ("何", 0.9), ("郭", 1.4),
    ("马", 0.8), ("罗", 0.7), ("梁", 0.6), ("宋", 0.6), ("郑", 0.6), ("谢", 0.5),
    ("韩", 0.6), ("唐", 0.5), ("冯", 0.5), ("于", 0.5), ("董", 0.5), ("萧", 0.3),
    ("程", 0.4), ("曹", 0.4), ("袁", 0.4), ("邓", 0.4), ("许", 0.4), ("傅", 0.3),
    ("沈", 0.3), ("曾", 0.3), ("彭", 0.3), ("吕", 0.3), ("苏", 0.3), ("卢", 0.3),
    ("蒋", 0.3), ("蔡", 0.3), ("贾", 0.4), ("丁", 0.3), ("魏", 0.3), ("薛", 0.3),
    ("叶", 0.2), ("阎", 0.3), ("余", 0.2), ("潘", 0.2), ("杜", 0.3), ("戴", 0.2),
    ("夏", 0.2), ("钟", 0.2), ("汪", 0.2), ("田", 0.3), ("任", 0.3), ("姜", 0.2),
    ("范", 0.2), ("方", 0.2), ("石", 0.2), ("姚", 0.2), ("谭", 0.2), ("廖", 0.1),
    ("邹", 0.1), ("熊", 0.1), ("金", 0.1), ("陆", 0.1), ("郝", 0.3), ("孔", 0.1),
    ("白", 0.3), ("崔", 0.2), ("康", 0.1), ("毛", 0.1), ("邱", 0.1), ("秦", 0.2),
    ("江", 0.1), ("史", 0.2), ("顾", 0.1), ("侯", 0.2), ("邵", 0.1), ("孟", 0.1),
    ("龙", 0.1), ("万", 0.1), ("段", 0.2), ("雷", 0.1), ("钱", 0.1), ("汤", 0.1),
    ("尹", 0.1), ("黎", 0.1), ("易", 0.1), ("常", 0.2), ("武", 0.3), ("乔", 0.2),
    ("贺", 0.1), ("赖", 0.1), ("龚", 0.1), ("文", 0.1), ("温", 0.2), ("牛", 0.2),
)  # fmt: skip

#: Characters of given names.
GIVEN_CHARS: Final[str] = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志斌海燕波辉鹏"
    "宇浩俊飞凯文亮鑫雪琳晶婷慧颖佳欣悦晨阳博丹萍莉东林峰帅龙宁彬亚春花云新民永"
    "福生荣利清宏彩凤香兵武贵成德忠庆旭瑞琴瑶璐雅婧璇晓怡思涵子轩梓萱雨泽睿然一"
    "诺家豪振嘉懿金淑珍芝小凡立士学军光耀宗祖汉威昊晖岩松柏青翠露霖蕾茜娇媛嫣妍"
    "昌盛隆兴旺贤良仁义礼智信忠孝勤俭朴实毅刚坚卫保安康乐和顺吉祥如意喜庆丰收胜"
    "利铭锋钢锐锦钰铁炳焕烨煜灿炜耀琦璋瑾琛珺瑜瑛璇琪珊玲琳珍珠翔鹤鸿鹰鹏雁燕"
)

#: Characters of trade names (字号).
TRADE_CHARS: Final[str] = (
    "鑫源盛泰恒隆兴祥华福瑞丰达宏昌顺利通汇金嘉和荣佳旺康宇晋德诚信安永亿博创新"
    "天鼎润万聚富美益众晟航远明正昊翔旭辉腾骏锦凯益宸洲"
)

ROADS: Final[tuple[str, ...]] = (
    "和平街", "建设路", "七一路", "长征街", "新建路", "云中路", "雁门大道",
    "开莱大道", "光明街", "健康路", "利民街", "丽都路", "慕山路", "公园街",
    "桥西街", "东大街", "西大街", "南大街", "北大街", "站前街", "车站路",
    "育才路", "迎宾大街", "振兴路", "商业街", "文化路", "人民路", "解放路",
    "胜利街", "工业路", "秀容大道", "滨河路", "富民街", "幸福街", "团结路",
)  # fmt: skip

#: Buildings used for cluster registrations (集群注册, many firms at one address).
CLUSTER_BUILDINGS: Final[tuple[str, ...]] = (
    "创业大厦", "众创空间", "电子商务产业园", "商务中心", "科创孵化基地",
    "金融大厦", "双创基地", "总部经济园",
)  # fmt: skip

CONFLICT_REASONS: Final[tuple[tuple[str, float], ...]] = (
    ("近亲属关系", 0.45),
    ("曾任职或兼职", 0.2),
    ("存在经济利益关系", 0.15),
    ("曾参与该对象案件办理", 0.1),
    ("同学或朋友关系", 0.1),
)

HONORS: Final[tuple[str, ...]] = (
    "守合同重信用企业",
    "诚信经营示范店",
    "放心消费示范单位",
    "食品安全示范店",
)
