"""Tools for working on strides that are not part of the product: the synthetic organisation
generator (`synthetic`), the digest preview (`digest_preview`) and the reference planning view that
scans every record (`scan_view`). Tests and benchmarks import them; the package does not."""
