# One image for every role: scheduler (onemind serve), workers (onemind worker), web (onemind web).
FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
       libcairo2 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home-dir /var/lib/onemind --create-home onemind
COPY . /src/onemind-sync
RUN pip install --no-cache-dir /src/onemind-sync
USER onemind
WORKDIR /var/lib/onemind
ENV ONEMIND_CONFIG=/etc/onemind/onemind.toml
ENTRYPOINT ["onemind"]
