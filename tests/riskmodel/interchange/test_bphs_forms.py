"""SPEC 14.4: the BPHS 2017 forms in. Each column of the mapping and each Chinese value, GBK and UTF-8 CSV, an
Excel workbook, unknown headers listed, bad cells rejected with file and row number, ID card numbers never stored."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from riskmodel.cli.commands import app
from riskmodel.exceptions import RiskModelError
from riskmodel.interchange import read_forms, write_import
from riskmodel.interchange.bphs_mapping import ID_CARD_SALT_ENV, load_forms_mapping
from riskmodel.synth.population import events_path

AS_OF = dt.date(2026, 7, 1)
WHO = {
    "居民健康档案编号": "R001",
    "姓名": "张秀英",
    "性别": "女",
    "出生日期": "1960-07-02",
    "签约团队": "T01",
    "网格": "G01",
}
HTN = {"随访日期": "2026-05-10", "随访方式": "门诊", "收缩压(mmHg)": "152", "舒张压(mmHg)": "94"}
DM = {"随访日期": "2026-05-12", "随访方式": "家庭", "空腹血糖值(mmol/L)": "8.1"}
CHECK = {"体检日期": "2026-03-01"}
PROFILE: dict[str, str] = {}


def _csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    headers = list(dict.fromkeys(h for row in rows for h in row))
    lines = [",".join(headers)] + [",".join(row.get(h, "") for h in headers) for row in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _import(tmp_path: Path, *paths: Path, **options):  # type: ignore[no-untyped-def]
    result = read_forms(paths, as_of=AS_OF, **options)
    out = tmp_path / "out" / "residents.parquet"
    summary = write_import(result, out, as_of=AS_OF, source="bphs-forms")
    residents = pq.read_table(out).to_pandas()
    events = pq.read_table(events_path(out)).to_pandas()
    rejected = pq.read_table(out.with_name("residents.bphs-forms.rejected.parquet")).to_pandas()
    return result, summary, residents, events, rejected


def _one(tmp_path: Path, form: dict[str, str], extra: dict[str, str]):  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "form.csv", [{**WHO, **form, **extra}])
    return _import(tmp_path, path)


def test_a_hypertension_followup_row(tmp_path):
    row = {
        **WHO,
        **HTN,
        "体重(kg)": "68.5",
        "用药情况": "硝苯地平缓释片",
        "服药依从性": "间断",
        "药物不良反应": "无",
        "此次随访分类": "控制不满意",
        "下次随访日期": "2026-06-10",
        "转诊原因": "血压控制不满意",
        "转诊机构及科别": "县医院心内科",
        "转诊到位日期": "2026-05-20",
    }
    result, summary, residents, events, rejected = _import(tmp_path, _csv(tmp_path / "htn.csv", [row]))
    assert result.files[0]["form"] == "高血压患者随访服务记录表" and rejected.empty
    person = residents.iloc[0]
    assert (person["resident_id"], person["team_id"], person["grid_id"], person["sex"]) == ("R001", "T01", "G01", "F")
    assert person["age_years"] == 65  # born 1960-07-02: 65 on 2026-07-01, 66 the day after
    followup = events[events["kind"] == "followup"].iloc[0]
    assert followup["disease"] == "hypertension" and followup["event_date"] == dt.date(2026, 5, 10)
    assert (followup["mode"], followup["sbp_mmhg"], followup["dbp_mmhg"], followup["weight_kg"]) == (
        "clinic",
        152,
        94,
        68.5,
    )
    assert followup["on_treatment"] and followup["adherence"] == "intermittent" and not followup["adverse_reaction"]
    assert followup["followup_class"] == "unsatisfactory" and followup["next_followup_date"] == dt.date(2026, 6, 10)
    referrals = events[events["kind"] == "referral"].sort_values("event_date")
    assert list(referrals["referral_status"]) == ["sent", "arrived"]
    assert list(referrals["event_date"]) == [dt.date(2026, 5, 10), dt.date(2026, 5, 20)]
    assert set(referrals["disease"]) == {"hypertension"}
    assert summary.counts == {"高血压患者随访服务记录表": {"in": 1, "used": 1, "skipped": 0, "rejected": 0}}


def test_the_name_is_never_stored(tmp_path):
    _import(tmp_path, _csv(tmp_path / "htn.csv", [{**WHO, **HTN}]))
    for path in (tmp_path / "out").iterdir():
        assert "张秀英".encode() not in path.read_bytes(), path.name
    assert "name" not in pq.read_table(tmp_path / "out" / "residents.parquet").column_names


def test_age_the_day_before_the_birthday(tmp_path):
    _, _, residents, _, _ = _one(tmp_path, HTN, {"出生日期": "1960-07-01"})
    assert residents.iloc[0]["age_years"] == 66


# (form, header, cell, where, column, expected): the Chinese values of SPEC 14.4 and configs/bphs_forms.yaml.
VALUES = [
    (HTN, "随访方式", "门诊", "followup", "mode", "clinic"),
    (HTN, "随访方式", "家庭", "followup", "mode", "home"),
    (HTN, "随访方式", "电话", "followup", "mode", "phone"),
    (HTN, "随访方式", "网络", "followup", "mode", "online"),
    (HTN, "此次随访分类", "控制满意", "followup", "followup_class", "satisfactory"),
    (HTN, "此次随访分类", "控制不满意", "followup", "followup_class", "unsatisfactory"),
    (HTN, "此次随访分类", "不良反应", "followup", "followup_class", "adverse_reaction"),
    (HTN, "此次随访分类", "并发症", "followup", "followup_class", "complication"),
    (HTN, "此次随访分类", "并发症", "followup", "new_complication", True),
    (HTN, "此次随访分类", "不良反应", "followup", "adverse_reaction", True),
    (HTN, "服药依从性", "规律", "followup", "adherence", "regular"),
    (HTN, "服药依从性", "间断", "followup", "adherence", "intermittent"),
    (HTN, "服药依从性", "不服药", "followup", "adherence", "none"),
    (HTN, "药物不良反应", "无", "followup", "adverse_reaction", False),
    (HTN, "药物不良反应", "有", "followup", "adverse_reaction", True),
    (HTN, "用药情况", "氨氯地平片", "followup", "on_treatment", True),
    (HTN, "用药情况", "无", "followup", "on_treatment", False),
    (HTN, "危急情况", "有", "followup", "emergency_signs", True),
    (HTN, "危急情况", "无", "followup", "emergency_signs", False),
    (HTN, "是否妊娠", "是", "followup", "pregnant", True),
    (HTN, "下次随访日期", "2026年6月9日", "followup", "next_followup_date", dt.date(2026, 6, 9)),
    (HTN, "体重", "70", "followup", "weight_kg", 70.0),
    (DM, "症状", "多饮、多尿", "followup", "symptoms", True),
    (DM, "症状", "无症状", "followup", "symptoms", False),
    (DM, "症状", "视力模糊", "followup", "symptoms", False),
    (DM, "糖化血红蛋白(%)", "7.4", "followup", "hba1c_pct", 7.4),
    (DM, "随机血糖", "12.2", "followup", "random_glucose_mmol_l", 12.2),
    (DM, "收缩压", "128", "followup", "sbp_mmhg", 128.0),
    (CHECK, "血压", "135/85", "resident", "sbp_mmhg", 135.0),
    (CHECK, "血压", "135/85", "resident", "dbp_mmhg", 85.0),
    (CHECK, "血压", "135/85", "resident", "bp_date", dt.date(2026, 3, 1)),
    (CHECK, "身高(cm)", "162", "resident", "height_cm", 162.0),
    (CHECK, "体重(kg)", "60", "resident", "weight_kg", 60.0),
    (CHECK, "腰围(cm)", "82", "resident", "waist_cm", 82.0),
    (CHECK, "体质指数", "22.9", "resident", "bmi_kg_m2", 22.9),
    (CHECK, "体重", "60", "resident", "exam_date", dt.date(2026, 3, 1)),
    (CHECK, "空腹血糖", "6.3", "resident", "fpg_mmol_l", 6.3),
    (CHECK, "空腹血糖", "6.3", "resident", "glucose_date", dt.date(2026, 3, 1)),
    (CHECK, "糖化血红蛋白", "6.0", "resident", "hba1c_pct", 6.0),
    (CHECK, "OGTT2小时血糖", "9.1", "resident", "ogtt_2h_mmol_l", 9.1),
    (CHECK, "总胆固醇", "5.6", "resident", "tc_mmol_l", 5.6),
    (CHECK, "甘油三酯", "1.9", "resident", "tg_mmol_l", 1.9),
    (CHECK, "高密度脂蛋白胆固醇", "1.1", "resident", "hdl_mmol_l", 1.1),
    (CHECK, "低密度脂蛋白胆固醇", "3.4", "resident", "ldl_mmol_l", 3.4),
    (CHECK, "吸烟情况", "从不吸烟", "resident", "smoking", "never"),
    (CHECK, "吸烟情况", "已戒烟", "resident", "smoking", "former"),
    (CHECK, "吸烟情况", "吸烟", "resident", "smoking", "current"),
    (CHECK, "锻炼频率", "每天", "resident", "physically_active", True),
    (CHECK, "锻炼频率", "每周一次以上", "resident", "physically_active", True),
    (CHECK, "锻炼频率", "偶尔", "resident", "physically_active", False),
    (CHECK, "锻炼频率", "不锻炼", "resident", "physically_active", False),
    (CHECK, "饮食习惯", "荤食为主、嗜盐", "resident", "high_salt_diet", True),
    (CHECK, "饮食习惯", "荤素均衡", "resident", "high_salt_diet", False),
    (CHECK, "饮酒频率", "从不", "resident", "alcohol_excess", False),
    (CHECK, "饮酒频率", "偶尔", "resident", "alcohol_excess", False),
    (CHECK, "饮酒频率", "经常", "resident", "alcohol_excess", True),
    (CHECK, "饮酒频率", "每天", "resident", "alcohol_excess", True),
    (PROFILE, "性别", "男", "resident", "sex", "M"),
    (PROFILE, "性别", "女", "resident", "sex", "F"),
    (PROFILE, "高血压病史", "有", "resident", "diagnosed_hypertension", True),
    (PROFILE, "高血压病史", "无", "resident", "diagnosed_hypertension", False),
    (PROFILE, "糖尿病病史", "有", "resident", "diagnosed_diabetes", True),
    (PROFILE, "冠心病或脑卒中史", "有", "resident", "ascvd_history", True),
    (PROFILE, "冠心病或脑卒中史", "无", "resident", "ascvd_history", False),
    (PROFILE, "妊娠期糖尿病或巨大儿分娩史", "有", "resident", "gdm_history", True),
    (PROFILE, "糖尿病家族史", "有", "resident", "family_history_diabetes", True),
    (PROFILE, "糖尿病家族史", "无", "resident", "family_history_diabetes", False),
    (PROFILE, "高血压家族史", "有", "resident", "family_history_hypertension", True),
    (PROFILE, "是否妊娠", "否", "resident", "pregnant", False),
    (PROFILE, "服用降压药", "是", "resident", "on_antihypertensive", True),
    (PROFILE, "服用降糖药", "是", "resident", "on_glucose_lowering", True),
    (PROFILE, "服用调脂药", "是", "resident", "on_lipid_lowering", True),
    (PROFILE, "服用调脂药", "否", "resident", "on_lipid_lowering", False),
    (PROFILE, "高血压管理登记日期", "2020/3/5", "resident", "htn_registered_date", dt.date(2020, 3, 5)),
    (PROFILE, "糖尿病管理登记日期", "20210105", "resident", "dm_registered_date", dt.date(2021, 1, 5)),
    (PROFILE, "末次随访日期", "2026-04-01", "resident", "last_followup_date", dt.date(2026, 4, 1)),
    (PROFILE, "连续控制不满意次数", "2", "resident", "uncontrolled_visits", 2),
    (PROFILE, "团队编号", "T09", "resident", "team_id", "T09"),
    (PROFILE, "所属网格", "G09", "resident", "grid_id", "G09"),
]


@pytest.mark.parametrize(("form", "header", "cell", "where", "column", "expected"), VALUES)
def test_each_column_and_value(tmp_path, form, header, cell, where, column, expected):
    replaced = {"团队编号": "签约团队", "所属网格": "网格", "性别": "性别"}.get(header)
    who = {k: v for k, v in WHO.items() if k != replaced}
    path = _csv(tmp_path / "form.csv", [{**who, **form, header: cell}])
    _, _, residents, events, rejected = _import(tmp_path, path)
    assert rejected.empty, rejected.to_dict("records")
    row = residents.iloc[0] if where == "resident" else events[events["kind"] == "followup"].iloc[0]
    value = row[column]
    value = value.date() if isinstance(value, pd.Timestamp) else value.item() if hasattr(value, "item") else value
    assert value == expected


def test_a_diabetes_followup_and_its_disease(tmp_path):
    _, _, _, events, _ = _one(tmp_path, DM, {})
    followup = events[events["kind"] == "followup"].iloc[0]
    assert (followup["disease"], followup["mode"], followup["fpg_mmol_l"]) == ("diabetes", "home", 8.1)


def test_a_health_check_row_is_a_health_check_event(tmp_path):
    _, _, _, events, _ = _one(tmp_path, CHECK, {"空腹血糖": "6.3", "血压": "135/85"})
    assert list(events["kind"]) == ["health_check"] and events.iloc[0]["fpg_mmol_l"] == 6.3


def test_the_profile_diagnosis_dates_are_diagnosis_events(tmp_path):
    _, _, residents, events, _ = _one(
        tmp_path,
        PROFILE,
        {"高血压病史": "有", "高血压确诊日期": "2019-04-02", "高血压确诊时服药": "是", "糖尿病病史": "无"},
    )
    diagnosis = events[events["kind"] == "diagnosis"]
    assert list(diagnosis["disease"]) == ["hypertension"] and diagnosis.iloc[0]["event_date"] == dt.date(2019, 4, 2)
    assert bool(diagnosis.iloc[0]["on_treatment"]) is True
    assert bool(residents.iloc[0]["diagnosed_hypertension"]) and not bool(residents.iloc[0]["diagnosed_diabetes"])


def test_every_mapped_column_is_tested():
    tested = {load_forms_mapping().column_of(h) for _, h, *_ in VALUES}
    tested |= {
        "record_id",
        "resident_id",
        "id_card",
        "name",
        "birth_date",
        "followup_date",
        "sbp_mmhg",
        "dbp_mmhg",
        "fpg_mmol_l",
        "exam_date",
        "referral_reason",
        "referral_facility",
        "referral_arrived_date",
        "htn_diagnosis_date",
        "htn_diagnosis_treated",
        "dm_diagnosis_date",
        "dm_diagnosis_treated",
    }
    assert set(load_forms_mapping().columns) - tested == set()


def test_a_gbk_csv_is_detected_and_can_be_named(tmp_path):
    path = _csv(tmp_path / "htn_gbk.csv", [{**WHO, **HTN, "随访方式": "电话"}], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    result, _, residents, events, _ = _import(tmp_path, path)
    assert result.files[0]["encoding"] == "gbk" and residents.iloc[0]["sex"] == "F"
    assert events[events["kind"] == "followup"].iloc[0]["mode"] == "phone"
    assert read_forms([path], as_of=AS_OF, encoding="gbk").files[0]["encoding"] == "gbk"
    with pytest.raises(RiskModelError, match="htn_gbk.csv: cannot be read as utf-8"):
        read_forms([path], as_of=AS_OF, encoding="utf-8")


def test_an_excel_workbook_with_a_title_row(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["2型糖尿病患者随访服务记录表"])
    headers = ["居民健康档案编号", "性别", "出生日期", "签约团队", "随访日期", "随访方式", "空腹血糖值", "收缩压"]
    sheet.append(headers)
    sheet.append(["R009", "男", dt.datetime(1950, 1, 15), "T02", dt.datetime(2026, 6, 1), "门诊", 9.2, 141])
    book.save(tmp_path / "dm.xlsx")
    result, _, residents, events, rejected = _import(tmp_path, tmp_path / "dm.xlsx")
    assert rejected.empty and result.files[0]["form"] == "2型糖尿病患者随访服务记录表"
    assert (residents.iloc[0]["resident_id"], residents.iloc[0]["sex"], residents.iloc[0]["age_years"]) == (
        "R009",
        "M",
        76,
    )
    followup = events.iloc[0]
    assert (followup["disease"], followup["event_date"], followup["fpg_mmol_l"], followup["sbp_mmhg"]) == (
        "diabetes",
        dt.date(2026, 6, 1),
        9.2,
        141,
    )


def test_unknown_headers_are_listed_not_errors(tmp_path):
    path = _csv(tmp_path / "htn.csv", [{**WHO, **HTN, "随访医生签名": "李医生", "备注": "x"}])
    result, _, residents, _, rejected = _import(tmp_path, path)
    assert result.files[0]["unknown"] == ["随访医生签名", "备注"] and rejected.empty and len(residents) == 1


def test_bad_cells_are_rejected_rows_with_file_and_row_number(tmp_path):
    rows = [
        {**WHO, **HTN},
        {**WHO, **HTN, "随访方式": "诊所"},
        {**WHO, **HTN, "收缩压(mmHg)": "高"},
        {**WHO, **HTN, "随访日期": "2026-02-30"},
        {**WHO, **HTN, "收缩压(mmHg)": "400"},
    ]
    result, summary, _, events, rejected = _import(tmp_path, _csv(tmp_path / "htn.csv", rows))
    assert summary.counts["高血压患者随访服务记录表"] == {"in": 5, "used": 1, "skipped": 0, "rejected": 4}
    by_line = rejected.assign(line=rejected["line"].astype(float).astype(int)).set_index("line")
    assert set(by_line["source"]) == {"htn.csv"} and sorted(by_line.index) == [3, 4, 5, 6]
    assert "随访方式" in by_line.loc[3, "reason"] and "诊所" in by_line.loc[3, "reason"]
    assert by_line.loc[4, "reason"] == "收缩压(mmHg): not a number"
    assert by_line.loc[5, "reason"] == "随访日期: not a calendar date"
    assert "sbp_mmhg" in by_line.loc[6, "reason"]  # out of range (SPEC 2): the validators' rejection, its row
    assert len(events[events["kind"] == "followup"]) == 1


def test_a_resident_without_sex_or_team_is_rejected(tmp_path):
    who = {k: v for k, v in WHO.items() if k != "签约团队"}
    _, summary, residents, _, rejected = _import(tmp_path, _csv(tmp_path / "htn.csv", [{**who, **HTN}]))
    assert residents.empty and summary.rejected == 1
    assert "签约团队" in rejected.iloc[0]["reason"] and rejected.iloc[0]["source"] == "htn.csv"


def test_an_id_card_number_is_hashed_never_stored(tmp_path, monkeypatch):
    number = "110101196007021234"
    who = {k: v for k, v in WHO.items() if k != "居民健康档案编号"} | {"身份证号": number}
    path = _csv(tmp_path / "htn.csv", [{**who, **HTN}])
    _, _, residents, _, rejected = _import(tmp_path, path)  # no salt: refused
    assert residents.empty and "id_card_salt" in rejected.iloc[0]["reason"]
    monkeypatch.setenv(ID_CARD_SALT_ENV, "site-secret")
    _, _, residents, events, _ = _import(tmp_path, path, mapping=load_forms_mapping())
    resident_id = residents.iloc[0]["resident_id"]
    assert re.fullmatch(r"sfz-[0-9a-f]{20}", resident_id) and set(events["resident_id"]) == {resident_id}
    for stored in (tmp_path / "out").iterdir():
        assert number.encode() not in stored.read_bytes() and number[:17].encode() not in stored.read_bytes()
    monkeypatch.setenv(ID_CARD_SALT_ENV, "another-site")
    _, _, other, _, _ = _import(tmp_path, path, mapping=load_forms_mapping())
    assert other.iloc[0]["resident_id"] != resident_id
    bad = _csv(tmp_path / "bad.csv", [{**who, "身份证号": "11010119600702", **HTN}])
    _, _, _, _, rejected = _import(tmp_path, bad, mapping=load_forms_mapping())
    assert "not an 18-character ID card number" in rejected.iloc[0]["reason"]


def test_a_file_of_no_known_form_stops_with_one_line_and_form_names_it(tmp_path):
    path = _csv(tmp_path / "x.csv", [{"居民健康档案编号": "R001", "血压": "120/80"}])
    with pytest.raises(RiskModelError, match="x.csv: which form it is cannot be told"):
        read_forms([path], as_of=AS_OF)
    result = read_forms([path], as_of=AS_OF, form="health_check")
    assert result.files[0]["form"] == "健康体检表"


def test_cli_import_prints_counts_and_unknown_headers(tmp_path):
    rows = [{**WHO, **HTN, "备注": ""}, {**WHO, **HTN, "随访方式": "诊所"}]
    path = _csv(tmp_path / "htn.csv", rows, encoding="gbk")
    out = tmp_path / "r.parquet"
    result = CliRunner().invoke(
        app, ["import", "--from", "bphs-forms", str(path), "--out", str(out), "--as-of", "2026-07-01"]
    )
    assert result.exit_code == 0, result.output
    assert "htn.csv: 高血压患者随访服务记录表 (gbk)" in result.output and "备注" in result.output
    assert "高血压患者随访服务记录表: 2 rows in = 1 used + 1 rejected" in result.output
    assert pd.read_parquet(out).shape[0] == 1 and (tmp_path / "r.bphs-forms.rejected.parquet").exists()
    bad = CliRunner().invoke(app, ["import", "--from", "bphs-forms", str(path), "--encoding", "latin9"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
