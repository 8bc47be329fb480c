"""Regenerates the schema data files beside check.py from their upstreams.

Why: the recipes in integrations/kubernetes/ must use field names that
External Secrets Operator and Docker Compose really accept, and CI cannot
reach GitHub. So the structural part of the upstream schemas (without their
prose descriptions) is kept as data here, and this script says exactly how it
was made. Run it on a checkout of each repository:

    python3 extract_schemas.py eso CHECKOUT COMMIT > eso-schemas.json
    python3 extract_schemas.py compose CHECKOUT COMMIT > compose-schema.json

eso: github.com/external-secrets/external-secrets, the served and stored
version's openAPIV3Schema of the CRDs the recipes use. compose:
github.com/compose-spec/compose-spec, schema/compose-spec.json.
"""

import json
import sys

import yaml

ESO_CRDS = [
    "config/crds/bases/generators.external-secrets.io_webhooks.yaml",
    "config/crds/bases/external-secrets.io_externalsecrets.yaml",
    "config/crds/bases/external-secrets.io_secretstores.yaml",
]
COMPOSE_SCHEMA = "schema/compose-spec.json"
# Maps whose keys are names chosen by the schema's author, not keywords: a
# property may itself be called "description".
NAME_MAPS = {"properties", "patternProperties", "definitions", "$defs"}


def strip(node, names=False):
    """The schema without prose: descriptions say nothing about validity."""
    if isinstance(node, dict):
        return {
            k: strip(v, not names and k in NAME_MAPS)
            for k, v in node.items()
            if names or k != "description"
        }
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def eso(checkout):
    schemas = {}
    for path in ESO_CRDS:
        with open(f"{checkout}/{path}") as f:
            crd = yaml.safe_load(f)
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served") and version.get("storage"):
                api_version = f"{crd['spec']['group']}/{version['name']}"
                schema = version["schema"]["openAPIV3Schema"]
                schemas[f"{api_version} {kind}"] = strip(schema)
    return ESO_CRDS, schemas


def compose(checkout):
    with open(f"{checkout}/{COMPOSE_SCHEMA}") as f:
        return [COMPOSE_SCHEMA], strip(json.load(f))


def main(which, checkout, commit):
    files, schemas = {"eso": eso, "compose": compose}[which](checkout)
    repo = {
        "eso": "github.com/external-secrets/external-secrets",
        "compose": "github.com/compose-spec/compose-spec",
    }[which]
    out = {"source": repo, "commit": commit, "files": files, "schemas": schemas}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main(*sys.argv[1:])
