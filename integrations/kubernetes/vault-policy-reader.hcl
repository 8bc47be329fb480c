# Vault policy for every reader of the token (vault-agent.hcl's role):
#   vault policy write snowplow-console-reader vault-policy-reader.hcl
path "secret/data/snowplow/console-token" {
  capabilities = ["read"]
}
