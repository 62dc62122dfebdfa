"""Pure registry rules: identifiers, codes and classifications (stdlib only)."""

from .industries import INDUSTRY_LIST_VERSION, InvalidIndustry, industries, validate_industry
from .ipc import InvalidIPC, normalise_ipc
from .patent_numbers import (
    KINDS,
    PATENT_TYPES,
    InvalidPatentNumber,
    PatentNumber,
    check_character,
    current_cnipa_year,
    parse_patent_number,
    patent_type_matches,
)
from .regions import (
    GUIZHOU_COUNTIES,
    GUIZHOU_RETIRED_CODES,
    PREFECTURES,
    PROVINCES,
    InvalidRegionCode,
    Region,
    validate_region_code,
)
from .sme import (
    SME_SIZE_STANDARD,
    InsufficientData,
    SizeClass,
    SizeStandard,
    classify_size,
    load_size_standard,
)
from .uscc import USCC_ALPHABET, InvalidUSCC, uscc_check_character, validate_uscc

__all__ = [
    "GUIZHOU_COUNTIES",
    "GUIZHOU_RETIRED_CODES",
    "INDUSTRY_LIST_VERSION",
    "KINDS",
    "PATENT_TYPES",
    "PREFECTURES",
    "PROVINCES",
    "SME_SIZE_STANDARD",
    "USCC_ALPHABET",
    "InsufficientData",
    "InvalidIPC",
    "InvalidIndustry",
    "InvalidPatentNumber",
    "InvalidRegionCode",
    "InvalidUSCC",
    "PatentNumber",
    "Region",
    "SizeClass",
    "SizeStandard",
    "check_character",
    "classify_size",
    "current_cnipa_year",
    "industries",
    "load_size_standard",
    "normalise_ipc",
    "parse_patent_number",
    "patent_type_matches",
    "uscc_check_character",
    "validate_industry",
    "validate_region_code",
    "validate_uscc",
]
