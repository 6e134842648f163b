# Portico as a container: one static-ish binary (templates, CSS, fonts and translations are
# compiled in) on a slim Debian base. Data (SQLite, secret key, uploads, mail) lives in /data.
#
#   docker build -t portico .
#   docker run -p 8080:8080 -v portico-data:/data portico serve --demo
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/portico

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data --shell /usr/sbin/nologin portico \
 && mkdir -p /data && chown portico /data
COPY --from=build /src/target/release/portico /usr/local/bin/portico
USER portico
ENV PORTICO_DATA_DIR=/data PORTICO_LISTEN=0.0.0.0:8080
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["portico"]
CMD ["serve"]
