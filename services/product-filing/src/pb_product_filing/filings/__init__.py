"""Patent-product filings (专利产品备案): submission by a partner or the office, review by the office."""
