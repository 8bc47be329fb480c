# Vault Agent keeps the token file fresh for a snowplow-credentials profile
# with token_file = "/vault/secrets/snowplow/token" (or for any app that reads
# a bearer token from a file).
#
# Vault cannot exchange a Console key itself, so one place that holds the key
# writes a new token into Vault's KV store every 12 hours, e.g. a scheduled
# job on a trusted machine (--refresh: a new token, not the cached one; it
# travels on stdin, never in argv):
#
#   snowplow-credentials token --refresh | vault kv put -mount=secret snowplow/console-token accessToken=-
#
# Every reader then needs only a Vault policy to read that path
# (vault-policy-reader.hcl; the writer's is vault-policy-writer.hcl), never
# the key. Vault Agent renders the token with a template: auto_auth's own
# "sink" stanza writes Vault's token, not this one.
# The Agent Injector runs this as an init container plus a sidecar on a
# shared in-memory volume at /vault/secrets.

vault {
  address = "https://vault.example.com:8200"
}

auto_auth {
  method "kubernetes" {
    mount_path = "auth/kubernetes"
    config = {
      role = "snowplow-console-reader"
    }
  }
}

template_config {
  # KV v2 values are not leases: re-read every 10 minutes, so a token written
  # every 12 hours reaches readers long before the old one expires.
  static_secret_render_interval = "10m"
  exit_on_retry_failure         = false
}

template {
  destination          = "/vault/secrets/snowplow/token"
  perms                = "0640"
  error_on_missing_key = true
  contents             = "{{ with secret \"secret/data/snowplow/console-token\" }}{{ .Data.data.accessToken }}{{ end }}"
}
