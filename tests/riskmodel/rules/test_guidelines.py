"""Every guideline threshold at its exact boundary, on both sides (SPEC section 4)."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.rules.guidelines import (
    bmi_category,
    bp_category,
    bp_controlled,
    bp_emergency,
    bp_grade,
    bphs_high_risk_band,
    cdrs_score,
    central_obesity,
    glucose_controlled,
    glucose_emergency,
    glycaemic_status,
)

NAN = float("nan")


def _arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


@pytest.mark.parametrize(
    ("fpg", "ogtt", "hba1c", "criteria", "category", "diabetic_tests"),
    [
        (6.09, NAN, NAN, "who", 0, 0),
        (6.1, NAN, NAN, "who", 1, 0),
        (6.99, NAN, NAN, "who", 1, 0),
        (7.0, NAN, NAN, "who", 2, 1),
        (5.59, NAN, NAN, "ada", 0, 0),
        (5.6, NAN, NAN, "ada", 1, 0),
        (5.6, NAN, NAN, "who", 0, 0),
        (NAN, 7.79, NAN, "who", 0, 0),
        (NAN, 7.8, NAN, "who", 1, 0),
        (NAN, 11.09, NAN, "who", 1, 0),
        (NAN, 11.1, NAN, "who", 2, 1),
        (NAN, NAN, 5.69, "who", 0, 0),
        (NAN, NAN, 5.7, "who", 1, 0),
        (NAN, NAN, 6.49, "who", 1, 0),
        (NAN, NAN, 6.5, "who", 2, 1),
        (7.0, NAN, 6.5, "who", 2, 2),
        (7.0, 11.1, 6.5, "who", 2, 3),
        (NAN, NAN, NAN, "who", -1, 0),
    ],
)
def test_glycaemic_categories(fpg, ogtt, hba1c, criteria, category, diabetic_tests):
    status = glycaemic_status(_arr(fpg), _arr(ogtt), _arr(hba1c), criteria=criteria)
    assert status.category[0] == category
    assert status.diabetic_tests[0] == diabetic_tests


def test_hba1c_prediabetes_can_be_switched_off():
    status = glycaemic_status(_arr(NAN), _arr(NAN), _arr(6.0), use_hba1c_prediabetes=False)
    assert status.category[0] == 0


@pytest.mark.parametrize(
    ("sbp", "dbp", "category", "grade", "band"),
    [
        (119, 79, 0, 0, False),
        (120, 79, 1, 0, False),
        (119, 80, 1, 0, False),
        (129, 84, 1, 0, False),
        (130, 70, 1, 0, True),
        (120, 85, 1, 0, True),
        (139, 89, 1, 0, True),
        (140, 70, 2, 1, False),
        (120, 90, 2, 1, False),
        (159, 99, 2, 1, False),
        (160, 80, 2, 2, False),
        (130, 100, 2, 2, False),
        (179, 109, 2, 2, False),
        (180, 80, 2, 3, False),
        (150, 110, 2, 3, False),
        (NAN, NAN, -1, 0, False),
    ],
)
def test_bp_categories_grades_and_bphs_band(sbp, dbp, category, grade, band):
    assert bp_category(_arr(sbp), _arr(dbp))[0] == category
    assert bp_grade(_arr(sbp), _arr(dbp))[0] == grade
    assert bphs_high_risk_band(_arr(sbp), _arr(dbp))[0] == band


@pytest.mark.parametrize(
    ("sbp", "dbp", "age", "controlled"),
    [
        (139, 89, 50, 1.0),
        (140, 80, 50, 0.0),
        (130, 90, 50, 0.0),
        (149, 89, 65, 1.0),
        (150, 80, 65, 0.0),
        (149, 80, 64, 0.0),
    ],
)
def test_bp_control_targets(sbp, dbp, age, controlled):
    assert bp_controlled(_arr(sbp), _arr(dbp), _arr(age))[0] == controlled


@pytest.mark.parametrize(("sbp", "dbp", "emergency"), [(179, 109, False), (180, 100, True), (150, 110, True)])
def test_bp_emergency(sbp, dbp, emergency):
    assert bp_emergency(_arr(sbp), _arr(dbp))[0] == emergency


@pytest.mark.parametrize(
    ("fpg", "ogtt", "managed", "emergency"),
    [
        (16.69, NAN, False, False),
        (16.7, NAN, False, True),
        (3.91, NAN, True, False),
        (3.9, NAN, True, True),
        (3.9, NAN, False, False),
    ],
)
def test_glucose_emergency(fpg, ogtt, managed, emergency):
    # BPHS 2017: a fasting or random glucose; an OGTT value is never an emergency (tested in test_actions).
    assert glucose_emergency(_arr(fpg), managed=np.array([managed]))[0] == emergency


@pytest.mark.parametrize(
    ("fpg", "hba1c", "profile", "controlled"),
    [
        (6.99, NAN, "bphs2017", 1.0),  # BPHS 2017: FPG < 7.0
        (7.0, NAN, "bphs2017", 0.0),
        (6.5, 7.5, "bphs2017", 1.0),  # HbA1c is not a BPHS 2017 target
        (6.5, 6.99, "guideline2024", 1.0),  # CDS 2024: and HbA1c < 7.0 where a fresh one exists
        (6.5, 7.0, "guideline2024", 0.0),
        (NAN, 6.9, "guideline2024", 1.0),
        (NAN, NAN, "guideline2024", NAN),
    ],
)
def test_glucose_control(fpg, hba1c, profile, controlled):
    result = glucose_controlled(_arr(fpg), _arr(hba1c), profile=profile)[0]
    assert (np.isnan(result) and np.isnan(controlled)) or result == controlled


@pytest.mark.parametrize(("bmi", "category"), [(18.49, 0), (18.5, 1), (23.99, 1), (24.0, 2), (27.99, 2), (28.0, 3)])
def test_bmi_categories(bmi, category):
    assert bmi_category(_arr(bmi))[0] == category


@pytest.mark.parametrize(
    ("waist", "male", "central"), [(89.9, True, False), (90, True, True), (84.9, False, False), (85, False, True)]
)
def test_central_obesity(waist, male, central):
    assert central_obesity(_arr(waist), np.array([male]))[0] == central


def _cdrs(age=20.0, bmi=20.0, waist=60.0, sbp=100.0, family=0.0, male=False):
    score = cdrs_score(_arr(age), _arr(bmi), _arr(waist), _arr(sbp), _arr(family), np.array([male]))
    return {k: int(v[0]) for k, v in score.points.items()}, int(score.total[0])


@pytest.mark.parametrize(
    ("age", "points"),
    [
        (24.9, 0),
        (25, 4),
        (34.9, 4),
        (35, 8),
        (39.9, 8),
        (40, 11),
        (44.9, 11),
        (45, 12),
        (49.9, 12),
        (50, 13),
        (54.9, 13),
        (55, 15),
        (59.9, 15),
        (60, 16),
        (64.9, 16),
        (65, 18),
        (74, 18),
    ],
)
def test_cdrs_age_points(age, points):
    assert _cdrs(age=age)[0]["age"] == points


@pytest.mark.parametrize(("bmi", "points"), [(21.99, 0), (22, 1), (23.99, 1), (24, 3), (29.99, 3), (30, 5)])
def test_cdrs_bmi_points(bmi, points):
    assert _cdrs(bmi=bmi)[0]["bmi"] == points


@pytest.mark.parametrize(
    ("waist", "male", "points"),
    [
        (74.9, True, 0),
        (75, True, 3),
        (80, True, 5),
        (85, True, 7),
        (90, True, 8),
        (94.9, True, 8),
        (95, True, 10),
        (69.9, False, 0),
        (70, False, 3),
        (75, False, 5),
        (80, False, 7),
        (85, False, 8),
        (89.9, False, 8),
        (90, False, 10),
    ],
)
def test_cdrs_waist_points(waist, male, points):
    assert _cdrs(waist=waist, male=male)[0]["waist"] == points


@pytest.mark.parametrize(
    ("sbp", "points"),
    [
        (109, 0),
        (110, 1),
        (119, 1),
        (120, 3),
        (129, 3),
        (130, 6),
        (139, 6),
        (140, 7),
        (150, 8),
        (159, 8),
        (160, 10),
    ],
)
def test_cdrs_sbp_points(sbp, points):
    assert _cdrs(sbp=sbp)[0]["sbp"] == points


def test_cdrs_family_history_sex_total_and_validity():
    points, total = _cdrs(age=65, bmi=30, waist=95, sbp=160, family=1.0, male=True)
    assert points["family_history"] == 6 and points["sex"] == 2
    assert total == 51
    score = cdrs_score(_arr(75, 74), _arr(20, 20), _arr(60, 60), _arr(100, 100), _arr(0, 0), np.array([False, False]))
    assert score.in_validated_age.tolist() == [False, True]
    missing = cdrs_score(_arr(50), _arr(NAN), _arr(60), _arr(100), _arr(0), np.array([False]))
    assert not missing.complete[0]
