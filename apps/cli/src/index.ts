export { addSettingFlags, settingsFromFlags } from "./commands/server-flags.js";
