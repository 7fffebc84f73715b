export { type App, buildApp } from "./app.js";
export { type Clock, systemClock } from "./clock.js";
export {
  type Config,
  ConfigError,
  flagOf,
  loadConfig,
  mergeSettings,
  type RawSettings,
  SETTINGS,
} from "./config.js";
export { runMigrate, runServer } from "./main.js";
export { type RunningServer, type StartOptions, startServer } from "./start.js";
export { createDatabase, type Database } from "./storage/create-database.js";
export { migrate } from "./storage/migrations/index.js";
