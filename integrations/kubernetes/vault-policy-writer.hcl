# Vault policy for the one machine that holds the Console key and writes the
# token (see vault-agent.hcl): it may replace the token, not read it back.
#   vault policy write snowplow-console-writer vault-policy-writer.hcl
path "secret/data/snowplow/console-token" {
  capabilities = ["create", "update"]
}
