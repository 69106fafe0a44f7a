"""Mainland regions and cities with English and Traditional Chinese names.

``Project.region`` holds the English province name (``"Guangdong"``). The web
app uses these tables for project forms and filters; ``gba`` marks the nine
Guangdong cities of the Greater Bay Area.
"""

from __future__ import annotations

from typing import NamedTuple


class Region(NamedTuple):
    code: str
    name_en: str
    name_zh: str


class City(NamedTuple):
    name_en: str
    name_zh: str
    region: str  # Region.name_en
    gba: bool


REGIONS: tuple[Region, ...] = (
    Region("BJ", "Beijing", "北京"),
    Region("TJ", "Tianjin", "天津"),
    Region("HE", "Hebei", "河北"),
    Region("SX", "Shanxi", "山西"),
    Region("NM", "Inner Mongolia", "內蒙古"),
    Region("LN", "Liaoning", "遼寧"),
    Region("JL", "Jilin", "吉林"),
    Region("HL", "Heilongjiang", "黑龍江"),
    Region("SH", "Shanghai", "上海"),
    Region("JS", "Jiangsu", "江蘇"),
    Region("ZJ", "Zhejiang", "浙江"),
    Region("AH", "Anhui", "安徽"),
    Region("FJ", "Fujian", "福建"),
    Region("JX", "Jiangxi", "江西"),
    Region("SD", "Shandong", "山東"),
    Region("HA", "Henan", "河南"),
    Region("HB", "Hubei", "湖北"),
    Region("HN", "Hunan", "湖南"),
    Region("GD", "Guangdong", "廣東"),
    Region("GX", "Guangxi", "廣西"),
    Region("HI", "Hainan", "海南"),
    Region("CQ", "Chongqing", "重慶"),
    Region("SC", "Sichuan", "四川"),
    Region("GZ", "Guizhou", "貴州"),
    Region("YN", "Yunnan", "雲南"),
    Region("XZ", "Tibet", "西藏"),
    Region("SN", "Shaanxi", "陝西"),
    Region("GS", "Gansu", "甘肅"),
    Region("QH", "Qinghai", "青海"),
    Region("NX", "Ningxia", "寧夏"),
    Region("XJ", "Xinjiang", "新疆"),
)

_GBA = True
CITIES: tuple[City, ...] = (
    # The nine Guangdong cities of the Greater Bay Area.
    City("Guangzhou", "廣州", "Guangdong", _GBA),
    City("Shenzhen", "深圳", "Guangdong", _GBA),
    City("Zhuhai", "珠海", "Guangdong", _GBA),
    City("Foshan", "佛山", "Guangdong", _GBA),
    City("Huizhou", "惠州", "Guangdong", _GBA),
    City("Dongguan", "東莞", "Guangdong", _GBA),
    City("Zhongshan", "中山", "Guangdong", _GBA),
    City("Jiangmen", "江門", "Guangdong", _GBA),
    City("Zhaoqing", "肇慶", "Guangdong", _GBA),
    City("Shantou", "汕頭", "Guangdong", False),
    City("Beijing", "北京", "Beijing", False),
    City("Tianjin", "天津", "Tianjin", False),
    City("Shijiazhuang", "石家莊", "Hebei", False),
    City("Taiyuan", "太原", "Shanxi", False),
    City("Hohhot", "呼和浩特", "Inner Mongolia", False),
    City("Shenyang", "瀋陽", "Liaoning", False),
    City("Dalian", "大連", "Liaoning", False),
    City("Changchun", "長春", "Jilin", False),
    City("Harbin", "哈爾濱", "Heilongjiang", False),
    City("Shanghai", "上海", "Shanghai", False),
    City("Nanjing", "南京", "Jiangsu", False),
    City("Suzhou", "蘇州", "Jiangsu", False),
    City("Hangzhou", "杭州", "Zhejiang", False),
    City("Ningbo", "寧波", "Zhejiang", False),
    City("Hefei", "合肥", "Anhui", False),
    City("Fuzhou", "福州", "Fujian", False),
    City("Xiamen", "廈門", "Fujian", False),
    City("Nanchang", "南昌", "Jiangxi", False),
    City("Jinan", "濟南", "Shandong", False),
    City("Qingdao", "青島", "Shandong", False),
    City("Zhengzhou", "鄭州", "Henan", False),
    City("Wuhan", "武漢", "Hubei", False),
    City("Changsha", "長沙", "Hunan", False),
    City("Nanning", "南寧", "Guangxi", False),
    City("Guilin", "桂林", "Guangxi", False),
    City("Haikou", "海口", "Hainan", False),
    City("Chongqing", "重慶", "Chongqing", False),
    City("Chengdu", "成都", "Sichuan", False),
    City("Guiyang", "貴陽", "Guizhou", False),
    City("Kunming", "昆明", "Yunnan", False),
    City("Lhasa", "拉薩", "Tibet", False),
    City("Xi'an", "西安", "Shaanxi", False),
    City("Lanzhou", "蘭州", "Gansu", False),
    City("Xining", "西寧", "Qinghai", False),
    City("Yinchuan", "銀川", "Ningxia", False),
    City("Urumqi", "烏魯木齊", "Xinjiang", False),
)

REGION_BY_NAME: dict[str, Region] = {r.name_en: r for r in REGIONS}
CITY_BY_NAME: dict[str, City] = {c.name_en: c for c in CITIES}
GBA_CITIES: tuple[City, ...] = tuple(c for c in CITIES if c.gba)


def cities_in(region: str) -> tuple[City, ...]:
    return tuple(c for c in CITIES if c.region == region)
