"""riskmodel: tiers, calibrated risk and prioritised work lists for type 2 diabetes and hypertension.

The public library, by module (imported on use, so that the command line starts fast):

- :mod:`riskmodel.config` - ``load_config``, ``RiskConfig``
- :mod:`riskmodel.records.reading` - ``read_residents``, ``iter_validated``, ``validate_records``, ``resident_columns``
- :mod:`riskmodel.scoring` - ``assess`` (the one scoring path), ``score_frame``
- :mod:`riskmodel.model.tier_model` - ``RiskModel`` (load / save a fitted model folder)
- :mod:`riskmodel.worklist.entries` - ``build_worklist``, ``team_worklist``
- :mod:`riskmodel.batch` - ``score_file``
- :mod:`riskmodel.store.batches` - ``ResultStore``
- :mod:`riskmodel.synth` - ``write_population``
- :mod:`riskmodel.rules.guidelines` - the guideline rules, with their references
"""

__version__ = "0.1.0"
