#!/usr/bin/env node
// The `warren` command. The CLI is TypeScript run through tsx; registering tsx from
// here (resolved next to this file, not from the current directory) lets the command
// run from any directory, and under sudo.
import { register } from "tsx/esm/api";

register();
await import("../src/bin.ts");
