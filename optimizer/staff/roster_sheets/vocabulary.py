"""Which sheets a roster has, their columns, headers in Chinese and English, accepted values.

This is the one place the header vocabulary lives: the reader matches headers against it, the
template and its notes sheet are written from it. Headers are compared after
:func:`normalise_header` (full-width to half-width, case, spaces, ``_``/``-``, a trailing ``*``
and anything in brackets ignored), so ``姓名*``, ``手机（必填）`` and ``Phone Number`` all match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from optimizer.errors import InputError


@dataclass(frozen=True)
class Column:
    """One column of a roster sheet.

    Attributes
    ----------
    key
        Internal name, e.g. ``"phone"``.
    en, zh
        Header written by the template in English and in Chinese (both always accepted).
    aliases
        Other accepted headers, any language.
    required
        A row without a value here is rejected.
    note_en, note_zh
        What goes in the column and what is accepted (the template's notes sheet).
    example_en, example_zh
        The template's example value.
    choices_en, choices_zh
        Values offered by the template's drop-down list (other spellings may still be accepted).
    """

    key: str
    en: str
    zh: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    note_en: str = ""
    note_zh: str = ""
    example_en: str = ""
    example_zh: str = ""
    choices_en: tuple[str, ...] = ()
    choices_zh: tuple[str, ...] = ()

    def header(self, lang: str) -> str:
        """The header in ``lang`` (``zh`` or ``en``)."""
        return self.zh if lang == "zh" else self.en

    def names(self) -> tuple[str, ...]:
        """Every accepted header, normalised."""
        return tuple(normalise_header(n) for n in (self.key, self.en, self.zh, *self.aliases))


@dataclass(frozen=True)
class SheetKind:
    """One kind of roster sheet (officers, volunteers, posts ...)."""

    key: str
    en: str
    zh: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]
    note_en: str = ""
    note_zh: str = ""
    one_of: tuple[tuple[str, ...], ...] = ()
    """Groups of column keys of which at least one must be present (e.g. lon+lat or location)."""

    def title(self, lang: str) -> str:
        """The sheet title in ``lang``."""
        return self.zh if lang == "zh" else self.en

    def names(self) -> tuple[str, ...]:
        """Every accepted sheet / file name, normalised."""
        return tuple(normalise_header(n) for n in (self.key, self.en, self.zh, *self.aliases))

    def column(self, key: str) -> Column:
        """The column ``key``."""
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)


_BRACKETS = re.compile(r"[(\[{<].*?[)\]}>]")
_DROP = re.compile(r"[\s_\-./:*?：]+")


def normalise_header(text: object) -> str:
    """Normalise a header or sheet name for matching (see the module docstring)."""
    s = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    s = _BRACKETS.sub("", s)
    return _DROP.sub("", s)


LANGS: tuple[str, ...] = ("zh", "en")


def check_lang(lang: str) -> str:
    """Validate a template language."""
    if lang not in LANGS:
        raise InputError("lang", lang, f"one of {list(LANGS)}")
    return lang


# -- accepted values ---------------------------------------------------------------------------

AVAILABILITY_ACCEPTED = (
    "times 'HH:MM-HH:MM', several separated by ',', optionally after days, several parts "
    "separated by ';': '07:00-11:00', '周一至周五 07:00-11:00', 'Mon-Fri 07:00-11:00; "
    "Sat 09:00-12:00', '工作日 07:00-11:00,14:00-18:00', '周末 19:00-23:00'"
)
DAYS_ACCEPTED = (
    "days such as '周一至周五', '周一、周三', '工作日', '周末', '每天', 'Mon-Fri', 'Mon,Wed', "
    "'weekdays', 'weekends', 'daily'"
)

MODE_VALUES: dict[str, tuple[str, ...]] = {
    "foot": ("foot", "walk", "walking", "on foot", "步行", "徒步", "步巡"),
    "bicycle": (
        "bicycle",
        "bike",
        "cycle",
        "e-bike",
        "ebike",
        "自行车",
        "单车",
        "电动车",
        "电瓶车",
        "电动自行车",
    ),
    "car": ("car", "drive", "vehicle", "motorcycle", "汽车", "警车", "巡逻车", "车巡", "摩托车"),
}
"""Travel modes and the words accepted for each (e-bikes count as bicycles, motorcycles as cars)."""

TEAM_KIND_VALUES: dict[str, tuple[str, ...]] = {
    "security guards": ("security guards", "security guard", "security", "保安", "保安队"),
    "grid workers": ("grid workers", "grid worker", "网格员", "网格员队", "网格"),
    "parking attendants": (
        "parking attendants",
        "parking attendant",
        "parking",
        "停车管理员",
        "停车管理员队",
        "停车",
    ),
    "school guards": ("school guards", "school guard", "护学岗", "护学岗队", "护校队", "护学"),
    "hospital guards": ("hospital guards", "hospital guard", "医院保安", "医院保安队", "医院"),
}
"""Volunteer team kinds; other text is kept as written."""

POST_PURPOSE_VALUES: dict[str, tuple[str, ...]] = {
    "school gate": ("school gate", "school", "校门", "学校", "护学岗", "学校门口"),
    "hospital hall": ("hospital hall", "hospital", "医院", "门诊", "医院大厅"),
}
"""Post purposes; other text is kept as written."""

MUSTER_KIND_VALUES: dict[str, tuple[str, ...]] = {
    "police post": ("police post", "警务室", "警务站", "警务点"),
    "community office": ("community office", "社区办公室", "居委会", "社区居委会", "社区"),
    "team base": ("team base", "队伍驻点", "驻点", "队部"),
    "muster point": ("muster point", "集合点", "集结点"),
}
"""Muster point kinds; other text is kept as written."""

CRS_VALUES: dict[str, tuple[str, ...]] = {
    "wgs84": ("wgs84", "wgs-84", "gps", "epsg:4326", "4326", "osm", "天地图", "北斗"),
    "gcj02": ("gcj02", "gcj-02", "国测局", "火星", "火星坐标", "高德", "腾讯", "amap", "gaode"),
    "bd09": ("bd09", "bd-09", "百度", "baidu", "bd09ll"),
}
"""Coordinate systems and the names accepted for each (converted with ``optimizer.coords``)."""

ZH_CHOICES: dict[str, tuple[str, ...]] = {
    "mode": ("步行", "自行车", "汽车"),
    "crs": ("wgs84", "gcj02", "bd09"),
    "team_kind": ("保安", "网格员", "停车管理员", "护学岗", "医院保安"),
    "purpose": ("校门", "医院"),
    "muster_kind": ("警务室", "社区办公室", "队伍驻点", "集合点"),
}
EN_CHOICES: dict[str, tuple[str, ...]] = {
    "mode": tuple(MODE_VALUES),
    "crs": tuple(CRS_VALUES),
    "team_kind": tuple(TEAM_KIND_VALUES),
    "purpose": tuple(POST_PURPOSE_VALUES),
    "muster_kind": tuple(MUSTER_KIND_VALUES),
}

EXAMPLE_PREFIXES: tuple[str, ...] = ("示例", "example", "e.g.")
"""A row whose first cell starts with one of these is a template example and is not imported."""

# -- columns shared by several sheets ------------------------------------------------------------


def _id(aliases: tuple[str, ...], example: str) -> Column:
    return Column(
        "id",
        "id",
        "编号",
        ("代码", "code", *aliases),
        True,
        "Unique id (letters, digits); other sheets refer to it.",
        "唯一编号（字母、数字），其他表按编号引用。",
        f"example-{example}",
        f"示例-{example}",
    )


_NAME = Column(
    "name",
    "name",
    "名称",
    ("名字", "全称"),
    False,
    "Name shown on plans (default: the id).",
    "计划上显示的名称（空则用编号）。",
    "Central police station",
    "中心派出所",
)
_PERSON_NAME = Column(
    "name",
    "name",
    "姓名",
    ("名字", "full name"),
    True,
    "Full name.",
    "姓名。",
    "Li Wei",
    "李伟",
)
_PHONE = Column(
    "phone",
    "phone",
    "手机",
    ("手机号", "手机号码", "电话", "联系电话", "联系方式", "mobile", "tel", "telephone"),
    False,
    "Mobile or landline number (personal data: shown to admins and planners only). "
    "Format the column as text.",
    "手机或座机号码（个人信息，仅管理员和计划员可见）。请把该列设为文本格式。",
    "13800138000",
    "13800138000",
)
_LON = Column(
    "lon",
    "lon",
    "经度",
    ("longitude", "lng", "x"),
    False,
    "Longitude in degrees (with lat, or use location).",
    "经度（度），与纬度一起填写，或填写“坐标”列。",
    "114.2063",
    "114.2063",
)
_LAT = Column(
    "lat",
    "lat",
    "纬度",
    ("latitude", "y"),
    False,
    "Latitude in degrees.",
    "纬度（度）。",
    "22.6885",
    "22.6885",
)
_LOCATION = Column(
    "location",
    "location",
    "坐标",
    ("经纬度", "coordinates", "lonlat", "lon,lat"),
    False,
    "'lon,lat' in one cell, instead of lon and lat.",
    "“经度,纬度”写在一格里，可代替经度、纬度两列。",
    "",
    "",
)
_CRS = Column(
    "crs",
    "crs",
    "坐标系",
    ("坐标系统", "coordinate system", "datum"),
    False,
    "wgs84 (GPS, OpenStreetMap), gcj02 (Amap/Gaode, Tencent) or bd09 (Baidu); default: the "
    "import's --crs option (wgs84).",
    "wgs84（GPS、OpenStreetMap）、gcj02（高德、腾讯）或 bd09（百度）；"
    "空则用导入时的 --crs（默认 wgs84）。",
    "wgs84",
    "wgs84",
    EN_CHOICES["crs"],
    ZH_CHOICES["crs"],
)


def _grid(required: bool, note_en: str, note_zh: str, aliases: tuple[str, ...] = ()) -> Column:
    return Column(
        "grid",
        "grid",
        "网格",
        ("网格编号", "网格名称", "grid id", "grid name", "cell", *aliases),
        required,
        note_en + " By grid id or grid name.",
        note_zh + "填网格编号或网格名称。",
        "G1-01-01",
        "G1-01-01",
    )


def _station(required: bool, note_en: str, note_zh: str) -> Column:
    return Column(
        "station",
        "station",
        "派出所",
        ("站点", "派出所/站点", "所属派出所", "所属单位", "单位", "station id", "base station"),
        required,
        note_en + " By station id or name.",
        note_zh + "填派出所编号或名称。",
        "example-S1",
        "示例-S1",
    )


def _availability(key: str, en: str, zh: str, aliases: tuple[str, ...], required: bool) -> Column:
    return Column(
        key,
        en,
        zh,
        aliases,
        required,
        "When the person can patrol (a plan window must lie wholly inside): "
        + AVAILABILITY_ACCEPTED,
        "可巡逻时段（计划时段须完全落在其中）：如 07:00-11:00；周一至周五 07:00-11:00；"
        "Mon-Fri 07:00-11:00;Sat 09:00-12:00。多个时段用逗号，多段日期用分号分隔。",
        "Mon-Fri 06:30-14:30",
        "周一至周五 06:30-14:30",
    )


# -- the sheets -----------------------------------------------------------------------------------

STATIONS = SheetKind(
    "stations",
    "stations",
    "派出所",
    ("station", "站点", "派出所站点", "警务站", "police stations"),
    (
        _id(("站点编号", "派出所编号", "station id"), "S1"),
        _NAME,
        _LON,
        _LAT,
        _LOCATION,
        _CRS,
    ),
    "Police stations and team bases where officers start.",
    "派出所、警务站等民警出发的地点。",
    (("lon", "location"),),
)

MUSTER_POINTS = SheetKind(
    "muster_points",
    "muster points",
    "集合点",
    ("muster", "集结点", "集合地点", "警务室"),
    (
        _id(("集合点编号",), "M1"),
        Column(
            "name",
            "name",
            "名称",
            ("名字",),
            False,
            "Name.",
            "名称。",
            "Heping police post",
            "和平警务室",
        ),
        Column(
            "kind",
            "kind",
            "类型",
            ("类别", "type"),
            False,
            "police post, community office, team base or muster point.",
            "警务室、社区办公室、队伍驻点或集合点。",
            "police post",
            "警务室",
            EN_CHOICES["muster_kind"],
            ZH_CHOICES["muster_kind"],
        ),
        _LON,
        _LAT,
        _LOCATION,
        _CRS,
        _grid(
            False,
            "The cell it serves (default: the cell it lies in).",
            "服务的网格（空则按位置）。",
        ),
    ),
    "Where patrol groups meet, start and end.",
    "巡逻组集合、出发和结束的地点。",
    (("lon", "location"),),
)

OFFICERS = SheetKind(
    "officers",
    "officers",
    "民警",
    ("officer", "police", "警员", "警力", "民警名单", "民警信息"),
    (
        _id(("警号", "工号", "officer id", "police number"), "O001"),
        _PERSON_NAME,
        _PHONE,
        _station(True, "The officer's station.", "所属派出所。"),
        _availability(
            "shift",
            "shift",
            "班次",
            ("可用时段", "值班时间", "上班时间", "availability", "shifts", "时段", "排班"),
            False,
        ),
        Column(
            "mode",
            "mode",
            "交通方式",
            ("出行方式", "巡逻方式", "巡逻工具", "travel mode", "transport"),
            False,
            "foot, bicycle (also e-bike) or car (also motorcycle); default foot.",
            "步行、自行车（含电动车）或汽车（含摩托车）；空则步行。",
            "foot",
            "步行",
            EN_CHOICES["mode"],
            ZH_CHOICES["mode"],
        ),
    ),
    "Police officers; every patrol group is led by one.",
    "民警；每个巡逻组至少有一名民警带队。",
)

TEAMS = SheetKind(
    "teams",
    "teams",
    "队伍",
    ("team", "义警队伍", "志愿者队伍", "队伍信息"),
    (
        _id(("队伍编号", "team id"), "T01"),
        Column(
            "name",
            "name",
            "队伍名称",
            ("名称", "队名", "team name"),
            False,
            "Team name.",
            "队伍名称。",
            "Heping security guards",
            "和平保安队",
        ),
        Column(
            "kind",
            "kind",
            "类型",
            ("队伍类型", "类别", "team kind", "type"),
            False,
            "security guards, grid workers, parking attendants, school guards, hospital guards "
            "(other text is kept as written).",
            "保安、网格员、停车管理员、护学岗、医院保安（其他文字按原样保留）。",
            "security guards",
            "保安",
            EN_CHOICES["team_kind"],
            ZH_CHOICES["team_kind"],
        ),
        _grid(
            True, "The team's home cell.", "队伍所在网格。", ("驻地网格", "所属网格", "home grid")
        ),
        _station(
            False,
            "The station the team reports to (default: the nearest to its home cell).",
            "所属派出所（空则取离所在网格最近的）。",
        ),
    ),
    "Volunteer teams (义警).",
    "义警队伍。",
)

VOLUNTEERS = SheetKind(
    "volunteers",
    "volunteers",
    "队员",
    ("volunteer", "members", "member", "义警", "志愿者", "成员", "队员名单", "义警名单"),
    (
        _id(("队员编号", "义警编号", "volunteer id", "member id"), "V0001"),
        _PERSON_NAME,
        _PHONE,
        Column(
            "id_number",
            "id number",
            "身份证号",
            ("身份证", "身份证号码", "证件号码", "证件号", "id card", "idnumber"),
            False,
            "ID card number (personal data). 18 characters are checked (check digit). Format the "
            "column as text: Excel rounds long numbers.",
            "身份证号（个人信息），18 位会校验末位。"
            "请把该列设为文本格式，否则 Excel 会把长数字四舍五入。",
            "",
            "",
        ),
        Column(
            "team",
            "team",
            "队伍",
            ("所属队伍", "队伍编号", "队伍名称", "team id", "team name"),
            True,
            "The team, by id or name (from the teams sheet).",
            "所属队伍，填队伍编号或名称（见队伍表）。",
            "example-T01",
            "示例-T01",
        ),
        Column(
            "role",
            "role",
            "角色",
            ("职务", "身份"),
            False,
            "Role (default: the team's kind).",
            "角色（空则用队伍类型）。",
            "",
            "",
        ),
        _grid(
            False,
            "Home cell (default: the team's); volunteers join groups near home.",
            "居住或工作网格（空则用队伍的网格）；就近编组。",
            ("居住网格", "所属网格", "住址网格", "home grid"),
        ),
        _availability(
            "availability",
            "availability",
            "可用时段",
            ("时段", "可巡逻时段", "可参加时段", "available", "shift", "班次"),
            False,
        ),
        Column(
            "max_hours",
            "max hours per week",
            "每周时长上限",
            ("每周上限", "每周最多小时", "周时长", "max hours", "hours per week"),
            False,
            "Most hours of patrol a week (0-168; default 12).",
            "每周最多巡逻小时数（0-168，默认 12）。",
            "12",
            "12",
        ),
    ),
    "Members of the volunteer teams.",
    "义警队员。",
)

AVAILABILITY = SheetKind(
    "availability",
    "availability",
    "可用时段",
    ("schedule", "排班", "排班表", "时段表", "值班表"),
    (
        Column(
            "person",
            "person id",
            "人员编号",
            ("编号", "警号", "队员编号", "person", "id"),
            True,
            "An officer's or volunteer's id.",
            "民警或队员的编号。",
            "example-O001",
            "示例-O001",
        ),
        _availability("availability", "availability", "可用时段", ("时段", "班次", "shift"), True),
    ),
    "More availability for people in the officers or volunteers sheet (added to theirs).",
    "补充民警或队员的可用时段（与其本人表中的时段合并）。",
)

POSTS = SheetKind(
    "posts",
    "posts",
    "岗位",
    ("post", "fixed posts", "固定岗", "岗点", "护学岗位", "固定岗位"),
    (
        _id(("岗位编号", "post id"), "P01"),
        Column(
            "name",
            "name",
            "名称",
            ("岗位名称", "地点", "post name"),
            False,
            "Name shown on plans.",
            "计划上显示的名称。",
            "Heping primary school gate",
            "和平小学校门",
        ),
        Column(
            "purpose",
            "purpose",
            "类型",
            ("岗位类型", "用途", "kind", "type"),
            False,
            "school gate, hospital hall (other text kept as written).",
            "校门、医院（其他文字按原样保留）。",
            "school gate",
            "校门",
            EN_CHOICES["purpose"],
            ZH_CHOICES["purpose"],
        ),
        _LON,
        _LAT,
        _LOCATION,
        _CRS,
        _grid(
            False,
            "The cell (default: the finest cell the post lies in).",
            "所在网格（空则按位置）。",
        ),
        Column(
            "windows",
            "windows",
            "时段",
            ("上岗时段", "值守时段", "上岗时间", "time", "times"),
            True,
            "Duty times, optionally after days (one set of days per post): "
            "'07:20-08:00,16:30-17:30', '周一至周五 07:20-08:00,16:30-17:30'.",
            "上岗时段，可在前面写日期（每个岗位一组日期）：07:20-08:00,16:30-17:30；"
            "周一至周五 07:20-08:00,16:30-17:30。",
            "Mon-Fri 07:20-08:00,16:30-17:30",
            "周一至周五 07:20-08:00,16:30-17:30",
        ),
        Column(
            "days",
            "days",
            "日期",
            ("星期", "工作日", "weekdays"),
            False,
            "Days of duty when not written with the times (default Monday to Friday): "
            + DAYS_ACCEPTED,
            "上岗日期（时段中未写时；默认周一至周五）：周一至周五、工作日、每天、Mon-Fri 等。",
            "",
            "",
        ),
        Column(
            "dwell",
            "dwell min",
            "停留分钟",
            ("停留时长", "值守分钟", "dwell", "minutes"),
            False,
            "Minutes a group stays (1-1440; default 30).",
            "巡逻组停留分钟数（1-1440，默认 30）。",
            "40",
            "40",
        ),
    ),
    "Fixed duty posts that must be staffed in their times (school gates, hospital halls).",
    "须在规定时段值守的固定岗位（校门、医院等）。",
    (("lon", "location"),),
)

SHEET_KINDS: tuple[SheetKind, ...] = (
    STATIONS,
    MUSTER_POINTS,
    OFFICERS,
    TEAMS,
    VOLUNTEERS,
    AVAILABILITY,
    POSTS,
)
"""Every kind of roster sheet, in the order they are read and written."""

NOTES_SHEET_NAMES: tuple[str, ...] = tuple(
    normalise_header(n) for n in ("notes", "说明", "填写说明", "readme", "help", "帮助")
)
"""Sheets with these names are documentation and are skipped."""


def kind_named(name: str) -> SheetKind | None:
    """The sheet kind a sheet or file name stands for (exact, then contained), or ``None``."""
    key = normalise_header(name)
    for kind in SHEET_KINDS:
        if key in kind.names():
            return kind
    found = [k for k in SHEET_KINDS if any(n and n in key for n in k.names())]
    if found:
        # The longest matching name wins ("义警名单" holds "义警", a volunteers name).
        return max(found, key=lambda k: max(len(n) for n in k.names() if n and n in key))
    return None
