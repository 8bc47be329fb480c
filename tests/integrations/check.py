"""Checks the fleet recipes in integrations/kubernetes/ with real parsers and
published schemas, since no cluster, ESO, Vault or Docker daemon runs in CI.

- Core kinds (Secret, ConfigMap, CronJob, Deployment): kubernetes-validate,
  strict (unknown fields are errors), against the oldest Kubernetes the
  recipes support (1.29: native sidecars) and the newest it knows.
- Role, RoleBinding, ServiceAccount and Namespace are core kinds here too.
- ESO kinds (Webhook, ExternalSecret, SecretStore): the schemas of ESO's own CRDs
  (eso-schemas.json, see extract_schemas.py), made strict the way
  `kubectl apply --validate=strict` is: a field the CRD does not declare is
  an error.
- docker-compose.yaml: PyYAML (which merges `<<:` keys as Compose does), then
  the Compose specification's JSON schema (compose-schema.json).
- Vault files: python-hcl2, then the stanza and parameter names Vault
  Agent's documentation lists.
- Each check is shown to bite: the same documents with an unknown field
  added must be rejected.
- The ESO recipes keep the key in a namespace of its own: the key, its
  generator and the token Secret there; the workload namespace gets `get` on
  that one Secret, through one ServiceAccount its pods do not run as, and
  names nothing else there (issue 18: the key beside the workload was anyone's
  with `edit`).
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
CORE = {"v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1"}
# Where a typo is planted to show each validator rejects unknown fields deep
# inside a document, not only at its top.
# (the first path a document has).
DEEP = {
    "CronJob": [["spec", "jobTemplate", "spec", "template", "spec", "containers", 0]],
    "Deployment": [["spec", "template", "spec", "initContainers", 1]],
    "Webhook": [["spec", "result"]],
    "ExternalSecret": [["spec", "dataFrom", 0, "sourceRef", "generatorRef"],
                       ["spec", "data", 0, "remoteRef"]],
    "SecretStore": [["spec", "provider", "kubernetes", "auth", "serviceAccount"]],
    "Role": [["rules", 0]],
    "RoleBinding": [["subjects", 0]],
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


def has_path(doc, path):
    node = doc
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(node, dict)


def validate_all(name, docs):
    for doc in docs:
        what = f"{name}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
        problem = errors(doc)
        check(problem is None, f"{what}: {problem}")
        deep = [p for p in DEEP.get(doc["kind"], []) if has_path(doc, p)][:1]
        for path in [[]] + deep:
            check(errors(with_typo(doc, path)) is not None,
                  f"{what}: an unknown field at {path or 'the top'} was accepted")


def by_kind(docs):
    return {doc["kind"]: doc for doc in docs}


def namespace(doc):
    return doc.get("metadata", {}).get("namespace")


def only(docs, what, test):
    found = [d for d in docs if test(d)]
    check(len(found) == 1, f"{what}: expected exactly one, found {len(found)}")
    return found[0] if found else {}


def check_eso_split(name, docs):
    """The key and its generator in a namespace of their own; the workload
    namespace gets the token, through a grant on that one Secret. Returns
    (the workload namespace's copy, its pod spec)."""
    key_ns = only(docs, f"{name}: the key's Namespace", lambda d: d["kind"] == "Namespace")
    key_ns = key_ns.get("metadata", {}).get("name")
    for doc in docs:
        check(doc["kind"] == "Namespace" or namespace(doc),
              f"{name}: {doc['kind']} {doc['metadata']['name']} names its namespace")
    labelled = [d for d in docs if d["kind"] == "Secret"
                and d["metadata"].get("labels", {}).get("external-secrets.io/type") == "webhook"]
    key = only(labelled, f"{name}: the labelled key Secret", lambda d: True)
    check(namespace(key) == key_ns, f"{name}: the key Secret must be in {key_ns}")
    hook = only(docs, f"{name}: the Webhook", lambda d: d["kind"] == "Webhook")
    check(namespace(hook) == key_ns, f"{name}: the Webhook must run in {key_ns}, where the key is")
    spec = hook.get("spec", {})
    check(spec.get("method", "GET") == "GET" and spec.get("url", "").endswith(TOKEN_PATH),
          f"{name}: the Webhook must GET the v3 token endpoint")
    check(spec.get("headers") == {"X-API-Key-ID": "{{ .console.apiKeyId }}",
                                  "X-API-Key": "{{ .console.apiKey }}"},
          f"{name}: the Webhook must send the two key headers from the Secret")
    check(spec.get("secrets") == [{"name": "console", "secretRef": {"name": key["metadata"]["name"]}}],
          f"{name}: the Webhook's templates must read the key Secret as .console")
    check({"orgId", "apiKeyId", "apiKey"} == set(key.get("stringData", {})),
          f"{name}: the key Secret must hold exactly what the templates use")
    # ESO's generator turns the selected JSON object into the Secret's keys:
    # "$" keeps {"accessToken": ...}, so the Secret's key is accessToken.
    check(spec.get("result") == {"jsonPath": "$"}, f"{name}: result.jsonPath must select the whole answer")
    generated = only(docs, f"{name}: the generating ExternalSecret",
                     lambda d: d["kind"] == "ExternalSecret" and "dataFrom" in d["spec"])
    check(namespace(generated) == key_ns, f"{name}: the generator's ExternalSecret runs in {key_ns}")
    check(generated["spec"]["refreshInterval"] == "12h", f"{name}: refresh every 12 hours")
    ref = generated["spec"]["dataFrom"][0]["sourceRef"]["generatorRef"]
    check((ref["kind"], ref["name"]) == ("Webhook", hook["metadata"]["name"]),
          f"{name}: the ExternalSecret must use the Webhook")
    token = generated["spec"]["target"]["name"]
    role = only(docs, f"{name}: the Role", lambda d: d["kind"] == "Role")
    check(namespace(role) == key_ns and role.get("rules") == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [token], "verbs": ["get"]}],
        f"{name}: the Role grants get on the token Secret in {key_ns} and nothing else")
    binding = only(docs, f"{name}: the RoleBinding", lambda d: d["kind"] == "RoleBinding")
    check(namespace(binding) == key_ns and binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]},
        f"{name}: the RoleBinding binds that Role")
    subjects = binding.get("subjects", [])
    check(len(subjects) == 1 and subjects[0]["kind"] == "ServiceAccount",
          f"{name}: the Role goes to one ServiceAccount")
    reader, work_ns = subjects[0]["name"], subjects[0].get("namespace")
    check(work_ns not in (None, key_ns), f"{name}: the reader is in the workload namespace")
    check({namespace(d) for d in docs} - {None} == {key_ns, work_ns},
          f"{name}: two namespaces, the key's and the workload's")
    in_key_ns = {d["kind"] for d in docs if namespace(d) == key_ns}
    check(in_key_ns == {"Secret", "Webhook", "ExternalSecret", "Role", "RoleBinding"},
          f"{name}: only the key, its generator and the grant live in {key_ns}: {in_key_ns}")
    workload = [d for d in docs if namespace(d) == work_ns]
    check(key["metadata"]["name"] not in json.dumps(workload),
          f"{name}: nothing in {work_ns} names the key Secret")
    account = only(workload, f"{name}: the reader's ServiceAccount",
                   lambda d: d["kind"] == "ServiceAccount" and d["metadata"]["name"] == reader)
    check(account.get("automountServiceAccountToken") is False,
          f"{name}: the reader's token is never mounted")
    store = only(workload, f"{name}: the SecretStore", lambda d: d["kind"] == "SecretStore")
    kube = store.get("spec", {}).get("provider", {}).get("kubernetes", {})
    check(kube.get("remoteNamespace") == key_ns and kube.get("auth") == {"serviceAccount": {"name": reader}},
          f"{name}: the SecretStore reads {key_ns} as the reader")
    copy = only(workload, f"{name}: the copying ExternalSecret", lambda d: d["kind"] == "ExternalSecret")
    check(copy["spec"]["secretStoreRef"] == {"kind": "SecretStore", "name": store["metadata"]["name"]}
          and "dataFrom" not in copy["spec"]
          and all(d["remoteRef"] == {"key": token, "property": "accessToken"} for d in copy["spec"]["data"]),
          f"{name}: the copy takes accessToken of the token Secret, nothing else")
    cron = only(workload, f"{name}: the CronJob", lambda d: d["kind"] == "CronJob")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    check(pod.get("serviceAccountName", "default") != reader and pod.get("automountServiceAccountToken") is False,
          f"{name}: the job does not run as the reader and mounts no API token")
    return copy, pod


def token_mount(name, copy, pod, item):
    """The path where the pod mounts the copy's key `item`, read-only."""
    volume = next(v for v in pod["volumes"] if "secret" in v)
    check(volume["secret"]["secretName"] == copy["spec"]["target"]["name"],
          f"{name}: the CronJob must mount the copy's target")
    check(volume["secret"]["items"][0]["key"] == item, f"{name}: mount the key {item}")
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume["name"])
    check(mount.get("readOnly") is True, f"{name}: the token is mounted read-only")
    return f"{mount['mountPath']}/{volume['secret']['items'][0]['path']}"


def check_eso(docs):
    copy, pod = check_eso_split("eso", docs)
    check([d["secretKey"] for d in copy["spec"]["data"]] == ["accessToken"],
          "eso: the copy holds accessToken")
    token_file = token_mount("eso", copy, pod, "accessToken")
    config = by_kind(docs)["ConfigMap"]
    profile = tomllib.loads(config["data"]["credentials.toml"])
    served = profile["profiles"][profile["default_profile"]]
    check(served == {"token_file": token_file},
          f"eso: the profile must serve {token_file} and hold no key source")


def check_eso_generator_only(docs, eso):
    name = "eso-generator-only"
    copy, pod = check_eso_split(name, docs)
    # The key namespace's documents, the reader and the store are eso.yaml's,
    # word for word; no other object has a name eso.yaml uses, so applying
    # both files changes nothing of either.
    key_ns = by_kind(docs)["Namespace"]["metadata"]["name"]
    ident = lambda d: (d["kind"], namespace(d), d["metadata"]["name"])
    shared = lambda d: key_ns in (namespace(d), d["metadata"]["name"]) or d["kind"] in (
        "ServiceAccount", "SecretStore")
    theirs = {ident(d): d for d in eso}
    check([d for d in docs if shared(d)] == [d for d in eso if shared(d)],
          f"{name}: the shared documents differ from eso.yaml's")
    for doc in docs:
        check(shared(doc) or ident(doc) not in theirs,
              f"{name}: {ident(doc)} would replace eso.yaml's")
    template = copy["spec"]["target"].get("template", {})
    check(template.get("data") == {"header": "Authorization: Bearer {{ .accessToken }}"},
          f"{name}: the copy's template writes the header line curl reads")
    header = token_mount(name, copy, pod, "header")
    script = json.dumps(pod["containers"][0])
    check(f"-H @{header}" in script, f"{name}: curl reads the header from {header}")
    check("snowplow-credentials" not in script, f"{name}: the job runs no snowplow-credentials")


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
    generator_only = list(yaml.safe_load_all((RECIPES / "eso-generator-only.yaml").read_text()))
    sidecar = list(yaml.safe_load_all((RECIPES / "sidecar.yaml").read_text()))
    validate_all("eso.yaml", eso)
    validate_all("eso-generator-only.yaml", generator_only)
    validate_all("sidecar.yaml", sidecar)
    for what, run in (("eso.yaml", lambda: check_eso(eso)),
                      ("eso-generator-only.yaml", lambda: check_eso_generator_only(generator_only, eso))):
        try:
            run()
        except (KeyError, IndexError, StopIteration, TypeError) as e:
            check(False, f"{what}: a document the pattern needs is missing or incomplete ({e!r})")
    check_sidecar(sidecar)
    check_compose(yaml.safe_load((RECIPES / "docker-compose.yaml").read_text()))
    hcl = [hcl2.loads((RECIPES / f).read_text()) for f in
           ("vault-agent.hcl", "vault-policy-reader.hcl", "vault-policy-writer.hcl")]
    check_vault(*hcl)
    print(f"integrations/kubernetes: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
