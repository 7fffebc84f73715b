#!/usr/bin/env node
// `warren-server` from a checkout: the TypeScript sources run through tsx (resolved next
// to this file, not from the current directory). The server pack ships built JavaScript
// and a bin of its own instead (scripts/pack.ts).
import { register } from "tsx/esm/api";

register();
await import("../src/bin.ts");
