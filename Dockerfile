# The assistant, its action server and the staff console in one image (see docker-compose.yml).
FROM python:3.10-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends make nodejs npm \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt constraints.txt package.json package-lock.json ./
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -c constraints.txt -r requirements.txt \
    && npm ci --no-audit --no-fund
COPY . .
# Train at build time so the container starts serving at once.
RUN RASA_TELEMETRY_ENABLED=false .venv/bin/python -m bot.training
ENV BIND_HOST=0.0.0.0
# Every server by default; SERVERS=rasa, SERVERS=action or SERVERS=console runs one kind, as the
# replicas of docker-compose.yml's "scaled" profile do (Rasa 5005, action server 5055, console 8080).
EXPOSE 5005 5055 8080
CMD ["scripts/serve"]
