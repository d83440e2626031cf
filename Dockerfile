# zookube: one image with both binaries.
#   zookube-server    the ZooKeeper-compatible server (the default command, standalone on /data)
#   zookube-operator  the operator; the Helm chart runs it with `command: [zookube-operator]`
#
# The build stage runs the same two scripts as CI (scripts/install-deps.sh, scripts/build.sh) in
# their build-only modes: the compiler and the -dev packages, no JRE, ZooKeeper or test tools.
# CI builds this image and runs it as the operator runs a member (tests/image). The runtime stage
# holds only the shared libraries the binaries load (tests/chart/test_dockerfile.py checks the
# list against `ldd`), runs as uid 10001 and writes nowhere but /data, so it runs with a
# read-only root filesystem.
#
# Base images are pinned to dated Debian snapshot tags; bump both together.

FROM debian:bookworm-20250929 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN ./scripts/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
ARG JOBS=2
RUN JOBS="${JOBS}" ./scripts/build.sh --binaries \
    && install -D -m 0755 -s build/server/zookube-server /out/usr/local/bin/zookube-server \
    && install -D -m 0755 -s build/operator/zookube-operator /out/usr/local/bin/zookube-operator \
    && mkdir -p /out/etc/zookube \
    && sed -e 's|^dataDir=.*|dataDir=/data|' \
       -e 's|^clientPortAddress=.*|clientPortAddress=0.0.0.0|' \
       examples/standalone.cfg > /out/etc/zookube/zoo.cfg

FROM debian:bookworm-20250929-slim AS runtime
# Runtime libraries of both binaries; libc6, libgcc-s1 and libstdc++6 are in the slim base already.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libbrotli1 \
       libcivetweb1 \
       libcom-err2 \
       libcpprest2.10 \
       libgssapi-krb5-2 \
       libk5crypto3 \
       libkeyutils1 \
       libkrb5-3 \
       libkrb5support0 \
       libprometheus-cpp-core1.0 \
       libprometheus-cpp-pull1.0 \
       libsasl2-2 \
       libsasl2-modules \
       libsasl2-modules-gssapi-mit \
       libsnappy1v5 \
       libssl3 \
       libyaml-cpp0.7 \
       libzookeeper-mt2 \
       zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 zookube \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin zookube \
    && mkdir -p /data \
    && chown 10001:10001 /data
COPY --from=build /out/ /
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# client, quorum, election, Prometheus metrics, admin / operator metrics
EXPOSE 2181 2888 3888 7000 8080
# Unhealthy after six misses (a minute): no --start-period, which dockerfilelint 1.8 misparses.
HEALTHCHECK --interval=10s --timeout=5s --retries=6 \
    CMD ["zookube-server", "--probe", "live", "127.0.0.1:2181"]
CMD ["zookube-server", "/etc/zookube/zoo.cfg"]
