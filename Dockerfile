# The container image: the static Linux binary alone on an empty base, for CI
# jobs and for Kubernetes init or sidecar containers (README, "Container image").
#
# The build context is the directory `.ci/image-context` assembles: the static
# binary for each architecture, a CA bundle and the non-root user's home.
#   bash .ci/image-context target/image target/static/x86_64-unknown-linux-musl/release/snowplow-credentials
#   docker build -f Dockerfile -t snowplow-credentials target/image
# tests/cli/static_build.rs reads this file and runs the image's tree under
# chroot, so it may use only FROM scratch, ARG, LABEL, COPY, USER, ENV and
# ENTRYPOINT.
FROM scratch
ARG TARGETARCH
LABEL org.opencontainers.image.title="snowplow-credentials" \
      org.opencontainers.image.description="Short-lived Snowplow Console access tokens for tools, through their own credential protocols" \
      org.opencontainers.image.licenses="MIT"
COPY linux-${TARGETARCH}/snowplow-credentials /usr/local/bin/snowplow-credentials
# Where rustls-platform-verifier looks first on any Linux, glibc or musl.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# The cache lives under $HOME, which this user owns; mount a volume there (or
# set SNOWPLOW_CREDENTIALS_CACHE_DIR) when the root file system is read-only.
COPY --chown=65532:65532 home/ /home/
USER 65532:65532
ENV HOME=/home/nonroot
ENTRYPOINT ["/usr/local/bin/snowplow-credentials"]
