# One image for both processes; docker-compose.yml picks the command (api or worker).
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/verify/package.json packages/verify/
COPY packages/shared/package.json packages/shared/
COPY packages/devkit/package.json packages/devkit/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY bench/package.json bench/
# The image already runs Node 24, so the `node` devDependency's install script is not needed.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY packages/verify packages/verify
COPY packages/shared packages/shared
COPY apps/api apps/api
COPY apps/worker apps/worker
RUN npx tsc -b apps/api apps/worker \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/packages/verify/package.json packages/verify/
COPY --from=build /app/packages/verify/dist packages/verify/dist
COPY --from=build /app/packages/shared/package.json packages/shared/
COPY --from=build /app/packages/shared/dist packages/shared/dist
COPY --from=build /app/apps/api/package.json apps/api/
COPY --from=build /app/apps/api/dist apps/api/dist
COPY --from=build /app/apps/worker/package.json apps/worker/
COPY --from=build /app/apps/worker/dist apps/worker/dist
USER node
EXPOSE 3000
CMD ["node", "apps/api/dist/main.js"]
