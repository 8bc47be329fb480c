@echo off
rem The Windows form of snowplow-credential-helper: Bazel runs it as
rem `snowplow-credential-helper.bat get` with {"uri": "..."} on stdin.
snowplow-credentials.exe bazel %*
