# The chaosload images for distributed runs (chaosload k8s render).
#
#   docker build -t chaosload:latest .
#     the default: one static binary (CGO_ENABLED=0) on a distroless base, no
#     shell; enough for a file without a stack (its steps and targets name
#     services of the cluster).
#   docker build --target demo -t chaosload-demo:latest .
#     the same binary on Debian with the bundled demo stack's servers
#     (PostgreSQL, Redis, haproxy), for a file with stack: (the demo's
#     experiments/db-exhaustion.yaml): the coordinator's pod starts them.
#     It runs as the unprivileged user chaosload (uid 10001): PostgreSQL
#     refuses to run as root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/chaosload ./cmd/chaosload

FROM debian:trixie-slim AS demo
# no cluster of Debian's own: the demo creates a throwaway one per run
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql redis-server haproxy \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin chaosload
COPY --from=build /out/chaosload /usr/local/bin/chaosload
USER 10001:10001
WORKDIR /home/chaosload
ENTRYPOINT ["/usr/local/bin/chaosload"]

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/chaosload /chaosload
ENTRYPOINT ["/chaosload"]
