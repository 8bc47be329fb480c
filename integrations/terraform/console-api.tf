# Calls the Snowplow Console API from Terraform with a short-lived token from
# snowplow-credentials, so no API key is written in the configuration.
#
# Two `external` data sources run the helper: `console-url --json` gives the
# selected profile's Console URL and host, and `terraform get HOST` prints
# {"token": "<JWT>"} for that host (a cached token while it is fresh). So the
# token only ever goes to the Console it was issued for: a staging profile
# calls staging. The profile, organization and key come from the helper's
# usual places (~/.config/snowplow/credentials.toml, snowplow-cli's files, the
# SNOWPLOW_CONSOLE_* variables Terraform runs with); var.snowplow_args passes
# options such as --profile.
#
# Like every data source result, the token is saved in the state: it expires
# within a day, but keep the state private all the same.

terraform {
  required_providers {
    external = {
      source  = "hashicorp/external"
      version = "~> 2.3"
    }
    http = {
      source  = "hashicorp/http"
      version = "~> 3.4"
    }
  }
}

variable "snowplow_args" {
  description = "Options for snowplow-credentials, e.g. [\"--profile\", \"staging\"] (TF_VAR_snowplow_args='[\"--profile\",\"staging\"]')."
  type        = list(string)
  default     = []
}

# The profile's Console: {"url": "https://…", "host": "…"}.
data "external" "console" {
  program = concat(["snowplow-credentials", "console-url", "--json"], var.snowplow_args)
}

data "external" "snowplow_token" {
  program = concat(["snowplow-credentials", "terraform", "get", data.external.console.result.host], var.snowplow_args)
}

data "http" "organizations" {
  url = "${data.external.console.result.url}/api/msc/v1/organizations"
  request_headers = {
    Accept        = "application/json"
    Authorization = "Bearer ${data.external.snowplow_token.result.token}"
  }

  lifecycle {
    postcondition {
      condition     = self.status_code == 200
      error_message = "The Console answered HTTP ${self.status_code}."
    }
  }
}

output "organizations" {
  description = "The organizations the API key can see."
  value       = jsondecode(data.http.organizations.response_body)
}
