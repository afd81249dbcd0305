"""The code tables of FHIR R4 in (SPEC 14.2): LOINC observations with their UCUM units, diagnoses (ICD-10,
SNOMED CT), medicines (ATC), encounter classes, smoking answers. Facts of the terminologies, with their source.

References
----------
LOINC 2.78 (Regenstrief Institute), loinc.org: the codes below and their property (mass or moles per volume).
UCUM (unitsofmeasure.org): the unit codes, case-sensitive (``MG/DL`` is no unit); the litre has two codes, ``l``
and ``L`` (each 1 dm3, the units of ISO 1000 in ucum-essence.xml), so ``mmol/l`` is ``mmol/L``.
Glucose 180.16 g/mol (mg/dL / 18.016 = mmol/L); cholesterol 386.65 g/mol (/ 38.67); triglycerides as triolein
885.7 g/mol (/ 88.57).
NGSP/IFCC master equation (Hoelzel 2004, Clin Chem 50:166): NGSP % = 0.09148 x IFCC mmol/mol + 2.152.
ICD-10 (WHO 2019): I10-I15 hypertensive diseases; E11 type 2 diabetes mellitus.
SNOMED CT: 38341003 Hypertensive disorder; 44054006 Diabetes mellitus type 2.
ATC (WHO Collaborating Centre, 2025): C02 antihypertensives, C03 diuretics, C07 beta blockers, C08 calcium channel
blockers, C09 renin-angiotensin agents; A10 drugs used in diabetes; C10 lipid modifying agents.
HL7 v3 ActCode (terminology.hl7.org/CodeSystem/v3-ActCode): AMB ambulatory, HH home health, VR virtual.
LOINC answer list LL2201-3 (tobacco smoking status, 72166-2) and the SNOMED CT codes of the US Core smoking status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10 = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cn", "http://hl7.org/fhir/sid/icd-10-cm")
ATC = "http://www.whocc.no/atc"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

GLUCOSE_MG_DL_PER_MMOL_L = 18.016
CHOLESTEROL_MG_DL_PER_MMOL_L = 38.67
TRIGLYCERIDES_MG_DL_PER_MMOL_L = 88.57
INCH_CM = 2.54
POUND_KG = 0.45359237


@dataclass(frozen=True)
class Measure:
    """Where a LOINC-coded quantity goes: the SPEC 2 column, and each accepted UCUM unit's (scale, offset)."""

    column: str
    units: dict[str, tuple[float, float]]
    on_event: bool  # an event column (dated event); else a resident-row column (its newest value)


_PER_LITRE = re.compile(r"(?<=/)(d?)L$")
"""A unit per litre or per decilitre, written with UCUM's upper-case litre code ``L``."""


def litre_spellings(unit: str) -> tuple[str, ...]:
    """A unit code and, where it is per litre or per decilitre, the same unit with UCUM's other litre code ``l``
    (``mmol/L``: also ``mmol/l``; ``mg/dL``: also ``mg/dl``). No other letter changes case: ``MG/DL`` is no UCUM
    unit, and ``mmol/dl`` another unit than ``mmol/L``."""
    other = _PER_LITRE.sub(r"\1l", unit)
    return (unit,) if other == unit else (unit, other)


_MMOL = {"mmol/L": (1.0, 0.0)}
_GLUCOSE = {**_MMOL, "mg/dL": (1 / GLUCOSE_MG_DL_PER_MMOL_L, 0.0)}
_CHOLESTEROL = {**_MMOL, "mg/dL": (1 / CHOLESTEROL_MG_DL_PER_MMOL_L, 0.0)}
_TRIGLYCERIDES = {**_MMOL, "mg/dL": (1 / TRIGLYCERIDES_MG_DL_PER_MMOL_L, 0.0)}
_MMHG = {"mm[Hg]": (1.0, 0.0)}
_CM = {"cm": (1.0, 0.0), "m": (100.0, 0.0), "[in_i]": (INCH_CM, 0.0)}
_KG = {"kg": (1.0, 0.0), "g": (0.001, 0.0), "[lb_av]": (POUND_KG, 0.0)}

OBSERVATION_CODES: dict[str, Measure] = {
    "8480-6": Measure("sbp_mmhg", _MMHG, True),  # Systolic blood pressure
    "8462-4": Measure("dbp_mmhg", _MMHG, True),  # Diastolic blood pressure
    "14771-0": Measure("fpg_mmol_l", _GLUCOSE, True),  # Fasting glucose [Moles/volume] in Serum or Plasma
    "1558-6": Measure("fpg_mmol_l", _GLUCOSE, True),  # Fasting glucose [Mass/volume] in Serum or Plasma
    "14995-5": Measure("ogtt_2h_mmol_l", _GLUCOSE, True),  # Glucose [Moles/volume] --2 hours post 75 g glucose PO
    "1518-0": Measure("ogtt_2h_mmol_l", _GLUCOSE, True),  # Glucose [Mass/volume] --2 hours post 75 g glucose PO
    "15074-8": Measure("random_glucose_mmol_l", _GLUCOSE, True),  # Glucose [Moles/volume] in Blood
    "2339-0": Measure("random_glucose_mmol_l", _GLUCOSE, True),  # Glucose [Mass/volume] in Blood
    "4548-4": Measure("hba1c_pct", {"%": (1.0, 0.0), "mmol/mol": (0.09148, 2.152)}, True),  # HbA1c/Hb.total
    "29463-7": Measure("weight_kg", _KG, True),  # Body weight
    "8280-0": Measure("waist_cm", _CM, True),  # Waist Circumference at umbilicus by Tape measure
    "8302-2": Measure("height_cm", _CM, False),  # Body height
    "39156-5": Measure("bmi_kg_m2", {"kg/m2": (1.0, 0.0)}, False),  # Body mass index (BMI) [Ratio]
    "14647-2": Measure("tc_mmol_l", _CHOLESTEROL, False),  # Cholesterol [Moles/volume] in Serum or Plasma
    "2093-3": Measure("tc_mmol_l", _CHOLESTEROL, False),  # Cholesterol [Mass/volume] in Serum or Plasma
    "14927-8": Measure("tg_mmol_l", _TRIGLYCERIDES, False),  # Triglyceride [Moles/volume] in Serum or Plasma
    "2571-8": Measure("tg_mmol_l", _TRIGLYCERIDES, False),  # Triglyceride [Mass/volume] in Serum or Plasma
    "14646-4": Measure("hdl_mmol_l", _CHOLESTEROL, False),  # HDL cholesterol [Moles/volume]
    "2085-9": Measure("hdl_mmol_l", _CHOLESTEROL, False),  # HDL cholesterol [Mass/volume]
    "22748-8": Measure("ldl_mmol_l", _CHOLESTEROL, False),  # LDL cholesterol [Moles/volume]
    "39469-2": Measure("ldl_mmol_l", _CHOLESTEROL, False),  # LDL cholesterol [Moles/volume] calculated
    "2089-1": Measure("ldl_mmol_l", _CHOLESTEROL, False),  # LDL cholesterol [Mass/volume]
    "13457-7": Measure("ldl_mmol_l", _CHOLESTEROL, False),  # LDL cholesterol [Mass/volume] calculated
}
"""Quantities by LOINC code. A blood-pressure panel (85354-9) carries 8480-6 and 8462-4 as components."""
BP_PANEL = "85354-9"
BP_COMPONENTS = {"8480-6": "systolic", "8462-4": "diastolic"}
"""What a blood-pressure panel carries: one systolic and one diastolic component (FHIR R4 Blood Pressure profile,
http://hl7.org/fhir/StructureDefinition/bp: component:SystolicBP 1..1, component:DiastolicBP 1..1)."""
SMOKING_STATUS = "72166-2"
SMOKING_ANSWERS: dict[str, str | None] = {
    "LA18976-3": "current",  # Current every day smoker
    "LA18981-3": "current",  # Heavy tobacco smoker
    "LA18982-1": "current",  # Light tobacco smoker
    "LA15920-4": "current",  # Current some day smoker
    "LA18979-7": "current",  # Smoker, current status unknown
    "LA18977-1": "former",  # Former smoker
    "LA18978-9": "never",  # Never smoker
    "LA18980-5": None,  # Unknown if ever smoked: no value
    "449868002": "current",  # SNOMED: Smokes tobacco daily
    "428041000124106": "current",  # SNOMED: Occasional tobacco smoker
    "77176002": "current",  # SNOMED: Smoker
    "8517006": "former",  # SNOMED: Ex-smoker
    "266919005": "never",  # SNOMED: Never smoked tobacco
    "266927001": None,  # SNOMED: Tobacco smoking consumption unknown
}
SMOKING_CODES: dict[str, str] = {v: k for k, v in SMOKING_ANSWERS.items() if v is not None and k.startswith("LA")}

OBSERVATION_USED_STATUSES = ("final", "amended", "corrected")
"""Observation.status values whose results are used; the others (registered, preliminary, cancelled,
entered-in-error, unknown) are skipped and counted (SPEC 14.2)."""

ICD10_DISEASES: dict[str, str] = {
    "I10": "hypertension",
    "I11": "hypertension",
    "I12": "hypertension",
    "I13": "hypertension",
    "I14": "hypertension",
    "I15": "hypertension",
    "E11": "diabetes",
}
"""ICD-10 categories (the code before the dot) and the disease they record."""
SNOMED_DISEASES: dict[str, str] = {"38341003": "hypertension", "44054006": "diabetes"}
DISEASE_CODES: dict[str, tuple[str, str]] = {"hypertension": ("I10", "38341003"), "diabetes": ("E11", "44054006")}
"""What the synthetic export writes for each disease: (ICD-10, SNOMED CT)."""

ATC_TREATMENT: dict[str, str] = {
    "C02": "on_antihypertensive",
    "C03": "on_antihypertensive",
    "C07": "on_antihypertensive",
    "C08": "on_antihypertensive",
    "C09": "on_antihypertensive",
    "A10": "on_glucose_lowering",
    "C10": "on_lipid_lowering",
}
"""ATC level-2 groups (the first three characters) and the treatment column they set."""
TREATMENT_DISEASE = {"on_antihypertensive": "hypertension", "on_glucose_lowering": "diabetes"}
DISEASE_ATC = {"hypertension": "C09", "diabetes": "A10"}

ENCOUNTER_CLASSES: dict[str, str] = {"AMB": "clinic", "HH": "home", "VR": "phone"}
"""Encounter.class (v3 ActCode) → follow-up mode; a virtual encounter whose type says ``online`` is online."""
MODE_CLASSES: dict[str, str] = {"clinic": "AMB", "home": "HH", "phone": "VR", "online": "VR"}
