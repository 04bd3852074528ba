"""Demo data: a dealer group with two branches, a login for every role, about 200 customers.

Everything is generated from a fixed seed and dated relative to a fixed anchor day, so two
loads on two machines produce the same records. The records go through the customer
services, so timelines, ownership history and completeness scores are what a user entering
them would get. Loading is idempotent: when the demo dealer group exists nothing changes.
"""

import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple, TextIO

from dateutil.relativedelta import relativedelta
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from archives.demo import archives_demo_create
from archives.models import VehicleFile
from customers.care.demo import care_demo_create
from customers.choices import (
    ConsentChannel,
    CustomerCategory,
    CustomerKind,
    CustomerSource,
    EvaluationCategory,
    FuelType,
    Gender,
    OdometerSource,
    Transmission,
)
from customers.models import Contact, Customer, OdometerReading, TimelineEntry, Vehicle
from customers.services import contact_save, customer_create, odometer_record, vehicle_add
from customers.validators import credit_code_check_char, resident_id_check_digit
from customers.vin import MODEL_YEAR_CODES, vin_check_digit
from fleet.demo import fleet_demo_create
from fleet.models import FleetAccount, FleetDeal
from parts.demo import parts_demo_create
from parts.models import PartStock, StockMove
from sales.demo import StockModel, sales_demo_create, sales_demo_finish
from sales.models import Lead, StockVehicle
from service.demo import service_demo_create
from service.models import Appointment, WorkOrder

from .choices import Role
from .models import Branch, DealerGroup, Staff
from .roles import roles_sync

DEMO_PASSWORD = "demo-2026"
DEMO_GROUP_NAME = "华南汽车集团"
DEMO_ADMIN_USERNAME = "admin"
# Every date in the demo is computed from this day, never from today: the data is the same
# whenever it is loaded. Odometer readings are dated on or before it, so they are never in
# the future on any day the demo is loaded.
DEMO_ANCHOR = date(2026, 11, 1)
DEMO_SEED = 20261101

GUANGZHOU, SHENZHEN = "gz-tianhe", "sz-nanshan"


class DemoLogin(NamedTuple):
    username: str
    role: Role
    branches: tuple[str, ...]  # branch codes; the group manager works in both


DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin("consultant", Role.SALES_CONSULTANT, (GUANGZHOU,)),
    DemoLogin("sales_manager", Role.SALES_MANAGER, (GUANGZHOU,)),
    DemoLogin("advisor", Role.SERVICE_ADVISOR, (GUANGZHOU,)),
    DemoLogin("technician", Role.TECHNICIAN, (GUANGZHOU,)),
    DemoLogin("parts_clerk", Role.PARTS_CLERK, (GUANGZHOU,)),
    DemoLogin("fleet_manager", Role.FLEET_MANAGER, (GUANGZHOU,)),
    DemoLogin("customer_care", Role.CUSTOMER_CARE, (GUANGZHOU, SHENZHEN)),
    DemoLogin("branch_manager", Role.BRANCH_MANAGER, (GUANGZHOU,)),
    DemoLogin("group_manager", Role.GROUP_MANAGER, (GUANGZHOU, SHENZHEN)),
    DemoLogin("consultant2", Role.SALES_CONSULTANT, (SHENZHEN,)),
    DemoLogin("integration", Role.INTEGRATION, (GUANGZHOU,)),
]

# username → (surname, given name); stored as last_name / first_name.
DEMO_STAFF_NAMES: dict[str, tuple[str, str]] = {
    "consultant": ("陈", "嘉豪"),
    "sales_manager": ("李", "志强"),
    "advisor": ("黄", "伟明"),
    "technician": ("梁", "国栋"),
    "parts_clerk": ("吴", "晓军"),
    "fleet_manager": ("刘", "建华"),
    "customer_care": ("林", "美玲"),
    "branch_manager": ("张", "振华"),
    "group_manager": ("何", "永康"),
    "consultant2": ("周", "雨桐"),
    "integration": ("郑", "立新"),
}

BRANCHES = [
    {
        "code": GUANGZHOU,
        "name": "广州天河店",
        "city": "广州市",
        "address": "广东省广州市天河区黄埔大道西638号",
        "phone": "020-38862288",
        "plate_prefix": "粤A",
        "customers": 120,
    },
    {
        "code": SHENZHEN,
        "name": "深圳南山店",
        "city": "深圳市",
        "address": "广东省深圳市南山区南海大道2188号",
        "phone": "0755-86158899",
        "plate_prefix": "粤B",
        "customers": 80,
    },
]


# --- People and places -----------------------------------------------------------------

# The tables below are laid out by hand, one record a line or two.
# fmt: off

def _words(text: str) -> list[str]:
    return text.split()


# Common surnames, repeated by how often they occur in Guangdong.
SURNAMES = list(
    "陈陈陈陈陈陈陈陈李李李李李李黄黄黄黄黄黄张张张张张梁梁梁梁刘刘刘刘林林林林何何何"
    "王王王王吴吴吴罗罗罗郑郑郑杨杨杨谢谢周周曾曾邓邓冯冯蔡蔡叶叶许苏卢麦钟潘彭朱郭胡"
    "赖徐莫伍邱谭江廖余"
)
COMPOUND_SURNAMES = ["欧阳", "司徒", "上官"]
MALE_GIVEN_NAMES = _words(
    "伟 强 磊 军 洋 勇 杰 涛 斌 浩 俊杰 志强 建华 国强 家豪 子轩 宇航 文博 振宇 晓东 嘉伟 "
    "永明 海涛 锦荣 志明 国华 伟强 耀辉 德明 少华 卓然 浩然 俊宏 家乐 泽宇 明轩 建军 文杰 "
    "天佑 炳坤 汉文 立群 春生 健雄 启明 铭浩 梓豪 冠霖 承志 景行"
)
FEMALE_GIVEN_NAMES = _words(
    "芳 娜 敏 静 丽 艳 婷 雪 慧 颖 秀英 玉兰 晓燕 丽华 美玲 嘉欣 梓涵 欣怡 雨桐 思琪 佳怡 "
    "淑芬 惠珍 碧霞 少芬 凤仪 咏诗 慧敏 婉婷 晓琳 丽娟 雅琪 诗韵 紫萱 秀珍 海燕 素梅 月华 "
    "佩琪 晓彤 嘉怡 家慧 敏仪 宝珊 琳琳 若曦 安琪 梦瑶 静怡 巧玲"
)
MOBILE_PREFIXES = _words(
    "138 139 186 135 150 177 199 136 137 158 159 188 189 133 180 131 132 155 156 181 187 152 "
    "182 176"
)


@dataclass(frozen=True)
class District:
    code: str  # the administrative division code, positions 1-6 of a resident ID
    name: str
    postcode: str
    streets: tuple[str, ...]
    estates: tuple[str, ...]


def _district(code: str, name: str, postcode: str, streets: str, estates: str) -> District:
    return District(code, name, postcode, tuple(streets.split()), tuple(estates.split()))


DISTRICTS: dict[str, list[District]] = {
    "广州市": [
        _district("440106", "天河区", "510630",
                  "天河路 体育西路 天河北路 中山大道西 黄埔大道西 林和西路 龙口西路 华夏路",
                  "骏景花园 华景新城 汇景新城 珠江帝景 凯旋新世界 天河公园苑"),
        _district("440104", "越秀区", "510030",
                  "环市东路 东风中路 北京路 中山五路 农林下路 建设六马路",
                  "东湖御苑 淘金花园 保利花园 建设大厦"),
        _district("440105", "海珠区", "510220",
                  "江南大道中 新港中路 工业大道南 昌岗中路 滨江东路",
                  "珠江广场 海珠半岛花园 中海名都 富力千禧花园"),
        _district("440103", "荔湾区", "510140",
                  "中山八路 芳村大道中 龙津西路 康王中路",
                  "金道花园 荔港南湾 保利红棉花园"),
        _district("440111", "白云区", "510440",
                  "白云大道北 机场路 广园中路 同和路",
                  "云山诗意 金沙洲新社区 嘉禾望岗花园"),
        _district("440112", "黄埔区", "510700",
                  "开创大道 黄埔东路 科学大道 萝岗大道",
                  "保利林语山庄 万科东荟城 科学城花园"),
        _district("440113", "番禺区", "511400",
                  "光明北路 兴南大道 迎宾路 市桥北路",
                  "祈福新邨 华南碧桂园 丽江花园 星河湾"),
    ],
    "深圳市": [
        _district("440305", "南山区", "518052",
                  "深南大道 南海大道 后海大道 工业八路 南山大道 学府路 沙河西路 科苑路",
                  "蔚蓝海岸 后海花园 半岛城邦 中信红树湾 桃源村 华侨城波托菲诺"),
        _district("440304", "福田区", "518033",
                  "福华路 深南中路 益田路 福田路 彩田路 红荔路",
                  "香蜜湖一号 景田花园 百花园 中海华庭"),
        _district("440303", "罗湖区", "518001",
                  "人民南路 东门中路 深南东路 宝安南路 文锦中路",
                  "翠竹苑 金城大厦 鹿丹村 泰宁花园"),
        _district("440306", "宝安区", "518101",
                  "新安六路 宝安大道 创业一路 建安一路",
                  "西城上筑 中洲华府 海滨广场"),
        _district("440307", "龙岗区", "518116",
                  "龙翔大道 吉华路 布龙路 龙城大道",
                  "万科四季花城 星河银湖谷 中海怡翠山庄"),
        _district("440309", "龙华区", "518109",
                  "民治大道 人民路 梅龙大道 和平路",
                  "星河丹堤 锦绣江南 港铁天颂"),
    ],
}
LANDLINE_AREA = {"广州市": "020", "深圳市": "0755"}


# --- Vehicles --------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    wmi: str
    brand: str
    series: str
    model_code: str
    vds: str  # VIN positions 4-8
    plant: str  # VIN position 11
    engine: str  # engine (or motor) number prefix
    fuel: str
    transmission: str
    warranty_years: int
    warranty_km: int | None  # None: no mileage limit (BMW and Mercedes in China)
    on_sale_from: date
    colours: tuple[str, ...]


_PETROL, _HYBRID, _EV = FuelType.PETROL, FuelType.HYBRID, FuelType.ELECTRIC
_PHEV = FuelType.PLUG_IN_HYBRID
_AT, _DCT, _CVT = Transmission.AUTOMATIC, Transmission.DCT, Transmission.CVT
_1SP = Transmission.SINGLE_SPEED
_SINCE_2019 = date(2019, 1, 1)
_WHITE_BLACK_SILVER = "珍珠白 极地白 曜石黑 星空灰 月光银"

MODELS: dict[str, Model] = {
    model.series: model
    for model in (
        Model(*row[:-1], tuple(row[-1].split()))
        for row in [
            ("LSV", "大众", "帕萨特", "SVW7203LPD", "AA63C", "S", "DKX", _PETROL, _DCT, 3, 100_000,
             _SINCE_2019, _WHITE_BLACK_SILVER + " 珊瑚蓝"),
            ("LSV", "大众", "途观L", "SVW6472MKD", "HA6D2", "S", "DKV", _PETROL, _DCT, 3, 100_000,
             _SINCE_2019, _WHITE_BLACK_SILVER + " 琉璃蓝"),
            ("LSV", "大众", "朗逸", "SVW7157NPD", "AG2B1", "N", "DLF", _PETROL, _AT, 3, 100_000,
             _SINCE_2019, _WHITE_BLACK_SILVER),
            ("LFV", "大众", "迈腾", "FV7207TBDBG", "A23CX", "C", "DKW", _PETROL, _DCT, 3, 100_000,
             _SINCE_2019, _WHITE_BLACK_SILVER + " 深海蓝"),
            ("LFV", "奥迪", "A6L", "FV7201BCDWG", "3F4G7", "C", "DKW", _PETROL, _AT, 3, 100_000,
             _SINCE_2019, "冰川白 传奇黑 星辰灰"),
            ("LVG", "丰田", "凯美瑞", "GTM7250GBHEV", "B1EB7", "G", "A25A", _HYBRID, _CVT, 3,
             100_000, _SINCE_2019, "铂金珍珠白 冷艳黑 钢铁灰"),
            ("LVG", "丰田", "汉兰达", "GTM6481SHEV", "K1HB5", "G", "A25B", _HYBRID, _CVT, 3,
             100_000, date(2021, 6, 1), "铂金珍珠白 墨晶黑"),
            ("LVG", "丰田", "雷凌", "GTM7200BFB", "E1EB2", "G", "M20C", _PETROL, _CVT, 3, 100_000,
             _SINCE_2019, "铂金珍珠白 魅惑红 银色"),
            ("LHG", "本田", "雅阁", "HG7150ACE6", "CV174", "G", "L15BN", _PETROL, _CVT, 3, 100_000,
             _SINCE_2019, "珍珠白 水晶黑 星月灰"),
            ("LHG", "本田", "冠道", "HG6481DBA6", "RW276", "G", "L15BJ", _PETROL, _CVT, 3, 100_000,
             _SINCE_2019, "珍珠白 琥珀棕"),
            ("LBV", "宝马", "5系", "BMW7201KX", "5X310", "C", "B48B20B", _PETROL, _AT, 3, None,
             _SINCE_2019, "矿石白 宝石青 黑色"),
            ("LBV", "宝马", "X3", "BMW6474HX", "TX710", "D", "B48B20A", _PETROL, _AT, 3, None,
             _SINCE_2019, "矿石白 黑色 灰色"),
            ("LE4", "奔驰", "C级", "BJ7204GEL", "ZFB4H", "L", "M254920", _PETROL, _AT, 3, None,
             _SINCE_2019, "北极白 曜岩黑 铱银"),
            ("LE4", "奔驰", "GLC", "BJ6473M3X", "ZGB4J", "L", "M264920", _PETROL, _AT, 3, None,
             _SINCE_2019, "北极白 曜岩黑 蛋白石白"),
            ("LRW", "特斯拉", "Model 3", "TSL7000BEVAR2", "3E7FS", "C", "TZ180X", _EV, _1SP, 4,
             80_000, date(2020, 1, 15), "珍珠白 烈焰红 星空灰"),
            ("LRW", "特斯拉", "Model Y", "TSL6480BEVBR0", "YGDEE", "C", "TZ200X", _EV, _1SP, 4,
             80_000, date(2021, 1, 15), "珍珠白 冷光银 深海蓝"),
            ("LGX", "比亚迪", "汉", "BYD7008BEVA", "CC4G1", "6", "TZ220XYL", _EV, _1SP, 6, 150_000,
             date(2020, 7, 15), "时间灰 汉宫红 冰川蓝"),
            ("LGX", "比亚迪", "秦PLUS DM-i", "BYD7152WT6HEVC5", "CB2B4", "6", "BYD472QA", _PHEV,
             _AT, 6, 150_000, date(2021, 3, 15), "雪域白 时光灰 天际蓝"),
            ("LGX", "比亚迪", "秦PLUS EV", "BYD7005BEVA1", "CB2E0", "6", "TZ180XSD", _EV, _1SP, 6,
             150_000, date(2021, 4, 1), "雪域白 时光灰"),
            ("LGB", "日产", "轩逸", "DFL7160VBL2", "C4AB1", "W", "HR16", _PETROL, _CVT, 3, 100_000,
             _SINCE_2019, "珍珠白 钛金灰 极光蓝"),
        ]
    )
}
# What private buyers own, each series repeated by how often it sells; fleets have their own.
PRIVATE_MODELS = (
    ["帕萨特"] * 5 + ["途观L"] * 5 + ["朗逸"] * 4 + ["迈腾"] * 4 + ["A6L"] * 2 + ["凯美瑞"] * 5
    + ["汉兰达"] * 3 + ["雷凌"] * 3 + ["雅阁"] * 5 + ["冠道"] * 2 + ["5系"] * 2 + ["X3"] * 2
    + ["C级"] * 2 + ["GLC"] * 2 + ["Model 3"] * 3 + ["Model Y"] * 3 + ["汉"] * 3
    + ["秦PLUS DM-i"] * 3 + ["轩逸"] * 2
)
_YEAR_CODES = {year + 30: code for code, year in MODEL_YEAR_CODES.items()}  # 2010-2039
_PLATE_CHARACTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_CREDIT_CODE_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORGANIZATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class Organization:
    name: str
    category: str
    registration: str  # credit code positions 1-2: 91 enterprise, 11 government body
    district: str
    contact_role: str
    models: tuple[str, ...]  # one vehicle per entry
    km_per_year: tuple[int, int]
    manual_gearbox: bool = False


_TAXI, _RENTAL = CustomerCategory.TAXI, CustomerCategory.RENTAL
_SCHOOL = CustomerCategory.DRIVING_SCHOOL
_GOVERNMENT, _ENTERPRISE = CustomerCategory.GOVERNMENT, CustomerCategory.ENTERPRISE

ORGANIZATIONS: dict[str, list[Organization]] = {
    GUANGZHOU: [
        Organization("广州市穗通出租汽车有限公司", _TAXI, "91", "440111", "车队队长",
                     ("秦PLUS EV",) * 4, (90_000, 130_000)),
        Organization("广州如约出行科技有限公司", _TAXI, "91", "440105", "运营主管",
                     ("秦PLUS EV", "汉", "秦PLUS EV"), (70_000, 110_000)),
        Organization("广州悦途汽车租赁有限公司", _RENTAL, "91", "440106", "车管专员",
                     ("轩逸", "雷凌", "凯美瑞"), (35_000, 50_000)),
        Organization("广州市天河区机关事务管理局", _GOVERNMENT, "11", "440106", "车辆管理科科长",
                     ("帕萨特", "凯美瑞"), (15_000, 25_000)),
        Organization("广州市越秀区城市管理和综合执法局", _GOVERNMENT, "11", "440104", "办公室主任",
                     ("迈腾",), (15_000, 25_000)),
        Organization("广州华粤信息科技有限公司", _ENTERPRISE, "91", "440106", "行政主管",
                     ("A6L", "途观L"), (20_000, 35_000)),
        Organization("广东南粤物流有限公司", _ENTERPRISE, "91", "440111", "采购经理",
                     ("汉兰达", "途观L"), (25_000, 40_000)),
        Organization("广州市珠江建设工程有限公司", _ENTERPRISE, "91", "440104", "总经理助理",
                     ("5系",), (20_000, 30_000)),
        Organization("广州安驾机动车驾驶员培训有限公司", _SCHOOL, "91", "440113", "教练组长",
                     ("朗逸", "朗逸"), (25_000, 35_000), manual_gearbox=True),
        Organization("广州天河恒信会计师事务所有限公司", _ENTERPRISE, "91", "440106", "行政经理",
                     ("C级",), (15_000, 25_000)),
        Organization("广州美联食品有限公司", _ENTERPRISE, "91", "440112", "后勤主管",
                     ("冠道",), (20_000, 30_000)),
        # a fleet prospect: no vehicles yet
        Organization("广州银信融资担保有限公司", _ENTERPRISE, "91", "440106", "综合部经理",
                     (), (20_000, 30_000)),
    ],
    SHENZHEN: [
        Organization("深圳市鹏程出租汽车有限公司", _TAXI, "91", "440303", "车队队长",
                     ("秦PLUS EV",) * 4, (90_000, 130_000)),
        Organization("深圳前海途达汽车租赁有限公司", _RENTAL, "91", "440305", "车管专员",
                     ("Model 3", "轩逸", "凯美瑞"), (35_000, 50_000)),
        Organization("深圳市南山区机关事务管理中心", _GOVERNMENT, "11", "440305", "车辆管理科科长",
                     ("汉", "帕萨特"), (15_000, 25_000)),
        Organization("深圳市海纳电子科技有限公司", _ENTERPRISE, "91", "440305", "行政主管",
                     ("Model Y", "GLC"), (20_000, 35_000)),
        Organization("深圳蛇口港湾物流有限公司", _ENTERPRISE, "91", "440305", "车队主管",
                     ("汉兰达",), (25_000, 40_000)),
        Organization("深圳市创新源投资管理有限公司", _ENTERPRISE, "91", "440304", "总经理助理",
                     ("5系",), (20_000, 30_000)),
        Organization("深圳市福田区教育局", _GOVERNMENT, "11", "440304", "办公室主任",
                     ("汉",), (12_000, 20_000)),
        Organization("深圳市星河云计算有限公司", _ENTERPRISE, "91", "440306", "采购经理",
                     ("Model Y", "雅阁"), (20_000, 35_000)),
    ],
}
COMMERCIAL_CATEGORIES = {_TAXI, _RENTAL, _SCHOOL}

# Choices repeated by their share.
PERSON_SOURCES = (
    [CustomerSource.WALK_IN] * 30 + [CustomerSource.REFERRAL] * 15 + [CustomerSource.PHONE] * 10
    + [CustomerSource.WEBSITE] * 15 + [CustomerSource.THIRD_PARTY] * 15
    + [CustomerSource.CAMPAIGN] * 8 + [CustomerSource.AUTO_SHOW] * 7
)
EVALUATIONS = (
    [EvaluationCategory.A] * 15 + [EvaluationCategory.B] * 45 + [EvaluationCategory.C] * 30
    + [EvaluationCategory.D] * 10
)
CONSENT_CHANNELS = (
    [ConsentChannel.PAPER] * 35 + [ConsentChannel.WECHAT] * 30 + [ConsentChannel.SMS] * 15
    + [ConsentChannel.PHONE] * 10 + [ConsentChannel.WEBSITE] * 10
)
PERSON_TAGS = ["老客户转介绍", "置换意向", "增购意向", "车友会", "VIP", "网约车司机", "首保未回厂"]
SERVICE_NOTES = ["常规保养", "常规保养", "常规保养", "维修进厂", "钣喷进厂", "更换轮胎"]

# fmt: on


def _say(stdout: TextIO | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _anniversary_on_or_after(start: date, earliest: date) -> date:
    """The first yearly anniversary of ``start`` that falls on or after ``earliest``."""
    years = max(0, earliest.year - start.year - 1)
    day = start + relativedelta(years=years)
    while day < earliest:
        years += 1
        day = start + relativedelta(years=years)
    return day


class _DemoBuilder:
    """Generates the records with one seeded random source; remembers what must be unique."""

    def __init__(self, *, seed: int, anchor: date):
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.used: set[str] = set()  # phones, IDs, codes, VINs, plates, engine numbers, names

    def unique(self, make) -> str:
        for _attempt in range(1000):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError("demo data: could not generate a unique value")

    # --- identities ----------------------------------------------------------------

    def mobile(self) -> str:
        return self.unique(
            lambda: self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"
        )

    def landline(self, city: str) -> str:
        first_digits = "2368" if city == "深圳市" else "238"
        return self.unique(
            lambda: (
                f"{LANDLINE_AREA[city]}-{self.rng.choice(first_digits)}"
                f"{self.rng.randint(0, 9_999_999):07d}"
            )
        )

    def person_name(self, gender: str) -> str:
        given = MALE_GIVEN_NAMES if gender == Gender.MALE else FEMALE_GIVEN_NAMES

        def make() -> str:
            surname = (
                self.rng.choice(COMPOUND_SURNAMES)
                if self.rng.random() < 0.03
                else self.rng.choice(SURNAMES)
            )
            return surname + self.rng.choice(given)

        return self.unique(make)

    def resident_id(self, area: str, birthday: date, gender: str) -> str:
        """Area code of the address, the birth date, a sequence whose last digit is odd for
        men and even for women, and the GB 11643 check digit."""

        def make() -> str:
            parity = self.rng.choice("13579" if gender == Gender.MALE else "02468")
            first17 = f"{area}{birthday:%Y%m%d}{self.rng.randint(0, 99):02d}{parity}"
            return first17 + resident_id_check_digit(first17)

        return self.unique(make)

    def credit_code(self, registration: str, area: str) -> str:
        """A unified social credit code: registration authority and type, division, the
        9-character organization code (GB 11714, its own check character), and the GB 32100
        check character."""

        def make() -> str:
            if registration == "11":  # government bodies keep their old organization code
                body = "00" + "".join(self.rng.choice("0123456789") for _ in range(6))
            elif self.rng.random() < 0.5:  # codes issued since 2015 start the body with MA
                body = "MA5" + "".join(self.rng.choice(_CREDIT_CODE_CHARACTERS) for _ in range(5))
            else:
                body = "".join(self.rng.choice("0123456789") for _ in range(8))
            values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
            remainder = (
                11
                - sum(v * w for v, w in zip(values, _ORGANIZATION_CODE_WEIGHTS, strict=True)) % 11
            )
            check = {10: "X", 11: "0"}.get(remainder, str(remainder))
            first17 = f"{registration}{area}{body}{check}"
            return first17 + credit_code_check_char(first17)

        return self.unique(make)

    def address(self, city: str, district: District | None = None) -> dict:
        district = district or self.rng.choice(DISTRICTS[city])
        street = f"{self.rng.choice(district.streets)}{self.rng.randint(1, 388)}号"
        if self.rng.random() < 0.6:
            estate = self.rng.choice(district.estates)
            building, floor, flat = (self.rng.randint(*span) for span in ((1, 12), (2, 32), (1, 6)))
            street += f"{estate}{building}栋{floor}{flat:02d}房"
        return {
            "province": "广东省",
            "city": city,
            "district": district.name,
            "street": street,
            "postcode": district.postcode,
        }

    def district(self, code: str) -> tuple[str, District]:
        for city, districts in DISTRICTS.items():
            for district in districts:
                if district.code == code:
                    return city, district
        raise KeyError(code)

    # --- vehicles ------------------------------------------------------------------

    def vin(self, model: Model, model_year: int) -> str:
        def make() -> str:
            serial = f"{self.rng.randint(0, 999_999):06d}"
            body = f"{model.wmi}{model.vds}0{_YEAR_CODES[model_year]}{model.plant}{serial}"
            return body[:8] + vin_check_digit(body) + body[9:]

        return self.unique(make)

    def plate(self, prefix: str, fuel: str) -> str:
        rng, letters = self.rng, _PLATE_CHARACTERS

        def make() -> str:
            if fuel in (FuelType.ELECTRIC, FuelType.PLUG_IN_HYBRID):
                # small new-energy plate: D pure electric, F everything else
                kind = "D" if fuel == FuelType.ELECTRIC else "F"
                second = rng.choice(letters + "0123456789" * 2)
                return f"{prefix}{kind}{second}{rng.randint(0, 9999):04d}"
            characters = [str(rng.randint(0, 9)) for _ in range(5)]
            for position in rng.sample(range(5), rng.choice([1, 1, 1, 2])):
                # D or F first would read as a new-energy plate
                characters[position] = rng.choice(
                    letters.replace("D", "").replace("F", "") if position == 0 else letters
                )
            return prefix + "".join(characters)

        return self.unique(make)

    def delivery_date(self, model: Model) -> date:
        earliest = max(model.on_sale_from, self.anchor - relativedelta(years=6) + timedelta(days=5))
        latest = self.anchor - timedelta(days=3)
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def vehicle_data(
        self,
        model: Model,
        *,
        plate_prefix: str,
        commercial: bool,
        manual_gearbox: bool = False,
        delivered_on: date | None = None,
    ) -> dict:
        rng = self.rng
        delivery = delivered_on or self.delivery_date(model)
        production = delivery - timedelta(days=rng.randint(20, 120))
        model_year = production.year + (1 if production.month >= 9 else 0)
        registration = delivery - timedelta(days=rng.randint(1, 5))
        if commercial:  # taxis, rental and training cars are inspected every year
            inspection = _anniversary_on_or_after(registration, self.anchor - timedelta(days=20))
        else:  # private cars: the 6th-year inspection
            inspection = registration + relativedelta(years=6)
        return {
            "vin": self.vin(model, model_year),
            "plate": self.plate(plate_prefix, model.fuel),
            "engine_number": self.unique(lambda: f"{model.engine}{rng.randint(0, 999_999):06d}"),
            "brand": model.brand,
            "series": model.series,
            "model_code": model.model_code,
            "colour": rng.choice(model.colours),
            "transmission": Transmission.MANUAL if manual_gearbox else model.transmission,
            "fuel_type": model.fuel,
            "production_date": production,
            "registration_date": registration,
            "delivery_date": delivery,
            "warranty_end_date": delivery + relativedelta(years=model.warranty_years),
            "warranty_end_km": model.warranty_km,
            "insurance_expiry": _anniversary_on_or_after(
                registration, self.anchor - timedelta(days=40)
            ),
            "inspection_due": inspection,
        }

    def odometer_plan(self, delivery: date, km_per_year: int) -> list[tuple[date, int, str, str]]:
        """1-4 readings from delivery on, rising with the vehicle's yearly mileage, none after
        the anchor day."""
        rng = self.rng
        plan = [(delivery, rng.randint(3, 40), OdometerSource.DELIVERY, "交车")]
        count = rng.choice([1, 2, 2, 3, 3, 3, 4, 4])
        latest = self.anchor - timedelta(days=rng.randint(0, 100))
        span = (latest - delivery).days - 30
        if count == 1 or span <= 0:
            return plan
        # service visits at least a month apart, the last one shortly before the anchor
        visits = range(0, span - 30, 30)
        offsets = sorted(rng.sample(visits, min(count - 2, len(visits)))) + [span]
        for index, offset in enumerate(offsets):
            days = 30 + offset
            read_on = delivery + timedelta(days=days)
            km = int(km_per_year * days / 365 * rng.uniform(0.9, 1.1))
            km = max(km, plan[-1][1] + 1)
            note = "首保进厂" if index == 0 and days < 365 else rng.choice(SERVICE_NOTES)
            plan.append((read_on, km, OdometerSource.MANUAL, note))
        return plan

    def private_km_per_year(self) -> int:
        if self.rng.random() < 0.08:  # drivers for ride-hailing platforms
            return self.rng.randint(45_000, 70_000)
        return max(5_000, min(35_000, int(self.rng.gauss(15_000, 5_000))))

    def consent(self, since: date) -> dict:
        if self.rng.random() >= 0.6:
            return {"marketing_consent": False}
        since = min(since, self.anchor - timedelta(days=1))
        return {
            "marketing_consent": True,
            "consent_date": since + timedelta(days=self.rng.randint(0, (self.anchor - since).days)),
            "consent_channel": self.rng.choice(CONSENT_CHANNELS),
        }


def _vehicle_add_with_readings(
    builder: _DemoBuilder, *, owner: Customer, by: User, data: dict, km_per_year: int
) -> Vehicle:
    vehicle = vehicle_add(owner=owner, by=by, data=data)
    today = timezone.localdate()
    for read_on, km, source, note in builder.odometer_plan(data["delivery_date"], km_per_year):
        odometer_record(
            vehicle=vehicle, km=km, read_on=min(read_on, today), by=by, source=source, note=note
        )
    return vehicle


def _staff_create(
    builder: _DemoBuilder,
    *,
    branches: dict[str, Branch],
    groups: dict[str, Group],
    stdout: TextIO | None,
) -> dict[str, User]:
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow by design
    users = {}
    for login in DEMO_LOGINS:
        surname, given_name = DEMO_STAFF_NAMES[login.username]
        user, created = User.objects.get_or_create(
            username=login.username,
            defaults={
                "email": f"{login.username}@huanan-auto.example",
                "password": password,
                "first_name": given_name,
                "last_name": surname,
            },
        )
        if not created:
            _say(stdout, f"User {login.username} already exists; its password is unchanged.")
        user.groups.add(groups[login.role])
        staff, _created = Staff.objects.get_or_create(
            user=user, defaults={"phone": builder.mobile()}
        )
        staff.branches.add(*(branches[code] for code in login.branches))
        users[login.username] = user
    _admin, created = User.objects.get_or_create(
        username=DEMO_ADMIN_USERNAME,
        defaults={
            "email": "admin@huanan-auto.example",
            "password": password,
            "is_staff": True,
            "is_superuser": True,
        },
    )
    if not created:
        _say(stdout, f"User {DEMO_ADMIN_USERNAME} already exists; its password is unchanged.")
    return users


def _persons_create(
    builder: _DemoBuilder,
    *,
    branch: Branch,
    city: str,
    plate_prefix: str,
    count: int,
    consultant: User,
    advisor: User | None,
    incomplete: set[int],
) -> None:
    rng, anchor = builder.rng, builder.anchor
    for index in range(count):
        gender = rng.choice([Gender.MALE, Gender.MALE, Gender.MALE, Gender.FEMALE, Gender.FEMALE])
        birthday = (
            anchor - relativedelta(years=rng.randint(23, 66)) - timedelta(days=rng.randint(0, 364))
        )
        district = rng.choice(DISTRICTS[city])
        vehicle_count = rng.choices([0, 1, 2], weights=[10, 75, 15])[0]
        is_prospect = vehicle_count == 0
        data = {
            "kind": CustomerKind.PERSON,
            "name": builder.person_name(gender),
            "gender": gender,
            "birthday": birthday,
            "birthday_is_lunar": rng.random() < 0.15,
            "mobile": builder.mobile(),
            "category": CustomerCategory.INDIVIDUAL,
            "evaluation": rng.choice(EVALUATIONS),
            "source": rng.choice(PERSON_SOURCES),
            "consultant": consultant,
            "advisor": None if is_prospect else advisor,
            **builder.address(city, district),
        }
        if not is_prospect or rng.random() < 0.3:  # prospects rarely give their ID number
            data["id_number"] = builder.resident_id(district.code, birthday, gender)
        if rng.random() < 0.1:
            data["mobile_2"] = builder.mobile()
        if rng.random() < 0.15:
            data["landline"] = builder.landline(city)
        if rng.random() < 0.2:
            data["email"] = builder.unique(
                lambda: f"{rng.randint(10_000_000, 3_999_999_999)}@qq.com"
            )
        if rng.random() < 0.25:
            data["tags"] = sorted(rng.sample(PERSON_TAGS, rng.choice([1, 1, 2])))
        if is_prospect:
            data["tags"] = sorted({*data.get("tags", []), "意向客户"})
        if index in incomplete:  # left for the front desk to fill: the incomplete list
            data["postcode" if index % 2 else "evaluation"] = ""

        models = [MODELS[series] for series in rng.sample(PRIVATE_MODELS, 6)]
        models = list(dict.fromkeys(models))[:vehicle_count]
        vehicles = []
        for model in models:
            vehicle = builder.vehicle_data(model, plate_prefix=plate_prefix, commercial=False)
            vehicles.append(vehicle)
        first_seen = min(
            (v["delivery_date"] for v in vehicles), default=anchor - timedelta(days=90)
        )
        data.update(builder.consent(first_seen))
        customer = customer_create(branch=branch, by=consultant, data=data)
        for vehicle in vehicles:
            _vehicle_add_with_readings(
                builder,
                owner=customer,
                by=consultant,
                data=vehicle,
                km_per_year=builder.private_km_per_year(),
            )


def _organizations_create(
    builder: _DemoBuilder,
    *,
    branch: Branch,
    plate_prefix: str,
    organizations: list[Organization],
    consultant: User,
    advisor: User | None,
    by: User,
) -> None:
    rng = builder.rng
    for organization in organizations:
        city, district = builder.district(organization.district)
        data = {
            "kind": CustomerKind.ORGANIZATION,
            "name": organization.name,
            "credit_code": builder.credit_code(organization.registration, district.code),
            "landline": builder.landline(city),
            "category": organization.category,
            "evaluation": rng.choice(
                [EvaluationCategory.A, EvaluationCategory.A, EvaluationCategory.B]
            ),
            "source": CustomerSource.FLEET,
            "consultant": consultant,
            "advisor": advisor if organization.models else None,
            "tags": ["大客户"],
            **builder.address(city, district),
        }
        commercial = organization.category in COMMERCIAL_CATEGORIES
        # A fleet buys in batches: the vehicles of one account share a few delivery dates.
        vehicles = []
        batch_date = None
        for series in organization.models:
            model = MODELS[series]
            if batch_date is None or rng.random() < 0.4:
                batch_date = builder.delivery_date(model)
            vehicles.append(
                builder.vehicle_data(
                    model,
                    plate_prefix=plate_prefix,
                    commercial=commercial,
                    manual_gearbox=organization.manual_gearbox,
                    delivered_on=batch_date,
                )
            )
        first_seen = min(
            (v["delivery_date"] for v in vehicles), default=builder.anchor - timedelta(days=60)
        )
        data.update(builder.consent(first_seen))
        customer = customer_create(branch=branch, by=by, data=data)
        contact_gender = rng.choice([Gender.MALE, Gender.FEMALE])
        contact_save(
            customer=customer,
            by=by,
            data={
                "name": builder.person_name(contact_gender),
                "role": organization.contact_role,
                "mobile": builder.mobile(),
                "is_primary": True,
            },
        )
        for vehicle in vehicles:
            _vehicle_add_with_readings(
                builder,
                owner=customer,
                by=by,
                data=vehicle,
                km_per_year=rng.randint(*organization.km_per_year),
            )


# The makes each demo branch sells new, with list prices in CNY.
SALES_RANGE = {
    GUANGZHOU: [("帕萨特", "330TSI 精英版", 209_900), ("途观L", "330TSI 两驱智享版", 229_900),
                ("朗逸", "1.5L 自动舒适版", 119_900), ("迈腾", "330TSI 豪华型", 199_900)],
    SHENZHEN: [("凯美瑞", "2.5HQ 双擎豪华版", 179_800), ("汉兰达", "2.5L 双擎四驱至尊版", 269_800),
               ("雷凌", "1.8L 双擎进取版", 119_800)],
}  # fmt: skip


def _sales_create(builder: _DemoBuilder, *, branch: Branch, users: dict[str, User]) -> None:
    in_guangzhou = branch.code == GUANGZHOU
    models = [
        StockModel(
            brand=MODELS[series].brand,
            series=series,
            configuration=configuration,
            list_price=Decimal(price),
            colours=MODELS[series].colours,
            vin=lambda year, series=series: builder.vin(MODELS[series], year),
        )
        for series, configuration, price in SALES_RANGE[branch.code]
    ]
    manager = users["sales_manager" if in_guangzhou else "group_manager"]
    sales_demo_create(
        builder,
        branch=branch,
        models=models,
        consultants=[users["consultant" if in_guangzhou else "consultant2"]],
        manager=manager,
        inspector=users["technician"] if in_guangzhou else manager,
        owners=list(
            Customer.objects.filter(branch=branch, kind=CustomerKind.PERSON).order_by("pk")[:30]
        ),
        lead_count=45 if in_guangzhou else 24,
    )


def _counts(group: DealerGroup) -> dict:
    customers = Customer.objects.filter(branch__group=group)
    usernames = [login.username for login in DEMO_LOGINS] + [DEMO_ADMIN_USERNAME]
    return {
        "branches": group.branches.count(),
        "users": User.objects.filter(username__in=usernames).count(),
        "staff": Staff.objects.filter(branches__group=group).distinct().count(),
        "customers": customers.count(),
        "persons": customers.filter(kind=CustomerKind.PERSON).count(),
        "organizations": customers.filter(kind=CustomerKind.ORGANIZATION).count(),
        "contacts": Contact.objects.filter(customer__in=customers).count(),
        "vehicles": Vehicle.objects.filter(owner__in=customers).count(),
        "odometer_readings": OdometerReading.objects.filter(vehicle__owner__in=customers).count(),
        "timeline_entries": TimelineEntry.objects.filter(customer__in=customers).count(),
        "incomplete_customers": customers.filter(completeness__lt=100).count(),
        "leads": Lead.objects.filter(branch__group=group).count(),
        "stock_vehicles": StockVehicle.objects.filter(branch__group=group).count(),
        "stocked_parts": PartStock.objects.filter(branch__group=group, on_hand__gt=0).count(),
        "stock_moves": StockMove.objects.filter(branch__group=group).count(),
        "appointments": Appointment.objects.filter(branch__group=group).count(),
        "work_orders": WorkOrder.objects.filter(branch__group=group).count(),
        "fleet_accounts": FleetAccount.objects.filter(branch__group=group).count(),
        "fleet_deals": FleetDeal.objects.filter(branch__group=group).count(),
        "vehicle_files": VehicleFile.objects.filter(branch__group=group).count(),
    }


# The days of figures the demo computes at its load (the dashboards read the nightly
# snapshots): the last two weeks to yesterday; `manage.py kpi_backfill` computes more.
DEMO_FIGURE_DAYS = 14


def _figures_backfill(branches: list[Branch], stdout: TextIO | None) -> None:
    from .kpis import kpi_snapshots_backfill

    yesterday = timezone.localdate() - timedelta(days=1)
    start = yesterday - timedelta(days=DEMO_FIGURE_DAYS - 1)
    rows = kpi_snapshots_backfill(start=start, end=yesterday, branches=branches)
    _say(stdout, f"Figures computed for {start} to {yesterday}: {rows} snapshot rows.")


def demo_data_load(*, stdout: TextIO | None = None) -> dict:
    """Load the demo dealer group, its staff and customers; do nothing if it is loaded.

    Returns the counts of what the demo holds, ``created`` (False when it was already
    loaded) and ``seconds`` taken.
    """
    started = time.monotonic()
    existing = DealerGroup.objects.filter(name=DEMO_GROUP_NAME).first()
    if existing is not None:
        _say(
            stdout,
            f"Demo data is already loaded (dealer group {DEMO_GROUP_NAME}); nothing changed.",
        )
        return {
            "created": False,
            **_counts(existing),
            "seconds": round(time.monotonic() - started, 2),
        }

    with transaction.atomic():
        if Group.objects.filter(name__in=Role.values).count() < len(Role.values):
            roles_sync()
        groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
        builder = _DemoBuilder(seed=DEMO_SEED, anchor=DEMO_ANCHOR)

        dealer_group = DealerGroup.objects.create(name=DEMO_GROUP_NAME)
        branches = {}
        for spec in BRANCHES:
            branches[spec["code"]] = Branch.objects.create(
                group=dealer_group,
                code=spec["code"],
                name=spec["name"],
                city=spec["city"],
                address=spec["address"],
                phone=spec["phone"],
            )
        users = _staff_create(builder, branches=branches, groups=groups, stdout=stdout)

        for spec in BRANCHES:
            branch = branches[spec["code"]]
            consultant = users["consultant" if spec["code"] == GUANGZHOU else "consultant2"]
            advisor = users["advisor"] if spec["code"] == GUANGZHOU else None
            fleet_manager = users["fleet_manager"] if spec["code"] == GUANGZHOU else consultant
            organizations = ORGANIZATIONS[spec["code"]]
            person_count = spec["customers"] - len(organizations)
            incomplete = set(builder.rng.sample(range(person_count), 4))
            _persons_create(
                builder,
                branch=branch,
                city=spec["city"],
                plate_prefix=spec["plate_prefix"],
                count=person_count,
                consultant=consultant,
                advisor=advisor,
                incomplete=incomplete,
            )
            _organizations_create(
                builder,
                branch=branch,
                plate_prefix=spec["plate_prefix"],
                organizations=organizations,
                consultant=fleet_manager,
                advisor=advisor,
                by=consultant,
            )
        for spec in BRANCHES:
            _sales_create(builder, branch=branches[spec["code"]], users=users)
        sales_demo_finish()
        parts_demo_create(volkswagen=branches[GUANGZHOU], toyota=branches[SHENZHEN], users=users)
        service_demo_create(volkswagen=branches[GUANGZHOU], toyota=branches[SHENZHEN], users=users)
        fleet_demo_create(
            branch=branches[GUANGZHOU],
            users=users,
            vin=lambda series, model_year: builder.vin(MODELS[series], model_year),
        )
        archives_demo_create(branches=list(branches.values()), users=users)
        care_demo_create(branches=list(branches.values()), users=users)
        counts = _counts(dealer_group)

    _figures_backfill(list(branches.values()), stdout)
    seconds = round(time.monotonic() - started, 2)
    _say(
        stdout,
        (
            f"Demo data loaded in {seconds} s: dealer group {DEMO_GROUP_NAME}, "
            f"{counts['branches']} branches, {counts['users']} users, "
            f"{counts['customers']} customers ({counts['persons']} persons, "
            f"{counts['organizations']} organizations), {counts['contacts']} contacts, "
            f"{counts['vehicles']} vehicles, {counts['odometer_readings']} odometer readings, "
            f"{counts['leads']} sales leads, {counts['stock_vehicles']} stock vehicles, "
            f"{counts['stocked_parts']} parts on the shelves, {counts['stock_moves']} stock moves, "
            f"{counts['appointments']} service appointments, {counts['work_orders']} work orders, "
            f"{counts['fleet_accounts']} fleet accounts, {counts['fleet_deals']} fleet deals, "
            f"{counts['vehicle_files']} vehicle files."
        ),
    )
    return {"created": True, **counts, "seconds": seconds}
