# syntax=docker/dockerfile:1
# Build: a static binary (the embedded engine's SQLite is pure Go, so no cgo;
# nodynamic keeps the WebP encoder from linking the C loader it would use
# to look for a system libwebp: it runs its bundled WebAssembly build).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -tags nodynamic -trimpath -ldflags="-s -w" -o /out/cms ./cmd/cms \
 && mkdir -p /out/data

# The maintained crawler list for bot detection (CMS_CRAWLER_LIST).
FROM node:22-bookworm-slim AS crawlers
WORKDIR /c
RUN npm pack crawler-user-agents && tar xzf crawler-user-agents-*.tgz

# Run: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cms /usr/local/bin/cms
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=crawlers /c/package/crawler-user-agents.json /usr/share/cms/crawler-user-agents.json
# /metrics has a listener of its own on 9464: loopback inside a container
# would be unreachable for Prometheus, so the image listens on all
# interfaces there. Publish 8080 only; scrape 9464 from the private network.
ENV CMS_ADDR=:8080 \
    CMS_METRICS_ADDR=:9464 \
    CMS_DATA_DIR=/data \
    CMS_CRAWLER_LIST=/usr/share/cms/crawler-user-agents.json
VOLUME ["/data"]
EXPOSE 8080 9464
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cms"]
CMD ["serve"]
