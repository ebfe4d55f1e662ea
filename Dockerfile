# syntax=docker/dockerfile:1
# Build: a static binary (the embedded engine's SQLite is pure Go, so no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cms ./cmd/cms \
 && mkdir -p /out/data

# Run: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cms /usr/local/bin/cms
COPY --from=build --chown=65532:65532 /out/data /data
ENV CMS_ADDR=:8080 \
    CMS_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cms"]
CMD ["serve"]
