import path from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The suite's longest files (minutes of child processes, browsers, npm installs) start
 * first, in this order, so that with two workers the run does not end on one long file
 * while the other worker idles. Every other file follows in vitest's own order (failed,
 * then longest, from its results cache; by size on a clean clone). Paths from the root.
 */
export const LONG_FIRST = [
  "apps/cli/test/pack.test.ts",
  "apps/web/test/dashboard.test.ts",
  "apps/server/test/process.test.ts",
  "apps/cli/test/nat.test.ts",
  "apps/cli/test/cli-config.test.ts",
  "apps/cli/test/cli-community.test.ts",
  "apps/server/test/backup.test.ts",
  "apps/cli/test/cli-auth.test.ts",
  "apps/server/test/data-encryption.test.ts",
  "apps/cli/test/lan.test.ts",
  "apps/server/test/process-shutdown.test.ts",
  "apps/server/test/process-migrate.test.ts",
  "apps/server/test/hub-shutdown.test.ts",
  "apps/web/test/peers-scale.test.ts",
];

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = LONG_FIRST.indexOf(
        path.relative(spec.project.config.root, spec.moduleId).split(path.sep).join("/"),
      );
      return i === -1 ? LONG_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
