# edlake: one image for the API server and the pipeline scheduler.
# Multi-stage: dependencies are installed in a build stage from the lockfile; the runtime stage
# carries only production dependencies and the sources (run through tsx, no build step).

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    EDLAKE_LAKE=/lake \
    EDLAKE_LANDING=/landing \
    EDLAKE_PORT=4000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY schema ./schema
COPY resolvers ./resolvers
COPY pipeline ./pipeline
COPY sql ./sql
COPY seeds ./seeds
RUN mkdir -p /lake /landing && chown -R node:node /lake /landing
USER node
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.EDLAKE_PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The same command the tests run: `edlake serve`, as `node --import tsx src/cli.ts serve`
# (tests/deploy/compose.test.ts starts exactly this from a copy of what this stage contains).
# Node itself is the process (not the bin/edlake.js launcher, which would run the CLI in a child
# and not pass on SIGTERM): `docker stop` reaches the server, which closes cleanly.
ENTRYPOINT ["node", "--import", "tsx", "src/cli.ts"]
CMD ["serve"]
