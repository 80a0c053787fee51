"""Plausible, deterministic Chinese names, phone numbers, addresses and credit codes.

Everything takes a seeded `random.Random`, so the demo is the same on every machine.
"""

import random

from qinqing.lib import uscc

# Common surnames, the ones frequent around 常州 (陈, 王, 张, 周, 徐, 吴, 蒋, 钱, 朱, 沈, 顾, 陆…) first.
SURNAMES = ("陈王张周徐吴蒋钱朱沈顾陆李刘杨赵黄孙胡高林何郭马罗梁宋郑谢韩唐冯许邓曹彭曾"
            "吕苏卢丁魏薛叶潘杜戴夏钟汪田任姜范方石姚谭廖邹金邱秦江史侯邵孟汤尹庄盛恽瞿华")
GIVEN_CHARS = ("伟 芳 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 文 辉 建 华 国 峰 斌 红 玲 "
               "宇 浩 凯 健 俊 帆 鑫 婷 雪 琳 晨 欣 佳 睿 晓 志 立 海 波 卫 东 燕 荣 亮 成 春 新 德 永 林 "
               "宏 忠 兵 云 嘉 思 博 诚 毅 彬 璐 倩 蕾 鹏 飞 源 清 振 宁 怡 昊 然").split()

FIRM_CHARS = ("恒 瑞 鑫 华 锐 达 隆 泰 盛 源 丰 嘉 宏 远 明 新 天 海 博 润 诚 信 联 创 科 力 辉 腾 龙 凯 "
              "捷 奥 佳 正 和 兴 荣 昌 顺 德 中 金 宝 东 永 利 安 康 福 益 伟 峰 通 晨 耀 威 卓 越 鼎 盈 "
              "豪 驰 帆 合 众 亿 汇 聚 协 美 星 光 彩 云 雅 弘 舜 禾 苏 常 武 湖 江 阳 湾 鸿 旭 铭 睿").split()
# The place part of a registered name: 常州市…, 江苏…, 常州武进…
NAME_PLACES = (("常州市", 6), ("常州", 3), ("江苏", 3), ("常州市武进", 1), ("武进", 1))

ROADS = ("长虹路 常武路 人民路 花园街 延政路 滆湖路 武宜路 湖塘路 淹城路 龙锦路 聚湖路 阳湖路 凤林路 "
         "塘洋路 锦绣路 兰陵路 南夏墅路 湖滨路 武南路 新康路 青洋路 花园路 府南路 海湖路").split()
MOBILE_PREFIXES = ("130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 "
                   "173 177 180 181 182 183 185 186 187 188 189 191 199").split()


def person(rng: random.Random) -> str:
    surname = rng.choice(SURNAMES)
    if rng.random() < 0.3:
        return surname + rng.choice(GIVEN_CHARS)
    first, second = rng.sample(GIVEN_CHARS, 2)
    return surname + first + second


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def office_phone(rng: random.Random) -> str:
    # 常州 landlines: 0519-8xxxxxxx
    return f"0519-8{rng.randrange(10**7):07d}"


def firm_name(rng: random.Random, word: str, large: bool = False) -> str:
    """地名 + 字号 + 行业词 + 有限公司, e.g. 常州市恒锐精密机械有限公司; some large firms are 股份有限公司."""
    places, weights = zip(*NAME_PLACES, strict=True)
    place = rng.choices(places, weights)[0]
    brand = "".join(rng.sample(FIRM_CHARS, 2))
    suffix = "股份有限公司" if large and rng.random() < 0.5 else "有限公司"
    return f"{place}{brand}{word}{suffix}"


def address(rng: random.Random, district: str, town: str) -> str:
    return f"常州市{district}{town}{rng.choice(ROADS)}{rng.randint(1, 399)}号"


# GB 11714 organisation code: 8 body characters and a check character (weights below, mod 11).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY = [ch for ch in uscc.ALPHABET]  # stay inside the credit-code alphabet (no I, O, Z, S, V)


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def organisation_code(rng: random.Random) -> str:
    body = "".join(rng.choice(_ORG_BODY[:10]) if i < 2 else rng.choice(_ORG_BODY) for i in range(8))
    check = 11 - sum(_org_value(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, division: str) -> str:
    """A valid unified social credit code of an enterprise (9 = 工商, 1 = 企业) registered in `division`."""
    return uscc.make_code(f"91{division}{organisation_code(rng)}")
