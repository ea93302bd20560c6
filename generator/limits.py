"""Every size limit conngen enforces, in one place, with why each number.

Imports nothing, so the cheapest entry points (the render cache, the exec plugin) can use the
same numbers as the full path without loading PyYAML.
"""

#: Bytes of any one input: a config, a catalog, a credential file, a template, stdin. Refused
#: before any of it is parsed, so /dev/zero or a mistaken path to a disk image costs nothing. The
#: 10,000-registry benchmark config is 2.7 MB; 8 MiB leaves room for three times that.
MAX_FILE_BYTES = 8 * 1024 * 1024

#: Nesting of one YAML document. Configs and catalogs nest about 8 deep; deeper is a mistake or
#: an attack on the recursive code that walks the data.
MAX_DEPTH = 64

#: Values (keys, scalars and collections) of one document once its YAML aliases are expanded,
#: counted when it is read (yamlio) and again by the schema check (spec), which then never meets
#: more. A "billion laughs" document expands to 10**9. Without aliases MAX_FILE_BYTES already bounds
#: a document to a few million values; the 10,000-registry benchmark config holds 270,000, and
#: a document under half this limit with no alias is read without a second walk.
MAX_VALUES = 1_000_000

#: Bytes of a Secret's data: the API server refuses a larger Secret (etcd's object limit), so one
#: is refused when rendering rather than when applying.
MAX_SECRET_BYTES = 1024 * 1024

#: Characters of a Kubernetes name that must be a DNS label (RFC 1123): a Job's name, which the
#: Job controller copies into a pod label, a volume's, a label value.
MAX_DNS_LABEL = 63
