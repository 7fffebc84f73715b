#!/usr/bin/env node
// `warren` from a checkout: the TypeScript sources run through tsx (resolved next to
// this file, not from the current directory), so the command runs from any directory
// and under sudo. The client pack ships one built JavaScript file instead (scripts/pack.ts).
import { register } from "tsx/esm/api";

register();
await import("../src/bin.ts");
