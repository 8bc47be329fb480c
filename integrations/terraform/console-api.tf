# Calls the Snowplow Console API from Terraform with a short-lived token from
# snowplow-credentials, so no API key is written in the configuration.
#
# The `external` data source runs `snowplow-credentials terraform get HOST`,
# which prints {"token": "<JWT>"} for the profile's Console host (a cached
# token while it is fresh) and {} for any other host: a console_host that is
# not the profile's fails at `result.token` instead of sending the token
# elsewhere. The organization and API key come from the environment Terraform
# runs in (SNOWPLOW_CONSOLE_ORG_ID, SNOWPLOW_CONSOLE_API_KEY_ID,
# SNOWPLOW_CONSOLE_API_KEY) or from ~/.config/snowplow/credentials.toml.
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

variable "console_host" {
  description = "The Console host of the profile, without https:// (TF_VAR_console_host)."
  type        = string
  default     = "console.snowplowanalytics.com"
}

data "external" "snowplow_token" {
  program = ["snowplow-credentials", "terraform", "get", var.console_host]
}

data "http" "organizations" {
  url = "https://${var.console_host}/api/msc/v1/organizations"
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
