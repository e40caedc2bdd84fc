/* Labels of the dispatcher's page in English and Chinese. window.I18N.t(key, values). */
(function () {
  "use strict";
  var LABELS = {
    en: {
      "app.title": "Patrol plan", "app.licences": "Map: Leaflet 1.9.4 (BSD-2-Clause), streets © OpenStreetMap contributors (ODbL).",
      "signin.title": "Sign in", "signin.help": "Paste your API key (it is kept in this browser tab only).",
      "signin.go": "Sign in", "signin.bad": "The key was refused: {msg}",
      "top.district": "District", "top.date": "Date", "top.plan": "Plan", "top.window": "Window",
      "top.level1": "Area", "top.level2": "Cell", "top.new": "New plan", "top.signout": "Sign out",
      "top.all": "all", "top.noplan": "no plan for this day", "top.import": "Import district",
      "imp.title": "Import a district", "imp.name": "Name (letters, digits, - and _)",
      "imp.osm": "OpenStreetMap file (.osm, .osm.bz2, .osm.pbf)", "imp.grids": "The bureau's grids (GeoJSON), or leave empty",
      "imp.crs": "Coordinates of the grids", "imp.auto": "Or automatic grids: cells per level", "imp.tz": "Time zone",
      "imp.synthetic": "Synthetic incidents (to try plans before real data)", "imp.go": "Import",
      "tab.groups": "Groups", "tab.left": "Left out", "tab.summary": "Summary", "tab.staffing": "Staff",
      "tab.adjust": "Adjust", "tab.history": "History", "tab.compare": "Compare",
      "tab.stats": "Statistics", "stats.month": "Month", "stats.by": "By", "stats.district": "District",
      "stats.team": "Team", "stats.cell": "Cell", "stats.show": "Show", "stats.none": "No figures for this month.",
      "stats.pdf": "Monthly report (PDF)", "stats.xlsx": "Monthly report (XLSX)",
      "new.title": "Request a new plan", "new.windows": "Windows", "new.level": "Grid level planned",
      "new.budget": "Search budget per cell (s)", "new.seed": "Seed", "new.go": "Plan",
      "common.cancel": "Cancel", "common.close": "Close",
      "print.title": "Print preview", "print.print": "Print", "print.pdf": "Download PDF",
      "group.leader": "Leader", "group.members": "Members", "group.mode": "Mode", "group.km": "km",
      "group.visits": "stops", "group.value": "value", "group.lock": "Lock route", "group.unlock": "Unlock",
      "group.off": "Unavailable", "group.on": "Available", "group.print": "Print sheet", "group.printcells": "Print cells and their groups", "group.zoom": "Zoom",
      "group.stops": "Stops", "group.pin": "Pin", "group.move": "move to…", "group.locked": "locked",
      "group.unavailable": "unavailable", "group.pinned": "pinned", "group.officer": "officer",
      "group.volunteer": "volunteer", "group.phone": "phone", "group.none": "No group in this view.",
      "mode.foot": "on foot", "mode.car": "car", "mode.bike": "bicycle", "mode.bicycle": "bicycle",
      "stop.arr": "arrive", "stop.dep": "leave", "stop.dwell": "on duty", "stop.wait": "wait", "min": "min",
      "left.none": "Every hotspot and post in this view is in a route.", "left.site": "Site",
      "left.kind": "Kind", "left.cell": "Cell", "left.reason": "Reason", "left.hotspot": "hotspot", "left.post": "post",
      "sum.cell": "Cell", "sum.groups": "Groups", "sum.visits": "Visits", "sum.coverage": "Coverage",
      "sum.posts": "Posts", "sum.km": "km", "sum.left": "Left out", "sum.district": "District",
      "metrics.tz": "times in {tz}", "metrics.notz": "times in the district's local time (time zone not recorded in the plan)",
      "staff.counts": "On shift and used", "staff.unused": "Not in any group", "staff.person": "Person",
      "staff.role": "Role", "staff.reason": "Reason", "staff.unstaffed": "Posts without a group",
      "staff.uncovered": "Cells with demand but no group",
      "count.officers_on_shift": "Officers on shift", "count.officers_in_groups": "Officers in groups",
      "count.officers_unused": "Officers unused", "count.volunteers_eligible": "Volunteers available",
      "count.volunteers_in_groups": "Volunteers in groups", "count.groups": "Groups",
      "count.police_only_groups": "Police-only groups", "count.cells_with_demand": "Cells with demand",
      "count.cells_with_groups": "Cells with groups", "count.post_duties": "Post duties",
      "count.idle_groups": "Groups with no stop",
      "adj.help": "Decide, then re-solve: locked routes stay as they are, the rest of the window is routed around your decisions. Click a hotspot on the map to drop it; use “Add hotspot” and click the map to add one.",
      "adj.pending": "Decisions", "adj.none": "No decision yet.", "adj.resolve": "Re-solve the window",
      "adj.clear": "Clear", "adj.add": "Add hotspot", "adj.addclick": "Click the map where the hotspot is…",
      "adj.lock": "lock {g}", "adj.off": "{g} unavailable", "adj.drop": "drop {h}", "adj.addat": "add hotspot at {p}",
      "adj.pin": "{g}: start at {s} at {t}", "adj.move": "move {p} to {g}", "adj.note": "Note (audited)",
      "adj.changed": "What changed", "adj.group": "Group", "adj.status": "Status", "adj.stops": "Stops changed",
      "adj.before": "Value before", "adj.after": "Value after", "adj.dropbtn": "Drop this hotspot",
      "adj.planner": "Only planners and admins may adjust plans.",
      "status.locked": "locked", "status.pinned": "pinned", "status.resolved": "re-solved",
      "status.unavailable": "unavailable", "status.idle": "no stop",
      "hist.version": "Version", "hist.who": "Who", "hist.when": "When", "hist.what": "What",
      "hist.open": "open", "hist.current": "shown", "hist.first": "first plan",
      "cmp.with": "Compare with", "cmp.window": "Window", "cmp.value": "Value", "cmp.coverage": "Coverage",
      "cmp.groups": "Groups", "cmp.km": "km", "cmp.overlap": "Route overlap", "cmp.go": "Compare",
      "cmp.this": "this", "cmp.other": "other",
      "job.queued": "queued", "job.running": "running", "job.done": "done", "job.failed": "failed: {msg}",
      "map.heat": "hotspot heat (value)", "map.left": "left out", "map.post": "post",
      "tl.travel": "travel", "tl.wait": "wait / area patrol", "tl.dwell": "hotspot", "tl.post": "post",
      "metrics.line": "{groups} groups · {visits} visits · coverage {coverage} · {km} km · {left} left out",
      "near": "near {x}"
    },
    zh: {
      "app.title": "巡逻方案", "app.licences": "地图：Leaflet 1.9.4（BSD-2-Clause），街道 © OpenStreetMap 贡献者（ODbL）。",
      "signin.title": "登录", "signin.help": "请粘贴 API 密钥（仅保存在本浏览器标签页中）。",
      "signin.go": "登录", "signin.bad": "密钥被拒绝：{msg}",
      "top.district": "辖区", "top.date": "日期", "top.plan": "方案", "top.window": "时段",
      "top.level1": "片区", "top.level2": "网格", "top.new": "新建方案", "top.signout": "退出",
      "top.all": "全部", "top.noplan": "当天没有方案", "top.import": "导入辖区",
      "imp.title": "导入辖区", "imp.name": "名称（字母、数字、- 和 _）",
      "imp.osm": "OpenStreetMap 文件（.osm、.osm.bz2、.osm.pbf）", "imp.grids": "分局网格（GeoJSON），可留空",
      "imp.crs": "网格坐标系", "imp.auto": "或自动网格：各级网格数", "imp.tz": "时区",
      "imp.synthetic": "合成警情（真实数据到位前试用）", "imp.go": "导入",
      "tab.groups": "巡逻组", "tab.left": "未安排", "tab.summary": "汇总", "tab.staffing": "警力",
      "tab.adjust": "调整", "tab.history": "历史", "tab.compare": "对比",
      "tab.stats": "统计", "stats.month": "月份", "stats.by": "统计口径", "stats.district": "全辖区",
      "stats.team": "队伍", "stats.cell": "网格", "stats.show": "查询", "stats.none": "本月无统计数据。",
      "stats.pdf": "月报（PDF）", "stats.xlsx": "月报（Excel）",
      "new.title": "申请新方案", "new.windows": "时段", "new.level": "规划网格层级",
      "new.budget": "每个网格的求解预算（秒）", "new.seed": "随机种子", "new.go": "生成",
      "common.cancel": "取消", "common.close": "关闭",
      "print.title": "打印预览", "print.print": "打印", "print.pdf": "下载 PDF",
      "group.leader": "带队民警", "group.members": "成员", "group.mode": "方式", "group.km": "公里",
      "group.visits": "个点", "group.value": "价值", "group.lock": "锁定路线", "group.unlock": "解锁",
      "group.off": "不可用", "group.on": "恢复可用", "group.print": "打印任务单", "group.printcells": "打印网格总览及任务单", "group.zoom": "定位",
      "group.stops": "巡逻点", "group.pin": "固定时间", "group.move": "调至…", "group.locked": "已锁定",
      "group.unavailable": "不可用", "group.pinned": "已固定", "group.officer": "民警",
      "group.volunteer": "义警", "group.phone": "电话", "group.none": "当前范围内没有巡逻组。",
      "mode.foot": "步巡", "mode.car": "车巡", "mode.bike": "骑巡", "mode.bicycle": "骑巡",
      "stop.arr": "到达", "stop.dep": "离开", "stop.dwell": "停留", "stop.wait": "等候", "min": "分钟",
      "left.none": "当前范围内所有热点和固定岗都已安排。", "left.site": "地点",
      "left.kind": "类型", "left.cell": "网格", "left.reason": "原因", "left.hotspot": "热点", "left.post": "固定岗",
      "sum.cell": "网格", "sum.groups": "组数", "sum.visits": "巡逻次数", "sum.coverage": "覆盖率",
      "sum.posts": "固定岗", "sum.km": "公里", "sum.left": "未安排", "sum.district": "全辖区",
      "metrics.tz": "时间为 {tz}", "metrics.notz": "时间为辖区当地时间（方案未记录时区）",
      "staff.counts": "在岗与使用", "staff.unused": "未编组人员", "staff.person": "人员",
      "staff.role": "身份", "staff.reason": "原因", "staff.unstaffed": "无人值守的固定岗",
      "staff.uncovered": "有需求但无巡逻组的网格",
      "count.officers_on_shift": "在岗民警", "count.officers_in_groups": "编组民警",
      "count.officers_unused": "未用民警", "count.volunteers_eligible": "可用义警",
      "count.volunteers_in_groups": "编组义警", "count.groups": "巡逻组",
      "count.police_only_groups": "纯民警组", "count.cells_with_demand": "有需求网格",
      "count.cells_with_groups": "有巡逻组网格", "count.post_duties": "固定岗任务",
      "count.idle_groups": "无任务巡逻组",
      "adj.help": "先做决定，再重新求解：锁定的路线保持不变，其余路线围绕您的决定重新安排。点击地图上的热点可删除；点“添加热点”后点击地图可新增。",
      "adj.pending": "调整决定", "adj.none": "尚无调整。", "adj.resolve": "重新求解本时段",
      "adj.clear": "清除", "adj.add": "添加热点", "adj.addclick": "请在地图上点击热点位置…",
      "adj.lock": "锁定 {g}", "adj.off": "{g} 不可用", "adj.drop": "删除热点 {h}", "adj.addat": "在 {p} 添加热点",
      "adj.pin": "{g}：{t} 到达 {s}", "adj.move": "{p} 调至 {g}", "adj.note": "备注（记入审计）",
      "adj.changed": "变化", "adj.group": "巡逻组", "adj.status": "状态", "adj.stops": "变动点数",
      "adj.before": "调整前价值", "adj.after": "调整后价值", "adj.dropbtn": "删除此热点",
      "adj.planner": "只有规划员和管理员可以调整方案。",
      "status.locked": "已锁定", "status.pinned": "已固定", "status.resolved": "重新安排",
      "status.unavailable": "不可用", "status.idle": "无任务",
      "hist.version": "版本", "hist.who": "操作人", "hist.when": "时间", "hist.what": "内容",
      "hist.open": "打开", "hist.current": "当前", "hist.first": "初始方案",
      "cmp.with": "对比方案", "cmp.window": "时段", "cmp.value": "价值", "cmp.coverage": "覆盖率",
      "cmp.groups": "组数", "cmp.km": "公里", "cmp.overlap": "路线重合度", "cmp.go": "对比",
      "cmp.this": "本方案", "cmp.other": "对比方案",
      "job.queued": "排队中", "job.running": "计算中", "job.done": "完成", "job.failed": "失败：{msg}",
      "map.heat": "热点热度（价值）", "map.left": "未安排", "map.post": "固定岗",
      "tl.travel": "路途", "tl.wait": "等候/周边巡逻", "tl.dwell": "热点", "tl.post": "固定岗",
      "metrics.line": "{groups} 个组 · {visits} 次巡逻 · 覆盖率 {coverage} · {km} 公里 · 未安排 {left}",
      "near": "{x}附近"
    }
  };
  var PURPOSES = [
    [/around near (.+?) \(/, "around $1附近 ("], [/^leave muster point$/, "从集合点出发"], [/^return to muster point$/, "返回集合点"],
    [/^start at the post$/, "从岗位出发"],
    [/^area patrol around (.+) \((\d+) min\), then (.+)$/, "$1周边巡逻（$2分钟），然后$3"],
    [/patrol hotspot \(visit (\d+)\)/, "巡逻热点（第$1次）"], [/patrol hotspot/, "巡逻热点"],
    [/^staff (.+)$/, "值守：$1"]
  ];
  var CODES = {
    dropped: "调度员删除", no_free_group: "无空闲巡逻组", no_path: "无道路连通", unreachable: "时段内无法到达",
    no_group: "无巡逻组", low_value: "价值较低", post_conflict: "固定岗时间冲突", post_capacity: "固定岗人手不足",
    repeat_not_fitted: "重复巡逻排不下", no_officer: "无在岗民警", no_officer_for_mode: "无适合交通方式的民警",
    idle: "闲置", unavailable: "不在岗", weekly_cap: "已达每周时长上限", home_grid_unknown: "居住网格未知",
    group_unavailable: "所在组不可用", groups_full: "各组已满", no_group_nearby: "附近无巡逻组",
    no_partner: "无搭档", not_needed: "无需增派", no_cell_for_mode: "无适合其交通方式的网格"
  };
  var CATEGORIES = [];
  var lang = "en";
  function setCategories(map) {
    CATEGORIES = Object.keys(map || {}).sort(function (a, b) { return b.length - a.length; })
      .map(function (en) { return [en, map[en]]; });
  }
  function label(text) {
    if (lang !== "zh" || !text) { return text; }
    var out = String(text);
    CATEGORIES.forEach(function (c) { out = out.split(c[0]).join(c[1]); });
    return out.replace(/, /g, "、");
  }
  function pick() {
    var saved = null;
    try { saved = window.localStorage.getItem("patrol.lang"); } catch (e) { saved = null; }
    if (saved === "zh" || saved === "en") { return saved; }
    var langs = navigator.languages || [navigator.language || "en"];
    return String(langs[0] || "en").toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  }
  function t(key, values) {
    var text = (LABELS[lang] && LABELS[lang][key]) || LABELS.en[key] || key;
    if (values) {
      Object.keys(values).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    }
    return text;
  }
  function place(name) {
    if (lang !== "zh" || !name) { return name; }
    var m = /^near (.+)$/.exec(name);
    return m ? t("near", { x: m[1] }) : name;
  }
  function purpose(text) {
    if (lang !== "zh" || !text) { return text; }
    var out = text;
    PURPOSES.forEach(function (p) { out = out.replace(p[0], p[1]); });
    return label(out);
  }
  function code(c) { return lang === "zh" && CODES[c] ? CODES[c] : (c || "").replace(/_/g, " "); }
  function apply(root) {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    (root || document).querySelectorAll("[data-i18n]").forEach(function (el) {
      el.textContent = t(el.getAttribute("data-i18n"));
    });
    document.querySelectorAll(".lang-toggle").forEach(function (b) { b.textContent = lang === "zh" ? "English" : "中文"; });
    document.title = t("app.title");
  }
  function set(next) {
    lang = next === "zh" ? "zh" : "en";
    try { window.localStorage.setItem("patrol.lang", lang); } catch (e) { /* private mode */ }
    apply();
  }
  lang = pick();
  window.I18N = { t: t, place: place, purpose: purpose, code: code, apply: apply, set: set,
                  label: label, setCategories: setCategories,
                  get lang() { return lang; } };
})();
