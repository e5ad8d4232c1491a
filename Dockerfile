# The chaosload image for distributed runs (chaosload k8s render): one static
# binary (CGO_ENABLED=0) on a distroless base, no shell.
#   docker build -t chaosload:latest .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/chaosload ./cmd/chaosload

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/chaosload /chaosload
ENTRYPOINT ["/chaosload"]
