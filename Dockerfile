# Builds the scim-server binary and a small runtime image.
#   docker build -t scim-server .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p scim-server

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/scim scim && mkdir -p /var/lib/scim && chown scim /var/lib/scim
COPY --from=build /src/target/release/scim-server /usr/local/bin/scim-server
USER scim
WORKDIR /var/lib/scim
ENV SCIM_BIND=0.0.0.0:8080 SCIM_DATABASE_URL=sqlite:///var/lib/scim/scim.db
EXPOSE 8080
ENTRYPOINT ["scim-server"]
CMD ["serve"]
