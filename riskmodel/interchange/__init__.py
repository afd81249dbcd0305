"""Records in and out (SPEC 14): FHIR R4 and the national BPHS forms, read into the residents and events of SPEC 2."""

from riskmodel.interchange.bphs_export import write_forms
from riskmodel.interchange.bphs_in import FormsImport, read_forms
from riskmodel.interchange.fhir_export import population_resources, write_bundle, write_ndjson
from riskmodel.interchange.fhir_in import FhirImport, read_fhir
from riskmodel.interchange.importing import write_import

__all__ = [
    "FhirImport",
    "FormsImport",
    "read_forms",
    "write_forms",
    "population_resources",
    "read_fhir",
    "write_bundle",
    "write_import",
    "write_ndjson",
]
