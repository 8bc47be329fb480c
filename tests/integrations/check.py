"""Checks the fleet recipes in integrations/kubernetes/ with real parsers and
published schemas, since no cluster, ESO, Vault or Docker daemon runs in CI.

- Core kinds (Secret, ConfigMap, CronJob, Deployment): kubernetes-validate,
  strict (unknown fields are errors), against the oldest Kubernetes the
  recipes support (1.29: native sidecars) and the newest it knows.
- ESO kinds (Webhook, ExternalSecret): the schemas of ESO's own CRDs
  (eso-schemas.json, see extract_schemas.py), made strict the way
  `kubectl apply --validate=strict` is: a field the CRD does not declare is
  an error.
- docker-compose.yaml: PyYAML (which merges `<<:` keys as Compose does), then
  the Compose specification's JSON schema (compose-schema.json).
- Vault files: python-hcl2, then the stanza and parameter names Vault
  Agent's documentation lists.
- Each check is shown to bite: the same documents with an unknown field
  added must be rejected.
- The recipes agree with each other and with this program: the Webhook
  calls the v3 token endpoint with the key headers from the labelled Secret,
  the CronJob mounts the Secret's key where the profile's token_file points,
  sink paths lie on in-memory volumes the app mounts read-only.

Prints one line per failure and a closing "N passed, N failed" line; exits
non-zero on any failure.
"""

import copy
import json
import sys
import tomllib
from pathlib import Path

import hcl2
import jsonschema
import kubernetes_validate
import yaml

HERE = Path(__file__).resolve().parent
RECIPES = HERE.parent.parent / "integrations" / "kubernetes"
VERSIONS = ["1.29.0", "1.37.0"]
# The one place naming our container image: every recipe must use exactly
# this (issue 13's Dockerfile builds it; change it here and in the recipes).
IMAGE = "snowplow-credentials:0.1.0"
TOKEN_PATH = "/api/msc/v1/organizations/{{ .console.orgId }}/credentials/v3/token"
CORE = {"v1", "apps/v1", "batch/v1"}
# Where a typo is planted to show each validator rejects unknown fields deep
# inside a document, not only at its top.
DEEP = {
    "CronJob": ["spec", "jobTemplate", "spec", "template", "spec", "containers", 0],
    "Deployment": ["spec", "template", "spec", "initContainers", 1],
    "Webhook": ["spec", "result"],
    "ExternalSecret": ["spec", "dataFrom", 0, "sourceRef", "generatorRef"],
}
# Vault Agent's documented stanzas and template parameters (developer.hashicorp.com,
# vault/docs/agent-and-proxy/agent: "template", "template_config", "auto-auth").
VAULT_TOP = {"vault", "auto_auth", "template_config", "template", "pid_file",
             "exit_after_auth", "cache", "listener", "api_proxy", "env_template", "exec"}
VAULT_TEMPLATE = {"destination", "source", "contents", "perms", "create_dest_dirs",
                  "error_on_missing_key", "command", "command_timeout", "backup",
                  "left_delimiter", "right_delimiter", "function_denylist", "sandbox_path",
                  "wait", "user", "group", "exec"}
VAULT_TEMPLATE_CONFIG = {"exit_on_retry_failure", "static_secret_render_interval",
                         "max_connections_per_host", "lease_renewal_threshold"}

passed, failed = 0, 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")


def strict(schema):
    """A CRD schema as the API server applies it under strict validation:
    objects that declare properties and do not preserve unknown fields
    reject any other field."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


ESO = {k: strict(v) for k, v in json.loads((HERE / "eso-schemas.json").read_text())["schemas"].items()}
COMPOSE = json.loads((HERE / "compose-schema.json").read_text())["schemas"]


def errors(doc):
    """Why `doc` is invalid, or None."""
    api, kind = doc.get("apiVersion"), doc.get("kind")
    try:
        if api in CORE:
            for version in VERSIONS:
                kubernetes_validate.validate(doc, version, strict=True)
        elif f"{api} {kind}" in ESO:
            jsonschema.Draft7Validator(ESO[f"{api} {kind}"]).validate(doc)
        else:
            return f"no schema for {api} {kind}"
    except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as e:
        return str(e).splitlines()[0]
    return None


def with_typo(doc, path):
    bad = copy.deepcopy(doc)
    node = bad
    for step in path:
        node = node[step]
    node["snowplowTypo"] = True
    return bad


def validate_all(name, docs):
    for doc in docs:
        what = f"{name}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
        problem = errors(doc)
        check(problem is None, f"{what}: {problem}")
        for path in [[], DEEP.get(doc["kind"])]:
            if path is not None:
                check(errors(with_typo(doc, path)) is not None,
                      f"{what}: an unknown field at {path or 'the top'} was accepted")


def by_kind(docs):
    return {doc["kind"]: doc for doc in docs}


def check_eso(docs):
    k = by_kind(docs)
    key, hook, ext, config, cron = (k["Secret"], k["Webhook"], k["ExternalSecret"],
                                    k["ConfigMap"], k["CronJob"])
    spec = hook["spec"]
    check(key["metadata"]["labels"].get("external-secrets.io/type") == "webhook",
          "eso: the key Secret lacks the label ESO's Webhook generator requires")
    check(spec.get("method", "GET") == "GET" and spec["url"].endswith(TOKEN_PATH),
          "eso: the Webhook must GET the v3 token endpoint")
    check(spec["headers"] == {"X-API-Key-ID": "{{ .console.apiKeyId }}",
                              "X-API-Key": "{{ .console.apiKey }}"},
          "eso: the Webhook must send the two key headers from the Secret")
    check(spec["secrets"] == [{"name": "console", "secretRef": {"name": key["metadata"]["name"]}}],
          "eso: the Webhook's templates must read the key Secret as .console")
    check({"orgId", "apiKeyId", "apiKey"} == set(key["stringData"]),
          "eso: the key Secret must hold exactly what the templates use")
    # ESO's generator turns the selected JSON object into the Secret's keys:
    # "$" keeps {"accessToken": ...}, so the Secret's key is accessToken.
    check(spec["result"] == {"jsonPath": "$"}, "eso: result.jsonPath must select the whole answer")
    check(ext["spec"]["refreshInterval"] == "12h", "eso: refresh every 12 hours")
    ref = ext["spec"]["dataFrom"][0]["sourceRef"]["generatorRef"]
    check((ref["kind"], ref["name"]) == ("Webhook", hook["metadata"]["name"]),
          "eso: the ExternalSecret must use the Webhook")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if "secret" in v)
    check(volume["secret"]["secretName"] == ext["spec"]["target"]["name"],
          "eso: the CronJob must mount the ExternalSecret's target")
    check(volume["secret"]["items"][0]["key"] == "accessToken", "eso: mount the key accessToken")
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume["name"])
    token_file = f"{mount['mountPath']}/{volume['secret']['items'][0]['path']}"
    profile = tomllib.loads(config["data"]["credentials.toml"])
    served = profile["profiles"][profile["default_profile"]]
    check(served == {"token_file": token_file},
          f"eso: the profile must serve {token_file} and hold no key source")
    check(mount.get("readOnly") is True, "eso: the token is mounted read-only")


def sink_args(container):
    args = container["args"] if "args" in container else container["command"]
    check(args[0] == "sink", f"{container}: runs sink")
    return args[1], args[args.index("--header-file") + 1]


def check_sidecar(docs):
    pod = by_kind(docs)["Deployment"]["spec"]["template"]["spec"]
    first, sidecar = pod["initContainers"]
    check(sidecar.get("restartPolicy") == "Always" and "restartPolicy" not in first,
          "sidecar: a one-shot init container, then a native sidecar")
    check("--once" in first["args"] and "--once" not in sidecar["args"],
          "sidecar: only the init container runs --once")
    memory = {v["name"] for v in pod["volumes"] if v.get("emptyDir", {}).get("medium") == "Memory"}
    check(memory == {v["name"] for v in pod["volumes"]}, "sidecar: every volume is in memory")
    for c in (first, sidecar):
        check(c["image"] == IMAGE, f"sidecar: {c['name']} must use {IMAGE}")
        for path in sink_args(c):
            check(any(path.startswith(m["mountPath"] + "/") for m in c["volumeMounts"]),
                  f"sidecar: {path} is on a mounted volume")
    app = pod["containers"][0]
    check(all(m.get("readOnly") for m in app["volumeMounts"]), "sidecar: the app mounts read-only")


def check_compose(compose):
    try:
        jsonschema.Draft7Validator(COMPOSE).validate(compose)
        check(True, "")
    except jsonschema.ValidationError as e:
        check(False, f"docker-compose.yaml: {e.message}")
    for where in ([], ["services", "app"]):
        bad = with_typo(compose, where)
        check(not jsonschema.Draft7Validator(COMPOSE).is_valid(bad),
              f"docker-compose.yaml: an unknown field at {where or 'the top'} was accepted")
    services = compose["services"]
    for name in ("snowplow-token-first", "snowplow-token"):
        check(services[name]["image"] == IMAGE, f"compose: {name} must use {IMAGE}")
        sink_args(services[name])
    check("--once" in services["snowplow-token-first"]["command"], "compose: the first runs --once")
    for name, volume in compose["volumes"].items():
        check(volume["driver_opts"]["type"] == "tmpfs", f"compose: volume {name} is in memory")
    check(all(v.endswith(":ro") for v in services["app"]["volumes"]), "compose: app mounts read-only")


def check_vault(agent, reader, writer):
    check(set(agent) - {"__comments__"} <= VAULT_TOP, f"vault: unknown stanza in {set(agent)}")
    template = agent["template"][0]
    check(set(template) - {"__is_block__"} <= VAULT_TEMPLATE, f"vault: template keys {set(template)}")
    tc = agent["template_config"][0]
    check(set(tc) - {"__is_block__", "__comments__"} <= VAULT_TEMPLATE_CONFIG,
          f"vault: template_config keys {set(tc)}")
    path = "secret/data/snowplow/console-token"
    check(f'\\"{path}\\"' in template["contents"], "vault: the template reads the token's path")
    for policy, caps in ((reader, ['"read"']), (writer, ['"create"', '"update"'])):
        check(policy["path"] == [{f'"{path}"': {"capabilities": caps, "__is_block__": True}}],
              f"vault: a policy must grant {caps} on {path} only")


def main():
    eso = list(yaml.safe_load_all((RECIPES / "eso.yaml").read_text()))
    sidecar = list(yaml.safe_load_all((RECIPES / "sidecar.yaml").read_text()))
    validate_all("eso.yaml", eso)
    validate_all("sidecar.yaml", sidecar)
    check_eso(eso)
    check_sidecar(sidecar)
    check_compose(yaml.safe_load((RECIPES / "docker-compose.yaml").read_text()))
    hcl = [hcl2.loads((RECIPES / f).read_text()) for f in
           ("vault-agent.hcl", "vault-policy-reader.hcl", "vault-policy-writer.hcl")]
    check_vault(*hcl)
    print(f"integrations/kubernetes: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
